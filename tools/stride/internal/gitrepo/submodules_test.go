package gitrepo_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// subRepo is a superproject with one submodule added from a local path,
// as `git submodule add` leaves it: the clone under .git/modules/<name>,
// the work tree at the gitlinked commit.
type subRepo struct {
	super, sub       *gittest.Repo
	s1, s2           string // submodule commits
	c1, c2, c3, cDel string // superproject: add at s1, move to s2, rename path, delete
}

func newSubRepo(t *testing.T) *subRepo {
	t.Helper()
	sub := gittest.New(t)
	s1 := sub.Commit("sub one", map[string]string{"BUILD": "# sub\n", "x.txt": "x1\n"})
	s2 := sub.Commit("sub two", map[string]string{"x.txt": "x2\n", "y/z.txt": "z\n"})
	super := gittest.New(t)
	super.Commit("root", map[string]string{"a.txt": "a\n"})
	super.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "mod")
	super.Git("-C", "mod", "checkout", "-q", s1)
	super.Git("add", "mod")
	c1 := super.Commit("add submodule at s1", nil)
	super.Git("-C", "mod", "checkout", "-q", s2)
	super.Git("add", "mod")
	c2 := super.Commit("move submodule to s2", nil)
	super.Git("mv", "mod", "mod2")
	c3 := super.Commit("rename submodule path", nil)
	super.Git("rm", "-q", "mod2")
	cDel := super.Commit("delete submodule", nil)
	super.Git("checkout", "-q", c2)
	super.Git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init")
	return &subRepo{super: super, sub: sub, s1: s1, s2: s2, c1: c1, c2: c2, c3: c3, cDel: cDel}
}

func keys(m map[string]gitrepo.TreeEntry) string {
	var out []string
	for k, e := range m {
		if e.Mode == filemode.Submodule {
			k += "@gitlink"
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestSubmoduleTreeFiles(t *testing.T) {
	s := newSubRepo(t)
	repo, err := gitrepo.Open(s.super.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, commit, want string
	}{
		{"at s1", s.c1, ".gitmodules a.txt mod/BUILD mod/x.txt"},
		{"moved to s2", s.c2, ".gitmodules a.txt mod/BUILD mod/x.txt mod/y/z.txt"},
		{"renamed path", s.c3, ".gitmodules a.txt mod2/BUILD mod2/x.txt mod2/y/z.txt"},
		{"deleted", s.cDel, ".gitmodules a.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := repo.TreeFiles(plumbing.NewHash(tc.commit))
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(files); got != tc.want {
				t.Errorf("TreeFiles = %s, want %s", got, tc.want)
			}
			for p, e := range files {
				b, err := repo.ReadBlob(e.Hash)
				if err != nil {
					t.Errorf("ReadBlob(%s): %v", p, err)
				} else if p == "mod/x.txt" && string(b) != map[string]string{s.c1: "x1\n", s.c2: "x2\n"}[tc.commit] {
					t.Errorf("%s = %q", p, b)
				}
			}
		})
	}

	// Export carries the submodule at the gitlinked commit, incrementally.
	dir := filepath.Join(t.TempDir(), "x")
	steps := []string{s.c1, s.c2, s.c3, s.cDel, s.c1}
	from := plumbing.ZeroHash
	for i, c := range steps {
		h := plumbing.NewHash(c)
		if err := repo.Export(dir, from, h); err != nil {
			t.Fatalf("export step %d: %v", i, err)
		}
		from = h
	}
	b, err := os.ReadFile(filepath.Join(dir, "mod", "x.txt"))
	if err != nil || string(b) != "x1\n" {
		t.Errorf("exported mod/x.txt = %q, %v; want x1", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mod", "y")); !os.IsNotExist(err) {
		t.Errorf("mod/y should be gone at s1: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mod2")); !os.IsNotExist(err) {
		t.Errorf("mod2 should be gone: %v", err)
	}

	// With the submodule deleted from the work tree, its clone's
	// core.worktree names a missing directory: still readable.
	s.super.Git("checkout", "-q", s.cDel)
	s.super.Git("clean", "-ffdq")
	repo, err = gitrepo.Open(s.super.Dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := repo.TreeFiles(plumbing.NewHash(s.c3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(files), ".gitmodules a.txt mod2/BUILD mod2/x.txt mod2/y/z.txt"; got != want {
		t.Errorf("TreeFiles(renamed) with the submodule deleted from the work tree = %s, want %s", got, want)
	}
}

func TestSubmoduleUnavailableStaysGitlink(t *testing.T) {
	s := newSubRepo(t)
	// A clone that never fetched the submodule.
	c := s.super.Clone()
	repo, err := gitrepo.Open(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := repo.TreeFiles(plumbing.NewHash(s.c2))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(files), ".gitmodules a.txt mod@gitlink"; got != want {
		t.Errorf("TreeFiles = %s, want %s", got, want)
	}
}

func TestSubmoduleWorkTreeChanges(t *testing.T) {
	s := newSubRepo(t)
	repo, err := gitrepo.Open(s.super.Dir)
	if err != nil {
		t.Fatal(err)
	}
	list := func() string {
		t.Helper()
		ch, err := repo.WorkTreeChanges()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range ch {
			p := c.Path
			if c.Deleted {
				p += "(deleted)"
			}
			out = append(out, p)
		}
		return strings.Join(out, " ")
	}
	if got := list(); got != "" {
		t.Errorf("clean: WorkTreeChanges = %q", got)
	}
	mod := filepath.Join(s.super.Dir, "mod")
	if err := os.WriteFile(filepath.Join(mod, "untracked"), []byte("u"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "mod/untracked" {
		t.Errorf("untracked in submodule: WorkTreeChanges = %q", got)
	}
	if err := os.WriteFile(filepath.Join(mod, "x.txt"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "mod/untracked mod/x.txt" {
		t.Errorf("edited in submodule: WorkTreeChanges = %q", got)
	}
	s.super.Git("-C", "mod", "checkout", "-q", "-f", s.s1)
	if err := os.Remove(filepath.Join(mod, "untracked")); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "mod/x.txt mod/y/z.txt(deleted)" {
		t.Errorf("submodule at another commit: WorkTreeChanges = %q", got)
	}
}

func TestNestedSubmodule(t *testing.T) {
	inner := gittest.New(t)
	inner.Commit("inner", map[string]string{"i.txt": "i\n"})
	middle := gittest.New(t)
	middle.Commit("middle", map[string]string{"m.txt": "m\n"})
	middle.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", inner.Dir, "in")
	middle.Commit("add inner", nil)
	super := gittest.New(t)
	super.Commit("root", map[string]string{"a.txt": "a\n"})
	super.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", middle.Dir, "mid")
	super.Git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive")
	c := super.Commit("add middle", nil)
	repo, err := gitrepo.Open(super.Dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := repo.TreeFiles(plumbing.NewHash(c))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(files), ".gitmodules a.txt mid/.gitmodules mid/in/i.txt mid/m.txt"; got != want {
		t.Errorf("TreeFiles = %s, want %s", got, want)
	}
}
