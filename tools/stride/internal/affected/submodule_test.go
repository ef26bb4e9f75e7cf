package affected

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// TestSubmodules covers a git submodule holding a package of the
// workspace (target-determinator's submodule scenarios): the submodule
// added, its gitlink moved, its path changed, .gitmodules edited, the
// submodule deleted, a change in the superproject reaching it, and an
// unclean submodule work tree. A scratch copy of base must hold the
// submodule at base's gitlinked commit.
func TestSubmodules(t *testing.T) {
	w, c0 := newTestWS(t, gitFiles)
	r := w.repo
	sub := gittest.New(t)
	s1 := sub.Commit("sub one", map[string]string{
		"BUILD":     `sh_library(name = "s", srcs = ["s.sh"], deps = ["//lib"])` + "\n",
		"s.sh":      "echo s\n",
		"README.md": "readme\n",
	})
	s2 := sub.Commit("sub: source", map[string]string{"s.sh": "echo s2\n"})
	s3 := sub.Commit("sub: readme", map[string]string{"README.md": "readme 2\n"})

	setSub := func(path, commit string) {
		r.Git("-C", path, "checkout", "-q", commit)
		r.Git("add", path)
	}
	r.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "mod")
	setSub("mod", s1)
	c1 := r.Commit("add submodule", nil)
	setSub("mod", s2)
	c2 := r.Commit("gitlink: source changed", nil)
	setSub("mod", s3)
	c3 := r.Commit("gitlink: unused file changed", nil)
	r.Git("mv", "mod", "mod2")
	c4 := r.Commit("submodule path changed", nil)
	r.Git("config", "-f", ".gitmodules", "submodule.mod.branch", "main")
	c5 := r.Commit(".gitmodules edited", nil)
	c6 := r.Commit("superproject change reaching the submodule", map[string]string{"lib/lib.sh": "echo lib2\n"})
	r.Git("rm", "-q", "mod2")
	c7 := r.Commit("submodule deleted", nil)

	// Checking out a commit updates the submodule and removes a moved
	// submodule's old directory (git leaves it), as a CI checkout does.
	w.checkoutHook = func(rev string) {
		r.Git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--force")
		r.Git("clean", "-ffdq")
	}
	w.runCases([]affectedCase{
		{name: "submodule added", base: c0, head: c1, want: []string{"//mod:s"},
			reasons: map[string][]string{"//mod:s": {"new target"}}},
		{name: "gitlink moved: source changed", base: c1, head: c2, want: []string{"//mod:s"},
			reasons: map[string][]string{"//mod:s": {"source changed: mod/s.sh"}}},
		{name: "gitlink moved: unused file", base: c2, head: c3},
		{name: "submodule path changed", base: c3, head: c4, want: []string{"//mod2:s"}, removed: []string{"//mod:s"}},
		{name: ".gitmodules edited", base: c4, head: c5},
		{name: "superproject change reaches the submodule", base: c5, head: c6, want: []string{"//app:app", "//lib:lib", "//mod2:s"}},
		{name: "submodule deleted", base: c6, head: c7, removed: []string{"//mod2:s"}},
		{name: "range", base: c0, head: c4, want: []string{"//mod2:s"}},
	})

	t.Run("unclean submodule work tree", func(t *testing.T) {
		w.checkout(c4)
		mod2 := filepath.Join(r.Dir, "mod2")
		if err := os.WriteFile(filepath.Join(mod2, "untracked-file"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		// target-determinator's succeedForUncleanSubmodule.
		res := compute(t, w.opts(c3, c4))
		checkResult(t, affectedCase{want: []string{"//mod2:s"}, removed: []string{"//mod:s"}}, res)
		// An edit inside the submodule, compared as the work tree.
		if err := os.WriteFile(filepath.Join(mod2, "s.sh"), []byte("echo edited\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		o := w.opts(c4, "")
		o.Uncommitted = true
		res = compute(t, o)
		checkResult(t, affectedCase{want: []string{"//mod2:s"},
			reasons: map[string][]string{"//mod2:s": {"source changed: mod2/s.sh"}}}, res)
		// The submodule checked out at another commit than the gitlink.
		r.Git("-C", "mod2", "checkout", "-q", "-f", s1)
		res = compute(t, o)
		checkResult(t, affectedCase{want: []string{"//mod2:s"},
			reasons: map[string][]string{"//mod2:s": {"source changed: mod2/s.sh"}}}, res)
	})

	t.Run("submodule not cloned", func(t *testing.T) {
		c := r.Clone()
		o := w.opts(c1, c2)
		o.Dir = c.Dir
		o.CacheDir = filepath.Join(w.tmp, "cache-clone")
		o.Startup = []string{"--output_base=" + filepath.Join(w.tmp, "ob-clone"), "--max_idle_secs=60"}
		_, err := Compute(context.Background(), o)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "git submodule update --init") {
			t.Fatalf("err = %v, want an InputError naming `git submodule update --init`", err)
		}
	})
}
