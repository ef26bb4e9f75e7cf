package tdsuite

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		got, want, forbidden []string
		status               string
	}{
		{"exact", []string{"//a:b"}, []string{"//a:b"}, nil, Pass},
		{"exact, short label", []string{"//a/b:b"}, []string{"//a/b"}, nil, Pass},
		{"none expected, none given", nil, nil, nil, Pass},
		{"extra", []string{"//a:b", "//a:c"}, []string{"//a:b"}, nil, OverBuild},
		{"missing", []string{"//a:c"}, []string{"//a:b"}, nil, Wrong},
		{"forbidden", []string{"//a:b", "//a:bad"}, []string{"//a:b"}, []string{"//a:bad"}, Wrong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _, _, _ := Classify(tc.got, tc.want, tc.forbidden); got != tc.status {
				t.Errorf("Classify = %s, want %s", got, tc.status)
			}
		})
	}
}

// TestCasesNameKnownCommits: every step names a commit of Commits (or a
// revision the step makes itself).
func TestCasesNameKnownCommits(t *testing.T) {
	n := 0
	for _, c := range Cases {
		for _, st := range c.Steps {
			n++
			for _, r := range []string{st.Before, st.After} {
				if _, ok := Commits[r]; !ok && !strings.HasPrefix(r, "HEAD") {
					t.Errorf("%s: unknown commit %q", c.Name, r)
				}
			}
		}
	}
	if n < 60 {
		t.Errorf("%d steps; the transcription has 67", n)
	}
}
