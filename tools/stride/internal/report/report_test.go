package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, d)
	}
}

func f64(v float64) *float64 { return &v }

// sample is a failed run with a bit of everything; docs/run.md shows its
// JSON.
func sample() *Report {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	end := start.Add(83 * time.Second)
	r := New("/src/monorepo", start)
	r.Finished = &end
	r.Branch = "main"
	r.Base = Rev{Rev: "origin/main", SHA: "1111111111111111111111111111111111111111"}
	r.Head = Rev{Rev: "HEAD", SHA: "2222222222222222222222222222222222222222"}
	r.Changes = []Change{
		{Path: "libs/log/log.go", Status: "modified"},
		{Path: "libs/log/level.go", Status: "renamed", OldPath: "libs/log/levels.go"},
	}
	r.Affected.Targets = []Target{
		{Label: "//libs/log", Kind: "go_library", Reasons: []string{"source libs/log/log.go changed"}},
		{Label: "//libs/log:log_test", Kind: "go_test", Test: true, Reasons: []string{"depends on //libs/log"}},
		{Label: "//libs/log:bench_test", Kind: "go_test", Test: true, Tags: []string{"perf"}, Reasons: []string{"depends on //libs/log"}},
		{Label: "//services/artifactd:artifactd_test", Kind: "go_test", Test: true, Reasons: []string{"depends on //libs/log"}},
	}
	r.Build = &Invocation{Command: "build", Flags: []string{"--keep_going"}, Targets: 4, ExitCode: 0, ExitName: "SUCCESS", Complete: true, DurationMS: 41000, Log: "bazel-build.log"}
	r.Test = &Invocation{Command: "test", Flags: []string{"--keep_going"}, Targets: 2, ExitCode: 3, ExitName: "TESTS_FAILED", Complete: true, DurationMS: 30000, Log: "bazel-test.log"}
	r.Bench = &Invocation{Command: "test", Flags: []string{"--keep_going", "--test_arg=-test.bench=.", "--test_arg=-test.benchmem"}, Targets: 1, Complete: true, ExitName: "SUCCESS", DurationMS: 9000, Log: "bazel-bench.log"}
	r.Tests.Results = []TestResult{
		{Label: "//libs/log:bench_test", Status: "PASSED", DurationMS: 1200, Cases: 2, Tags: []string{"perf"}},
		{Label: "//services/artifactd:artifactd_test", Status: "FLAKY", Flaky: true, Attempts: 2, DurationMS: 15000, Cases: 12},
		{Label: "//libs/log:log_test", Status: "FAILED", DurationMS: 800, Cases: 3, FailedCases: []string{"TestLevel"},
			Log:     "/root/.cache/bazel/_bazel_root/x/execroot/monorepo/bazel-out/k8-fastbuild/testlogs/libs/log/log_test/test.log",
			LogTail: "=== RUN   TestLevel\n    log_test.go:12: level = 2, want 3\n--- FAIL: TestLevel (0.00s)\nFAIL"},
	}
	r.Benchmarks = []Benchmark{{Target: "//libs/log:bench_test", Name: "Format", Procs: 2, Iterations: 1000000, NsPerOp: 1234, BytesPerOp: f64(56), AllocsPerOp: f64(2)}}
	r.Cache = Cache{ActionsCreated: 400, ActionsExecuted: 37}
	r.Timing = Timing{TotalMS: 83000, AffectedMS: 2500, BuildMS: 41000, TestMS: 30000, BenchMS: 9000, BazelMS: 82100, OverheadMS: 900}
	r.Owners = Check{Reason: "internal/owners is not part of this build"}
	r.Policy = Check{Checked: true, OK: true}
	r.Files = Files{JSON: JSONFile, Markdown: MarkdownFile, JUnit: JUnitFile, Perf: PerfFile}
	r.Status = StatusFailed
	r.Tally()
	return r
}

func TestGolden(t *testing.T) {
	r := sample()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.json", b)
	golden(t, "report.golden.md", []byte(r.Markdown()))
}

func TestTally(t *testing.T) {
	r := sample()
	want := Tests{Total: 3, Passed: 2, Failed: 1, Flaky: 1, Cached: 0, Executed: 3}
	got := r.Tests
	got.Results = nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("totals (-want +got):\n%s", d)
	}
	if r.Tests.Results[0].Label != "//libs/log:log_test" {
		t.Errorf("first result %s, want the failure first", r.Tests.Results[0].Label)
	}
	if r.Affected.Count != 4 || r.Affected.Tests != 3 {
		t.Errorf("affected %d/%d", r.Affected.Count, r.Affected.Tests)
	}
	if r.ExitCode != 1 {
		t.Errorf("exit code %d", r.ExitCode)
	}
	if got := *r.Cache.ActionHitRate; got < 0.907 || got > 0.908 {
		t.Errorf("action hit rate %v", got)
	}
	wantSum := "4 target(s) affected, 3 test(s); tests: 2 passed, 1 failed, 1 flaky (0 cached)"
	if r.Summary != wantSum {
		t.Errorf("summary %q, want %q", r.Summary, wantSum)
	}
}

func TestSummaries(t *testing.T) {
	tests := []struct {
		name   string
		status Status
		errs   []string
		want   string
	}{
		{"nothing affected", StatusGreen, nil, "nothing affected"},
		{"error", StatusError, []string{"bazel build crashed (exit 37)\nmore"}, "error: bazel build crashed (exit 37) …"},
		{"incomplete", StatusIncomplete, nil, "running (or killed before it finished)"},
		{"cancelled", StatusCancelled, nil, "cancelled before it finished"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New("/w", time.Unix(0, 0))
			r.Status = tc.status
			r.Errors = tc.errs
			r.Tally()
			if r.Summary != tc.want {
				t.Errorf("summary %q, want %q", r.Summary, tc.want)
			}
			if r.ExitCode != tc.status.ExitCode() {
				t.Errorf("exit code %d", r.ExitCode)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for s, want := range map[Status]int{StatusGreen: 0, StatusFailed: 1, StatusError: 3, StatusCancelled: 3, StatusIncomplete: 3, "": 3} {
		if got := s.ExitCode(); got != want {
			t.Errorf("%q.ExitCode() = %d, want %d", s, got, want)
		}
	}
	// An error that is the input's fault exits 2 (docs/run.md).
	r := New("/w", time.Now())
	r.Status, r.BadInput = StatusError, true
	r.Errors = []string{"affected: BUILD does not load"}
	r.Tally()
	if r.ExitCode != 2 {
		t.Errorf("bad input: exit code %d, want 2", r.ExitCode)
	}
}

func TestWriteAndRead(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	if err := r.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Read(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir has %d entries, want only report.json", len(ents))
	}
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"schema":"stride.other/v1"}`), 0o644)
	if _, err := Read(filepath.Join(dir, "other.json")); err == nil || !strings.Contains(err.Error(), "stride.report/v1") {
		t.Errorf("Read of another schema: err = %v", err)
	}
}

func TestWriteAtomicFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	os.WriteFile(path, []byte("old"), 0o644)
	// Renaming over a directory fails after the data was written.
	if err := WriteAtomic(filepath.Join(dir, "sub"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "sub"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "f"), nil, 0o644)
	if err := WriteAtomic(filepath.Join(dir, "sub"), []byte("new")); err == nil {
		t.Fatal("write over a non-empty directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("report.json = %q", b)
	}
}
