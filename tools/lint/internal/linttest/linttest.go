// Package linttest runs the analyzers' tests: Run checks an analyzer
// against the packages of its testdata/src tree and their `// want`
// comments, as golang.org/x/tools/go/analysis/analysistest does.
//
// With Go older than 1.22, Run is analysistest.Run itself. With Go 1.22 and
// newer, x/tools' go/packages (which analysistest uses) does not compile at
// the x/tools versions that allow `go 1.19` in go.mod, so Run uses an
// equivalent driver built on go/types and tools/lint/internal/checker: the
// same testdata/src layout (GOPATH-style, testdata packages may import the
// standard library and each other) and the same `// want "regexp"`
// comments (double- or back-quoted, several per line), checked for each
// package, for the package with its in-package tests, and for its external
// test package.
//
// Under `bazel test` (TEST_SRCDIR set) Run skips: neither driver works in
// Bazel's sandbox. ci/test runs these tests with `go test ./tools/lint/...`.
package linttest

import (
	"os"
	"testing"
)

// SkipUnderBazel skips t when it runs under `bazel test`.
func SkipUnderBazel(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("analyzer tests need the go command and a GOPATH-style testdata tree, " +
			"which bazel test's sandbox lacks; run them with `go test ./tools/lint/...` (ci/test does)")
	}
}
