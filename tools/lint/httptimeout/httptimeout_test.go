package httptimeout_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/httptimeout"
	"github.com/strideci/monorepo/tools/lint/internal/linttest"
)

func TestAnalyzer(t *testing.T) {
	linttest.Run(t, httptimeout.Analyzer, "example.com/srv")
}
