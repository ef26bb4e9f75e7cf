package gitrepo_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func open(t *testing.T, dir string) *gitrepo.Repo {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func resolve(t *testing.T, r *gitrepo.Repo, rev string) plumbing.Hash {
	t.Helper()
	h, err := r.ResolveRevision(rev)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOpen(t *testing.T) {
	g := gittest.New(t)
	g.Commit("init", map[string]string{"a/b/c.txt": "x"})
	r := open(t, filepath.Join(g.Dir, "a", "b"))
	want, _ := filepath.EvalSymlinks(g.Dir)
	got, _ := filepath.EvalSymlinks(r.Root())
	if got != want {
		t.Errorf("Root() = %q, want %q", got, want)
	}

	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// A bare repository (the pushed-to side of a hook) opens as itself.
	bare := filepath.Join(t.TempDir(), "r.git")
	g.Git("clone", "-q", "--bare", g.Dir, bare)
	br := open(t, bare)
	if br.Root() != "" {
		t.Errorf("bare Root() = %q, want \"\"", br.Root())
	}
	if h, err := br.Git().Head(); err != nil || h.Hash().IsZero() {
		t.Errorf("bare HEAD = %v, %v", h, err)
	}
	br.Close()

	plain := t.TempDir()
	_, err := gitrepo.Open(plain)
	if !errors.Is(err, gitrepo.ErrNotRepository) {
		t.Fatalf("Open(plain dir) = %v, want ErrNotRepository", err)
	}
	if want := "not a git repository: " + plain; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestResolveRevision(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("one", map[string]string{"a.txt": "1"})
	c2 := g.Commit("two", map[string]string{"a.txt": "2"})
	g.Git("tag", "v1", c1)
	r := open(t, g.Dir)
	for rev, want := range map[string]string{
		"HEAD": c2, "main": c2, "HEAD~1": c1, "HEAD^": c1, "v1": c1, c1[:10]: c1, c2: c2,
	} {
		if got := resolve(t, r, rev); got.String() != want {
			t.Errorf("ResolveRevision(%q) = %s, want %s", rev, got, want)
		}
	}
	for _, rev := range []string{"nope", "HEAD~5", strings.Repeat("ab", 20), ""} {
		_, err := r.ResolveRevision(rev)
		if !errors.Is(err, gitrepo.ErrUnknownRevision) {
			t.Errorf("ResolveRevision(%q) = %v, want ErrUnknownRevision", rev, err)
			continue
		}
		if rev != "" && !strings.Contains(err.Error(), rev) {
			t.Errorf("error %q does not name the revision %q", err, rev)
		}
		// Issue 17: "HEAD~5" on a two-commit history said "...: EOF".
		if strings.Contains(err.Error(), "EOF") {
			t.Errorf("error %q says EOF instead of what is wrong", err)
		}
	}
	if _, err := r.ResolveRevision("HEAD~5"); err == nil || !strings.HasSuffix(err.Error(), `"HEAD~5": the history has fewer commits than that`) {
		t.Errorf("ResolveRevision(HEAD~5) = %v", err)
	}
}

func TestMergeBaseAndCommitsBetween(t *testing.T) {
	g := gittest.New(t)
	root := g.Commit("root", map[string]string{"a.txt": "1"})
	m1 := g.Commit("main 1", map[string]string{"a.txt": "2"})
	g.Git("checkout", "-q", "-b", "feature", root)
	f1 := g.Commit("feature 1\n\nApproved-by: Alice <alice@example.com>", map[string]string{"b.txt": "1"})
	g.Git("merge", "-q", "--no-edit", "main")
	merge := g.Git("rev-parse", "HEAD")
	f2 := g.Commit("feature 2", map[string]string{"c.txt": "1"})
	g.Git("checkout", "-q", "main")
	m2 := g.Commit("main 2", map[string]string{"a.txt": "3"})
	r := open(t, g.Dir)

	mb, err := r.MergeBase(resolve(t, r, "feature"), resolve(t, r, "main"))
	if err != nil {
		t.Fatal(err)
	}
	if mb.String() != m1 {
		t.Errorf("MergeBase(feature, main) = %s, want %s (main 1)", mb, m1)
	}
	if mb, _ := r.MergeBase(resolve(t, r, "main"), resolve(t, r, "main")); mb.String() != m2 {
		t.Errorf("MergeBase(x, x) = %s, want x", mb)
	}

	commits, err := r.CommitsBetween(resolve(t, r, "main"), resolve(t, r, "feature"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range commits {
		got = append(got, c.Hash.String())
	}
	if diff := cmp.Diff([]string{f2, merge, f1}, got); diff != "" {
		t.Errorf("CommitsBetween(main, feature) (-want +got):\n%s", diff)
	}
	if v := commits[2].TrailerValues("approved-by"); len(v) != 1 || gitrepo.AddressOf(v[0]) != "alice@example.com" {
		t.Errorf("trailers of %s = %v", f1, commits[2].Trailers)
	}
	// Not an ancestor (as after a force push): head's side only.
	commits, err = r.CommitsBetween(resolve(t, r, "feature"), resolve(t, r, "main"))
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 1 || commits[0].Hash.String() != m2 {
		t.Errorf("CommitsBetween(feature, main) = %v, want [main 2]", commits)
	}
	// ChangedFiles compares trees, ancestors or not.
	if ch, err := r.ChangedFiles(resolve(t, r, "feature"), resolve(t, r, "main")); err != nil || len(ch) != 3 {
		t.Errorf("ChangedFiles(feature, main) = %v, %v; want a.txt modified, b.txt and c.txt deleted", ch, err)
	}
	// Zero base: all history.
	commits, err = r.CommitsBetween(plumbing.ZeroHash, resolve(t, r, "main"))
	if err != nil || len(commits) != 3 {
		t.Errorf("CommitsBetween(0, main) = %d commits, %v; want 3", len(commits), err)
	}

	// Unrelated histories.
	g.Git("checkout", "-q", "--orphan", "other")
	g.Commit("other root", map[string]string{"z.txt": "z"})
	r = open(t, g.Dir)
	_, err = r.MergeBase(resolve(t, r, "other"), resolve(t, r, "main"))
	if !errors.Is(err, gitrepo.ErrNoMergeBase) {
		t.Errorf("MergeBase(unrelated) = %v, want ErrNoMergeBase", err)
	}
}

func TestChangedFiles(t *testing.T) {
	g := gittest.New(t)
	long := strings.Repeat("a line that makes the file long enough to compare\n", 20)
	base := g.Commit("base", map[string]string{
		"keep.txt": "k", "mod.txt": "1", "del.txt": "d", "old/name.txt": long, "exec.sh": "x",
	})
	head := g.Commit("head", map[string]string{
		"mod.txt": "2", "del.txt!": "", "old/name.txt!": "", "new/name.txt": long + "one more line\n", "add.txt": "a",
	})
	r := open(t, g.Dir)
	got, err := r.ChangedFiles(plumbing.NewHash(base), plumbing.NewHash(head))
	if err != nil {
		t.Fatal(err)
	}
	want := []gitrepo.Change{
		{Path: "add.txt", Status: gitrepo.Added},
		{Path: "del.txt", Status: gitrepo.Deleted},
		{Path: "mod.txt", Status: gitrepo.Modified},
		{Path: "new/name.txt", OldPath: "old/name.txt", Status: gitrepo.Renamed},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ChangedFiles (-want +got):\n%s", diff)
	}
	all, err := r.ChangedFiles(plumbing.ZeroHash, plumbing.NewHash(base))
	if err != nil || len(all) != 5 || all[0].Status != gitrepo.Added {
		t.Errorf("ChangedFiles(0, base) = %v, %v; want 5 added", all, err)
	}
}

func TestReadFileAtAndFS(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("one", map[string]string{"a.txt": "one", "dir/sub/b.txt": "bee", "dir/c.txt": "c"})
	g.Commit("two", map[string]string{"a.txt": "two"})
	r := open(t, g.Dir)
	b, err := r.ReadFileAt(plumbing.NewHash(c1), "a.txt")
	if err != nil || string(b) != "one" {
		t.Errorf("ReadFileAt(c1, a.txt) = %q, %v", b, err)
	}
	_, err = r.ReadFileAt(plumbing.NewHash(c1), "dir/missing.txt")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "dir/missing.txt") {
		t.Errorf("ReadFileAt(missing) = %v, want fs.ErrNotExist naming the path", err)
	}
	fsys, err := r.FS(plumbing.NewHash(c1))
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "a.txt", "dir/sub/b.txt", "dir/c.txt"); err != nil {
		t.Error(err)
	}
}

func TestDefaultBranch(t *testing.T) {
	g := gittest.New(t)
	g.Commit("one", map[string]string{"a.txt": "1"})
	r := open(t, g.Dir)
	if b, err := r.DefaultBranch(); err != nil || b != "main" {
		t.Errorf("DefaultBranch() = %q, %v; want main", b, err)
	}
	clone := g.Clone()
	clone.Git("checkout", "-q", "-b", "topic")
	clone.Git("branch", "-q", "-D", "main")
	r = open(t, clone.Dir)
	if b, err := r.DefaultBranch(); err != nil || b != "origin/main" {
		t.Errorf("DefaultBranch() in clone = %q, %v; want origin/main", b, err)
	}
	g.Git("branch", "-q", "-m", "main", "trunk")
	r = open(t, g.Dir)
	if _, err := r.DefaultBranch(); !errors.Is(err, gitrepo.ErrNoDefaultBranch) {
		t.Errorf("DefaultBranch() without main/master = %v, want ErrNoDefaultBranch", err)
	}
	g.Git("branch", "-q", "-m", "trunk", "master")
	r = open(t, g.Dir)
	if b, err := r.DefaultBranch(); err != nil || b != "master" {
		t.Errorf("DefaultBranch() = %q, %v; want master", b, err)
	}
}

func TestShallow(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("one", map[string]string{"a.txt": "1"})
	g.Commit("two", map[string]string{"a.txt": "2"})
	g.Commit("three", map[string]string{"a.txt": "3"})
	clone := g.Clone("--depth=1")
	r := open(t, clone.Dir)
	if !r.IsShallow() {
		t.Fatal("IsShallow() = false for a --depth=1 clone")
	}
	head := resolve(t, r, "HEAD")
	for _, rev := range []string{c1, "HEAD~2"} {
		_, err := r.ResolveRevision(rev)
		if !errors.Is(err, gitrepo.ErrShallow) || !strings.Contains(err.Error(), "git fetch --deepen") ||
			!strings.Contains(err.Error(), "--unshallow") {
			t.Errorf("ResolveRevision(%s) in shallow clone = %v, want ErrShallow naming the fetch", rev, err)
		}
	}
	if _, err := r.ChangedFiles(plumbing.NewHash(c1), head); !errors.Is(err, gitrepo.ErrShallow) {
		t.Errorf("ChangedFiles(missing base) = %v, want ErrShallow", err)
	}
	commits, err := r.CommitsBetween(plumbing.ZeroHash, head)
	if err != nil || len(commits) != 1 {
		t.Errorf("CommitsBetween(0, HEAD) in shallow clone = %d, %v; want 1 commit", len(commits), err)
	}
}

func TestOpenLinkedWorktree(t *testing.T) {
	g := gittest.New(t)
	c := g.Commit("one", map[string]string{"a.txt": "1"})
	wt := filepath.Join(t.TempDir(), "wt")
	g.Git("worktree", "add", "-q", "-b", "side", wt)
	if err := os.WriteFile(filepath.Join(wt, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := open(t, wt)
	if h := resolve(t, r, "HEAD"); h.String() != c {
		t.Errorf("HEAD in linked worktree = %s, want %s", h, c)
	}
	if h := resolve(t, r, "main"); h.String() != c {
		t.Errorf("main in linked worktree = %s, want %s", h, c)
	}
}
