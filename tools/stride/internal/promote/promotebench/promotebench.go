// Package promotebench generates what `ci/bench promote` measures: a git
// repository with one commit per build, a store with that many published
// builds, and a ledger with that many events of the four
// environments, written with the ledger's own writer. It then times
// `stride promote --auto` and `stride ledger log --env prod` against
// baselines run on the same data (docs/benchmarks.md).
package promotebench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Config is the environments file of the generated repository: the
// issue's example.
const Config = `environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green(), soak(minutes = 30), healthy()])
environment(name = "preprod", after = "uat", criteria = [tests_green(), soak(hours = 2), perf(max_regression = 0.05), healthy()])
environment(name = "prod", after = "preprod", criteria = [owners_approved(), soak(hours = 24), healthy(), window(days = "mon-thu", hours = "09-16")], instances = 2)
`

// Generate makes dir/repo (builds commits), dir/store (builds published
// builds) and the repository's ledger (events events).
func Generate(ctx context.Context, dir string, builds, events int, log io.Writer) error {
	repoDir := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repoDir, 0o755); err != nil {
		return err
	}
	g := &gitrepo.Git{Dir: repoDir, Env: []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"}}
	if _, err := g.Run(ctx, nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	// One commit per build with git fast-import.
	var fi bytes.Buffer
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := 0; i < builds; i++ {
		fmt.Fprintf(&fi, "commit refs/heads/main\nmark :%d\nauthor Alice <alice@example.com> %d +0000\ncommitter Alice <alice@example.com> %d +0000\ndata <<EOF\nhello: change %d\nEOF\n", i+1, t0.Unix()+int64(i), t0.Unix()+int64(i), i)
		if i > 0 {
			fmt.Fprintf(&fi, "from :%d\n", i)
		} else {
			fmt.Fprintf(&fi, "M 644 inline OWNERS\ndata <<EOF\nalice@example.com\nEOF\nM 644 inline ci/environments.star\ndata <<EOF\n%sEOF\n", Config)
		}
		fmt.Fprintf(&fi, "M 644 inline services/hello/main.go\ndata <<EOF\npackage main // %d\nEOF\n\n", i)
	}
	if _, err := g.Run(ctx, fi.Bytes(), "fast-import", "--quiet"); err != nil {
		return err
	}
	if _, err := g.Run(ctx, nil, "reset", "-q", "--hard", "main"); err != nil {
		return err
	}
	out, err := g.Output(ctx, "rev-list", "--reverse", "main")
	if err != nil {
		return err
	}
	commits := strings.Fields(out)
	fmt.Fprintf(log, "promotebench: %d commits\n", len(commits))

	s, err := store.OpenFS(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	rep := []byte(`{"schema": "stride.report/v1", "status": "green", "summary": "ok", "tests": {"total": 120, "passed": 120}}` + "\n")
	repBlob, err := s.PutBlob(ctx, bytes.NewReader(rep))
	if err != nil {
		return err
	}
	for i, c := range commits {
		perfJSON := fmt.Sprintf(`{"schema": "stride.perf/v1", "head": %q, "benchmarks": [`, c)
		for k := 0; k < 5; k++ {
			if k > 0 {
				perfJSON += ","
			}
			perfJSON += fmt.Sprintf(`{"target": "//services/hello/perf:perf_test", "name": "Hello", "iterations": 1000, "ns_per_op": %d}`, 1000+k+i%7)
		}
		perfJSON += "]}\n"
		pb, err := s.PutBlob(ctx, strings.NewReader(perfJSON))
		if err != nil {
			return err
		}
		deb, err := s.PutBlob(ctx, strings.NewReader("deb of build "+c))
		if err != nil {
			return err
		}
		ver := fmt.Sprintf("0.%d.0+g%s", i+1, c[:7])
		name := fmt.Sprintf("debs/hello_%s_amd64.deb", ver)
		parent := ""
		if i > 0 {
			parent = commits[i-1]
		}
		m := &store.Manifest{Build: c, Commit: c, Branch: "main", Number: i + 1, Time: t0.Add(time.Duration(i) * time.Minute),
			Run:      &store.RunInfo{Status: "green", Summary: "ok", Base: parent},
			Packages: []store.Package{{Name: "hello", Version: ver, Architecture: "amd64", Artifact: name, Content: deb.Digest}},
			Artifacts: []store.Artifact{{Name: name, Kind: store.KindDeb, Digest: deb.Digest, Size: deb.Size},
				{Name: "report.json", Kind: store.KindReport, Digest: repBlob.Digest, Size: repBlob.Size},
				{Name: "perf/perf.json", Kind: store.KindPerf, Digest: pb.Digest, Size: pb.Size}}}
		if err := s.PutManifest(ctx, m); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "promotebench: %d builds in the store\n", len(commits))

	// The ledger: each build through dev; every 2nd to uat, 4th to
	// preprod, 8th to prod; blocked evaluations otherwise; holds to fill.
	var evs []ledger.Event
	at := t0
	tick := func() time.Time { at = at.Add(time.Second); return at }
	pass := []ledger.CriterionResult{{Criterion: "tests_green()", Kind: "tests_green", Status: ledger.StatusPass, Evidence: "120 of 120 passed"}}
	blocked := []ledger.CriterionResult{{Criterion: "soak(hours = 2)", Kind: "soak", Status: ledger.StatusFail, Evidence: "in uat for 1h; needs 2h"}}
	cur := map[string]string{}
	promote := func(env, b string) {
		e := ledger.Event{ID: ledger.NewID(), Kind: ledger.KindEvaluation, Env: env, Build: b, Verdict: ledger.VerdictPass, Criteria: pass, Actor: "robot", Time: tick()}
		p := ledger.Event{ID: ledger.NewID(), Kind: ledger.KindPromotion, Env: env, Build: b, From: cur[env], Evaluation: e.ID, Actor: "robot", Time: tick()}
		st := ledger.Event{Kind: ledger.KindStep, Env: env, Build: b, Of: p.ID, Step: ledger.StepSwitch, Status: ledger.StepDone, Actor: "robot", Time: tick()}
		evs = append(evs, e, p, st)
		cur[env] = b
	}
	block := func(env, b string) {
		evs = append(evs, ledger.Event{Kind: ledger.KindEvaluation, Env: env, Build: b, Verdict: ledger.VerdictBlocked, Criteria: blocked, Actor: "robot", Time: tick()})
	}
	for i, c := range commits {
		promote("dev", c)
		for _, x := range []struct {
			env   string
			every int
		}{{"uat", 2}, {"preprod", 4}, {"prod", 8}} {
			if i%x.every == 0 {
				promote(x.env, c)
			} else {
				block(x.env, c)
			}
		}
	}
	for len(evs)+2 <= events {
		evs = append(evs, ledger.Event{Kind: ledger.KindHold, Env: "prod", Reason: "bench", Actor: "alice", Time: tick()},
			ledger.Event{Kind: ledger.KindUnhold, Env: "prod", Reason: "bench", Actor: "alice", Time: tick()})
	}
	if len(evs) > events {
		evs = evs[:events]
	}
	repo, err := gitrepo.Open(repoDir)
	if err != nil {
		return err
	}
	defer repo.Close()
	l := ledger.Open(repo)
	for i := 0; i < len(evs); i += 500 {
		j := i + 500
		if j > len(evs) {
			j = len(evs)
		}
		if _, err := l.Append(ctx, evs[i:j]...); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "promotebench: %d ledger events\n", len(evs))
	// Pack the objects, as git gc does in a long-lived repository.
	if _, err := g.Run(ctx, nil, "gc", "-q"); err != nil {
		return err
	}
	return nil
}

// Timing is the median of a command's runs: wall time, and CPU time
// (user + system) which a loaded machine inflates less.
type Timing struct {
	Name   string
	Median time.Duration
	CPU    time.Duration
	Runs   int
}

// Time runs argv reps times (after one warm-up run), each after prep (if
// not nil), and returns the medians.
func Time(ctx context.Context, name string, reps int, dir string, prep func(), argv ...string) (Timing, error) {
	var ds, cpu []time.Duration
	for i := 0; i <= reps; i++ {
		if prep != nil {
			prep()
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return Timing{}, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, errb.String())
		}
		if i > 0 {
			ds = append(ds, time.Since(start))
			cpu = append(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	return Timing{Name: name, Median: Median(ds), CPU: Median(cpu), Runs: reps}, nil
}

// Median is the median of ds (which it sorts).
func Median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
