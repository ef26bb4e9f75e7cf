// Command stride is the monorepo's graph-aware CI orchestrator.
//
// The logic lives in internal/cli; this main only wires the process to it.
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/stride/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
