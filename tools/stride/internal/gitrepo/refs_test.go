package gitrepo_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func TestCommitFilesAndUpdateRef(t *testing.T) {
	g := gittest.New(t)
	r := open(t, g.Dir)
	const ref = "refs/test/chain"
	if h, err := r.Ref(ref); err != nil || !h.IsZero() {
		t.Fatalf("missing ref = %s, %v", h, err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c1, err := r.CommitFiles(gitrepo.CommitSpec{Files: map[string][]byte{"a.json": []byte("{}\n")}, Message: "one\n", Name: "n", Email: "e@x", When: when})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ref, c1, plumbing.ZeroHash, "test"); err != nil {
		t.Fatal(err)
	}
	// Creating it again must fail: it exists now.
	if err := r.UpdateRef(ref, c1, plumbing.ZeroHash, "test"); !errors.Is(err, gitrepo.ErrRefChanged) {
		t.Errorf("second create: %v, want ErrRefChanged", err)
	}
	c2, err := r.CommitFiles(gitrepo.CommitSpec{Files: map[string][]byte{"a.json": []byte("[]\n")}, Parent: c1, Message: "two\n", Name: "n", Email: "e@x", When: when})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ref, c2, c2, "test"); !errors.Is(err, gitrepo.ErrRefChanged) {
		t.Errorf("update from a wrong old value: %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ref, c2, c1, "test"); err != nil {
		t.Fatal(err)
	}
	if got := g.Git("rev-parse", ref); got != c2.String() {
		t.Errorf("git rev-parse %s = %s, want %s", ref, got, c2)
	}
	if got := g.Git("log", "--format=%s %P", ref); got != "two "+c1.String()+"\none" {
		t.Errorf("git log = %q", got)
	}
	if got := g.Git("show", ref+":a.json"); got != "[]" {
		t.Errorf("a.json = %q", got)
	}
	if h, err := r.Ref(ref); err != nil || h != c2 {
		t.Errorf("Ref = %s, %v", h, err)
	}
	if _, err := r.CommitFiles(gitrepo.CommitSpec{Files: map[string][]byte{"a/b": nil}}); err == nil {
		t.Error("a file name with a slash was accepted")
	}
}
