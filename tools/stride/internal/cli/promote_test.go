package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

func TestPromoteLint(t *testing.T) {
	dir := gittest.New(t).Dir
	os.MkdirAll(filepath.Join(dir, "ci"), 0o755)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "ci", "environments.star"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", criteria = [tests_green(), soak(minutes = 30)])\n")
	code, out, errs := runMain(t, "-C", dir, "promote", "lint")
	if code != 0 || !strings.Contains(out, "uat (after dev): tests_green() soak(minutes = 30)") || !strings.Contains(out, "ok (2 environments)") {
		t.Errorf("lint = %d\n%s%s", code, out, errs)
	}
	write("environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", criteria = [nope()])\n")
	code, out, errs = runMain(t, "-C", dir, "promote", "lint")
	want := "stride promote: ci/environments.star:2:54: environment \"uat\": unknown criterion nope()"
	if code != ExitUsage || !strings.HasPrefix(errs, want) {
		t.Errorf("lint of a bad file = %d\n%s%s\nwant stderr starting %q", code, out, errs, want)
	}
	// A deploy command must be an executable file in the repository.
	write("environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", deploy = \"ci/deploy-uat.sh\")\n")
	code, out, errs = runMain(t, "-C", dir, "promote", "lint")
	want = "stride promote: ci/environments.star:2:1: environment \"uat\": deploy: ci/deploy-uat.sh: no such file"
	if code != ExitUsage || !strings.HasPrefix(errs, want) {
		t.Errorf("lint with a missing deploy command = %d\n%s%s\nwant stderr starting %q", code, out, errs, want)
	}
	os.WriteFile(filepath.Join(dir, "ci", "deploy-uat.sh"), []byte("#!/bin/sh\n"), 0o644)
	if code, _, errs = runMain(t, "-C", dir, "promote", "lint"); code != ExitUsage || !strings.Contains(errs, "not an executable file") {
		t.Errorf("lint with a deploy command not executable = %d %s", code, errs)
	}
	os.Chmod(filepath.Join(dir, "ci", "deploy-uat.sh"), 0o755)
	if code, out, errs = runMain(t, "-C", dir, "promote", "lint"); code != 0 || !strings.Contains(out, "uat (after dev): no criteria; deployed by ci/deploy-uat.sh") {
		t.Errorf("lint with a deploy command = %d\n%s%s", code, out, errs)
	}
	os.Remove(filepath.Join(dir, "ci", "environments.star"))
	if code, _, errs = runMain(t, "-C", dir, "promote", "lint"); code != ExitUsage || !strings.Contains(errs, "no such file") {
		t.Errorf("lint of a missing file = %d %s", code, errs)
	}
}

// TestPromoteLintRepository checks this repository's ci/environments.star.
func TestPromoteLintRepository(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "ci", "environments.star")); err != nil {
		t.Skip("not in the monorepo's source tree (bazel test)")
	}
	if code, out, errs := runMain(t, "-C", root, "promote", "lint"); code != 0 {
		t.Errorf("stride promote lint on the repository = %d\n%s%s", code, out, errs)
	}
}

func TestPromoteCommands(t *testing.T) {
	g := gittest.New(t)
	g.Commit("root", map[string]string{"OWNERS": "author@example.com\n", "ci/environments.star": "environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", criteria = [tests_green()])\nenvironment(name = \"prod\", after = \"uat\", criteria = [owners_approved()])\n"})
	head := g.Commit("change", map[string]string{"a.txt": "a\n"})
	storeDir := filepath.Join(t.TempDir(), "store")
	s, err := store.OpenFS(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	run := publishtest.WriteRun(t, t.TempDir(), publishtest.Run{Head: head, Base: g.Git("rev-parse", "HEAD~1"), Status: report.StatusGreen})
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: "one"})
	if _, err := publish.Publish(context.Background(), publish.Options{Dir: g.Dir, RunDir: run, Debs: []string{deb}, DocsDir: "-", Store: s, Number: 2}); err != nil {
		t.Fatal(err)
	}
	st := func(args ...string) (int, string, string) {
		return runMain(t, append([]string{"-C", g.Dir}, append(args, "--store", storeDir, "--no-apt", "--actor", "tester")...)...)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"promote", "--auto"}, 0, "dev      would promote nothing -> " + head[:12]},
		{[]string{"promote", head, "--to", "qa", "--reason", "x"}, ExitUsage, `unknown environment "qa"`},
		{[]string{"promote", "0000000000", "--to", "dev", "--reason", "x"}, ExitUsage, `build "0000000000" is not published`},
		{[]string{"promote", head, "--to", "uat", "--reason", "x"}, ExitUsage, "promoting it to uat would skip dev"},
		{[]string{"promote", head, "--to", "dev"}, ExitUsage, "needs --reason"},
		{[]string{"promote", "--confirm"}, ExitUsage, "want --auto or BUILD"},
		{[]string{"promote", "hold", "prod", "--reason", "freeze"}, 0, "prod is held"},
		{[]string{"promote", "--auto", "--confirm"}, 0, "✗ not held"},
		{[]string{"promote", "unhold", "prod", "--reason", "go"}, 0, "prod is no longer held"},
		{[]string{"promote", "--auto", "--confirm"}, 0, "prod     promoted nothing -> " + head[:12]},
		{[]string{"rollback", "prod"}, ExitUsage, "no earlier good build"},
		{[]string{"rollback", "nope"}, ExitUsage, `unknown environment "nope"`},
	} {
		code, out, errs := st(tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("stride %s = %d, want %d with %q\n%s%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, errs)
		}
	}
	if code, out, _ := runMain(t, "-C", g.Dir, "ledger", "verify"); code != 0 {
		t.Errorf("ledger verify: %d %s", code, out)
	}
	// gc keeps what the ledger says the environments serve.
	code, out, errs := runMain(t, "-C", g.Dir, "store", "gc", "--confirm", "--grace", "0s", "--store", storeDir)
	if code != 0 || !strings.Contains(out, "keep    "+head[:12]) || !strings.Contains(out, "the ledger: dev serves it") {
		t.Errorf("store gc = %d\n%s%s", code, out, errs)
	}
}

// TestHookInstallPromote: the hook's robot goes with post-receive and a
// publishing run; anything else is refused before a hook is written.
func TestHookInstallPromote(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "r.git")
	gittest.New(t).Git("init", "-q", "--bare", bare)
	state := filepath.Join(t.TempDir(), "state")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--pre-push", "--promote", "--run-arg=--publish"}, ExitUsage, "--promote goes with --post-receive"},
		{[]string{"--post-receive", "--promote"}, ExitUsage, "--promote needs --run-arg=--publish"},
		{[]string{"--post-receive", "--promote", "--run-arg=--publish", "--stride", "/usr/bin/true"}, 0, ""},
	} {
		code, _, errOut := stride(t, bare, append([]string{"hook", "install", "--state", state}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("hook install %v = %d, %q; want %d, %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
	b, err := os.ReadFile(filepath.Join(bare, "hooks", "post-receive"))
	if err != nil || !strings.Contains(string(b), "'--run-arg=--publish' --promote \"$@\"") {
		t.Errorf("post-receive hook: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(bare, "hooks", "pre-push")); err == nil {
		t.Errorf("a refused install wrote a pre-push hook")
	}
}
