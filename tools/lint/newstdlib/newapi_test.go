//go:build go1.23

package newstdlib_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/internal/linttest"
	"github.com/strideci/monorepo/tools/lint/newstdlib"
)

// TestNewAPI: the positive cases, which type-check only with Go 1.23 or
// newer (with Go 1.19 the compiler itself rejects them).
func TestNewAPI(t *testing.T) {
	linttest.Run(t, newstdlib.Analyzer, "example.com/newapi")
}
