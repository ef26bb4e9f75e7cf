package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const scaleUsage = `usage: scaleoutbench -repo DIR -stride BIN -bazel-remote BIN [flags]

The scale-out benchmark (ci/bench scaleout; docs/benchmarks.md,
docs/scale-out.md): fresh CI runners (a clone, an empty Bazel output base,
an empty stride cache directory each) against a bazel-remote on 127.0.0.1,
on a synthetic workspace made by tools/synth: a full bazel test //... with
the remote cache empty and warm; stride run of a one-file change without
the remote cache, with it, and with it and the shared digest maps; stride
affected without and with the shared maps; N concurrent shards. Prints a
Markdown table and the ratios, writes OUT/summary.md and OUT/result.json.
Exit codes: 0 measured, 2 usage, 3 a command of the benchmark failed.

Flags:
`

// ScaleMain runs the scale-out benchmark with args and returns the exit
// code.
func ScaleMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scaleoutbench", scaleUsage, stderr)
	var o ScaleOptions
	fs.StringVar(&o.Repo, "repo", "", "synthetic workspace (tools/synth)")
	fs.StringVar(&o.Stride, "stride", "", "stride binary")
	fs.StringVar(&o.Bazel, "bazel", "bazel", "bazel binary")
	fs.StringVar(&o.BazelRemote, "bazel-remote", "", "bazel-remote binary")
	fs.StringVar(&o.Out, "out", "", "results directory (default REPO.scaleout)")
	fs.StringVar(&o.Layer, "layer", "", "lib/ layer whose first library source is edited (default: the middle one)")
	shards := fs.String("shards", "1,2,3", "shard counts, comma-separated")
	targets := fs.Int("targets", 0, "the workspace's target count, for the title")
	fs.BoolVar(&o.Keep, "keep", false, "keep the runners' clones, output bases and cache directories")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Repo == "" || o.Stride == "" || o.BazelRemote == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	for _, f := range strings.Split(*shards, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "scaleoutbench: -shards %q: want positive counts, comma-separated\n", *shards)
			return 2
		}
		o.Shards = append(o.Shards, n)
	}
	var err error
	if o.Repo, err = filepath.Abs(o.Repo); err != nil {
		fmt.Fprintln(stderr, "scaleoutbench:", err)
		return 2
	}
	if _, err := os.Stat(filepath.Join(o.Repo, ".git")); err != nil {
		fmt.Fprintf(stderr, "scaleoutbench: %s is not a git workspace made by tools/synth\n", o.Repo)
		return 2
	}
	if o.Out == "" {
		o.Out = o.Repo + ".scaleout"
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		fmt.Fprintln(stderr, "scaleoutbench:", err)
		return 2
	}
	o.Log = stderr
	res, err := ScaleBenchmark(context.Background(), o)
	if res != nil {
		res.Targets = *targets
		b, _ := json.MarshalIndent(res, "", "  ")
		_ = os.WriteFile(filepath.Join(o.Out, "result.json"), append(b, '\n'), 0o644)
		var md strings.Builder
		title := fmt.Sprintf("scale-out: fresh runners on %s", filepath.Base(o.Repo))
		if *targets > 0 {
			title += fmt.Sprintf(" (%d targets)", *targets)
		}
		WriteScaleMarkdown(&md, title+", one-file change in "+res.File, res)
		_ = os.WriteFile(filepath.Join(o.Out, "summary.md"), []byte(md.String()), 0o644)
		fmt.Fprint(stdout, md.String())
	}
	if err != nil {
		fmt.Fprintln(stderr, "scaleoutbench:", err)
		return 3
	}
	return 0
}
