// Command scaleoutbench times fresh CI runners with and without a warm
// bazel-remote and shared digest maps, and N concurrent shards
// (`ci/bench scaleout`; see docs/benchmarks.md and docs/scale-out.md).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/soundness/internal/bench"
)

func main() {
	os.Exit(bench.ScaleMain(os.Args[1:], os.Stdout, os.Stderr))
}
