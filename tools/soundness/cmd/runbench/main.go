// Command runbench times `stride run` against `bazel test //...` on a
// synthetic workspace (`ci/bench run`; see docs/benchmarks.md).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/soundness/internal/bench"
)

func main() {
	os.Exit(bench.RunMain(os.Args[1:], os.Stdout, os.Stderr))
}
