// Command tdsuite runs target-determinator's integration suite against
// `stride affected` (see tools/soundness/internal/tdsuite).
package main

import (
	"os"

	"github.com/strideci/monorepo/tools/soundness/internal/tdsuite"
)

func main() { os.Exit(tdsuite.Main(os.Args[1:], os.Stdout, os.Stderr)) }
