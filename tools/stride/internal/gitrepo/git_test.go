package gitrepo_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func TestCleanEnv(t *testing.T) {
	got := gitrepo.CleanEnv([]string{"GIT_DIR=.", "HOME=/root", "GIT_AUTHOR_NAME=x", "GIT_WORK_TREE=/w", "GIT_QUARANTINE_PATH=/q",
		"GIT_INDEX_FILE=i", "GIT_PREFIX=p", "GIT_OBJECT_DIRECTORY=o", "GIT_ALTERNATE_OBJECT_DIRECTORIES=a", "GIT_NAMESPACE=n", "GIT_COMMON_DIR=c"})
	if d := cmp.Diff([]string{"HOME=/root", "GIT_AUTHOR_NAME=x"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestGitIgnoresHookEnv: a GIT_DIR left by a hook does not point the
// runner at another repository; KeepHookEnv keeps it.
func TestGitIgnoresHookEnv(t *testing.T) {
	a := gittest.New(t)
	a.Commit("a", map[string]string{"a.txt": "a"})
	b := gittest.New(t)
	t.Setenv("GIT_DIR", filepath.Join(b.Dir, ".git"))
	ctx := context.Background()
	dir, bare, err := (&gitrepo.Git{Dir: a.Dir}).GitDir(ctx)
	if err != nil || bare || dir != filepath.Join(a.Dir, ".git") {
		t.Errorf("GitDir = %q, %v, %v; want %s", dir, bare, err, filepath.Join(a.Dir, ".git"))
	}
	dir, _, err = (&gitrepo.Git{Dir: a.Dir, KeepHookEnv: true}).GitDir(ctx)
	if err != nil || dir != filepath.Join(b.Dir, ".git") {
		t.Errorf("GitDir with the hook's environment = %q, %v; want %s", dir, err, filepath.Join(b.Dir, ".git"))
	}
}

func TestGitErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, _, err := (&gitrepo.Git{Dir: dir}).GitDir(ctx); !errors.Is(err, gitrepo.ErrNotRepository) {
		t.Errorf("GitDir outside a repository: %v, want ErrNotRepository", err)
	}
	if _, err := (&gitrepo.Git{Dir: dir}).TopLevel(ctx); !errors.Is(err, gitrepo.ErrNotRepository) {
		t.Errorf("TopLevel outside a repository: %v, want ErrNotRepository", err)
	}
	_, err := (&gitrepo.Git{Dir: dir}).Run(ctx, nil, "no-such-command")
	var ge *gitrepo.GitError
	if !errors.As(err, &ge) || ge.Stderr == "" {
		t.Errorf("Run of a bad command: %v, want a GitError with stderr", err)
	}
}

func TestIsDirty(t *testing.T) {
	g := gittest.New(t)
	g.Commit("a", map[string]string{"a.txt": "a"})
	r := open(t, g.Dir)
	for _, step := range []struct {
		files map[string]string
		want  bool
	}{
		{nil, false},
		{map[string]string{"untracked.txt": "u"}, false},
		{map[string]string{"a.txt": "changed"}, true},
	} {
		g.Write(step.files)
		if got, err := r.IsDirty(); err != nil || got != step.want {
			t.Errorf("after %v: IsDirty = %v, %v; want %v", step.files, got, err, step.want)
		}
	}
}
