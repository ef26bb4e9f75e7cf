package sparse

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// bazelOrSkip skips integration tests where they cannot or must not run:
// no bazel on PATH, or inside `bazel test` (TEST_SRCDIR set).
func bazelOrSkip(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("integration test: not run under bazel test")
	}
	if _, err := exec.LookPath("bazel"); err != nil {
		t.Skip("bazel not found")
	}
	if testing.Short() {
		t.Skip("integration test skipped with -short")
	}
}

// bazelEnv is a Bazel output root for one test, shut down and removed at
// the end. Startup flags keep servers from lingering on shared machines.
type bazelEnv struct {
	t       *testing.T
	root    string
	startup []string
	flags   []string
	dirs    map[string]bool
}

func newBazelEnv(t *testing.T, flags ...string) *bazelEnv {
	root, err := os.MkdirTemp("", "stride-sparse-bazel-")
	if err != nil {
		t.Fatal(err)
	}
	be := &bazelEnv{t: t, root: root, startup: []string{"--output_user_root=" + root, "--max_idle_secs=10"}, flags: flags, dirs: map[string]bool{}}
	t.Cleanup(func() {
		for d := range be.dirs {
			c := exec.Command("bazel", append(append([]string{}, be.startup...), "shutdown")...)
			c.Dir = d
			_ = c.Run()
		}
		_ = exec.Command("chmod", "-R", "u+w", root).Run()
		_ = os.RemoveAll(root)
	})
	return be
}

func (be *bazelEnv) querier(dir string) Querier {
	be.dirs[dir] = true
	return &KeepGoingQuerier{Bazel: &bazel.Bazel{Dir: dir, Startup: be.startup}, Warn: os.Stderr}
}

// run runs bazel ARGS in dir and returns its combined output.
func (be *bazelEnv) run(dir string, args ...string) (string, error) {
	be.dirs[dir] = true
	full := append(append([]string{}, be.startup...), args[0])
	full = append(full, be.flags...)
	full = append(full, args[1:]...)
	c := exec.Command("bazel", full...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	return string(out), err
}

// gitIn runs git with a fixed identity in dir.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// miniWorkspace is a small Bazel workspace of native rules: team @alpha
// owns app/, whose test needs lib/a (data), lib/b (through lib/a) and a
// macro in tools/defs.bzl; other/ is nobody's need; @empty owns nothing.
func miniWorkspace(t *testing.T) map[string]string {
	cov := map[string]string{}
	// The project's stubs of Bazel's implicit repositories (tests run in
	// tools/stride/internal/sparse).
	src := filepath.Join("..", "..", "..", "..", "third_party", "bazel")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if !strings.HasPrefix(rel, "remote_coverage_tools") && !strings.HasPrefix(rel, "rules_cc") {
			return nil
		}
		b, err := os.ReadFile(p)
		cov["third_party/bazel/"+filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Skipf("stubs of Bazel's implicit repositories not found: %v", err)
	}
	files := map[string]string{
		"WORKSPACE": `workspace(name = "mini")

local_repository(
    name = "remote_coverage_tools",
    path = "third_party/bazel/remote_coverage_tools",
)

local_repository(
    name = "rules_java",
    path = "/usr/share/bazel/rules/java",
)

local_repository(
    name = "platforms",
    path = "/usr/share/bazel/platforms",
)

local_repository(
    name = "rules_cc",
    path = "third_party/bazel/rules_cc",
)
`,
		".bazelrc":       "build --nosandbox_debug\n",
		"OWNERS":         "@platform\n",
		"OWNERS_ALIASES": "@platform:\n  p@example.com\n\n@alpha:\n  a@example.com\n\n@empty:\n  e@example.com\n",
		"app/OWNERS":     "@alpha\n",
		"app/BUILD.bazel": `load("//tools:defs.bzl", "checked_test")

checked_test(
    name = "app_test",
    data = ["//lib/a:data"],
)
`,
		"app/check.sh":      "#!/bin/sh\nset -e\nfor f in \"$@\"; do test -s \"$f\"; done\necho ok\n",
		"tools/BUILD.bazel": "",
		"tools/defs.bzl": `def checked_test(name, data):
    native.sh_test(
        name = name,
        srcs = ["check.sh"],
        data = data,
        args = ["$(locations %s)" % d for d in data],
    )
`,
		"lib/a/BUILD.bazel": `genrule(
    name = "gen",
    srcs = ["//lib/b:in.txt"],
    outs = ["a.txt"],
    cmd = "cat $< > $@ && echo a >> $@",
    visibility = ["//visibility:public"],
)

filegroup(
    name = "data",
    srcs = [":a.txt"],
    visibility = ["//visibility:public"],
)
`,
		"lib/b/BUILD.bazel": `exports_files(["in.txt"])`,
		"lib/b/in.txt":      "b\n",
		"other/BUILD.bazel": `filegroup(name = "all", srcs = glob(["*.txt"]))`,
		"other/big.txt":     strings.Repeat("other\n", 10000),
		"other/deep/x.txt":  "x\n",
		"docs/readme.md":    "docs\n",
	}
	for k, v := range cov {
		files[k] = v
	}
	return files
}

func TestIntegrationMiniCloneRefresh(t *testing.T) {
	bazelOrSkip(t)
	ctx := context.Background()
	be := newBazelEnv(t)
	up := gittest.New(t)
	up.Git("config", "uploadpack.allowFilter", "true")
	up.Git("config", "uploadpack.allowAnySHA1InWant", "true")
	c1 := up.Commit("initial", miniWorkspace(t))
	if err := os.Chmod(filepath.Join(up.Dir, "app/check.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	up.Git("add", "-A")
	c1 = up.Commit("exec bit", nil)
	opts := Options{Bazel: be.querier}
	start := time.Now()
	m, _, err := Publish(ctx, up.Dir, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("publish-map of %s: %d packages in %v", c1[:8], len(m.Packages), time.Since(start))
	if got := m.Packages["app"]; strings.Join(got, ",") != "lib/a,tools" {
		t.Errorf("map: app needs %v, want [lib/a tools]", got)
	}

	dir := filepath.Join(t.TempDir(), "clone")
	p, err := Clone(ctx, CloneOptions{URL: "file://" + up.Dir, Dir: dir, Team: "@alpha"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.Cone, " "), "app lib/a lib/b third_party tools"; got != want {
		t.Errorf("cone = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Errorf("other/ is checked out (stat: %v)", err)
	}
	if out, err := be.run(dir, "test", "//app/..."); err != nil {
		t.Fatalf("bazel test in the sparse clone: %v\n%s", err, out)
	}

	// Upstream, app gains a dependency outside the cone; the push pipeline
	// publishes the map of the new commit.
	c2 := up.Commit("app needs extra", map[string]string{
		"app/BUILD.bazel": `load("//tools:defs.bzl", "checked_test")

checked_test(
    name = "app_test",
    data = ["//lib/a:data", "//extra/x:data"],
)
`,
		"extra/x/BUILD.bazel": `filegroup(name = "data", srcs = ["x.txt"], visibility = ["//visibility:public"])`,
		"extra/x/x.txt":       "x\n",
	})
	if _, _, err := Publish(ctx, up.Dir, "", opts); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "pull", "-q", "--ff-only")
	if out, err := be.run(dir, "test", "//app/..."); err == nil {
		t.Fatalf("bazel test passed before refresh although extra/x is outside the cone:\n%s", out)
	}
	p, err = Refresh(ctx, dir, "", false, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Commit != c2 {
		t.Errorf("refresh used the map of %s, want %s", p.Commit, c2)
	}
	if out, err := be.run(dir, "test", "//app/..."); err != nil {
		t.Fatalf("bazel test after refresh: %v\n%s", err, out)
	}

	// Another new dependency, this time with no map published for the new
	// commit: refresh widens from the changed BUILD files.
	up.Commit("app needs more", map[string]string{
		"app/BUILD.bazel": `load("//tools:defs.bzl", "checked_test")

checked_test(
    name = "app_test",
    data = ["//lib/a:data", "//extra/x:data", "//more/y:data"],
)
`,
		"more/y/BUILD.bazel": `filegroup(name = "data", srcs = ["y.txt", "//more/z:z.txt"], visibility = ["//visibility:public"])`,
		"more/y/y.txt":       "y\n",
		"more/z/BUILD.bazel": `exports_files(["z.txt"])`,
		"more/z/z.txt":       "z\n",
	})
	gitIn(t, dir, "pull", "-q", "--ff-only")
	p, err = Refresh(ctx, dir, "", false, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Commit != c2 || strings.Join(p.Extra, " ") != "more/y more/z" {
		t.Errorf("refresh without a map: commit %s extra %v, want %s [more/y more/z]", p.Commit[:8], p.Extra, c2[:8])
	}
	if out, err := be.run(dir, "test", "//app/..."); err != nil {
		t.Fatalf("bazel test after refresh (widened): %v\n%s", err, out)
	}
	t.Logf("checkout: %d of %d files", p.Checkout.Files, p.Full.Files)

	// Errors.
	if _, err := Clone(ctx, CloneOptions{URL: "file://" + up.Dir, Dir: filepath.Join(t.TempDir(), "c"), Team: "nosuch"}, Options{}); err == nil || !IsTeamError(err) || !strings.Contains(err.Error(), "@alpha, @empty, @platform") {
		t.Errorf("unknown team: %v", err)
	}
	if _, err := PlanDir(ctx, dir, "empty", Options{}); err == nil || !IsTeamError(err) {
		t.Errorf("team without dirs: %v", err)
	}
	if _, err := PlanDir(ctx, t.TempDir(), "alpha", Options{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("not a repository: %v", err)
	}
}
