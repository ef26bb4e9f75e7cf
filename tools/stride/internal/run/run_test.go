package run

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/exitcode"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// fakeAffecter returns a fixed affected set.
type fakeAffecter struct {
	targets      []report.Target
	incompatible []string
	err          error
	hook         func() // called during Affected
}

func (f *fakeAffecter) Affected(ctx context.Context, c *change.Change) (*Affected, error) {
	if f.hook != nil {
		f.hook()
	}
	if f.err != nil {
		return nil, f.err
	}
	return &Affected{
		Base:         report.Rev{Rev: "HEAD", SHA: "base"},
		Targets:      f.targets,
		Incompatible: f.incompatible,
	}, nil
}

func targets(labels ...string) []report.Target {
	var out []report.Target
	for _, l := range labels {
		out = append(out, report.Target{Label: l, Test: strings.HasSuffix(l, "_test"), Reasons: []string{"test says so"}})
	}
	return out
}

// The shared workspace: one Bazel server for all cases.
var wsFiles = map[string]string{
	"a/BUILD": `
genrule(name = "gen", outs = ["gen.txt"], cmd = "echo hi > $@")
sh_test(name = "pass_test", srcs = ["pass.sh"], data = [":gen"])
sh_test(name = "fail_test", srcs = ["fail.sh"])
sh_test(name = "flaky_test", srcs = ["flaky.sh"], flaky = True)
sh_test(name = "slow_test", srcs = ["slow.sh"])
sh_test(name = "bench_test", srcs = ["bench.sh"], tags = ["perf"])
test_suite(name = "suite", tests = [":pass_test"])
`,
	"a/pass.sh": "#!/bin/sh\necho ok\n",
	"a/fail.sh": "#!/bin/sh\necho 'expected 3, got 2'\nexit 1\n",
	// Fails on its first attempt, passes on the second: the mark lives
	// outside the sandbox, in the directory named by the env.
	"a/flaky.sh": "#!/bin/sh\nm=\"$FLAKY_MARK\"\nif [ -e \"$m\" ]; then echo second; exit 0; fi\ntouch \"$m\"; echo first; exit 1\n",
	"a/slow.sh":  "#!/bin/sh\nsleep 60\n",
	// A "Go benchmark": prints results only when asked to benchmark.
	"a/bench.sh": `#!/bin/sh
case "$*" in
*-test.bench=.*) printf 'goos: linux\nBenchmarkEncode-2   \t 2000\t   512.5 ns/op\t  64 B/op\t 1 allocs/op\nPASS\n';;
*) echo "unit tests only";;
esac
`,
	"b/BUILD": `
genrule(name = "broken", outs = ["broken.txt"], cmd = "echo 'compiler says no' >&2; exit 1")
sh_test(name = "needs_broken_test", srcs = ["t.sh"], data = [":broken"])
`,
	"b/t.sh": "#!/bin/sh\nexit 0\n",
}

var (
	wsOnce sync.Once
	wsDir  string
	wsMark string
	wsOB   string // the workspace's output base's parent
)

// workspace returns the shared workspace (a git repository), made once.
func workspace(t *testing.T) string {
	runtest.RequireBazel(t)
	wsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stride-run-test")
		if err != nil {
			t.Fatal(err)
		}
		runtest.Write(t, dir, runtest.WorkspaceFiles())
		runtest.Write(t, dir, wsFiles)
		runtest.CopyShims(t, dir)
		// Outside the workspace, which the sandbox mounts read-only.
		markDir, err := os.MkdirTemp("", "stride-run-mark")
		if err != nil {
			t.Fatal(err)
		}
		wsMark = filepath.Join(markDir, "flaky-mark")
		runtest.Write(t, dir, map[string]string{"user.bazelrc": "test --test_env=FLAKY_MARK=" + wsMark + "\n"})
		f, _ := os.OpenFile(filepath.Join(dir, ".bazelrc"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("try-import %workspace%/user.bazelrc\n")
		f.Close()
		wsOB, err = os.MkdirTemp("", "stride-run-ob")
		if err != nil {
			t.Fatal(err)
		}
		runtest.OutputBase(t, dir, wsOB)
		runtest.Git(t, dir, "init", "-q", "-b", "main")
		runtest.Commit(t, dir, "workspace")
		wsDir = dir
	})
	if wsDir == "" {
		t.Fatal("workspace setup failed earlier")
	}
	return wsDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wsDir != "" {
		runtest.Shutdown(wsDir)
		os.RemoveAll(wsDir)
		runtest.MakeWritable(wsOB)
		os.RemoveAll(wsOB)
		os.RemoveAll(filepath.Dir(wsMark))
	}
	os.Exit(code)
}

func options(t *testing.T, dir string, aff Affecter) Options {
	return optionsAt(t, dir, "", aff)
}

// optionsAt runs the change with head (default HEAD).
func optionsAt(t *testing.T, dir, head string, aff Affecter) Options {
	t.Helper()
	c, err := change.Open(dir, change.Options{Head: head, FirstParent: true})
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Change:   c,
		OutDir:   t.TempDir(),
		Affecter: aff,
		Bazel:    &bazel.Bazel{Dir: dir},
		Jobs:     2,
		Grace:    20 * time.Second,
	}
}

func readReport(t *testing.T, dir string) *report.Report {
	t.Helper()
	r, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// statuses maps test labels to status, with " cached" when withCached.
func statuses(r *report.Report, withCached bool) map[string]string {
	m := map[string]string{}
	for _, t := range r.Tests.Results {
		s := t.Status
		if t.Cached && withCached {
			s += " cached"
		}
		m[t.Label] = s
	}
	return m
}

func TestGreenThenCached(t *testing.T) {
	dir := workspace(t)
	aff := &fakeAffecter{targets: targets("//a:gen", "//a:pass_test", "//a:bench_test")}
	o := options(t, dir, aff)
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusGreen || rep.ExitCode != 0 {
		t.Fatalf("status %s (%v), want green", rep.Status, rep.Errors)
	}
	onDisk := readReport(t, o.OutDir)
	if onDisk.Status != report.StatusGreen || onDisk.Head.SHA != rep.Head.SHA {
		t.Errorf("report.json: status %s head %s", onDisk.Status, onDisk.Head.SHA)
	}
	if d := cmp.Diff(map[string]string{"//a:pass_test": "PASSED", "//a:bench_test": "PASSED"}, statuses(rep, false)); d != "" {
		t.Errorf("tests (-want +got):\n%s", d)
	}
	if len(rep.Benchmarks) != 1 || rep.Benchmarks[0].Name != "Encode" || rep.Benchmarks[0].NsPerOp != 512.5 || rep.Benchmarks[0].Target != "//a:bench_test" {
		t.Errorf("benchmarks = %+v", rep.Benchmarks)
	}
	if rep.Bench == nil || !strings.Contains(strings.Join(rep.Bench.Flags, " "), "-test.bench=.") {
		t.Errorf("bench invocation = %+v", rep.Bench)
	}
	for _, f := range []string{report.JSONFile, report.MarkdownFile, report.JUnitFile, report.PerfFile, "bazel-build.log", "bep-test.json"} {
		if _, err := os.Stat(filepath.Join(o.OutDir, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	var perf struct {
		Schema     string
		Benchmarks []report.Benchmark
	}
	b, _ := os.ReadFile(filepath.Join(o.OutDir, report.PerfFile))
	if err := json.Unmarshal(b, &perf); err != nil || perf.Schema != "stride.perf/v1" || len(perf.Benchmarks) != 1 {
		t.Errorf("perf.json = %s (%v)", b, err)
	}
	if rep.Timing.BuildMS <= 0 || rep.Timing.TestMS <= 0 || rep.Timing.BazelMS <= 0 || rep.Timing.TotalMS < rep.Timing.BazelMS {
		t.Errorf("timing = %+v", rep.Timing)
	}
	if rep.Cache.TestHitRate == nil {
		t.Errorf("no test hit rate")
	}

	// Again: the tests come from Bazel's cache, and say so.
	o.OutDir = t.TempDir()
	rep, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"//a:pass_test": "PASSED cached", "//a:bench_test": "PASSED cached"}, statuses(rep, true)); d != "" {
		t.Errorf("second run tests (-want +got):\n%s", d)
	}
	if rep.Cache.TestHitRate == nil || *rep.Cache.TestHitRate != 1 {
		t.Errorf("test hit rate = %v, want 1", rep.Cache.TestHitRate)
	}
	if len(rep.Benchmarks) != 1 || !rep.Benchmarks[0].Cached {
		t.Errorf("benchmarks of a cached run = %+v", rep.Benchmarks)
	}
	j, _ := os.ReadFile(filepath.Join(o.OutDir, report.JUnitFile))
	if !strings.Contains(string(j), `<property name="cached" value="true">`) {
		t.Errorf("junit.xml does not mark cached tests:\n%s", j)
	}
}

func TestTestFailures(t *testing.T) {
	dir := workspace(t)
	os.Remove(wsMark)
	aff := &fakeAffecter{targets: targets("//a:pass_test", "//a:fail_test", "//a:flaky_test")}
	o := options(t, dir, aff)
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusFailed || rep.ExitCode != 1 {
		t.Fatalf("status %s exit %d (%v), want failed 1", rep.Status, rep.ExitCode, rep.Errors)
	}
	want := map[string]string{"//a:pass_test": "PASSED", "//a:fail_test": "FAILED", "//a:flaky_test": "FLAKY"}
	if d := cmp.Diff(want, statuses(rep, false)); d != "" {
		t.Errorf("tests (-want +got):\n%s", d)
	}
	first := rep.Tests.Results[0]
	if first.Label != "//a:fail_test" || !strings.Contains(first.LogTail, "expected 3, got 2") {
		t.Errorf("first result %s with tail %q, want the failure with its log", first.Label, first.LogTail)
	}
	if rep.Tests.Flaky != 1 || rep.Tests.Passed != 2 || rep.Tests.Failed != 1 {
		t.Errorf("totals %+v", rep.Tests)
	}
	md, _ := os.ReadFile(filepath.Join(o.OutDir, report.MarkdownFile))
	if i, j := strings.Index(string(md), "## Failures"), strings.Index(string(md), "## What changed"); i < 0 || j < i {
		t.Errorf("report.md does not put failures first:\n%s", md)
	}
	if !strings.Contains(string(md), "expected 3, got 2") {
		t.Errorf("report.md lacks the failed test's log tail")
	}
	j, _ := os.ReadFile(filepath.Join(o.OutDir, report.JUnitFile))
	for _, s := range []string{`name="//a:fail_test"`, `<property name="flaky" value="true">`, `<error message="exited with error code 1">`} {
		if !strings.Contains(string(j), s) {
			t.Errorf("junit.xml lacks %s", s)
		}
	}
}

func TestBuildFailure(t *testing.T) {
	dir := workspace(t)
	aff := &fakeAffecter{targets: targets("//b:broken", "//b:needs_broken_test", "//a:pass_test")}
	o := options(t, dir, aff)
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusFailed || rep.ExitCode != 1 {
		t.Fatalf("status %s (%v), want failed", rep.Status, rep.Errors)
	}
	var failed []string
	var output string
	for _, f := range rep.Build.Failed {
		failed = append(failed, f.Label)
		output += f.Output
	}
	sort.Strings(failed)
	if d := cmp.Diff([]string{"//b:broken", "//b:needs_broken_test"}, failed); d != "" {
		t.Errorf("failed targets (-want +got):\n%s", d)
	}
	if !strings.Contains(output, "compiler says no") {
		t.Errorf("build failure output %q lacks the action's stderr", output)
	}
	want := map[string]string{"//a:pass_test": "PASSED", "//b:needs_broken_test": "FAILED_TO_BUILD"}
	if d := cmp.Diff(want, statuses(rep, false)); d != "" {
		t.Errorf("tests (-want +got):\n%s", d)
	}
}

// A test_suite is expanded by Bazel: its tests get results, it does not.
func TestTestSuite(t *testing.T) {
	dir := workspace(t)
	aff := &fakeAffecter{targets: []report.Target{{Label: "//a:suite", Kind: "test_suite", Test: true}}}
	rep, err := Run(context.Background(), options(t, dir, aff))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusGreen {
		t.Fatalf("status %s (%v)", rep.Status, rep.Errors)
	}
	if d := cmp.Diff(map[string]string{"//a:pass_test": "PASSED"}, statuses(rep, false)); d != "" {
		t.Errorf("tests (-want +got):\n%s", d)
	}
}

func TestNothingAffected(t *testing.T) {
	dir := workspace(t)
	o := options(t, dir, &fakeAffecter{})
	o.Bazel = bazelMustNotRun{t}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusGreen || rep.Summary != "nothing affected" {
		t.Fatalf("status %s %q", rep.Status, rep.Summary)
	}
}

// Affected targets incompatible with the target platform are not built,
// and the run says so.
func TestIncompatibleSkipped(t *testing.T) {
	dir := workspace(t)
	o := options(t, dir, &fakeAffecter{incompatible: []string{"//a:windows_test"}})
	o.Bazel = bazelMustNotRun{t}
	var out strings.Builder
	o.Progress = progress.New(&out, false)
	rep, err := Run(context.Background(), o)
	o.Progress.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusGreen {
		t.Fatalf("status %s %q", rep.Status, rep.Summary)
	}
	if !strings.Contains(out.String(), "1 affected target(s) incompatible with the target platform, skipped: //a:windows_test") {
		t.Errorf("progress does not say the incompatible target was skipped:\n%s", out.String())
	}
}

type bazelMustNotRun struct{ t *testing.T }

func (b bazelMustNotRun) Stream(context.Context, bazel.StreamOptions, string, ...string) (*bazel.StreamResult, error) {
	b.t.Error("bazel ran")
	return nil, errors.New("no")
}

// Whatever goes wrong around Bazel, the report is never green.
func TestNeverGreen(t *testing.T) {
	dir := workspace(t)
	fake := func(script string) Bazel {
		p := filepath.Join(t.TempDir(), "bazel")
		os.WriteFile(p, []byte("#!/bin/sh\nfor a in \"$@\"; do case $a in --build_event_json_file=*) f=${a#*=};; esac; done\n"+script), 0o755)
		return &bazel.Bazel{Binary: p, Dir: dir}
	}
	tests := []struct {
		name    string
		bazel   Bazel
		aff     *fakeAffecter
		want    report.Status
		wantErr string
	}{
		{
			name: "bazel crashes mid-build",
			bazel: fake(`echo '{"id":{"started":{}},"started":{}}' > "$f"
echo 'FATAL: bazel ran out of memory' >&2; kill -9 $$`),
			want: report.StatusError, wantErr: "crashed or was killed",
		},
		{
			name:  "bazel exits 0 with a truncated stream",
			bazel: fake(`echo '{"id":{"started":{}},"started":{}}' > "$f"; exit 0`),
			want:  report.StatusError, wantErr: "without completing",
		},
		{
			name: "bazel fails with an infrastructure exit code",
			bazel: fake(`echo '{"id":{"buildFinished":{}},"finished":{"exitCode":{"name":"LOCAL_ENVIRONMENTAL_ERROR","code":36}}}' > "$f"
echo '{"id":{"progress":{}},"lastMessage":true}' >> "$f"; echo 'No space left on device' >&2; exit 36`),
			want: report.StatusError, wantErr: "exit code 36",
		},
		{
			name:  "bazel missing",
			bazel: &bazel.Bazel{Binary: filepath.Join(t.TempDir(), "no-bazel"), Dir: dir},
			want:  report.StatusError, wantErr: "could not run bazel",
		},
		{
			name:  "affected fails",
			bazel: bazelMustNotRun{t},
			aff:   &fakeAffecter{err: errors.New("query failed")},
			want:  report.StatusError, wantErr: "query failed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aff := tc.aff
			if aff == nil {
				aff = &fakeAffecter{targets: targets("//a:pass_test")}
			}
			o := options(t, dir, aff)
			o.Bazel = tc.bazel
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tc.want || rep.ExitCode != exitcode.Infra || rep.BadInput {
				t.Fatalf("status %s exit %d (bad input %v), want %s %d", rep.Status, rep.ExitCode, rep.BadInput, tc.want, exitcode.Infra)
			}
			if !strings.Contains(strings.Join(rep.Errors, "\n"), tc.wantErr) {
				t.Errorf("errors %q lack %q", rep.Errors, tc.wantErr)
			}
			if onDisk := readReport(t, o.OutDir); onDisk.Status != tc.want {
				t.Errorf("report.json says %s", onDisk.Status)
			}
		})
	}
}

// A run killed before it finishes leaves the "incomplete" report; one
// whose final report cannot be written says so and is not green.
func TestIncompleteAndWriteFailure(t *testing.T) {
	dir := workspace(t)
	out := t.TempDir()
	var seen report.Status
	aff := &fakeAffecter{hook: func() {
		// What a reader sees while the run runs (or after a kill -9).
		if r, err := report.Read(filepath.Join(out, report.JSONFile)); err == nil {
			seen = r.Status
		}
		// Then make the final write fail: a non-empty directory where
		// report.json goes.
		os.Remove(filepath.Join(out, report.JSONFile))
		os.MkdirAll(filepath.Join(out, report.JSONFile, "x"), 0o755)
	}}
	o := options(t, dir, aff)
	o.OutDir = out
	rep, err := Run(context.Background(), o)
	if seen != report.StatusIncomplete {
		t.Errorf("report during the run says %q, want incomplete", seen)
	}
	if err == nil || rep == nil || rep.Status == report.StatusGreen || rep.ExitCode != exitcode.Infra {
		t.Fatalf("final write failed: err %v, report %+v", err, rep)
	}
}

func TestCancel(t *testing.T) {
	dir := workspace(t)
	aff := &fakeAffecter{targets: targets("//a:slow_test")}
	o := options(t, dir, aff)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the test is running.
	go func() {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(filepath.Join(o.OutDir, "bep-build.json")); err == nil && strings.Contains(string(b), `"lastMessage"`) {
				time.Sleep(1500 * time.Millisecond) // into the test invocation
				cancel()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	start := time.Now()
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusCancelled || rep.ExitCode != exitcode.Infra {
		t.Fatalf("status %s exit %d, want cancelled %d", rep.Status, rep.ExitCode, exitcode.Infra)
	}
	if time.Since(start) > 45*time.Second {
		t.Errorf("cancel took %s: Bazel was not interrupted", time.Since(start))
	}
	if rep.Test == nil || !rep.Test.Interrupted {
		t.Errorf("test invocation %+v, want interrupted", rep.Test)
	}
}

func TestHeadMustBeCheckedOut(t *testing.T) {
	dir := runtest.Workspace(t, nil)
	runtest.Git(t, dir, "init", "-q", "-b", "main")
	first := runtest.Commit(t, dir, "one")
	runtest.Write(t, dir, map[string]string{"x.txt": "x"})
	runtest.Commit(t, dir, "two")
	o := optionsAt(t, dir, first, &fakeAffecter{})
	_, err := Run(context.Background(), o)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "check out") {
		t.Fatalf("err = %v, want a usage error saying to check out head", err)
	}
}

func TestLogTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	os.WriteFile(p, []byte("Loading: 1 packages\n[3 / 10] Compiling x\nINFO: Analyzed\nERROR: one\nline two\nline three\n"), 0o644)
	if got := logTail(p, 2); got != "line two\nline three" {
		t.Errorf("logTail = %q", got)
	}
	if got := logTail(p, 10); got != "ERROR: one\nline two\nline three" {
		t.Errorf("logTail = %q", got)
	}
}

// TestAffectedInputError: an affected set that fails because of the input
// (the Affecter's *UsageError) gives status error with bad_input, exit 2.
func TestAffectedInputError(t *testing.T) {
	dir := workspace(t)
	o := options(t, dir, &fakeAffecter{err: &UsageError{errors.New("BUILD at head does not load")}})
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusError || !rep.BadInput || rep.ExitCode != exitcode.Input {
		t.Errorf("status %s, bad input %v, exit %d; want error, true, %d", rep.Status, rep.BadInput, rep.ExitCode, exitcode.Input)
	}
}
