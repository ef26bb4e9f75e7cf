// Command stridelint runs the monorepo's own analyzers (tools/lint) with
// the host Go, over packages and their tests:
//
//	go run ./tools/lint/cmd/stridelint [-list] [PATTERN...]   (default ./...)
//
// Under Bazel the same analyzers run inside the build, through nogo
// (tools/nogo). This command is for the host Go, which is newer than the
// Bazel toolchain: it is where newstdlib catches Go 1.20+ API before Bazel
// does, and it works where x/tools' multichecker does not compile (see
// tools/lint/internal/checker). Run it with `go run` so that the go command
// that builds export data is the one it was compiled with.
//
// It prints one line per finding, "file:line:col: message (analyzer)",
// and exits 0 when there are none, 1 when there are, 2 on bad usage and
// 3 when packages cannot be loaded or type-checked (the others are still
// analyzed).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/lint"
	"github.com/strideci/monorepo/tools/lint/internal/checker"
)

func main() {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stridelint: %v\n", err)
		os.Exit(3)
	}
	os.Exit(run(wd, os.Args[1:], os.Stdout, os.Stderr))
}

// run lints patterns (relative to the module directory wd).
func run(wd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stridelint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.Bool("list", false, "list the analyzers and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, a := range lint.Analyzers {
			fmt.Fprintf(stdout, "%-12s %s\n", a.Name, a.Doc)
		}
		return 0
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	pkgs, skipped, loadErrs, err := checker.Load(wd, patterns)
	if err != nil {
		fmt.Fprintf(stderr, "stridelint: %v\n", err)
		return 3
	}
	for _, s := range skipped {
		fmt.Fprintf(stderr, "stridelint: note: %s\n", s)
	}
	for _, e := range loadErrs {
		fmt.Fprintf(stderr, "stridelint: not analyzed: %v\n", e)
	}
	n := 0
	seen := map[string]bool{}
	for _, p := range pkgs {
		diags, err := checker.Run(p, lint.Analyzers)
		if err != nil {
			fmt.Fprintf(stderr, "stridelint: %v\n", err)
			return 3
		}
		for _, d := range diags {
			if rel, err := filepath.Rel(wd, d.Pos.Filename); err == nil && !strings.HasPrefix(rel, "..") {
				d.Pos.Filename = rel
			}
			line := d.String()
			if seen[line] { // a package and its test variant share files
				continue
			}
			seen[line] = true
			fmt.Fprintln(stdout, line)
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(stderr, "stridelint: %d finding(s) in %d package(s)\n", n, len(pkgs))
		return 1
	}
	if len(loadErrs) > 0 {
		fmt.Fprintf(stderr, "stridelint: %d package(s) could not be analyzed\n", len(loadErrs))
		return 3
	}
	return 0
}
