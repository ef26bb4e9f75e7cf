// Package runtest makes small real Bazel workspaces for the tests of
// stride run, its hooks and watch mode. The workspaces use native rules
// only (genrule, sh_test), so nothing is downloaded; Debian's Bazel needs
// the repository's own shims for rules_cc and remote_coverage_tools,
// which are copied in from third_party/bazel.
package runtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RequireBazel skips the test when bazel is not on PATH, and under `bazel
// test` (TEST_SRCDIR set): a Bazel inside a Bazel sandbox is not worth its
// cost there; `go test ./...` (ci/test) runs these tests.
func RequireBazel(t testing.TB) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipped under bazel test; run with go test")
	}
	if _, err := exec.LookPath("bazel"); err != nil {
		t.Skip("bazel not on PATH")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	if testing.Short() {
		t.Skip("real Bazel: skipped with -short")
	}
}

// ModuleRoot is the monorepo's root (where go.mod is), found from this
// source file.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtest: cannot find source file")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			if os.Getenv("TEST_SRCDIR") != "" {
				t.Skip("runtest: the monorepo's sources are not visible under bazel test; run with go test")
			}
			t.Fatal("runtest: go.mod not found above " + file)
		}
		dir = parent
	}
}

// WorkspaceFiles are the files every test workspace has: WORKSPACE with
// the shims, .bazelrc (idle servers exit after 15 s) and .gitignore.
func WorkspaceFiles() map[string]string {
	return map[string]string{
		"WORKSPACE": `workspace(name = "t")

local_repository(name = "remote_coverage_tools", path = "third_party/remote_coverage_tools")

local_repository(name = "rules_cc", path = "third_party/rules_cc")

local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")

local_repository(name = "platforms", path = "/usr/share/bazel/platforms")
`,
		".bazelrc": `startup --max_idle_secs=15
build --nosandbox_debug
build --show_progress_rate_limit=5
`,
		".gitignore": "/bazel-*\n/out/\n",
	}
}

// Write creates files (path -> content) under dir; *.sh files are
// executable.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// Workspace makes a Bazel workspace in a new temporary directory with the
// standard files plus files, copies the shims in, gives it an output base
// of its own in another temporary directory (see OutputBase), and
// registers a `bazel shutdown` for the end of the test.
func Workspace(t testing.TB, files map[string]string) string {
	t.Helper()
	ob := t.TempDir()
	dir := t.TempDir()
	Write(t, dir, WorkspaceFiles())
	Write(t, dir, files)
	CopyShims(t, dir)
	OutputBase(t, dir, ob)
	t.Cleanup(func() {
		Shutdown(dir)
		MakeWritable(ob)
	})
	return dir
}

// OutputBase makes every Bazel command in the workspace at dir (and in
// clones of it, since .bazelrc is committed) use the output base ob, by a
// `startup --output_base` line in .bazelrc. Without it each test workspace
// leaves an output base under ~/.cache/bazel, named for a temporary
// directory that never comes back. The caller removes ob after Shutdown
// (MakeWritable first).
func OutputBase(t testing.TB, dir, ob string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, ".bazelrc"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("startup --output_base=" + filepath.Join(ob, "output_base") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// MakeWritable makes the tree under dir writable by its owner, so that it
// can be removed: Bazel leaves read-only directories in an output base.
func MakeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}

// CopyShims copies third_party/bazel/{rules_cc,remote_coverage_tools} of
// the monorepo into dir/third_party.
func CopyShims(t testing.TB, dir string) {
	t.Helper()
	src := filepath.Join(ModuleRoot(t), "third_party", "bazel")
	for _, name := range []string{"rules_cc", "remote_coverage_tools"} {
		cmd := exec.Command("cp", "-r", filepath.Join(src, name), filepath.Join(dir, "third_party", name))
		if err := os.MkdirAll(filepath.Join(dir, "third_party"), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v: %s", name, err, out)
		}
	}
}

// Stride builds the stride binary, for tests that run it as a process
// (hooks, several runners at once); it skips the test without go.
func Stride(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "stride")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/strideci/monorepo/tools/stride/cmd/stride")
	cmd.Dir = ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build stride: %v\n%s", err, out)
	}
	return bin
}

// Shutdown stops the Bazel server of the workspace at dir, if any.
func Shutdown(dir string) {
	if _, err := os.Stat(filepath.Join(dir, "WORKSPACE")); err != nil {
		return
	}
	cmd := exec.Command("bazel", "shutdown")
	cmd.Dir = dir
	_ = cmd.Run()
}

// Git runs git in dir with a fixed identity and no user configuration.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Commit stages everything in dir and commits it; it returns the sha.
func Commit(t testing.TB, dir, msg string) string {
	t.Helper()
	Git(t, dir, "add", "-A")
	Git(t, dir, "commit", "-q", "-m", msg)
	return Git(t, dir, "rev-parse", "HEAD")
}
