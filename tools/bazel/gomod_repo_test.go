// Tests of the Starlark in this directory, run against real Bazel in
// temporary workspaces. They need `bazel` and `go` on PATH and are skipped
// under `bazel test` (they start their own Bazel server); ci/test runs them
// through `go test ./...`.
package bazel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const xerrors = "golang.org/x/xerrors"
const xerrorsVersion = "v0.0.0-20200804184101-5ec99f83aff1"
const xerrorsSum = "h1:go1bK/D/BFZV2I8cIQd1NKEZ+0owSTG1fDTci4IqFcE="

// workspace makes a Bazel workspace that loads this directory's
// gomod_repo.bzl and declares one go_module_repository with sum.
func workspace(t *testing.T, sum string) string {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("starts its own Bazel server; run with go test")
	}
	if _, err := exec.LookPath("bazel"); err != nil {
		t.Skip("bazel not on PATH")
	}
	src, err := os.ReadFile("gomod_repo.bzl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"WORKSPACE": `load("//:gomod_repo.bzl", "go_module_repository")
go_module_repository(
    name = "mod",
    path = "` + xerrors + `",
    version = "` + xerrorsVersion + `",
    sum = "` + sum + `",
    files = {"BUILD.bazel": "exports_files(['go.mod'])"},
)
`,
		"BUILD.bazel":     `filegroup(name = "m", srcs = ["@mod//:go.mod"])` + "\n",
		"gomod_repo.bzl":  string(src),
		".bazelrc":        "build --nosandbox_debug\n",
		"out/placeholder": "",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func bazelBuild(t *testing.T, dir string, env []string) (string, error) {
	t.Helper()
	ob := filepath.Join(dir, "out", "base")
	cmd := exec.Command("bazel", "--output_base="+ob, "--max_idle_secs=10", "build", "//:m")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		sd := exec.Command("bazel", "--output_base="+ob, "shutdown")
		sd.Dir = dir
		_ = sd.Run()
	})
	return string(out), err
}

func TestGoModuleRepository(t *testing.T) {
	tests := []struct {
		name    string
		sum     string
		env     []string
		wantErr []string // substrings of Bazel's output; nil means success
	}{
		{name: "pinned sum", sum: xerrorsSum},
		{
			name:    "sum mismatch names module, expected and actual",
			sum:     "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			wantErr: []string{"checksum mismatch for module " + xerrors + "@" + xerrorsVersion, "expected h1:AAAA", "got " + xerrorsSum},
		},
		{
			name:    "no go on PATH",
			sum:     xerrorsSum,
			env:     []string{"PATH=/usr/bin:/bin"},
			wantErr: []string{"no `go` on PATH", "Install Go"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.env) > 0 {
				if _, err := os.Stat("/usr/bin/go"); err == nil {
					t.Skip("/usr/bin/go exists; cannot hide go from PATH")
				}
			}
			dir := workspace(t, tc.sum)
			out, err := bazelBuild(t, dir, tc.env)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("build failed: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("build succeeded, want failure; output:\n%s", out)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
