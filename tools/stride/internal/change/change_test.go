package change_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// history: main has c1, c2; feature branches off c1 with f1.
func history(t *testing.T) (g *gittest.Repo, c1, c2, f1 string) {
	g = gittest.New(t)
	c1 = g.Commit("c1", map[string]string{"a.txt": "a\n", "lib/old.go": strings.Repeat("package lib\n// line\n", 20)})
	c2 = g.Commit("c2", map[string]string{"a.txt": "a2\n"})
	g.Git("checkout", "-q", "-b", "feature", c1)
	f1 = g.Commit("f1", map[string]string{"b.txt": "b\n"})
	return g, c1, c2, f1
}

func TestResolve(t *testing.T) {
	g, c1, c2, f1 := history(t)
	tests := []struct {
		name     string
		checkout string
		opts     change.Options
		base     string
		from     string
		head     string
		note     bool
		wantErr  error
	}{
		{name: "merge base on a branch", checkout: "feature", base: c1, from: change.FromMergeBase, head: f1},
		{name: "first parent ignored off main", checkout: "feature", opts: change.Options{FirstParent: true}, base: c1, from: change.FromMergeBase, head: f1},
		{name: "on main: merge base is head", checkout: "main", base: c2, from: change.FromMergeBase, head: c2},
		{name: "on main: first parent", checkout: "main", opts: change.Options{FirstParent: true}, base: c1, from: change.FromFirstParent, head: c2},
		{name: "explicit", checkout: "feature", opts: change.Options{Base: c2, Head: "main"}, base: c2, from: change.FromExplicit, head: c2},
		{name: "pushed", checkout: "feature", opts: change.Options{Pushed: c2}, base: c2, from: change.FromPushed, head: f1},
		{name: "pushed new branch", checkout: "feature", opts: change.Options{Pushed: strings.Repeat("0", 40)}, base: c1, from: change.FromMergeBase, head: f1},
		{name: "pushed unknown", checkout: "feature", opts: change.Options{Pushed: strings.Repeat("ab", 20)}, base: c1, from: change.FromMergeBase, head: f1, note: true},
		{name: "unknown base", checkout: "feature", opts: change.Options{Base: "nosuch"}, wantErr: gitrepo.ErrUnknownRevision},
		{name: "unknown head", checkout: "feature", opts: change.Options{Head: "nosuch"}, wantErr: gitrepo.ErrUnknownRevision},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.Git("checkout", "-q", tc.checkout)
			c, err := change.Open(g.Dir, tc.opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Base.String() != tc.base || c.Head.String() != tc.head || c.BaseFrom != tc.from {
				t.Errorf("base %s (%s), head %s; want %s (%s), %s", c.Base, c.BaseFrom, c.Head, tc.base, tc.from, tc.head)
			}
			if (c.Note != "") != tc.note {
				t.Errorf("note = %q, want one: %v", c.Note, tc.note)
			}
		})
	}
}

func TestResolveNoDefaultBranch(t *testing.T) {
	g := gittest.New(t)
	g.Git("checkout", "-q", "-b", "topic")
	g.Commit("c1", map[string]string{"a.txt": "a"})
	if _, err := change.Open(g.Dir, change.Options{}); !errors.Is(err, gitrepo.ErrNoDefaultBranch) {
		t.Fatalf("err = %v, want ErrNoDefaultBranch", err)
	}
	c, err := change.Open(g.Dir, change.Options{WholeHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Base.IsZero() || c.BaseFrom != change.FromNone {
		t.Errorf("base = %s (%s), want none", c.Base, c.BaseFrom)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	if want := []gitrepo.Change{{Path: "a.txt", Status: gitrepo.Added}}; !cmp.Equal(files, want) {
		t.Errorf("files = %v, want %v", files, want)
	}
}

// TestFilesRenames: the one rename rule, similarity of 50% or more.
func TestFilesRenames(t *testing.T) {
	g := gittest.New(t)
	body := strings.Repeat("package lib\n// a line of the file\n", 20)
	script := "#!/bin/sh\necho a script long enough to be similar when edited\n"
	g.Write(map[string]string{"run.sh": script, "same.sh": script + "# same\n"})
	for _, p := range []string{"run.sh", "same.sh"} {
		if err := os.Chmod(filepath.Join(g.Dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g.Commit("c1", map[string]string{"lib/old.go": body, "lib/same.go": "package lib\n", "gone.txt": "x\n"})
	g.Git("checkout", "-q", "-b", "feature")
	g.Commit("move", map[string]string{
		"lib/old.go!": "", "lib/new.go": body + "// edited\n", // a rename with an edit
		"lib/same.go!": "", "pkg/same.go": "package lib\n", // an exact rename
		"gone.txt!": "", "added.txt": "completely different\n",
	})
	// An executable moved with an edit is not a rename (go-git pairs
	// similar regular files only); moved as it is, it is.
	g.Git("mv", "run.sh", "edited.sh")
	g.Git("mv", "same.sh", "moved.sh")
	g.Write(map[string]string{"edited.sh": script + "# edited\n"})
	g.Git("commit", "-q", "-am", "move scripts")
	c, err := change.Open(g.Dir, change.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []gitrepo.Change{
		{Path: "added.txt", Status: gitrepo.Added},
		{Path: "edited.sh", Status: gitrepo.Added},
		{Path: "gone.txt", Status: gitrepo.Deleted},
		{Path: "lib/new.go", OldPath: "lib/old.go", Status: gitrepo.Renamed},
		{Path: "moved.sh", OldPath: "same.sh", Status: gitrepo.Renamed},
		{Path: "pkg/same.go", OldPath: "lib/same.go", Status: gitrepo.Renamed},
		{Path: "run.sh", Status: gitrepo.Deleted},
	}
	if d := cmp.Diff(want, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	ren, err := c.Renames()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"lib/new.go": "lib/old.go", "moved.sh": "same.sh", "pkg/same.go": "lib/same.go"}, ren); d != "" {
		t.Errorf("renames (-want +got):\n%s", d)
	}
}

func TestFilesUncommitted(t *testing.T) {
	g := gittest.New(t)
	g.Commit("c1", map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c"})
	g.Git("checkout", "-q", "-b", "feature")
	g.Commit("c2", map[string]string{"new.txt": "n", "a.txt": "a2"})
	g.Write(map[string]string{"b.txt": "b2", "c.txt!": "", "new.txt!": "", "untracked.txt": "u"})
	c, err := change.Open(g.Dir, change.Options{Uncommitted: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []gitrepo.Change{
		{Path: "a.txt", Status: gitrepo.Modified},
		{Path: "b.txt", Status: gitrepo.Modified},
		{Path: "c.txt", Status: gitrepo.Deleted},
		{Path: "untracked.txt", Status: gitrepo.Added},
	}
	if d := cmp.Diff(want, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}

// TestUncommittedHead: the work tree sits on HEAD, so --uncommitted goes
// with no --head or with one that names HEAD's commit.
func TestUncommittedHead(t *testing.T) {
	g, c1, _, f1 := history(t)
	for _, tc := range []struct {
		head    string
		wantErr bool
	}{
		{"", false},
		{"HEAD", false},
		{f1, false},
		{"feature", false},
		{c1, true},
		{"HEAD~1", true},
	} {
		_, err := change.Open(g.Dir, change.Options{Head: tc.head, Uncommitted: true})
		if got := errors.Is(err, change.ErrHeadNotWorkTree); got != tc.wantErr {
			t.Errorf("--head %q --uncommitted: err = %v, want ErrHeadNotWorkTree: %v", tc.head, err, tc.wantErr)
		}
		if err != nil && !tc.wantErr {
			t.Errorf("--head %q --uncommitted: %v", tc.head, err)
		}
	}
}
