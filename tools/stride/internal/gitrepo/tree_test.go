package gitrepo_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func TestTreeFilesAndExport(t *testing.T) {
	r := gittest.New(t)
	c1 := r.Commit("one", map[string]string{"a.txt": "a\n", "d/b.txt": "b\n", "d/e/c.txt": "c\n"})
	if err := os.Symlink("a.txt", filepath.Join(r.Dir, "link")); err != nil {
		t.Fatal(err)
	}
	r.Git("add", "link")
	c2 := r.Commit("two", map[string]string{"a.txt": "a2\n", "d/e/c.txt!": "", "new.txt": "n\n"})
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := plumbing.NewHash(c1), plumbing.NewHash(c2)
	files, err := repo.TreeFiles(h2)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	if got := len(names); got != 4 || files["link"].Mode != filemode.Symlink || files["a.txt"].Hash != gitrepo.BlobHash([]byte("a2\n")) {
		t.Errorf("TreeFiles = %v %+v", names, files)
	}

	dir := filepath.Join(t.TempDir(), "x")
	if err := repo.Export(dir, plumbing.ZeroHash, h1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("j"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := repo.Export(dir, h1, h2); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"a.txt": "a2\n", "d/b.txt": "b\n", "new.txt": "n\n", "junk": "j", "link": "a2\n"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "e")); !os.IsNotExist(err) {
		t.Errorf("d/e should be gone after the incremental export: %v", err)
	}
}

func TestWorkTreeChanges(t *testing.T) {
	r := gittest.New(t)
	r.Commit("one", map[string]string{"a.txt": "a\n", "b.txt": "b\n", ".gitignore": "*.log\n"})
	r.Write(map[string]string{"a.txt": "a2\n", "b.txt!": "", "new.txt": "n\n", "x.log": "ignored\n"})
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.WorkTreeChanges()
	if err != nil {
		t.Fatal(err)
	}
	want := []gitrepo.WorkTreeChange{{Path: "a.txt"}, {Path: "b.txt", Deleted: true}, {Path: "new.txt"}}
	if len(got) != len(want) {
		t.Fatalf("WorkTreeChanges = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("WorkTreeChanges[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
