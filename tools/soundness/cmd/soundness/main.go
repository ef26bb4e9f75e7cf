// Command soundness checks `stride affected` against what Bazel actually
// re-runs and rebuilds on a synthetic workspace (see docs/benchmarks.md).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/soundness/internal/soundness"
)

func main() {
	os.Exit(soundness.Main(os.Args[1:], os.Stdout, os.Stderr))
}
