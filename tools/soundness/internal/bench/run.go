package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The run benchmark (`ci/bench run`): `stride run` against `bazel test
// //...` for the same kind of change (one Go file of a library in the
// middle of the graph), in one run, on a synthetic workspace whose output
// base is warm:
//   - fresh: the servers are stopped before each measurement (a CI
//     runner: new Bazel server, output base restored from a cache);
//   - warm: the server stays up (a developer's machine, `stride watch`).
//
// Each measurement gets its own fresh edit of the same file, committed,
// so both commands see exactly one changed file with new content. As on
// a CI runner that runs stride on every push, stride's digest cache holds
// each base commit's map (an untimed `stride affected` after each Bazel
// measurement). stride runs with --bazel-cds=on (its Bazel server maps a
// class-data-sharing archive, written when the warm-up's server shut
// down); in fresh mode each rep also times stride with --bazel-cds=off,
// reported on its own row. Servers are stopped with `stride shutdown` (a
// plain `bazel shutdown` would kill a server started with other startup
// flags).

// RunOptions configure the run benchmark.
type RunOptions struct {
	Repo      string // workspace made by tools/synth
	Stride    string // stride binary
	Bazel     string // bazel binary
	Reps      int    // measurements per mode and variant
	Layer     string // the lib/ layer whose first library source is edited ("": the middle one)
	Out       string // results: reports, logs, samples.json, summary.md
	Digests   string // stride's cache directory
	DiskCache string // Bazel disk cache, used to warm the output base only
	Log       io.Writer
}

// Tools (variants) of the run benchmark's samples.
const (
	ToolStride      = "stride"       // stride run --bazel-cds=on
	ToolStrideNoCDS = "stride-nocds" // stride run --bazel-cds=off
	ToolBazel       = "bazel"        // bazel test //...
)

// RunSample is one measurement.
type RunSample struct {
	Tool   string `json:"tool"`
	Mode   string `json:"mode"` // fresh or warm
	Rep    int    `json:"rep"`
	WallMS int64  `json:"wall_ms"`
	// From stride's report.json (stride only).
	TotalMS    int64 `json:"total_ms,omitempty"`
	OverheadMS int64 `json:"overhead_ms,omitempty"`
	AffectedMS int64 `json:"affected_ms,omitempty"`
	Affected   int   `json:"affected,omitempty"`
	ExitCode   int   `json:"exit_code"`
}

// reportTiming is what the benchmark reads from stride's report.json.
type reportTiming struct {
	TotalMS    int64
	OverheadMS int64
	AffectedMS int64
	Affected   int
}

// parseReport reads the timings and the affected count of a stride run
// report (report.json, schema stride.report).
func parseReport(b []byte) (reportTiming, error) {
	var r struct {
		Timing *struct {
			TotalMS    int64 `json:"total_ms"`
			OverheadMS int64 `json:"overhead_ms"`
			AffectedMS int64 `json:"affected_ms"`
		} `json:"timing"`
		Affected *struct {
			Count int `json:"count"`
		} `json:"affected"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return reportTiming{}, err
	}
	if r.Timing == nil {
		return reportTiming{}, fmt.Errorf("no timing")
	}
	t := reportTiming{TotalMS: r.Timing.TotalMS, OverheadMS: r.Timing.OverheadMS, AffectedMS: r.Timing.AffectedMS}
	if r.Affected != nil {
		t.Affected = r.Affected.Count
	}
	return t, nil
}

// RunRow is one row of the run benchmark's table: a mode and a stride
// variant against `bazel test //...` in the same mode.
type RunRow struct {
	Mode   string  `json:"mode"`
	Tool   string  `json:"tool"`
	Stride Summary `json:"stride_ms"`
	Bazel  Summary `json:"bazel_ms"`
	// Ratio is the median stride time over the median bazel time.
	Ratio float64 `json:"ratio"`
	// Own is stride's own time as a fraction of its run (overhead_ms /
	// total_ms, which counts the affected computation's bazel query);
	// OwnExclAffected leaves the affected step out.
	Own             Summary `json:"own"`
	OwnExclAffected Summary `json:"own_excl_affected"`
	AffectedMS      Summary `json:"affected_ms"`
	Affected        Summary `json:"affected"`
}

// Goals of the run benchmark.
const (
	// RatioGoal: stride run with a fresh server in at most this fraction
	// of bazel test //...'s time.
	RatioGoal = 0.2
	// OwnGoal: stride's own time at most this fraction of its run.
	OwnGoal = 0.05
)

// SummarizeRun computes the table's rows: fresh with CDS on, fresh with
// CDS off, warm; a row without stride samples is left out.
func SummarizeRun(samples []RunSample) []RunRow {
	var rows []RunRow
	for _, v := range []struct{ mode, tool string }{{"fresh", ToolStride}, {"fresh", ToolStrideNoCDS}, {"warm", ToolStride}} {
		var s, b, own, ownx, aff, n []float64
		for _, x := range samples {
			switch {
			case x.Tool == ToolBazel && x.Mode == v.mode:
				b = append(b, float64(x.WallMS))
			case x.Tool == v.tool && x.Mode == v.mode:
				s = append(s, float64(x.WallMS))
				if x.TotalMS > 0 {
					own = append(own, float64(x.OverheadMS)/float64(x.TotalMS))
					ownx = append(ownx, float64(x.OverheadMS-x.AffectedMS)/float64(x.TotalMS))
				}
				aff = append(aff, float64(x.AffectedMS))
				n = append(n, float64(x.Affected))
			}
		}
		if len(s) == 0 {
			continue
		}
		r := RunRow{Mode: v.mode, Tool: v.tool, Stride: summarize(s), Bazel: summarize(b),
			Own: summarize(own), OwnExclAffected: summarize(ownx), AffectedMS: summarize(aff), Affected: summarize(n)}
		r.Ratio = div(r.Stride.Median, r.Bazel.Median)
		rows = append(rows, r)
	}
	return rows
}

// WriteRunMarkdown prints the rows as a table with the goals.
func WriteRunMarkdown(w io.Writer, title string, rows []RunRow) {
	fmt.Fprintf(w, "## %s\n\n", title)
	fmt.Fprintln(w, "| server | stride run | bazel test //... | ratio (goal ≤ 0.2 fresh) | stride's own (incl. affected's query; goal ≤ 5%) | stride's own (excl. affected) | affected | targets affected |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		label := r.Mode
		if r.Tool == ToolStrideNoCDS {
			label += ", --bazel-cds=off"
		}
		ratio := fmt.Sprintf("%.2f×", r.Ratio)
		if r.Mode == "fresh" {
			ratio += " " + verdict(r.Ratio, RatioGoal)
		}
		fmt.Fprintf(w, "| %s | %.1f s | %.1f s | %s | %.1f%% %s | %.1f%% | %.1f s | %.0f |\n", label,
			r.Stride.Median/1000, r.Bazel.Median/1000, ratio,
			r.Own.Median*100, verdict(r.Own.Median, OwnGoal), r.OwnExclAffected.Median*100,
			r.AffectedMS.Median/1000, r.Affected.Median)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Goals: ratio ≤ %.1f with a fresh server; stride's own time ≤ %.0f%% of its run. Medians (golang.org/x/perf/benchmath); no time is asserted.\n", RatioGoal, OwnGoal*100)
}

// editFile picks the file the benchmark edits: the first Go library
// source (not a test) under the layer, given every file of the
// workspace's lib/ tree (slash paths relative to the workspace). layer
// "" is the middle layer.
func editFile(files []string, layer string) (string, error) {
	layers := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(f, "/")
		if len(parts) >= 3 && parts[0] == "lib" {
			layers["lib/"+parts[1]] = true
		}
	}
	if len(layers) == 0 {
		return "", fmt.Errorf("no lib/ layers")
	}
	var sorted []string
	for l := range layers {
		sorted = append(sorted, l)
	}
	sort.Strings(sorted)
	dir := sorted[(len(sorted)+1)/2-1]
	if layer != "" {
		dir = "lib/" + layer
		if !layers[dir] {
			return "", fmt.Errorf("no layer %s (have %s)", dir, strings.Join(sorted, " "))
		}
	}
	var srcs []string
	for _, f := range files {
		if strings.HasPrefix(f, dir+"/") && strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
			srcs = append(srcs, f)
		}
	}
	if len(srcs) == 0 {
		return "", fmt.Errorf("no Go library source under %s", dir)
	}
	sort.Strings(srcs)
	return srcs[0], nil
}

// editText is the n-th edit appended to the file: a variable set from an
// init function, so the linker keeps it and every binary and test that
// depends on the file changes (an unused variable would be dropped,
// leaving the test binaries identical and their results cached).
func editText(n int, stamp int64) string {
	v := fmt.Sprintf("benchEdit%d", stamp)
	return fmt.Sprintf("\nvar %s int\n\nfunc init() { %s = %d }\n", v, v, n)
}

type runBench struct {
	o     RunOptions
	file  string
	edits int
}

func (b *runBench) logf(format string, a ...interface{}) {
	if b.o.Log != nil {
		fmt.Fprintf(b.o.Log, "==> "+format+"\n", a...)
	}
}

// cmd runs name in the workspace with its output to log ("" discards
// it); it returns the wall time and the exit code (-1 when it did not
// start or was killed).
func (b *runBench) cmd(ctx context.Context, log string, name string, args ...string) (time.Duration, int, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = b.o.Repo
	if log != "" {
		f, err := os.Create(log)
		if err != nil {
			return 0, -1, err
		}
		defer f.Close()
		c.Stdout, c.Stderr = f, f
	}
	start := time.Now()
	err := c.Run()
	d := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return d, ee.ExitCode(), nil
		}
		return d, -1, fmt.Errorf("%s: %w", name, err)
	}
	return d, 0, nil
}

func (b *runBench) git(ctx context.Context, args ...string) error {
	c := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
	c.Dir = b.o.Repo
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// change commits a fresh edit of the file.
func (b *runBench) change(ctx context.Context) error {
	b.edits++
	p := filepath.Join(b.o.Repo, filepath.FromSlash(b.file))
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(editText(b.edits, time.Now().UnixNano())); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return b.git(ctx, "commit", "-q", "-am", fmt.Sprintf("bench: edit %d of %s", b.edits, b.file))
}

// shutdown stops the workspace's server as stride started it.
func (b *runBench) shutdown(ctx context.Context) {
	_, _, _ = b.cmd(ctx, "", b.o.Stride, "shutdown", "--cache-dir", b.o.Digests)
}

// strideRun times one `stride run` and reads its report.
func (b *runBench) strideRun(ctx context.Context, tool, mode string, rep int) (RunSample, error) {
	cds := "on"
	if tool == ToolStrideNoCDS {
		cds = "off"
	}
	name := fmt.Sprintf("%s-%s-%d", mode, tool, rep)
	out := filepath.Join(b.o.Out, name)
	d, code, err := b.cmd(ctx, out+".log", b.o.Stride, "run", "--bazel-cds="+cds, "--base", "HEAD~1", "--cache-dir", b.o.Digests, "--out", out)
	if err != nil {
		return RunSample{}, err
	}
	s := RunSample{Tool: tool, Mode: mode, Rep: rep, WallMS: d.Milliseconds(), ExitCode: code}
	if code != 0 {
		b.logf("warning: stride run exited %d (%s.log)", code, out)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		return s, fmt.Errorf("stride run %s: %w", name, err)
	}
	t, err := parseReport(raw)
	if err != nil {
		return s, fmt.Errorf("parse %s: %w", filepath.Join(out, "report.json"), err)
	}
	s.TotalMS, s.OverheadMS, s.AffectedMS, s.Affected = t.TotalMS, t.OverheadMS, t.AffectedMS, t.Affected
	return s, nil
}

// libFiles lists the workspace's files under lib/.
func libFiles(repo string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(repo, "lib"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(repo, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// RunBenchmark runs the run benchmark and returns every sample and the
// file it edited.
func RunBenchmark(ctx context.Context, o RunOptions) ([]RunSample, string, error) {
	b := &runBench{o: o}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, "", err
	}
	_ = b.git(ctx, "checkout", "-q", "-B", "main")
	files, err := libFiles(o.Repo)
	if err != nil {
		return nil, "", fmt.Errorf("list %s/lib: %w", o.Repo, err)
	}
	if b.file, err = editFile(files, o.Layer); err != nil {
		return nil, "", fmt.Errorf("%s: %w", o.Repo, err)
	}
	b.logf("the change: one line appended to %s, one commit per measurement", b.file)

	b.logf("warming the output base: bazel test //... (with the disk cache %s)", o.DiskCache)
	warm := filepath.Join(o.Out, "warm.log")
	args := []string{"test", "--build_tests_only=false", "//..."}
	if o.DiskCache != "" {
		args = append([]string{"test", "--disk_cache=" + o.DiskCache}, args[1:]...)
	}
	if _, code, err := b.cmd(ctx, warm, o.Bazel, args...); err != nil || code != 0 {
		return nil, b.file, fmt.Errorf("bazel test //... failed while warming (exit %d, %v); see %s", code, err, warm)
	}
	b.logf("warming stride's digest cache and its Bazel class-data-sharing archive (one stride run)")
	b.shutdown(ctx)
	if err := b.change(ctx); err != nil {
		return nil, b.file, err
	}
	wlog := filepath.Join(o.Out, "warmup.log")
	if _, code, err := b.cmd(ctx, wlog, o.Stride, "run", "--bazel-cds=on", "--base", "HEAD~1", "--cache-dir", o.Digests, "--out", filepath.Join(o.Out, "warmup")); err != nil || code != 0 {
		return nil, b.file, fmt.Errorf("stride run failed while warming (exit %d, %v); see %s", code, err, wlog)
	}
	b.shutdown(ctx)
	_, _, _ = b.cmd(ctx, "", o.Bazel, "test", "//...")

	var samples []RunSample
	for _, mode := range []string{"fresh", "warm"} {
		for rep := 1; rep <= o.Reps; rep++ {
			tools := []string{ToolStride}
			if mode == "fresh" {
				tools = append(tools, ToolStrideNoCDS)
			}
			var line []string
			for _, tool := range tools {
				if err := b.change(ctx); err != nil {
					return samples, b.file, err
				}
				if mode == "fresh" {
					b.shutdown(ctx)
				}
				s, err := b.strideRun(ctx, tool, mode, rep)
				if err != nil {
					return samples, b.file, err
				}
				samples = append(samples, s)
				line = append(line, fmt.Sprintf("%s %d ms", tool, s.WallMS))
			}
			if err := b.change(ctx); err != nil {
				return samples, b.file, err
			}
			if mode == "fresh" {
				b.shutdown(ctx)
			}
			blog := filepath.Join(o.Out, fmt.Sprintf("bazel-%s-%d.log", mode, rep))
			d, code, err := b.cmd(ctx, blog, o.Bazel, "test", "//...")
			if err != nil {
				return samples, b.file, err
			}
			if code != 0 {
				b.logf("warning: bazel test //... exited %d (%s)", code, blog)
			}
			samples = append(samples, RunSample{Tool: ToolBazel, Mode: mode, Rep: rep, WallMS: d.Milliseconds(), ExitCode: code})
			line = append(line, fmt.Sprintf("bazel %d ms", d.Milliseconds()))
			// A CI runner runs stride on every push, so the next push
			// finds this commit's digest map in its cache (untimed).
			alog := filepath.Join(o.Out, fmt.Sprintf("affected-untimed-%s-%d.log", mode, rep))
			if _, code, err := b.cmd(ctx, alog, o.Stride, "affected", "--base", "HEAD~1", "--cache-dir", o.Digests); err != nil || code != 0 {
				b.logf("warning: untimed stride affected failed (%s)", alog)
			}
			b.logf("%s %d: %s", mode, rep, strings.Join(line, ", "))
		}
	}
	b.shutdown(ctx)
	return samples, b.file, nil
}
