package noprint_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/internal/linttest"
	"github.com/strideci/monorepo/tools/lint/noprint"
)

func TestAnalyzer(t *testing.T) {
	linttest.SkipUnderBazel(t)
	linttest.Run(t, noprint.Analyzer,
		"example.com/libs/bad",      // positives
		"example.com/internal/good", // negatives in a library
		"example.com/cmd/tool",      // a main package may print
		"example.com/pkg/other",     // not a library in this sense
	)
}

func TestIsLibrary(t *testing.T) {
	for _, tc := range []struct {
		path, name string
		want       bool
	}{
		{"github.com/strideci/monorepo/libs/log", "log", true},
		{"github.com/strideci/monorepo/tools/stride/internal/cli", "cli", true},
		{"github.com/strideci/monorepo/tools/stride/internal/cli_test", "cli_test", true},
		{"github.com/strideci/monorepo/tools/stride/cmd/stride", "main", false},
		{"github.com/strideci/monorepo/libs/tool", "main", false},
		{"github.com/strideci/monorepo/tools/repocheck", "repocheck", false},
		{"github.com/strideci/monorepo/libsx/a", "a", false},
	} {
		if got := noprint.IsLibrary(tc.path, tc.name); got != tc.want {
			t.Errorf("IsLibrary(%q, %q) = %v, want %v", tc.path, tc.name, got, tc.want)
		}
	}
}
