package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	repo := gittest.New(t).Dir
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "no command", args: nil, wantCode: ExitUsage, wantStderr: "usage: stride"},
		{name: "help", args: []string{"help"}, wantCode: ExitOK, wantStdout: "exit codes:"},
		{name: "-h", args: []string{"-h"}, wantCode: ExitOK, wantStdout: "commands:"},
		{name: "help lists version", args: []string{"help"}, wantCode: ExitOK, wantStdout: "version "},
		{name: "help of a command", args: []string{"help", "version"}, wantCode: ExitOK, wantStdout: "usage: stride version"},
		{name: "help of an unknown command", args: []string{"help", "nope"}, wantCode: ExitUsage, wantStderr: `unknown command "nope"`},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: ExitUsage, wantStderr: `unknown command "frobnicate"`},
		{name: "unknown global flag", args: []string{"--nope", "version"}, wantCode: ExitUsage, wantStderr: "flag provided but not defined"},
		{name: "unknown command flag", args: []string{"version", "--nope"}, wantCode: ExitUsage, wantStderr: "flag provided but not defined: -nope (see 'stride version -h')"},
		{name: "bad flag value", args: []string{"-C", repo, "affected", "--cache-limit-mb", "x"}, wantCode: ExitUsage, wantStderr: "(see 'stride affected -h')"},
		{name: "command -h", args: []string{"version", "-h"}, wantCode: ExitOK, wantStdout: "usage: stride version"},
		{name: "version", args: []string{"version"}, wantCode: ExitOK, wantStdout: "stride dev (commit unknown)"},
		{name: "-C missing dir", args: []string{"-C", "/nonexistent/dir", "version"}, wantCode: ExitUsage, wantStderr: "-C /nonexistent/dir"},
		{name: "-C a file", args: []string{"-C", file, "version"}, wantCode: ExitUsage, wantStderr: "not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.wantStderr)
			}
			if tc.wantCode == ExitUsage && tc.args != nil && strings.Count(stderr, "\n") > 1 {
				t.Errorf("a usage error is one line, got %q", stderr)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, _ := runMain(t, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", stdout, err)
	}
	if v["version"] == "" || v["commit"] == "" {
		t.Fatalf("missing fields: %v", v)
	}
}

func TestWorkDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BUILD_WORKSPACE_DIRECTORY", dir)
	got, err := workDir("")
	if err != nil || got != dir {
		t.Fatalf("workDir under bazel run = %q, %v; want %q", got, err, dir)
	}
	other := t.TempDir()
	got, err = workDir(other)
	if err != nil || got != other {
		t.Fatalf("-C wins over BUILD_WORKSPACE_DIRECTORY: got %q, %v", got, err)
	}
}
