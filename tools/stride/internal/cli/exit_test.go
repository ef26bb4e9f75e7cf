package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/policy"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/run"
	"github.com/strideci/monorepo/tools/stride/internal/sparse"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// fakeBazel puts a `bazel` that exits 1 at once first on PATH: a Bazel
// that cannot start.
func fakeBazel(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'bazel: cannot start (fake)' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "bazel"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestExitCodes: every command's exit code for a usage error, and, where
// the command has them, for bad input (an unknown revision), a finding
// and an infrastructure failure (a Bazel that fails to start), as
// docs/stride.md documents them: 0 ok, 1 findings, 2 usage or input, 3
// infrastructure.
func TestExitCodes(t *testing.T) {
	fakeBazel(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("CI", "")
	g := gittest.New(t)
	g.Commit("Add the workspace", map[string]string{"WORKSPACE": "", "BUILD": "", "README.md": "hi\n"})
	g.Git("checkout", "-q", "-b", "feature")
	g.Commit("Added notes", map[string]string{"notes.md": "n\n"}) // not imperative: a policy finding
	bad := gittest.New(t)
	bad.Commit("Add OWNERS", map[string]string{"OWNERS": "not an owner line\n"}) // an owners lint finding
	notGreen := t.TempDir()
	if err := os.WriteFile(filepath.Join(notGreen, "report.json"), []byte(`{"schema":"stride.report/v1","status":"failed"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	storeFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(storeFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name string
		dir  string
		args []string
		want int
	}
	var tests []tc
	// A usage error for every command.
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		args := []string{n, "--no-such-flag"}
		if n == "help" {
			args = []string{n, "no-such-command"}
		}
		tests = append(tests, tc{name: n + " usage", dir: g.Dir, args: args, want: ExitUsage})
	}
	tests = append(tests,
		// Bad input: an unknown revision.
		tc{"affected unknown revision", g.Dir, []string{"affected", "--base", "nosuch"}, ExitUsage},
		tc{"run unknown revision", g.Dir, []string{"run", "--base", "nosuch"}, ExitUsage},
		tc{"change unknown revision", g.Dir, []string{"change", "--base", "nosuch"}, ExitUsage},
		tc{"owners check unknown revision", g.Dir, []string{"owners", "check", "--base", "nosuch"}, ExitUsage},
		tc{"policy check unknown revision", g.Dir, []string{"policy", "check", "--no-gazelle", "--base", "nosuch"}, ExitUsage},
		tc{"publish of a run that is not green", g.Dir, []string{"publish", "--no-apt", "--run", notGreen, "--store", t.TempDir()}, ExitUsage},
		tc{"hook status of an unknown branch", g.Dir, []string{"hook", "status", "--state", t.TempDir(), "--branch", "nosuch"}, ExitUsage},
		// Findings.
		tc{"policy check finding", g.Dir, []string{"policy", "check", "--no-gazelle", "--base", "main"}, ExitFindings},
		tc{"owners lint finding", bad.Dir, []string{"owners", "lint"}, ExitFindings},
		// Success.
		tc{"change", g.Dir, []string{"change"}, ExitOK},
		// Infrastructure: a Bazel that fails to start; a store that
		// cannot be opened.
		tc{"affected bazel fails to start", g.Dir, []string{"affected", "--base", "main"}, ExitInternal},
		tc{"affected bazel fails to start, no cache", g.Dir, []string{"affected", "--base", "main", "--cache-dir", ""}, ExitInternal},
		tc{"run bazel fails to start", g.Dir, []string{"run", "--base", "main", "--out", t.TempDir()}, ExitInternal},
		tc{"publish store cannot be opened", g.Dir, []string{"publish", "--no-apt", "--run", notGreen, "--store", filepath.Join(storeFile, "store")}, ExitInternal},
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, append([]string{"-C", tc.dir}, tc.args...)...)
			if code != tc.want {
				t.Errorf("stride %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, stdout, stderr)
			}
		})
	}
}

// TestExitCodeOf: the one mapping of errors to exit codes.
func TestExitCodeOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", Usagef("bad flag"), ExitUsage},
		{"explicit code", Exit(ExitFindings, nil), ExitFindings},
		{"unknown revision", wrap(gitrepo.ErrUnknownRevision), ExitUsage},
		{"shallow", wrap(gitrepo.ErrShallow), ExitUsage},
		{"not a repository", wrap(gitrepo.ErrNotRepository), ExitUsage},
		{"no default branch", wrap(gitrepo.ErrNoDefaultBranch), ExitUsage},
		{"affected input", wrap(&affected.InputError{Err: errors.New("BUILD broken at head")}), ExitUsage},
		{"run usage", &run.UsageError{Err: errors.New("head not checked out")}, ExitUsage},
		{"bazel cannot start inside an input error", &affected.InputError{Err: wrap(bazel.ErrStart)}, ExitInternal},
		{"publish not green", wrap(publish.ErrNotGreen), ExitUsage},
		{"publish not reproducible", wrap(publish.ErrNotReproducible), ExitFindings},
		{"publish bad input", wrap(publish.ErrBadInput), ExitUsage},
		{"no store", wrap(store.ErrNoStore), ExitUsage},
		{"store object not found", wrap(store.ErrNotFound), ExitUsage},
		{"store sources disagree", wrap(store.ErrSourcesDisagree), ExitFindings},
		{"bad approvals file", wrap(owners.ErrBadApprovals), ExitUsage},
		{"unknown team", wrap(owners.ErrUnknownTeam), ExitUsage},
		{"bad policy options", wrap(policy.ErrBadInput), ExitUsage},
		{"unknown environment", wrap(promote.ErrInput), ExitUsage},
		{"promotion blocked", wrap(promote.ErrBlocked), ExitFindings},
		{"no package map", wrap(sparse.ErrNoMap), ExitUsage},
		{"publish step of a pipeline", &run.PublishError{Err: wrap(errors.New("aptly failed"))}, ExitInternal},
		{"anything else", errors.New("disk full"), ExitInternal},
	}
	for _, tc := range tests {
		if got := exitCodeOf(tc.err); got != tc.want {
			t.Errorf("%s: exitCodeOf(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}
