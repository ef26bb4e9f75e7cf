package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// TestAffectedExitCodes checks the exit codes that need no Bazel: bad
// flags and bad revisions are usage errors (2); the same commit on both
// sides is an empty, successful result. The Bazel-backed behaviour is
// tested in internal/affected.
func TestAffectedExitCodes(t *testing.T) {
	r := gittest.New(t)
	c := r.Commit("one", map[string]string{"a.txt": "1\n"})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "bad kind", args: []string{"--kind", "bogus"}, wantCode: ExitUsage, wantErr: "--kind"},
		{name: "unknown base", args: []string{"--base", "nope"}, wantCode: ExitUsage, wantErr: "unknown revision"},
		{name: "extra argument", args: []string{"x"}, wantCode: ExitUsage, wantErr: "unexpected argument"},
		{name: "same commit", args: []string{"--base", c, "--head", c}, wantCode: ExitOK, wantOut: ""},
		{name: "same commit json", args: []string{"--base", c, "--head", c, "--json"}, wantCode: ExitOK, wantOut: `"schema": "stride.affected/v1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"-C", r.Dir, "affected", "--cache-dir", t.TempDir()}, tc.args...)
			code := Main(args, nil, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantOut)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantErr)
			}
		})
	}
}
