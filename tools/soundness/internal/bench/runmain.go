package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const runUsage = `usage: runbench -repo DIR -stride BIN [flags]

Times ` + "`stride run`" + ` against ` + "`bazel test //...`" + ` on a synthetic workspace made by
tools/synth (-changes 0), for a one-file change of a library in the middle
of the graph, with a fresh and a warm Bazel server (docs/benchmarks.md,
docs/run.md). Prints a Markdown table of medians and ratios (goal: ratio
≤ 0.2 fresh, stride's own time ≤ 5%) and writes it to OUT/summary.md, every
sample to OUT/samples.json (--json: the rows as JSON on stdout).
Exit codes: 0 measured, 2 usage, 3 a command of the benchmark failed.

Flags:
`

// RunMain runs the run benchmark with args and returns the exit code.
func RunMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("runbench", runUsage, stderr)
	var o RunOptions
	fs.StringVar(&o.Repo, "repo", "", "synthetic workspace")
	fs.StringVar(&o.Stride, "stride", "", "stride binary")
	fs.StringVar(&o.Bazel, "bazel", "bazel", "bazel binary")
	fs.IntVar(&o.Reps, "reps", 3, "measurements per server state and stride variant")
	fs.StringVar(&o.Layer, "layer", "", "lib/ layer whose first library source is edited (default: the middle one)")
	fs.StringVar(&o.Out, "out", "", "results directory (default REPO.results)")
	fs.StringVar(&o.Digests, "digests", "", "stride's cache directory (default REPO.digests)")
	fs.StringVar(&o.DiskCache, "disk-cache", "", "Bazel disk cache for warming the output base")
	asJSON := fs.Bool("json", false, "print the rows as JSON instead of Markdown")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Repo == "" || o.Stride == "" || fs.NArg() > 0 || o.Reps < 1 {
		fs.Usage()
		return 2
	}
	var err error
	if o.Repo, err = filepath.Abs(o.Repo); err != nil {
		fmt.Fprintln(stderr, "runbench:", err)
		return 2
	}
	if _, err := os.Stat(filepath.Join(o.Repo, ".git")); err != nil {
		fmt.Fprintf(stderr, "runbench: %s is not a git workspace made by tools/synth\n", o.Repo)
		return 2
	}
	if o.Out == "" {
		o.Out = o.Repo + ".results"
	}
	if o.Digests == "" {
		o.Digests = o.Repo + ".digests"
	}
	o.Log = stderr
	samples, file, err := RunBenchmark(context.Background(), o)
	if len(samples) > 0 {
		b, _ := json.MarshalIndent(samples, "", "  ")
		if werr := os.WriteFile(filepath.Join(o.Out, "samples.json"), append(b, '\n'), 0o644); werr != nil && err == nil {
			err = werr
		}
		rows := SummarizeRun(samples)
		var md strings.Builder
		WriteRunMarkdown(&md, fmt.Sprintf("stride run vs bazel test //... (%s, one-file change in %s, %d reps, medians)", filepath.Base(o.Repo), file, o.Reps), rows)
		fmt.Fprintf(&md, "\nSamples: %s (tool, server, wall ms, and from report.json total, overhead and affected ms and the affected count); reports and logs under %s.\n",
			filepath.Join(o.Out, "samples.json"), o.Out)
		if werr := os.WriteFile(filepath.Join(o.Out, "summary.md"), []byte(md.String()), 0o644); werr != nil && err == nil {
			err = werr
		}
		if *asJSON {
			b, _ := json.MarshalIndent(rows, "", "  ")
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprint(stdout, md.String())
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "runbench:", err)
		return 3
	}
	return 0
}
