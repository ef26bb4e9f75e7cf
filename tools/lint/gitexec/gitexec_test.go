package gitexec_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/gitexec"
	"github.com/strideci/monorepo/tools/lint/internal/linttest"
)

func TestAnalyzer(t *testing.T) {
	linttest.SkipUnderBazel(t)
	linttest.Run(t, gitexec.Analyzer,
		"example.com/tools/stride/internal/bad",         // positives
		"example.com/tools/stride/internal/gitrepo",     // the one door
		"example.com/tools/stride/internal/run/runtest", // test support
		"example.com/tools/other",                       // not stride
	)
}

func TestChecked(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"github.com/strideci/monorepo/tools/stride/internal/run", true},
		{"github.com/strideci/monorepo/tools/stride/internal/cli_test", true},
		{"github.com/strideci/monorepo/tools/stride/cmd/stride", true},
		{"github.com/strideci/monorepo/tools/stride/internal/gitrepo", false},
		{"github.com/strideci/monorepo/tools/stride/internal/gitrepo_test", false},
		{"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest", false},
		{"github.com/strideci/monorepo/tools/stride/internal/gitrepox", true},
		{"github.com/strideci/monorepo/tools/stride/internal/run/runtest", false},
		{"github.com/strideci/monorepo/tools/soundness/internal/soundness", false},
	} {
		if got := gitexec.Checked(tc.path); got != tc.want {
			t.Errorf("Checked(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
