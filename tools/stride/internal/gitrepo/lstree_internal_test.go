package gitrepo

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// TestLsTreeMatchesGoGit checks that `git ls-tree` and go-git's tree walk
// list the same entries: files, executables, symlinks, odd names.
func TestLsTreeMatchesGoGit(t *testing.T) {
	r := gittest.New(t)
	r.Write(map[string]string{"a.txt": "a\n", "d/e/c.txt": "c\n", "tab\tand space.txt": "x\n", "ünï.txt": "u\n", "x.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(r.Dir, "x.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("d/e", filepath.Join(r.Dir, "link")); err != nil {
		t.Fatal(err)
	}
	r.Git("add", "-A")
	c := plumbing.NewHash(r.Commit("one", nil))
	repo, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.lsTree(c)
	if err != nil {
		t.Fatal(err)
	}
	wt := repo.workTree
	repo.workTree = "" // force the go-git walk
	want, err := repo.TreeFiles(c)
	repo.workTree = wt
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lsTree = %v\ngo-git = %v", got, want)
	}
	if got["x.sh"].Mode != filemode.Executable || got["link"].Mode != filemode.Symlink || len(got) != 6 {
		t.Errorf("lsTree = %v", got)
	}
	if _, err := repo.lsTree(plumbing.NewHash("1111111111111111111111111111111111111111")); err == nil {
		t.Error("lsTree of an unknown commit: no error")
	}
}
