package execstderr_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/execstderr"
	"github.com/strideci/monorepo/tools/lint/internal/linttest"
)

func TestAnalyzer(t *testing.T) {
	linttest.Run(t, execstderr.Analyzer, "example.com/run")
}
