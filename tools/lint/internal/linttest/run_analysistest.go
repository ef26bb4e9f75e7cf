//go:build !go1.22

package linttest

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
)

// Run runs a over the packages of testdata/src named by pkgs and checks its
// diagnostics against the `// want` comments: analysistest.Run.
func Run(t *testing.T, a *analysis.Analyzer, pkgs ...string) {
	t.Helper()
	SkipUnderBazel(t)
	analysistest.Run(t, analysistest.TestData(), a, pkgs...)
}
