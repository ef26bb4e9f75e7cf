// Package soundness is the ground truth for `stride affected`: on a
// synthetic workspace and its corpus of changes (tools/synth), it builds and
// tests //... at each change's base and then at its head on the same output
// base, and derives from the build event protocol (a) the tests Bazel
// actually executed (not cached) and (b) the targets whose output files
// changed. Soundness: both sets are inside stride's set. Precision:
// |(a) ∪ (b)| / |stride's set|. Optionally the same is measured for
// target-determinator.
package soundness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/soundness/internal/bep"
)

// Manifest is the corpus manifest written by tools/synth (schema
// stride.synth-corpus/v1); only the fields the harness reads.
type Manifest struct {
	Schema  string   `json:"schema"`
	Targets int      `json:"targets"`
	Initial string   `json:"initial"`
	Changes []Change `json:"changes"`
}

// Change is one base..head pair of the corpus.
type Change struct {
	ID      int    `json:"id"`
	Kind    string `json:"kind"`
	Base    string `json:"base"`
	Head    string `json:"head"`
	Summary string `json:"summary"`
}

// ReadManifest reads a corpus manifest.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if m.Schema != "stride.synth-corpus/v1" {
		return nil, fmt.Errorf("parse %s: schema %q, want stride.synth-corpus/v1", path, m.Schema)
	}
	return &m, nil
}

// Options configure a run.
type Options struct {
	Repo       string   // the synthetic workspace (a git repository)
	Manifest   string   // corpus manifest
	Stride     string   // stride binary
	TD         string   // target-determinator binary ("" to skip)
	Bazel      string   // bazel binary
	Startup    []string // bazel startup flags
	BuildFlags []string // extra flags for bazel test
	// BaseFlags are added to the first base build only (e.g. a disk cache
	// to make the cold build cheaper; later builds must not read one, or
	// tests served from it would not count as executed).
	BaseFlags []string
	// StrideNoCache runs stride with --cache-dir "" (one-off runs: the
	// rdeps path), and again with the cache when that fails (a base that
	// needs a scratch copy).
	StrideNoCache bool
	From          int    // first change ID to check (1-based)
	Max           int    // at most this many changes (0: all)
	OutDir        string // where results.jsonl and summary.md go
	Log           io.Writer
}

// Result is the verdict on one change.
type Result struct {
	ID        int     `json:"id"`
	Kind      string  `json:"kind"`
	Base      string  `json:"base"`
	Head      string  `json:"head"`
	Summary   string  `json:"summary"`
	BazelExit int     `json:"bazel_exit"`
	BuildSecs float64 `json:"build_secs"`
	// Executed are the tests Bazel ran at head (not cached); Changed the
	// targets whose output files differ from base (or are new).
	Executed []string `json:"executed"`
	Changed  []string `json:"changed"`
	Failed   []string `json:"failed,omitempty"` // targets that failed to build at head
	Oracle   int      `json:"oracle"`           // |Executed ∪ Changed|
	Stride   Tool     `json:"stride"`
	TD       *Tool    `json:"target_determinator,omitempty"`
	// Diff compares stride's and target-determinator's sets, when both ran.
	Diff *Diff `json:"diff,omitempty"`
}

// Diff is where stride's and target-determinator's sets differ, and which
// side Bazel proves right: a label only one tool selected that is in the
// oracle proves the other tool unsound; one that is not in the oracle
// costs the tool that selected it precision.
type Diff struct {
	OnlyStride         int      `json:"only_stride"`
	OnlyStrideInOracle int      `json:"only_stride_in_oracle"`
	OnlyTD             int      `json:"only_td"`
	OnlyTDInOracle     int      `json:"only_td_in_oracle"`
	Examples           []string `json:"examples,omitempty"`
}

func diff(oracle []string, stride, td Tool) *Diff {
	in := map[string]bool{}
	for _, l := range oracle {
		in[l] = true
	}
	s, t := map[string]bool{}, map[string]bool{}
	for _, l := range stride.Labels {
		s[l] = true
	}
	for _, l := range td.Labels {
		t[l] = true
	}
	d := &Diff{}
	for _, l := range stride.Labels {
		if !t[l] {
			d.OnlyStride++
			if in[l] {
				d.OnlyStrideInOracle++
				d.Examples = append(d.Examples, "stride-only, Bazel re-ran/changed it: "+l)
			} else if len(d.Examples) < 6 {
				d.Examples = append(d.Examples, "stride-only, unchanged per Bazel: "+l)
			}
		}
	}
	for _, l := range td.Labels {
		if !s[l] {
			d.OnlyTD++
			if in[l] {
				d.OnlyTDInOracle++
				d.Examples = append(d.Examples, "td-only, Bazel re-ran/changed it: "+l)
			} else if len(d.Examples) < 12 {
				d.Examples = append(d.Examples, "td-only, unchanged per Bazel: "+l)
			}
		}
	}
	return d
}

// Tool is one selector's answer on a change.
type Tool struct {
	Count   int      `json:"count"`
	Secs    float64  `json:"secs"`
	Missing []string `json:"missing,omitempty"` // in the oracle, not selected: unsound
	Err     string   `json:"error,omitempty"`
	Labels  []string `json:"-"`
}

// Sound reports whether the tool ran and selected every oracle target.
func (t Tool) Sound() bool { return t.Err == "" && len(t.Missing) == 0 }

// Run checks the changes and returns their results; results are also
// appended to OutDir/results.jsonl as they come.
func Run(ctx context.Context, o Options) ([]Result, error) {
	m, err := ReadManifest(o.Manifest)
	if err != nil {
		return nil, err
	}
	var todo []Change
	for _, c := range m.Changes {
		if c.ID >= o.From && (o.Max == 0 || len(todo) < o.Max) {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return nil, fmt.Errorf("no changes to check in %s (from %d)", o.Manifest, o.From)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	jf, err := os.Create(filepath.Join(o.OutDir, "results.jsonl"))
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	cacheDir := filepath.Join(o.OutDir, "stride-cache")
	d := bep.NewDigester()

	logf := func(format string, a ...interface{}) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	// Build the first base.
	logf("soundness: building base %s of change %d", short(todo[0].Base), todo[0].ID)
	st, _, secs, err := buildAt(ctx, o, todo[0].Base, "base", o.BaseFlags)
	if err != nil {
		return nil, err
	}
	prev := d.Digests(st)
	prevHead := todo[0].Base
	logf("soundness: base built in %.0fs (%d targets with outputs)", secs, len(prev))

	var results []Result
	for _, c := range todo {
		if c.Base != prevHead {
			// The chain is broken (e.g. -from on a later change): rebuild base.
			st, _, _, err := buildAt(ctx, o, c.Base, "base", nil)
			if err != nil {
				return results, err
			}
			prev = d.Digests(st)
		}
		st, exit, secs, err := buildAt(ctx, o, c.Head, fmt.Sprintf("c%03d", c.ID), nil)
		if err != nil {
			return results, err
		}
		r := Result{ID: c.ID, Kind: c.Kind, Base: c.Base, Head: c.Head, Summary: c.Summary, BazelExit: exit, BuildSecs: secs, Failed: st.Failed}
		for label, t := range st.Tests {
			if t.Executed {
				r.Executed = append(r.Executed, label)
			}
		}
		sort.Strings(r.Executed)
		cur := d.Digests(st)
		for label, dg := range cur {
			if prev[label] != dg {
				r.Changed = append(r.Changed, label)
			}
		}
		sort.Strings(r.Changed)
		oracle := union(r.Executed, r.Changed)
		r.Oracle = len(oracle)

		if err := evaluate(ctx, o, &r, cacheDir); err != nil {
			return results, err
		}
		results = append(results, r)
		b, _ := json.Marshal(r)
		jf.Write(append(b, '\n'))
		verdict := "no stride"
		if o.Stride != "" {
			verdict = "sound"
		}
		if o.Stride != "" && !r.Stride.Sound() {
			verdict = fmt.Sprintf("UNSOUND (missing %d: %s) %s", len(r.Stride.Missing), strings.Join(first(r.Stride.Missing, 5), " "), r.Stride.Err)
		}
		tdNote := ""
		if r.TD != nil {
			tdNote = fmt.Sprintf("; td %d in %.1fs", r.TD.Count, r.TD.Secs)
			if !r.TD.Sound() {
				tdNote += fmt.Sprintf(" (td unsound: missing %d %s)", len(r.TD.Missing), r.TD.Err)
			}
		}
		logf("soundness: change %d %-20s bazel %4.0fs exit %d: executed %d, changed %d, oracle %d; stride %d in %.1fs: %s%s",
			c.ID, c.Kind, secs, exit, len(r.Executed), len(r.Changed), r.Oracle, r.Stride.Count, r.Stride.Secs, verdict, tdNote)
		prev, prevHead = cur, c.Head
	}
	return results, nil
}

// evaluate runs the selectors on a change whose oracle is known, with the
// repository checked out at head.
func evaluate(ctx context.Context, o Options, r *Result, cacheDir string) error {
	oracle := union(r.Executed, r.Changed)
	r.Oracle = len(oracle)
	if o.Stride != "" {
		if o.StrideNoCache {
			r.Stride = runTool(ctx, o.Repo, oracle, o.Stride, "-C", o.Repo, "affected", "--base", r.Base, "--head", r.Head, "--cache-dir", "")
			if r.Stride.Err == "" {
				return evaluateTD(ctx, o, r, oracle)
			}
		}
		r.Stride = runTool(ctx, o.Repo, oracle, o.Stride, "-C", o.Repo, "affected", "--base", r.Base, "--head", r.Head, "--cache-dir", cacheDir)
	}
	return evaluateTD(ctx, o, r, oracle)
}

// evaluateTD runs target-determinator on a change (see evaluate).
func evaluateTD(ctx context.Context, o Options, r *Result, oracle []string) error {
	if o.TD != "" {
		// target-determinator compares the current checkout (head) with a
		// commit it checks out itself, and restores the checkout.
		t := runTool(ctx, o.Repo, oracle, o.TD, "-working-directory", o.Repo, "-bazel", o.Bazel, r.Base)
		r.TD = &t
		if o.Stride != "" {
			r.Diff = diff(oracle, r.Stride, t)
		}
		if err := checkout(o.Repo, r.Head); err != nil {
			return err
		}
	}
	return nil
}

// Evaluate re-runs the selectors (stride, target-determinator) on the
// changes of a results file made by Run, without building: the oracle is
// read from the file. The repository may be a clone of the one Run used.
// It writes OutDir/results.jsonl anew.
func Evaluate(ctx context.Context, o Options, resultsFile string) ([]Result, error) {
	old, err := ReadResults(resultsFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	jf, err := os.Create(filepath.Join(o.OutDir, "results.jsonl"))
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	cacheDir := filepath.Join(o.OutDir, "stride-cache")
	var out []Result
	for _, r := range old {
		if r.ID < o.From || (o.Max > 0 && len(out) >= o.Max) {
			continue
		}
		if err := checkout(o.Repo, r.Head); err != nil {
			return out, err
		}
		r.Stride, r.TD = Tool{}, nil
		if err := evaluate(ctx, o, &r, cacheDir); err != nil {
			return out, err
		}
		out = append(out, r)
		b, _ := json.Marshal(r)
		jf.Write(append(b, '\n'))
		if o.Log != nil {
			fmt.Fprintf(o.Log, "soundness: change %d %-20s oracle %d; stride %d in %.1fs sound=%v\n", r.ID, r.Kind, r.Oracle, r.Stride.Count, r.Stride.Secs, r.Stride.Sound())
		}
	}
	return out, nil
}

// ReadResults reads a results.jsonl file.
func ReadResults(path string) ([]Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Result
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Result
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// buildAt checks out rev and runs `bazel test //... -k` with a build event
// file; test failures (exit 3) and build failures (exit 1) are results,
// not errors.
func buildAt(ctx context.Context, o Options, rev, tag string, extra []string) (*bep.Stream, int, float64, error) {
	if err := checkout(o.Repo, rev); err != nil {
		return nil, 0, 0, err
	}
	bepFile := filepath.Join(o.OutDir, "bep-"+tag+".json")
	args := append(append([]string(nil), o.Startup...), "test", "//...", "-k",
		"--build_event_json_file="+bepFile, "--color=no", "--curses=no", "--noshow_progress")
	args = append(append(args, o.BuildFlags...), extra...)
	cmd := exec.CommandContext(ctx, o.Bazel, args...)
	cmd.Dir = o.Repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	exit := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return nil, 0, secs, fmt.Errorf("bazel test at %s: %w", short(rev), err)
		}
		exit = ee.ExitCode()
		if exit != 1 && exit != 3 && exit != 4 {
			return nil, exit, secs, fmt.Errorf("bazel test at %s: exit %d:\n%s", short(rev), exit, tail(stderr.String(), 30))
		}
	}
	st, err := bep.ReadFile(bepFile)
	if err != nil {
		return nil, exit, secs, err
	}
	os.Remove(bepFile)
	return st, exit, secs, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkout checks rev out with its submodules at their gitlinked commits
// (so that Bazel builds what the commit names): clean -ff also removes a
// submodule's checkout left at a path rev no longer has.
func checkout(repo, rev string) error {
	for _, args := range [][]string{
		{"checkout", "-q", "--force", "--detach", rev},
		{"clean", "-ffdq"},
		{"-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", "--force"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), repo, err, out)
		}
	}
	return nil
}

// runTool runs a selector that prints one label per line and compares its
// set with the oracle.
func runTool(ctx context.Context, dir string, oracle []string, bin string, args ...string) Tool {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	t := Tool{Secs: time.Since(start).Seconds()}
	if err != nil {
		msg := tail(stderr.String(), 5)
		if i := strings.Index(stderr.String(), "panic: "); i >= 0 {
			msg = stderr.String()[i:]
			if len(msg) > 1500 {
				msg = msg[:1500]
			}
		}
		t.Err = fmt.Sprintf("%s: %v: %s", filepath.Base(bin), err, msg)
	}
	set := map[string]bool{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := NormalizeLabel(strings.TrimSpace(sc.Text()))
		if strings.HasPrefix(l, "//") {
			set[l] = true
		}
	}
	for l := range set {
		t.Labels = append(t.Labels, l)
	}
	sort.Strings(t.Labels)
	t.Count = len(set)
	for _, l := range oracle {
		if !set[l] {
			t.Missing = append(t.Missing, l)
		}
	}
	return t
}

// NormalizeLabel writes a main-repository label in the canonical
// "//pkg:name" form: "@//a" and "@synth_monorepo//a" become "//a:a".
func NormalizeLabel(l string) string {
	if i := strings.Index(l, "//"); i > 0 && strings.HasPrefix(l, "@") {
		l = l[i:]
	}
	if !strings.HasPrefix(l, "//") {
		return l
	}
	if !strings.Contains(l, ":") {
		base := l[strings.LastIndex(l, "/")+1:]
		if base == "" {
			return l
		}
		l += ":" + base
	}
	return l
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		set[x] = true
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}
