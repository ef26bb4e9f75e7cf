// Command synth generates a seeded synthetic Bazel Go monorepo and a corpus
// of changes on top of it, for the `stride affected` soundness harness and
// benchmarks (see docs/benchmarks.md).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/synth/internal/synth"
)

func main() {
	os.Exit(synth.Main(os.Args[1:], os.Stdout, os.Stderr))
}
