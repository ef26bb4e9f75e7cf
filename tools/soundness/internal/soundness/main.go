package soundness

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const usage = `usage: soundness -repo DIR [flags]

Checks ` + "`stride affected`" + ` against Bazel on a synthetic workspace made by
tools/synth (and its corpus manifest): for every change, bazel test //... at
base and then at head on the same output base; the tests Bazel executed and
the targets whose output files changed must all be in stride's set
(soundness), and their share of stride's set is its precision. Writes
OUT/results.jsonl, OUT/summary.md and OUT/summary.json; prints the table.
Exit status: 0 all sound, 1 some change unsound, 2 usage, 3 failure.

Flags:
`

// Main runs the harness with args (without the program name) and returns
// the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soundness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var o Options
	fs.StringVar(&o.Repo, "repo", "", "synthetic workspace (git repository made by tools/synth)")
	fs.StringVar(&o.Manifest, "manifest", "", "corpus manifest (default REPO/.git/synth/corpus.json)")
	fs.StringVar(&o.Stride, "stride", "", "stride binary (empty: only record Bazel's oracle; evaluate later with -evaluate)")
	fs.BoolVar(&o.StrideNoCache, "stride-no-cache", false, "run stride with --cache-dir \"\" (the rdeps path), and with the cache where that fails")
	fs.StringVar(&o.TD, "td", os.Getenv("TARGET_DETERMINATOR"), "target-determinator binary to compare (default $TARGET_DETERMINATOR; empty: skip)")
	fs.StringVar(&o.Bazel, "bazel", "bazel", "bazel binary")
	startup := fs.String("startup", "", "bazel startup flags, space-separated")
	flags := fs.String("flags", "", "extra flags for bazel test, space-separated")
	baseFlags := fs.String("base-flags", "", "extra flags for the first base build only (e.g. --disk_cache=DIR)")
	fs.IntVar(&o.From, "from", 1, "first change ID")
	fs.IntVar(&o.Max, "changes", 0, "check at most this many changes (0: all)")
	fs.StringVar(&o.OutDir, "out", "", "output directory (default REPO.soundness)")
	eval := fs.String("evaluate", "", "results.jsonl of an earlier run: re-run the selectors on its oracle without building")
	report := fs.String("report", "", "only print the summary of these results.jsonl files (comma-separated), running nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *report != "" {
		var results []Result
		for _, f := range strings.Split(*report, ",") {
			rs, err := ReadResults(f)
			if err != nil {
				fmt.Fprintln(stderr, "soundness:", err)
				return 3
			}
			results = append(results, rs...)
		}
		fmt.Fprintf(stdout, "soundness of stride affected: %d changes\n\n", len(results))
		WriteMarkdown(stdout, results)
		for _, r := range results {
			if !r.Stride.Sound() {
				return 1
			}
		}
		return 0
	}
	if o.Repo == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	var err error
	if o.Repo, err = filepath.Abs(o.Repo); err != nil {
		fmt.Fprintln(stderr, "soundness:", err)
		return 3
	}
	if o.Manifest == "" {
		o.Manifest = filepath.Join(o.Repo, ".git", "synth", "corpus.json")
	}
	if o.OutDir == "" {
		o.OutDir = o.Repo + ".soundness"
	}
	o.Startup, o.BuildFlags, o.BaseFlags = strings.Fields(*startup), strings.Fields(*flags), strings.Fields(*baseFlags)
	o.Log = stderr
	var results []Result
	if *eval != "" {
		if o.Stride == "" && o.TD == "" {
			fmt.Fprintln(stderr, "soundness: -evaluate needs -stride or -td")
			return 2
		}
		results, err = Evaluate(context.Background(), o, *eval)
	} else {
		results, err = Run(context.Background(), o)
	}
	if len(results) > 0 {
		var md bytes.Buffer
		fmt.Fprintf(&md, "soundness of stride affected: %d changes, %s\n\n", len(results), o.Repo)
		WriteMarkdown(&md, results)
		stdout.Write(md.Bytes())
		if werr := os.WriteFile(filepath.Join(o.OutDir, "summary.md"), md.Bytes(), 0o644); werr != nil && err == nil {
			err = werr
		}
		b, _ := json.MarshalIndent(Summarize(results), "", "  ")
		if werr := os.WriteFile(filepath.Join(o.OutDir, "summary.json"), append(b, '\n'), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "soundness:", err)
		return 3
	}
	if o.Stride != "" {
		for _, r := range results {
			if !r.Stride.Sound() {
				return 1
			}
		}
	}
	return 0
}
