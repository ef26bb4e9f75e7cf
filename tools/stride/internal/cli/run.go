package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run"
	"github.com/strideci/monorepo/tools/stride/internal/shard"
)

func init() {
	c := &Command{
		Name:    "run",
		Summary: "the push pipeline: build and test what a change affects, write the run report",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		var rf runFlags
		rf.add(fs)
		rf.addPublish(fs)
		base := fs.String("base", "", "base `revision` (default: the merge base of head and the default branch)")
		head := fs.String("head", "", "head `revision`; must be checked out (default: HEAD)")
		out := fs.String("out", "", "write the report to `DIR` (default: out/runs/<head sha>/)")
		asJSON := fs.Bool("json", false, "print report.json (schema stride.report/v1) to stdout instead of a summary")
		branch := fs.String("branch", "", "branch `name` recorded in the report (default: the checked-out branch)")
		shardSpec := fs.String("shard", "", "build and test only shard `I/N` of the affected set (1 ≤ I ≤ N); merge the shards' reports with stride report merge (docs/run.md#sharded-runs)")
		var history stringList
		fs.Var(&history, "shard-history", "earlier report.json `PATH` (a file, or a directory searched for them) whose test durations balance the shards (repeatable; default: out/runs/)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		var spec *shard.Spec
		if *shardSpec != "" {
			s, err := shard.Parse(*shardSpec)
			if err != nil {
				return Usagef("--shard: %v", err)
			}
			if rf.publish {
				return Usagef("--publish goes with the merged report, not a shard's: stride report merge --out DIR SHARDS... && stride publish --run DIR")
			}
			spec = &s
		} else if len(history) > 0 {
			return Usagef("--shard-history goes with --shard")
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		ch, err := change.Open(env.Dir, change.Options{Base: *base, Head: *head, FirstParent: true})
		if err != nil {
			return err
		}
		penv := env
		if *asJSON {
			// stdout holds report.json; keep it one document.
			penv = &Env{Dir: env.Dir, Stdin: env.Stdin, Stdout: env.Stderr, Stderr: env.Stderr}
		}
		p, err := rf.pipeline(penv, ch)
		if err != nil {
			return err
		}
		p.Branch = *branch
		if p.Branch == "" {
			p.Branch = currentBranch(ch.Repo)
		}
		if *out != "" {
			p.OutDir = absPath(env.Dir, *out)
		}
		if spec != nil {
			p.Shard = spec
			if p.OutDir == "" {
				p.OutDir = filepath.Join(run.RunDir(ch.Repo.Root(), ch.Head.String()), fmt.Sprintf("shard-%d-of-%d", spec.Index, spec.Count))
			}
			if len(history) == 0 {
				history = stringList{filepath.Join(ch.Repo.Root(), "out", "runs")}
			}
			var err error
			if p.Durations, err = shardDurations(env, ch.Head.String(), history); err != nil {
				return err
			}
		}
		pr := newProgress(env)
		p.Progress = pr
		o, err := p.Run(ctx)
		pr.Close()
		if o.Report != nil {
			if *asJSON {
				b, merr := o.Report.Marshal()
				if merr != nil {
					return merr
				}
				env.Stdout.Write(b)
			} else {
				printRun(env.Stdout, env.Dir, "stride run", o)
			}
		}
		if code := runExitCode(o, err); code != ExitOK {
			return Exit(code, err)
		}
		return nil
	}
	register(c)
}

// runFlags are the flags `stride run`, `stride watch` and the hooks share.
type runFlags struct {
	mapFlags
	remoteCache    string
	remoteReadOnly bool
	jobs           int
	cacheDir       string
	bazelBin       string
	bazelFlags     stringList
	noBench        bool
	publish        bool
	cds            string
}

// add adds the flags every pipeline takes; addPublish adds --publish,
// which only a run of a pushed commit takes (not watch).
func (rf *runFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&rf.remoteCache, "remote-cache", os.Getenv("STRIDE_REMOTE_CACHE"), "shared Bazel remote cache `URL` (grpc://HOST:PORT or http://HOST:PORT, e.g. bazel-remote; env STRIDE_REMOTE_CACHE); a cache that does not answer is skipped, and the report says so")
	fs.BoolVar(&rf.remoteReadOnly, "remote-cache-read-only", false, "read the remote cache without uploading (developers' machines)")
	rf.mapFlags.add(fs)
	fs.IntVar(&rf.jobs, "jobs", 0, "Bazel --jobs `N` (0: Bazel's default)")
	fs.StringVar(&rf.cacheDir, "cache-dir", defaultDigestCache(), "`directory` for the affected computation's digest cache (\"\" disables)")
	fs.StringVar(&rf.bazelBin, "bazel", "", "bazel `binary` (default: bazel from PATH)")
	fs.Var(&rf.bazelFlags, "bazel-flag", "extra Bazel `flag` for build and test (repeatable), e.g. --bazel-flag=--config=ci")
	fs.BoolVar(&rf.noBench, "no-bench", false, "do not run the benchmarks of tests tagged perf")
	fs.StringVar(&rf.cds, "bazel-cds", "auto", "start Bazel's server with a class-data-sharing archive kept under --cache-dir: `MODE` on, off, or auto (on when $CI is set); see docs/run.md")
}

func (rf *runFlags) addPublish(fs *flag.FlagSet) {
	fs.BoolVar(&rf.publish, "publish", false, "after a green run, publish it to the store and the dev APT distribution (stride publish --run DIR; docs/publish.md)")
}

// check reports flag values that parsing alone does not reject.
func (rf *runFlags) check() error {
	if rf.remoteCache != "" {
		if _, err := remotecache.Parse(rf.remoteCache); err != nil {
			return Usagef("--remote-cache: %v", err)
		}
	}
	if err := rf.mapFlags.check(); err != nil {
		return err
	}
	switch rf.cds {
	case "on", "off", "auto", "":
		return nil
	}
	return Usagef("--bazel-cds: want on, off or auto, got %q", rf.cds)
}

// pipeline builds the pipeline of change ch with the real collaborators;
// with --publish, a green run is published (output to env).
func (rf *runFlags) pipeline(env *Env, ch *change.Change) (*run.Pipeline, error) {
	plan, err := rf.cdsPlan(env)
	if err != nil {
		return nil, err
	}
	aa := &affectedAdapter{cacheDir: rf.cacheDir, bazel: rf.bazelBin, startup: plan.Flags, warn: env.Stderr,
		sharedReadOnly: rf.remoteReadOnly}
	aa.shared, aa.sharedNote = rf.mapFlags.store(rf.remoteCache)
	p := &run.Pipeline{Options: run.Options{
		Change:     ch,
		Jobs:       rf.jobs,
		BazelFlags: rf.bazelFlags,
		NoBench:    rf.noBench,
		Affecter:   aa,
		Bazel:      cdsBazel{Bazel: &bazel.Bazel{Binary: rf.bazelBin, Dir: ch.Repo.Root(), Startup: plan.Flags}, plan: plan},
		Owners:     run.CheckerFunc(ownersCheckForRun),
		Policy:     policyChecker(rf.bazelBin), // cli/policy.go
	}}
	if rf.remoteCache != "" {
		u, err := remotecache.Parse(rf.remoteCache)
		if err != nil {
			return nil, Usagef("--remote-cache: %v", err)
		}
		p.RemoteCache, p.RemoteCacheReadOnly = u, rf.remoteReadOnly
	}
	if rf.publish {
		p.Publish = func(ctx context.Context, dir string) error { return publishRun(ctx, env, dir) }
	}
	return p, nil
}

// cdsPlan decides the class-data-sharing startup flags of the run's
// Bazel server (bazel.CDS). Problems with the archive directory only turn
// CDS off; a bad --bazel-cds value is a usage error.
func (rf *runFlags) cdsPlan(env *Env) (*bazel.CDSPlan, error) {
	if err := rf.check(); err != nil {
		return nil, err
	}
	switch rf.cds {
	case "auto":
		if ci := os.Getenv("CI"); ci == "" || ci == "false" || ci == "0" {
			return &bazel.CDSPlan{Note: "off ($CI is not set)"}, nil
		}
	case "off", "":
		return &bazel.CDSPlan{Note: "off"}, nil
	}
	// Asked for: say what became of it, for the CI log.
	plan := rf.requestedCDSPlan(env)
	fmt.Fprintf(env.Stderr, "stride run: Bazel class-data sharing: %s\n", plan.Note)
	return plan, nil
}

func (rf *runFlags) requestedCDSPlan(env *Env) *bazel.CDSPlan {
	if rf.cacheDir == "" {
		return &bazel.CDSPlan{Note: "off (no --cache-dir)"}
	}
	ctx := context.Background()
	b := &bazel.Bazel{Binary: rf.bazelBin, Dir: env.Dir}
	v, err := b.CachedVersionKey(ctx, bazel.VersionCacheFile(rf.cacheDir))
	if err != nil {
		return &bazel.CDSPlan{Note: "off: " + err.Error()}
	}
	key, ok := bazel.CDSKey(v)
	if !ok {
		return &bazel.CDSPlan{Note: "off (no JVM found)"}
	}
	c := &bazel.CDS{Dir: filepath.Join(rf.cacheDir, "bazel-cds"), Workspace: env.Dir, Key: key}
	plan, err := c.Plan(ctx)
	if err != nil {
		return &bazel.CDSPlan{Note: "off: " + err.Error()}
	}
	return plan
}

// cdsBazel is the run's Bazel; once its server is up it records what a
// class-data-sharing archive being written needs for its validation.
type cdsBazel struct {
	*bazel.Bazel
	plan *bazel.CDSPlan
}

func (b cdsBazel) StartServer(ctx context.Context) error {
	err := b.Bazel.StartServer(ctx)
	// Even a failed `bazel version` (Debian's build without a version
	// exits 2) leaves the server up.
	_ = b.plan.ServerStarted()
	return err
}

// printRun prints one pass of the pipeline for people: its status
// and summary, its errors, the tests that did not pass and where the
// report is (paths relative to dir).
func printRun(w io.Writer, dir, prefix string, o *run.Outcome) {
	rep := o.Report
	fmt.Fprintf(w, "%s: %s: %s\n", prefix, strings.ToUpper(string(rep.Status)), rep.Summary)
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %s\n", firstLine(e))
	}
	for _, t := range rep.Tests.Results {
		if !report.Passed(t.Status) {
			fmt.Fprintf(w, "  %s %s\n", t.Status, t.Label)
		}
	}
	fmt.Fprintf(w, "report: %s\n", relPath(dir, filepath.Join(o.Dir, report.MarkdownFile)))
}

// affectedAdapter is run.Affecter over internal/affected.
type affectedAdapter struct {
	cacheDir string
	bazel    string
	startup  []string // the workspace server's startup flags (CDS)
	log      io.Writer
	warn     io.Writer
	// shared is the store of shared digest maps (nil: none, sharedNote
	// says why when one was asked for).
	shared         affected.MapStore
	sharedNote     string
	sharedReadOnly bool
}

// RemoteCacheDown drops the shared map store when it is the remote cache
// that did not answer the run's probe (which warned already).
func (a *affectedAdapter) RemoteCacheDown(u *url.URL) {
	if a.shared != nil && sameServer(a.shared, u) {
		a.shared = nil
		a.sharedNote = "digest maps are not shared: the remote cache does not answer"
	}
}

func (a *affectedAdapter) Affected(ctx context.Context, ch *change.Change) (*run.Affected, error) {
	res, err := affected.Compute(ctx, affected.Options{
		Change:   ch,
		CacheDir: a.cacheDir, Bazel: a.bazel, Log: a.log, DeferWrites: true,
		WorkspaceStartup: a.startup,
		Shared:           a.shared, SharedReadOnly: a.sharedReadOnly, Warn: a.warn,
	})
	if err != nil {
		var ie *affected.InputError
		if errors.As(err, &ie) && !errors.Is(err, bazel.ErrStart) {
			return nil, &run.UsageError{Err: err}
		}
		return nil, err
	}
	out := &run.Affected{
		Base:    report.Rev{Rev: res.Base.Rev, SHA: res.Base.Commit},
		Head:    report.Rev{Rev: res.Head.Rev, SHA: res.Head.Commit},
		Wait:    res.Wait,
		BaseMap: res.Base.Source, HeadMap: res.Head.Source, SharedMapsNote: a.sharedNote,
	}
	if res.Shared != nil && res.Shared.Note != "" {
		out.SharedMapsNote = res.Shared.Note
	}
	for _, t := range res.Incompatible {
		out.Incompatible = append(out.Incompatible, t.Label)
	}
	for _, t := range res.Targets {
		rt := report.Target{Label: t.Label, Kind: t.Kind, Test: t.Test}
		for _, r := range t.Reasons {
			rt.Reasons = append(rt.Reasons, r.Text)
		}
		out.Targets = append(out.Targets, rt)
	}
	return out, nil
}

// ownersCheckForRun is the owners check of a change, for the run report.
// Approvals come from the commits' trailers (and authors own their files);
// reviews from a code host are `stride owners check --approvals`'s job.
func ownersCheckForRun(ctx context.Context, ch *change.Change) report.Check {
	if ch.Base.IsZero() {
		return report.Check{Reason: "no base commit"}
	}
	res, err := owners.CheckRepo(ch.Repo, owners.RepoCheck{Change: ch})
	if err != nil {
		return report.Check{Reason: "owners check failed: " + firstLine(err.Error())}
	}
	c := report.Check{Checked: true, OK: res.OK,
		Reason: fmt.Sprintf("%d of %d changed file(s) approved", res.Summary.Approved, res.Summary.Files)}
	for _, d := range res.Dirs {
		if !d.Approved {
			f := d.Dir
			if d.Needs != "" {
				f += ": needs " + d.Needs
			}
			c.Findings = append(c.Findings, f)
		}
	}
	for _, d := range res.Diagnostics {
		c.Findings = append(c.Findings, d.String())
	}
	return c
}

// newProgress shows progress on stderr: one status line on a terminal,
// plain lines otherwise.
func newProgress(env *Env) *progress.Progress {
	return progress.New(env.Stderr, progress.IsTerminal(env.Stderr))
}

// currentBranch is the checked-out branch's short name, or "".
func currentBranch(repo *gitrepo.Repo) string {
	ref, err := repo.Git().Head()
	if err != nil || !ref.Name().IsBranch() {
		return ""
	}
	return ref.Name().Short()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// absPath is p relative to dir, unless absolute.
func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func relPath(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
