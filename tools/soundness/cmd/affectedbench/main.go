// Command affectedbench times `stride affected` against `bazel query //...`
// on a synthetic workspace (see docs/benchmarks.md and ci/bench).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/soundness/internal/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
