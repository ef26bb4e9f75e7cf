package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const usage = `usage: affectedbench -repo DIR -stride BIN [flags]

Times ` + "`stride affected`" + ` on the changes of a synthetic workspace made by
tools/synth, as ratios to one ` + "`bazel query //...`" + ` at head under the same Bazel
server state (warm: a query at base just ran, after -warmup unrecorded
rounds over the changes, -rounds timed ones; fresh: after bazel shutdown),
with stride's cache holding the base map (cached) or empty (uncached).
With -td, target-determinator is timed the same way. Prints a Markdown table
(median ratios) and writes every sample to -json.

Flags:
`

// newFlagSet is a command's flag set: errors and usage (the text, then
// the flags) to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// Main runs the benchmark with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("affectedbench", usage, stderr)
	var o Options
	fs.StringVar(&o.Repo, "repo", "", "synthetic workspace")
	fs.StringVar(&o.Manifest, "manifest", "", "corpus manifest (default REPO/.git/synth/corpus.json)")
	fs.StringVar(&o.Stride, "stride", "", "stride binary")
	fs.StringVar(&o.TD, "td", os.Getenv("TARGET_DETERMINATOR"), "target-determinator binary (default $TARGET_DETERMINATOR; empty: skip)")
	fs.StringVar(&o.Bazel, "bazel", "bazel", "bazel binary")
	startup := fs.String("startup", "", "bazel startup flags, space-separated")
	fs.IntVar(&o.Changes, "changes", 5, "changes to time (the corpus needs one more, to prime the cache)")
	modes := fs.String("modes", "warm,fresh", "server states: warm, fresh")
	tdModes := fs.String("td-modes", "", "server states in which target-determinator is timed (default: those of -modes)")
	fs.StringVar(&o.Work, "work", "", "scratch directory (default REPO.bench)")
	fs.StringVar(&o.Label, "label", "", "size label for the table (default: the target count)")
	fs.IntVar(&o.Rounds, "rounds", 3, "warm mode: timed rounds over the changes; the medians are over every sample (fresh mode times one round)")
	fs.IntVar(&o.Warmup, "warmup", 3, "warm mode: unrecorded rounds over the changes first, so that the server's JVM has compiled what both stride's and the baseline's queries run (each round logs its medians: one round left stride's full proto query ~0.1 s short of its steady state)")
	jsonOut := fs.String("json", "", "write all samples as JSON here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Repo == "" || o.Stride == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	var err error
	if o.Repo, err = filepath.Abs(o.Repo); err != nil {
		fmt.Fprintln(stderr, "affectedbench:", err)
		return 3
	}
	if o.Manifest == "" {
		o.Manifest = filepath.Join(o.Repo, ".git", "synth", "corpus.json")
	}
	if o.Work == "" {
		o.Work = o.Repo + ".bench"
	}
	if err := os.MkdirAll(o.Work, 0o755); err != nil {
		fmt.Fprintln(stderr, "affectedbench:", err)
		return 3
	}
	o.Startup = strings.Fields(*startup)
	for _, m := range strings.Split(*modes, ",") {
		if m != "warm" && m != "fresh" {
			fmt.Fprintf(stderr, "affectedbench: unknown mode %q (want warm or fresh)\n", m)
			return 2
		}
		o.Modes = append(o.Modes, m)
	}
	if *tdModes != "" {
		o.TDModes = strings.Split(*tdModes, ",")
	}
	o.Log = stderr
	results, err := Run(context.Background(), o)
	for i := range results {
		if results[i].Label == "" {
			results[i].Label = fmt.Sprint(results[i].Targets)
		}
	}
	if len(results) > 0 {
		WriteMarkdown(stdout, results)
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(results, "", "  ")
			if werr := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "affectedbench:", err)
		return 3
	}
	return 0
}
