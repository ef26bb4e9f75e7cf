// Package run is `stride run`, the push pipeline: it computes the affected
// set of a change, runs one `bazel build` of the affected targets and one
// `bazel test` of the affected tests while following their build event
// streams (live progress), benchmarks the affected tests tagged perf,
// merges the tests' JUnit files and writes the run report (report.json,
// report.md, junit.xml, perf.json) under out/runs/<head sha>/.
//
// Its collaborators are interfaces declared here (Affecter, Bazel,
// Checker) so tests can replace any of them. A report never says green
// unless Bazel's exit codes and complete event streams both say so: a
// crash, a kill, a truncated stream or a failed write gives status "error"
// (or "cancelled"), and the report written when the run starts says
// "incomplete" until the final one replaces it.
package run

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/shard"
)

// Affected is an affected set.
type Affected struct {
	Base, Head report.Rev
	Targets    []report.Target
	// Incompatible are affected targets left out of Targets because they
	// are incompatible with the target platform (target_compatible_with):
	// naming them would make Bazel fail. Run says so and skips them.
	Incompatible []string
	// BazelTime is the wall time the computation spent in Bazel (queries),
	// when known; it counts as Bazel time, not stride's, in the report.
	BazelTime time.Duration
	// Wait, when set, waits for work the computation left running (its
	// cache writes); Run calls it before it returns.
	Wait func()
	// BaseMap, HeadMap and SharedMapsNote are report.Affected's.
	BaseMap, HeadMap, SharedMapsNote string
}

// RemoteCacheDowner is an Affecter told that the remote cache did not
// answer Run's probe, so that it does not try it again (one timeout and
// one warning per run).
type RemoteCacheDowner interface {
	RemoteCacheDown(u *url.URL)
}

// Affecter computes the affected set of a change (internal/affected,
// adapted by the CLI). An error that is the input's fault (a workspace
// Bazel cannot load at head) is a *UsageError.
type Affecter interface {
	Affected(ctx context.Context, c *change.Change) (*Affected, error)
}

// Bazel runs Bazel commands while streaming their build events
// (*bazel.Bazel).
type Bazel interface {
	Stream(ctx context.Context, opts bazel.StreamOptions, command string, args ...string) (*bazel.StreamResult, error)
}

var _ Bazel = (*bazel.Bazel)(nil)

// ServerStarter is a Bazel that can start its server ahead of the first
// build (see bazel.Bazel.StartServer). Run starts it while it computes
// the affected set and runs the checks, which need no server when the
// base's digest map is cached.
type ServerStarter interface {
	StartServer(ctx context.Context) error
}

var _ ServerStarter = (*bazel.Bazel)(nil)

// trimFlag keeps test options (--test_arg, --test_env, ...) out of the
// configuration of non-test targets. Without it `bazel build` and `bazel
// test` differ in options whenever the .bazelrc has a `test` line, and
// Bazel discards the build's analysis of every target before the test
// (measured at 5,000 targets with a fresh server: the test step took
// 1.4 s instead of 0.5 s). Bazel 5 and later default to it.
const trimFlag = "--trim_test_configuration"

// Checker is a check of the change that runs beside the build: owners,
// commit policy.
type Checker interface {
	Check(ctx context.Context, c *change.Change) report.Check
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, c *change.Change) report.Check

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, c *change.Change) report.Check {
	return f(ctx, c)
}

// Options configure one run.
type Options struct {
	// Change is what runs (required), resolved once by the caller
	// (change.Resolve, with FirstParent for a push). Its head must be
	// what the work tree has checked out: Bazel builds the work tree. An
	// Uncommitted change runs the work tree as it is (watch mode): the
	// report's head is HEAD plus local changes.
	Change *change.Change
	Branch string // recorded in the report
	// OutDir is where the report goes (default RunDir(root, head sha)).
	OutDir string
	// Jobs is Bazel's --jobs (0: Bazel's default).
	Jobs int
	// BazelFlags are added to every build/test command.
	BazelFlags []string
	// NoBench skips benchmarking the perf-tagged tests.
	NoBench bool
	// Shard, when set, builds and tests only this shard's part of the
	// affected set (internal/shard), balanced by Durations (recorded test
	// times by label; nil: by target counts). The report is partial.
	Shard     *shard.Spec
	Durations map[string]int64
	// RemoteCache, when set, is a shared cache Bazel's build and test use
	// (ReadOnly: without uploading), if it answers; if not, the run goes
	// on without it and the report says why.
	RemoteCache         *url.URL
	RemoteCacheReadOnly bool

	Affecter Affecter // required
	Bazel    Bazel    // required
	// Owners and Policy are run when set; otherwise the report says why
	// not (OwnersReason / PolicyReason).
	Owners, Policy             Checker
	OwnersReason, PolicyReason string
	// Progress shows the run (nil: nothing shown).
	Progress *progress.Progress
	// Grace is how long Bazel gets to stop after cancellation.
	Grace time.Duration
}

// UsageError is bad input (an unknown revision, a head that is not checked
// out): exit 2 without a report.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// PerfTag marks test targets whose benchmarks the run records.
const PerfTag = "perf"

// benchFlags are added to the `bazel test` of the perf-tagged tests: Go
// test binaries then run their benchmarks (with allocation counts) after
// their tests. The perf tests always run with these flags, never without,
// so that Bazel's cached result for them stays valid from run to run.
var benchFlags = []string{"--test_arg=-test.bench=.", "--test_arg=-test.benchmem"}

// Run runs the pipeline. It returns the final report (also written to
// OutDir) whose Status decides the exit code, or, when no report could be
// written at all, an error (a *UsageError for bad input). A report with
// status "error" comes with a nil error: the report says what went wrong.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	if o.Affecter == nil || o.Bazel == nil || o.Change == nil {
		return nil, errors.New("run: Change, Affecter and Bazel are required")
	}
	pr := o.Progress
	if pr == nil {
		pr = progress.Discard()
		defer pr.Close()
	}
	started := time.Now()
	c := o.Change
	root := c.Repo.Root()
	r := report.New(root, started)
	r.Branch = o.Branch

	// The head must be what is checked out: Bazel builds the work tree.
	dirty, err := checkHead(c)
	if err != nil {
		return nil, &UsageError{err}
	}
	r.Head = report.Rev{Rev: c.HeadRev, SHA: c.Head.String()}
	r.Dirty = dirty || c.Uncommitted
	if o.OutDir == "" {
		o.OutDir = RunDir(root, c.Head.String())
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	// A run killed from here on leaves an "incomplete" report, never a
	// green one.
	if err := r.WriteJSON(o.OutDir); err != nil {
		return nil, fmt.Errorf("cannot write the run report: %w", err)
	}

	if o.RemoteCache != nil {
		o.BazelFlags = useRemoteCache(ctx, r, pr, o.RemoteCache, o.RemoteCacheReadOnly, o.BazelFlags)
		if d, ok := o.Affecter.(RemoteCacheDowner); ok && !r.Cache.Remote.Used {
			d.RemoteCacheDown(o.RemoteCache)
		}
	}
	x := &execution{o: o, r: r, pr: pr, ctx: ctx}
	if st, ok := o.Bazel.(ServerStarter); ok {
		// Errors are the build's to report.
		ch := make(chan struct{})
		x.serverStarted = ch
		go func() {
			defer close(ch)
			_ = st.StartServer(ctx)
		}()
		defer x.waitServer()
	}
	x.run()
	return x.finish(started)
}

// processSummary is Bazel's "INFO: N processes: ..." line: the spawns
// served by the remote cache and those run by a strategy (linux-sandbox,
// local, worker...); internal ones count in neither. (Bazel 4 may count a
// test's hits beyond its total: "7 processes: 12 remote cache hit.")
type processSummary struct{ remoteHits, spawned int64 }

var (
	processesRE = regexp.MustCompile(`INFO: \d+ process(?:es)?: ([^\n]*)`)
	processKind = regexp.MustCompile(`(\d+) ([a-z -]+)`)
)

// processSummaryOf reads the last process summary of a Bazel log.
func processSummaryOf(logPath string) processSummary {
	var ps processSummary
	b, err := os.ReadFile(logPath)
	if err != nil {
		return ps
	}
	m := processesRE.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return ps
	}
	last := m[len(m)-1]
	for _, k := range processKind.FindAllSubmatch(last[1], -1) {
		n, _ := strconv.ParseInt(string(k[1]), 10, 64)
		switch strings.TrimSpace(string(k[2])) {
		case "internal":
		case "remote cache hit":
			ps.remoteHits += n
		default:
			ps.spawned += n
		}
	}
	return ps
}

// useRemoteCache probes the cache and returns the build's flags with it,
// or without it (saying so once, and in the report) when it does not
// answer.
func useRemoteCache(ctx context.Context, r *report.Report, pr *progress.Progress, u *url.URL, readOnly bool, flags []string) []string {
	rc := &report.RemoteCache{URL: remotecache.Redact(u.String()), ReadOnly: readOnly}
	r.Cache.Remote = rc
	if err := remotecache.Probe(ctx, u, 3*time.Second); err != nil {
		rc.Note = err.Error() + "; built without it"
		pr.Printf("warning: %s", rc.Note)
		return flags
	}
	rc.Used = true
	return append(append([]string{}, flags...), remotecache.Flags(u, readOnly)...)
}

// waitServer waits for the server start begun in Run (if any) and counts
// the wait as Bazel's time.
func (x *execution) waitServer() {
	if x.serverStarted == nil {
		return
	}
	t := time.Now()
	<-x.serverStarted
	x.serverStarted = nil
	x.bazel += time.Since(t)
}

type execution struct {
	ctx     context.Context
	o       Options
	r       *report.Report
	pr      *progress.Progress
	bazel   time.Duration // total Bazel wall time
	targets []report.Target
	tags    map[string][]string // test label -> tags
	// input: the affected set failed because of the input (a
	// *UsageError from the Affecter), not the infrastructure.
	input bool
	// serverStarted is closed when the early server start ends.
	serverStarted chan struct{}
}

func (x *execution) fail(format string, args ...interface{}) {
	x.r.Errors = append(x.r.Errors, fmt.Sprintf(format, args...))
}

func (x *execution) cancelled() bool { return x.ctx.Err() != nil }

func (x *execution) run() {
	o, r := x.o, x.r
	// 1. The affected set.
	t0 := time.Now()
	x.pr.Printf("computing the affected set")
	// The report's file list is the change's: the same renames as the
	// affected set's reasons. It is listed before the affected set, not
	// beside it: the Change's repository (go-git) is not safe for use by
	// two goroutines at once, and the affected set lists the same files
	// (once: Files is memoized).
	fs, ferr := o.Change.Files()
	if ferr == nil {
		r.Changes = reportChanges(fs)
	}
	aff, err := o.Affecter.Affected(x.ctx, o.Change)
	r.Timing.AffectedMS = time.Since(t0).Milliseconds()
	if aff != nil && aff.Wait != nil {
		defer aff.Wait() // while Bazel builds
	}
	if err == nil && ferr != nil {
		err = &UsageError{fmt.Errorf("changed files: %w", ferr)}
	}
	if err != nil {
		if !x.cancelled() {
			x.fail("affected: %v", err)
			var ue *UsageError
			x.input = errors.As(err, &ue)
		}
		return
	}
	x.bazel += aff.BazelTime
	r.Base = aff.Base
	if aff.Head.SHA != "" && aff.Head.SHA != r.Head.SHA && !o.Change.Uncommitted {
		x.fail("affected set is for head %s, but the work tree is at %s", aff.Head.SHA, r.Head.SHA)
		return
	}
	x.targets = append([]report.Target{}, aff.Targets...)
	sort.SliceStable(x.targets, func(i, j int) bool { return x.targets[i].Label < x.targets[j].Label })
	r.Affected.Targets = x.targets
	r.Affected.BaseMap, r.Affected.HeadMap, r.Affected.SharedMapsNote = aff.BaseMap, aff.HeadMap, aff.SharedMapsNote
	if o.Shard != nil {
		x.targets = x.shard(*o.Shard)
	}
	var tests []string
	for _, t := range x.targets {
		if t.Test {
			tests = append(tests, t.Label)
		}
	}
	x.pr.Printf("%d file(s) changed, %d target(s) affected, %d test(s)", len(r.Changes), len(x.targets), len(tests))
	if n := len(aff.Incompatible); n > 0 {
		x.pr.Printf("%d affected target(s) incompatible with the target platform, skipped: %s", n, strings.Join(aff.Incompatible, " "))
	}

	// 2. Owners and policy (cheap, and useful even when Bazel fails),
	// beside the build: run() returns after them.
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		t1 := time.Now()
		r.Owners = x.check(o.Owners, o.OwnersReason)
		r.Policy = x.check(o.Policy, o.PolicyReason)
		r.Timing.ChecksMS = time.Since(t1).Milliseconds()
	}()
	defer func() { <-checked }()

	if len(x.targets) == 0 {
		return
	}
	labels := make([]string, len(x.targets))
	for i, t := range x.targets {
		labels[i] = t.Label
	}

	// 3. Build everything affected.
	var buildCol *collector
	r.Build, buildCol = x.invoke("build", labels, nil, nil)
	r.Timing.BuildMS = r.Build.DurationMS
	if x.cancelled() || r.Build.Error != "" || len(tests) == 0 {
		return
	}
	// 4. Test: the perf-tagged tests (known from the build's events) in an
	// invocation of their own that also runs their benchmarks.
	x.tags = map[string][]string{}
	var plain, perf []string
	for _, l := range tests {
		x.tags[l] = mergeTags(x.tagsOf(l), buildCol.tagsOf(l))
		if !o.NoBench && hasTag(x.tags[l], PerfTag) {
			perf = append(perf, l)
		} else {
			plain = append(plain, l)
		}
	}
	var testCol, benchCol *collector
	if len(plain) > 0 {
		r.Test, testCol = x.invoke("test", plain, plain, nil)
		r.Timing.TestMS = r.Test.DurationMS
		if x.cancelled() || r.Test.Error != "" {
			return
		}
	}
	if len(perf) > 0 {
		r.Bench, benchCol = x.invoke("test", perf, perf, benchFlags)
		r.Timing.BenchMS = r.Bench.DurationMS
		if x.cancelled() || r.Bench.Error != "" {
			return
		}
	}
	x.collectTests(plain, testCol, perf, benchCol)
}

// shard records the shard's part of the affected set in the report and
// returns its targets.
func (x *execution) shard(s shard.Spec) []report.Target {
	r := x.r
	plan := shard.Partition(r.Affected.Targets, x.o.Durations, s.Count)
	mine := plan.Shards[s.Index-1]
	r.Shard = &report.Shard{Index: s.Index, Count: s.Count, Balance: plan.Balance, Targets: mine,
		AffectedDigest: shard.Digest(r.Base.SHA, r.Head.SHA, r.Affected.Targets), EstimatedMS: plan.EstimatedMS[s.Index-1]}
	in := map[string]bool{}
	for _, l := range mine {
		in[l] = true
	}
	var out []report.Target
	for _, t := range r.Affected.Targets {
		if in[t.Label] {
			out = append(out, t)
		}
	}
	x.pr.Printf("shard %s: %d of the %d affected target(s), balanced by %s", s, len(out), len(r.Affected.Targets), plan.Balance)
	return out
}

func (x *execution) check(c Checker, reason string) report.Check {
	if c == nil {
		return report.Check{Reason: orDefault(reason, "not configured")}
	}
	return c.Check(x.ctx, x.o.Change)
}

// invoke runs one Bazel command over labels, following its events.
func (x *execution) invoke(command string, labels, tests []string, extra []string) (*report.Invocation, *collector) {
	name := command
	if extra != nil {
		name = "bench"
	}
	inv := &report.Invocation{Command: command, Targets: len(labels), Log: "bazel-" + name + ".log"}
	col := newCollector(x.pr)
	targetFile := filepath.Join(x.o.OutDir, name+"-targets.txt")
	if err := report.WriteAtomic(targetFile, []byte(strings.Join(labels, "\n")+"\n")); err != nil {
		inv.Error = err.Error()
		x.fail("%s: %v", name, err)
		return inv, col
	}
	logPath := filepath.Join(x.o.OutDir, inv.Log)
	logFile, err := os.Create(logPath)
	if err != nil {
		inv.Error = err.Error()
		x.fail("%s: %v", name, err)
		return inv, col
	}
	defer logFile.Close()

	x.waitServer()
	flags := []string{"--keep_going", "--color=no", "--curses=no", "--show_progress_rate_limit=5", trimFlag}
	if x.o.Jobs > 0 {
		flags = append(flags, fmt.Sprintf("--jobs=%d", x.o.Jobs))
	}
	flags = append(flags, x.o.BazelFlags...)
	flags = append(flags, extra...)
	inv.Flags = flags
	args := append(append([]string{}, flags...), "--target_pattern_file="+targetFile)

	x.pr.Phase(name, len(labels), tests)
	res, err := x.o.Bazel.Stream(x.ctx, bazel.StreamOptions{
		Stdout:    logFile,
		Stderr:    logFile,
		EventFile: filepath.Join(x.o.OutDir, "bep-"+name+".json"),
		OnEvent:   col.event,
		Grace:     x.o.Grace,
	}, command, args...)
	if res != nil {
		inv.ExitCode = res.ExitCode
		inv.Complete = res.Complete()
		inv.Interrupted = res.Interrupted
		inv.DurationMS = res.Duration.Milliseconds()
		x.bazel += res.Duration
		if res.Finished != nil && res.Finished.ExitCode != nil {
			inv.ExitName = res.Finished.ExitCode.Name
		} else if res.Finished != nil {
			inv.ExitName = "SUCCESS"
		}
	}
	inv.Failed = col.failedTargets()
	x.r.Cache.ActionsCreated += int64(col.metrics.ActionSummary.ActionsCreated)
	x.r.Cache.ActionsExecuted += int64(col.metrics.ActionSummary.ActionsExecuted)
	// Bazel 4's event stream has no remote cache hits; its console's
	// "N processes: H remote cache hit, I internal, ..." line has.
	ps := processSummaryOf(logPath)
	x.r.Cache.Processes += ps.remoteHits + ps.spawned
	x.r.Cache.RemoteCacheHits += ps.remoteHits

	// Classify. Findings: build failures (1), test failures (3), no tests
	// (4). Everything else, or a stream that did not end properly, is an
	// infrastructure error.
	var be *bazel.Error
	switch {
	case x.cancelled():
		inv.Error = "cancelled"
	case res == nil || (err != nil && !errors.As(err, &be)):
		inv.Error = fmt.Sprintf("could not run bazel %s: %v", command, err)
	case !res.Complete():
		inv.Error = fmt.Sprintf("bazel %s ended without completing its build event stream (exit code %d): Bazel crashed or was killed", command, res.ExitCode)
	case res.ExitCode == 0 && res.Finished.Code() != 0:
		inv.Error = fmt.Sprintf("bazel %s exited 0 but its event stream says %s", command, inv.ExitName)
	case res.ExitCode == 0, res.ExitCode == bazel.ExitBuildFailed, res.ExitCode == bazel.ExitNoTests,
		res.ExitCode == bazel.ExitTestsFailed && command == "test":
		// ok, or findings
	default:
		inv.Error = fmt.Sprintf("bazel %s failed with exit code %d (%s)", command, res.ExitCode, orDefault(inv.ExitName, "no exit name"))
	}
	if res != nil && res.ExitCode == bazel.ExitBuildFailed && len(inv.Failed) == 0 && inv.Error == "" {
		inv.Failed = []report.TargetFailure{{Label: "(bazel " + command + ")", Reason: "failed without naming a target; see " + inv.Log}}
	}
	if inv.Error != "" && inv.Error != "cancelled" {
		x.fail("%s", inv.Error)
	}
	if inv.Error != "" || len(inv.Failed) > 0 || (res != nil && res.ExitCode != 0) {
		inv.LogTail = logTail(logPath, 40)
	}
	x.pr.Printf("%s: %s in %s", name, orDefault(inv.ExitName, fmt.Sprintf("exit %d", inv.ExitCode)), time.Duration(inv.DurationMS)*time.Millisecond)
	return inv, col
}

// collectTests turns the test invocations' events into report results,
// junit.xml, and for the perf tests, benchmarks and perf.json.
func (x *execution) collectTests(plain []string, testCol *collector, perf []string, benchCol *collector) {
	failedBuild := map[string]bool{}
	for _, inv := range []*report.Invocation{x.r.Build, x.r.Test, x.r.Bench} {
		if inv != nil {
			for _, f := range inv.Failed {
				failedBuild[f.Label] = true
			}
		}
	}
	var suites []report.JUnitSuite
	add := func(label string, col *collector) report.TestResult {
		tr := col.testResult(label)
		if tr.Status == "NO_STATUS" && failedBuild[label] {
			tr.Status = "FAILED_TO_BUILD"
		}
		tr.Tags = mergeTags(tr.Tags, x.tags[label])
		if !report.Passed(tr.Status) && tr.Log != "" {
			tr.LogTail = logTail(tr.Log, 40)
		}
		var cases []report.JUnitCase
		for _, xml := range col.xmlFiles(label) {
			c, err := report.ParseTestXML(xml)
			if err != nil {
				// A test that crashed may leave no test.xml: not an error.
				if !errors.Is(err, os.ErrNotExist) {
					x.pr.Printf("warning: %s: %v", label, err)
				}
				continue
			}
			cases = append(cases, c...)
		}
		suites = append(suites, report.SuiteFor(&tr, cases))
		x.r.Tests.Results = append(x.r.Tests.Results, tr)
		return tr
	}
	for _, label := range x.resultLabels(plain, testCol) {
		add(label, testCol)
	}
	for _, label := range x.resultLabels(perf, benchCol) {
		tr := add(label, benchCol)
		if tr.Log == "" {
			continue
		}
		f, err := os.Open(tr.Log)
		if err != nil {
			x.fail("perf %s: %v", label, err)
			continue
		}
		bs := report.ParseBenchmarks(label, f)
		f.Close()
		for i := range bs {
			bs[i].Cached = tr.Cached
		}
		x.r.Benchmarks = append(x.r.Benchmarks, bs...)
	}
	if len(suites) > 0 {
		j := report.MergeJUnit("stride run "+shortSHA(x.r.Head.SHA), suites)
		b, err := j.Marshal()
		if err == nil {
			err = report.WriteAtomic(filepath.Join(x.o.OutDir, report.JUnitFile), b)
		}
		if err != nil {
			x.fail("junit: %v", err)
		} else {
			x.r.Files.JUnit = report.JUnitFile
		}
	}
	if len(perf) > 0 {
		b, err := report.MarshalPerf(x.r)
		if err == nil {
			err = report.WriteAtomic(filepath.Join(x.o.OutDir, report.PerfFile), b)
		}
		if err != nil {
			x.fail("perf: %v", err)
		} else {
			x.r.Files.Perf = report.PerfFile
		}
	}
}

// resultLabels are the tests that must have a result: the requested ones,
// except test_suites, which Bazel expands into their tests, plus every
// test Bazel reported (a suite's members).
func (x *execution) resultLabels(requested []string, col *collector) []string {
	if col == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range requested {
		if x.kindOf(l) == "test_suite" || strings.HasPrefix(col.kindOf(l), "test_suite") {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	for _, l := range col.summaryLabels() {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

func (x *execution) kindOf(label string) string {
	for _, t := range x.targets {
		if t.Label == label {
			return t.Kind
		}
	}
	return ""
}

func (x *execution) tagsOf(label string) []string {
	for _, t := range x.targets {
		if t.Label == label {
			return t.Tags
		}
	}
	return nil
}

// finish decides the status, writes the report files and returns.
func (x *execution) finish(started time.Time) (*report.Report, error) {
	r := x.r
	switch {
	case x.cancelled():
		r.Status = report.StatusCancelled
	case len(r.Errors) > 0:
		r.Status = report.StatusError
		r.BadInput = x.input
	case x.failed():
		r.Status = report.StatusFailed
	default:
		r.Status = report.StatusGreen
	}
	end := time.Now()
	r.Finished = &end
	r.Timing.TotalMS = end.Sub(started).Milliseconds()
	r.Timing.BazelMS = x.bazel.Milliseconds()
	r.Timing.OverheadMS = r.Timing.TotalMS - r.Timing.BazelMS
	r.Files.Markdown = report.MarkdownFile
	r.Tally()
	if err := r.WriteMarkdown(x.o.OutDir); err != nil {
		r.Files.Markdown = ""
		x.writeFailed(err)
	}
	if err := r.WriteJSON(x.o.OutDir); err != nil {
		// The "incomplete" report stays: never green. Say so.
		x.writeFailed(err)
		_ = r.WriteMarkdown(x.o.OutDir) // report.md, at least, says error
		return r, fmt.Errorf("could not write the final report (%s stays incomplete): %w", filepath.Join(x.o.OutDir, report.JSONFile), err)
	}
	return r, nil
}

func (x *execution) writeFailed(err error) {
	if x.r.Status == report.StatusGreen || x.r.Status == report.StatusFailed {
		x.r.Status = report.StatusError
	}
	x.r.Errors = append(x.r.Errors, err.Error())
	x.r.Tally()
}

// failed reports whether the change has findings: a target that did not
// build, a test that did not pass, benchmarks that failed.
func (x *execution) failed() bool {
	for _, inv := range []*report.Invocation{x.r.Build, x.r.Test, x.r.Bench} {
		if inv != nil && (len(inv.Failed) > 0 || inv.ExitCode != 0) {
			return true
		}
	}
	for _, t := range x.r.Tests.Results {
		if !report.Passed(t.Status) {
			return true
		}
	}
	return false
}

// checkHead checks that the change's head is what the work tree has
// checked out; dirty reports tracked files with uncommitted changes.
func checkHead(c *change.Change) (dirty bool, err error) {
	if !c.Uncommitted {
		ok, err := c.HeadCheckedOut()
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("--head %s is %s but the work tree has another commit checked out: Bazel builds the work tree, so check out %s first (stride hook does this in a work directory of its own)", c.HeadRev, c.Head, c.HeadRev)
		}
	}
	return c.Repo.IsDirty()
}

// RunDir is where the run of head (a full sha) in the workspace root
// writes its report unless told otherwise: root/out/runs/<head>.
func RunDir(root, head string) string {
	return filepath.Join(root, "out", "runs", head)
}

// reportChanges is the report's form of a change's files.
func reportChanges(fs []gitrepo.Change) []report.Change {
	out := make([]report.Change, 0, len(fs))
	for _, f := range fs {
		out = append(out, report.Change{Path: f.Path, Status: string(f.Status), OldPath: f.OldPath})
	}
	return out
}

// logTail returns the last n interesting lines of a Bazel console log or a
// test log: progress lines ("[12 / 40] ...", "Loading:", "INFO: ...") are
// dropped.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const max = 1 << 20
	if len(b) > max {
		b = b[len(b)-max:]
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Loading:") || strings.HasPrefix(t, "Analyzing:") || strings.HasPrefix(t, "INFO:") ||
			(strings.HasPrefix(t, "[") && strings.Contains(t, " / ") && strings.Contains(t, "]")) {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func mergeTags(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range append(append([]string{}, a...), b...) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
