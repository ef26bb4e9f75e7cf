// Package report is the model of one `stride run`: what changed, what it
// affected, how the build and the tests went, perf numbers, cache hit rates
// and timings. It renders report.json (schema stride.report/v1, documented
// in docs/run.md) and report.md, merges the tests' JUnit XML files into one,
// and parses Go benchmark output.
//
// Consumers (stride status, the release board) read report.json through
// Read and these types, never by hand.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	"github.com/strideci/monorepo/tools/stride/internal/exitcode"
)

// Schema is the value of the "schema" field of report.json.
const Schema = "stride.report/v1"

// File names inside a run's output directory.
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	JUnitFile    = "junit.xml"
	PerfFile     = "perf.json"
)

// Status is the outcome of a run.
type Status string

// Statuses. Only StatusGreen means the change is good; every other status
// makes `stride run` exit non-zero.
const (
	// StatusGreen: everything affected built and every affected test passed
	// (flaky passes included), or nothing was affected. Exit 0.
	StatusGreen Status = "green"
	// StatusFailed: a target failed to build or a test failed. Exit 1.
	StatusFailed Status = "failed"
	// StatusError: stride or Bazel could not do its job (Bazel crashed,
	// bad input, disk full...); the outcome of the change is unknown. Exit
	// 3, or 2 when the error is the input's (BadInput).
	StatusError Status = "error"
	// StatusCancelled: the run was interrupted (a newer push on the same
	// branch, SIGINT/SIGTERM). Exit 3.
	StatusCancelled Status = "cancelled"
	// StatusIncomplete: the run has not finished. A report left in this
	// status by a process that no longer runs was killed. Exit 3.
	StatusIncomplete Status = "incomplete"
)

// ExitCode is the exit code of `stride run` for a status: 0 green, 1
// failed, 3 anything else (an error, a cancelled or unfinished run). A
// report whose error is the input's fault (BadInput) exits 2 instead.
func (s Status) ExitCode() int {
	switch s {
	case StatusGreen:
		return exitcode.OK
	case StatusFailed:
		return exitcode.Findings
	}
	return exitcode.Infra
}

// Report is report.json.
type Report struct {
	Schema   string `json:"schema"`
	Status   Status `json:"status"`
	ExitCode int    `json:"exit_code"`
	// Summary is one human line, e.g. "3 targets affected; tests: 2 passed, 1 failed".
	Summary   string     `json:"summary"`
	Workspace string     `json:"workspace"`
	Branch    string     `json:"branch,omitempty"`
	Base      Rev        `json:"base"`
	Head      Rev        `json:"head"`
	Dirty     bool       `json:"dirty,omitempty"` // the working tree had uncommitted changes
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished,omitempty"`

	Changes  []Change `json:"changes"`
	Affected Affected `json:"affected"`

	// Build is the `bazel build` of every affected target; Test the `bazel
	// test` of the affected tests; Bench the `bazel test` of the affected
	// tests tagged perf, which runs their tests and their benchmarks.
	Build *Invocation `json:"build,omitempty"`
	Test  *Invocation `json:"test,omitempty"`
	Bench *Invocation `json:"bench,omitempty"`

	Tests      Tests       `json:"tests"`
	Benchmarks []Benchmark `json:"benchmarks"`
	Cache      Cache       `json:"cache"`
	Timing     Timing      `json:"timing"`
	Owners     Check       `json:"owners"`
	Policy     Check       `json:"policy"`
	// Errors are the errors of status "error", in order.
	Errors []string `json:"errors,omitempty"`
	// BadInput: the error is the input's fault (a workspace Bazel cannot
	// load at head, an unreadable change), not the infrastructure's: exit
	// 2, not 3.
	BadInput bool `json:"bad_input,omitempty"`
	// Files are the other outputs of the run, relative to the report's
	// directory (absent when not written).
	Files Files `json:"files"`
	// Shard is set on a shard's partial report (`stride run --shard i/N`):
	// which part of the affected set it built and tested.
	Shard *Shard `json:"shard,omitempty"`
	// Shards is set on a report merged from partial ones (`stride report
	// merge`): one line per shard.
	Shards []Shard `json:"shards,omitempty"`
}

// Shard is one shard of a sharded run.
type Shard struct {
	Index int `json:"index"` // 1..Count
	Count int `json:"count"`
	// AffectedDigest identifies the whole affected set (base, head and
	// every affected label): shards of one run agree on it.
	AffectedDigest string `json:"affected_digest"`
	// Balance is how the set was split: "durations" (test times of earlier
	// reports) or "targets" (no history: equal target counts).
	Balance string `json:"balance"`
	// Targets are the affected targets this shard built and tested.
	Targets []string `json:"targets"`
	// EstimatedMS is the shard's share of the recorded test durations
	// (balance "durations").
	EstimatedMS int64 `json:"estimated_ms,omitempty"`
	// Status and TotalMS, on a merged report, are the shard's outcome.
	Status  Status `json:"status,omitempty"`
	TotalMS int64  `json:"total_ms,omitempty"`
	// Dir is where the merge read the shard's report.
	Dir string `json:"dir,omitempty"`
}

// Rev is a revision as given and as resolved.
type Rev struct {
	Rev string `json:"rev,omitempty"` // as given: "origin/main", "HEAD"
	SHA string `json:"sha,omitempty"`
}

// Change is one changed path between base and head.
type Change struct {
	Path    string `json:"path"`
	Status  string `json:"status"` // added, modified, deleted, renamed
	OldPath string `json:"old_path,omitempty"`
}

// Affected is the affected set the run built and tested.
type Affected struct {
	Count   int      `json:"count"`
	Tests   int      `json:"tests"`
	Targets []Target `json:"targets"`
	// BaseMap and HeadMap say where each side's digest map came from:
	// "cache" (this runner's cache directory), "remote-cache" (the
	// digest maps shared through the remote cache, docs/scale-out.md),
	// or how it was computed ("query", "query-scratch", "derived"...: the
	// sources of stride affected --json).
	BaseMap string `json:"base_map,omitempty"`
	HeadMap string `json:"head_map,omitempty"`
	// SharedMapsNote says why the shared digest maps were not used, or
	// what went wrong with them.
	SharedMapsNote string `json:"shared_maps_note,omitempty"`
}

// Target is one affected target and why it is affected.
type Target struct {
	Label   string   `json:"label"`
	Kind    string   `json:"kind,omitempty"` // rule kind, e.g. go_test
	Test    bool     `json:"test,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
}

// Invocation is one Bazel command of the run.
type Invocation struct {
	Command string   `json:"command"`         // build, test
	Flags   []string `json:"flags,omitempty"` // flags stride added (not the targets)
	Targets int      `json:"targets"`         // targets requested
	// ExitCode is Bazel's exit code (-1: killed by a signal); ExitName is
	// the name from the event stream (SUCCESS, BUILD_FAILURE, ...).
	ExitCode int    `json:"exit_code"`
	ExitName string `json:"exit_name,omitempty"`
	// Complete: Bazel's event stream ended normally. A crash leaves false.
	Complete    bool  `json:"complete"`
	Interrupted bool  `json:"interrupted,omitempty"`
	DurationMS  int64 `json:"duration_ms"`
	// Log is Bazel's console output, relative to the report directory.
	Log string `json:"log,omitempty"`
	// Failed are targets that did not build, with what Bazel said.
	Failed []TargetFailure `json:"failed,omitempty"`
	// LogTail is the end of Bazel's console output when it failed.
	LogTail string `json:"log_tail,omitempty"`
	// Error is why the invocation counts as an infrastructure error.
	Error string `json:"error,omitempty"`
}

// TargetFailure is a target that failed to build.
type TargetFailure struct {
	Label  string `json:"label"`
	Reason string `json:"reason,omitempty"`
	// Output is the end of the failed action's output (compiler errors).
	Output string `json:"output,omitempty"`
}

// Tests are the test results.
type Tests struct {
	Total    int `json:"total"`
	Passed   int `json:"passed"` // includes flaky
	Failed   int `json:"failed"` // everything not passed: failed, timeout, failed to build, no status
	Flaky    int `json:"flaky"`
	Cached   int `json:"cached"`
	Executed int `json:"executed"`
	// Results, failures first, then by label.
	Results []TestResult `json:"results"`
}

// TestResult is one test target.
type TestResult struct {
	Label string `json:"label"`
	// Status is Bazel's overall status: PASSED, FLAKY, FAILED, TIMEOUT,
	// FAILED_TO_BUILD, INCOMPLETE, REMOTE_FAILURE, TOOL_HALTED_BEFORE_TESTING,
	// or NO_STATUS when Bazel said nothing about the test.
	Status     string   `json:"status"`
	Cached     bool     `json:"cached,omitempty"`
	Flaky      bool     `json:"flaky,omitempty"`
	DurationMS int64    `json:"duration_ms"`
	Attempts   int      `json:"attempts,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	// Cases and FailedCases come from the test's test.xml.
	Cases       int      `json:"cases"`
	FailedCases []string `json:"failed_cases,omitempty"`
	Log         string   `json:"log,omitempty"` // test.log (absolute; under bazel-testlogs)
	XML         string   `json:"xml,omitempty"`
	LogTail     string   `json:"log_tail,omitempty"` // end of test.log, for failures
}

// Passed reports whether a Bazel test status counts as a pass.
func Passed(status string) bool { return status == "PASSED" || status == "FLAKY" }

// Benchmark is one line of Go benchmark output from a perf-tagged test.
type Benchmark struct {
	Target     string  `json:"target"`
	Name       string  `json:"name"` // without the "Benchmark" prefix and -procs suffix
	Procs      int     `json:"procs,omitempty"`
	Iterations int64   `json:"iterations"`
	NsPerOp    float64 `json:"ns_per_op"`
	// BytesPerOp and AllocsPerOp are present with -test.benchmem.
	BytesPerOp  *float64 `json:"bytes_per_op,omitempty"`
	AllocsPerOp *float64 `json:"allocs_per_op,omitempty"`
	MBPerSec    *float64 `json:"mb_per_s,omitempty"`
	// Metrics holds any other unit (b.ReportMetric).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Cached  bool               `json:"cached,omitempty"` // from a cached test result
}

// Cache says how much of the run Bazel did not redo.
type Cache struct {
	// Actions over the run's Bazel invocations, from Bazel's build metrics:
	// created (analyzed) and executed. Created is 0 when analysis itself was
	// cached by a warm Bazel server.
	ActionsCreated  int64 `json:"actions_created"`
	ActionsExecuted int64 `json:"actions_executed"`
	RemoteCacheHits int64 `json:"remote_cache_hits,omitempty"`
	// Processes are the spawns Bazel counted ("N processes: ..."): served
	// by the remote cache or run by a strategy; internal ones excluded.
	Processes int64 `json:"processes,omitempty"`
	// ActionHitRate is 1 - executed/created, when created > 0.
	ActionHitRate *float64 `json:"action_hit_rate,omitempty"`
	// TestHitRate is cached tests / tests, when there were tests.
	TestHitRate *float64 `json:"test_hit_rate,omitempty"`
	// Remote is the shared remote cache the run was given (--remote-cache).
	Remote *RemoteCache `json:"remote,omitempty"`
}

// RemoteCache is how the run used a remote cache.
type RemoteCache struct {
	URL string `json:"url"` // password redacted
	// Used: it answered and Bazel was pointed at it. When false, Note
	// says why and the run built without it.
	Used     bool   `json:"used"`
	ReadOnly bool   `json:"read_only,omitempty"`
	Note     string `json:"note,omitempty"`
	// HitRate is remote cache hits / processes, when there were any.
	HitRate *float64 `json:"hit_rate,omitempty"`
}

// Timing is where the run's wall time went, in milliseconds.
type Timing struct {
	TotalMS    int64 `json:"total_ms"`
	AffectedMS int64 `json:"affected_ms"` // computing the affected set (includes its bazel query)
	ChecksMS   int64 `json:"checks_ms"`   // owners and policy checks (policy's Gazelle run included)
	BuildMS    int64 `json:"build_ms"`
	TestMS     int64 `json:"test_ms"`
	BenchMS    int64 `json:"bench_ms"`
	// BazelMS is the wall time of every Bazel process of the run, the
	// affected computation's queries included when it reports them.
	BazelMS int64 `json:"bazel_ms"`
	// OverheadMS is stride's own time: TotalMS - BazelMS.
	OverheadMS int64 `json:"overhead_ms"`
}

// Check is the outcome of a check that runs beside the build (owners,
// commit policy).
type Check struct {
	Checked bool `json:"checked"`
	OK      bool `json:"ok"`
	// Reason says why the check did not run, or sums up its findings.
	Reason   string   `json:"reason,omitempty"`
	Findings []string `json:"findings,omitempty"`
}

// Files are a run's output files, relative to its directory.
type Files struct {
	JSON     string `json:"json,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	JUnit    string `json:"junit,omitempty"`
	Perf     string `json:"perf,omitempty"`
}

// New returns a report in status incomplete, as written when a run starts.
func New(workspace string, started time.Time) *Report {
	return &Report{
		Schema:     Schema,
		Status:     StatusIncomplete,
		ExitCode:   StatusIncomplete.ExitCode(),
		Workspace:  workspace,
		Started:    started,
		Changes:    []Change{},
		Affected:   Affected{Targets: []Target{}},
		Tests:      Tests{Results: []TestResult{}},
		Benchmarks: []Benchmark{},
		Files:      Files{JSON: JSONFile},
	}
}

// Marshal renders report.json (indented, trailing newline).
func (r *Report) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return buf.Bytes(), nil
}

// Read reads a report.json and checks its schema.
func Read(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes a report.json (read from a store, say) and checks its
// schema; name is used in errors.
func Parse(name string, b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse report %s: %w", name, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("report %s: schema %q, want %q", name, r.Schema, Schema)
	}
	return &r, nil
}

// WriteJSON writes report.json into dir atomically.
func (r *Report) WriteJSON(dir string) error {
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(dir, JSONFile), b)
}

// WriteMarkdown writes report.md into dir atomically.
func (r *Report) WriteMarkdown(dir string) error {
	return WriteAtomic(filepath.Join(dir, MarkdownFile), []byte(r.Markdown()))
}

// MarshalPerf renders perf.json (schema stride.perf/v1): the run's head
// and its benchmarks.
func MarshalPerf(r *Report) ([]byte, error) {
	doc := struct {
		Schema     string      `json:"schema"`
		Head       string      `json:"head"`
		Benchmarks []Benchmark `json:"benchmarks"`
	}{"stride.perf/v1", r.Head.SHA, r.Benchmarks}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteAtomic writes data to path atomically (see atomicfile.Write).
func WriteAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// Tally fills the derived fields from the lists: the affected counts, the
// test totals (and sorts the results, failures first), the cache hit rates
// and the one-line summary. Call it after the lists are complete and the
// status is set.
func (r *Report) Tally() {
	r.Affected.Count = len(r.Affected.Targets)
	r.Affected.Tests = 0
	for _, t := range r.Affected.Targets {
		if t.Test {
			r.Affected.Tests++
		}
	}
	ts := &r.Tests
	ts.Total, ts.Passed, ts.Failed, ts.Flaky, ts.Cached, ts.Executed = 0, 0, 0, 0, 0, 0
	for _, t := range ts.Results {
		ts.Total++
		if Passed(t.Status) {
			ts.Passed++
		} else {
			ts.Failed++
		}
		if t.Flaky {
			ts.Flaky++
		}
		if t.Cached {
			ts.Cached++
		} else if t.Status != "NO_STATUS" && t.Status != "FAILED_TO_BUILD" {
			ts.Executed++
		}
	}
	sort.SliceStable(ts.Results, func(i, j int) bool {
		pi, pj := Passed(ts.Results[i].Status), Passed(ts.Results[j].Status)
		if pi != pj {
			return !pi
		}
		return ts.Results[i].Label < ts.Results[j].Label
	})
	r.Cache.TestHitRate = nil
	if ts.Total > 0 {
		v := float64(ts.Cached) / float64(ts.Total)
		r.Cache.TestHitRate = &v
	}
	r.Cache.ActionHitRate = nil
	if c := r.Cache; c.ActionsCreated > 0 {
		v := 1 - float64(c.ActionsExecuted)/float64(c.ActionsCreated)
		if v < 0 {
			v = 0
		}
		r.Cache.ActionHitRate = &v
	}
	if rc := r.Cache.Remote; rc != nil {
		rc.HitRate = nil
		if rc.Used && r.Cache.Processes > 0 {
			v := float64(r.Cache.RemoteCacheHits) / float64(r.Cache.Processes)
			rc.HitRate = &v
		}
	}
	r.ExitCode = r.Status.ExitCode()
	if r.Status == StatusError && r.BadInput {
		r.ExitCode = exitcode.Input
	}
	r.Summary = r.summary()
}

func (r *Report) summary() string {
	var parts []string
	switch r.Status {
	case StatusError:
		msg := "infrastructure error"
		if len(r.Errors) > 0 {
			msg = oneLine(r.Errors[0])
		}
		parts = append(parts, "error: "+msg)
	case StatusCancelled:
		parts = append(parts, "cancelled before it finished")
	case StatusIncomplete:
		parts = append(parts, "running (or killed before it finished)")
	}
	if r.Affected.Count == 0 {
		if r.Status == StatusGreen {
			parts = append(parts, "nothing affected")
		}
		return strings.Join(parts, "; ")
	}
	if r.Affected.Count > 0 {
		parts = append(parts, fmt.Sprintf("%d target(s) affected, %d test(s)", r.Affected.Count, r.Affected.Tests))
	}
	failedBuild := map[string]bool{}
	for _, inv := range []*Invocation{r.Build, r.Test, r.Bench} {
		if inv != nil {
			for _, f := range inv.Failed {
				failedBuild[f.Label] = true
			}
		}
	}
	if len(failedBuild) > 0 {
		parts = append(parts, fmt.Sprintf("%d target(s) failed to build", len(failedBuild)))
	}
	if ts := r.Tests; ts.Total > 0 {
		s := fmt.Sprintf("tests: %d passed, %d failed", ts.Passed, ts.Failed)
		if ts.Flaky > 0 {
			s += fmt.Sprintf(", %d flaky", ts.Flaky)
		}
		s += fmt.Sprintf(" (%d cached)", ts.Cached)
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
