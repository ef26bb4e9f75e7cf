package affected

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

var gitFiles = map[string]string{
	"WORKSPACE":   workspaceHeader,
	"lib/BUILD":   `sh_library(name = "lib", srcs = ["lib.sh"], visibility = ["//visibility:public"])` + "\n",
	"lib/lib.sh":  "echo lib\n",
	"app/BUILD":   `sh_library(name = "app", srcs = ["app.sh"], deps = ["//lib"])` + "\n",
	"app/app.sh":  "echo app\n",
	"other/BUILD": `sh_library(name = "o", srcs = ["o.sh"])` + "\n",
	"other/o.sh":  "echo o\n",
}

// TestGitHistories covers merge commits, force pushes (base not an
// ancestor of head), the default base (merge base with main), a base that
// does not load, a head that does not load, and the work tree.
func TestGitHistories(t *testing.T) {
	w, c0 := newTestWS(t, gitFiles)
	r := w.repo
	// main: c0 - m1 (other) ; feature: c0 - f1 (lib) ; merge M = m1 + f1.
	r.Git("checkout", "-q", "-b", "feature")
	f1 := r.Commit("feature: lib", map[string]string{"lib/lib.sh": "echo lib2\n"})
	r.Git("checkout", "-q", "main")
	m1 := r.Commit("main: other", map[string]string{"other/o.sh": "echo o2\n"})
	r.Git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	merge := r.Git("rev-parse", "HEAD")
	// A force push: feature rewritten from c0 with a different change.
	r.Git("checkout", "-q", "-b", "feature2", c0)
	g1 := r.Commit("feature2: app", map[string]string{"app/app.sh": "echo app2\n"})
	// A base whose BUILD file is broken, fixed at head.
	r.Git("checkout", "-q", "main")
	broken := r.Commit("broken", map[string]string{"other/BUILD": "sh_library(name = \n"})
	fixed := r.Commit("fixed", map[string]string{"other/BUILD": `sh_library(name = "o", srcs = ["o.sh"])` + "\n"})

	w.runCases([]affectedCase{
		{name: "merge commit", base: m1, head: merge, want: []string{"//app:app", "//lib:lib"}},
		{name: "merge against first parent's parent", base: c0, head: merge, want: []string{"//app:app", "//lib:lib", "//other:o"}},
		{name: "force push", base: f1, head: g1, want: []string{"//app:app", "//lib:lib"},
			reasons: map[string][]string{"//lib:lib": {"source changed: lib/lib.sh"}, "//app:app": {"source changed: app/app.sh", "depends on //lib:lib"}}},
		{name: "base does not load", base: broken, head: fixed, everything: true},
	})

	t.Run("default base is the merge base with main", func(t *testing.T) {
		w.checkout(g1)
		o := w.opts("", "")
		res := compute(t, o)
		if res.Base.Commit != c0 {
			t.Errorf("base = %s, want merge base %s", res.Base.Commit, c0)
		}
		if got := strings.Join(res.Labels(), " "); got != "//app:app" {
			t.Errorf("affected = %s, want //app:app", got)
		}
	})

	t.Run("head does not load", func(t *testing.T) {
		w.checkout(broken)
		_, err := Compute(context.Background(), w.opts(m1, ""))
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "ERROR") {
			t.Fatalf("err = %v, want an InputError with Bazel's stderr", err)
		}
	})

	t.Run("uncommitted", func(t *testing.T) {
		w.checkout(fixed)
		if err := os.WriteFile(filepath.Join(r.Dir, "lib", "lib.sh"), []byte("echo dirty\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.Dir, "notes.txt"), []byte("untracked\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer func() {
			r.Git("checkout", "-q", "--", "lib/lib.sh")
			os.Remove(filepath.Join(r.Dir, "notes.txt"))
		}()
		o := w.opts(fixed, "")
		o.Uncommitted = true
		res := compute(t, o)
		if got := strings.Join(res.Labels(), " "); got != "//app:app //lib:lib" {
			t.Errorf("affected = %q, want //app:app //lib:lib\n%s", got, describeResult(res))
		}
		if !res.Head.Uncommitted {
			t.Errorf("head.uncommitted = false")
		}
		// Committed head with a dirty work tree: the query must not see
		// the dirty BUILD file.
		if err := os.WriteFile(filepath.Join(r.Dir, "app", "BUILD"), []byte("sh_library(name = \"other_name\")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer r.Git("checkout", "-q", "--", "app/BUILD")
		res = compute(t, w.opts(fixed+"~1", fixed))
		if res.Head.Source == "query" {
			t.Errorf("head was queried in the dirty work tree")
		}
		if _, ok := findNode(res, "//app:app"); !ok {
			t.Errorf("//app:app missing at head: the dirty BUILD file leaked into the query")
		}
	})
}

func findNode(res *Result, label string) (*Node, bool) {
	n, ok := res.cmp.head.Nodes[label]
	return n, ok
}

// TestInputErrors needs no Bazel: bad revisions and shallow clones fail
// before any query.
func TestInputErrors(t *testing.T) {
	r := gittest.New(t)
	c0 := r.Commit("one", map[string]string{"a.txt": "1\n"})
	r.Commit("two", map[string]string{"a.txt": "2\n"})
	c2 := r.Commit("three", map[string]string{"a.txt": "3\n"})
	shallow := r.Clone("--depth=1")
	tests := []struct {
		name    string
		opts    Options
		wantIs  error
		wantSub string
	}{
		{name: "unknown base", opts: Options{Dir: r.Dir, Base: "nope"}, wantIs: gitrepo.ErrUnknownRevision},
		{name: "unknown head", opts: Options{Dir: r.Dir, Base: c0, Head: "nope"}, wantIs: gitrepo.ErrUnknownRevision},
		{name: "bad kind", opts: Options{Dir: r.Dir, Kind: "bogus"}, wantSub: "--kind"},
		{name: "uncommitted and head", opts: Options{Dir: r.Dir, Head: c2, Uncommitted: true}, wantSub: "--uncommitted"},
		{name: "shallow clone lacks base", opts: Options{Dir: shallow.Dir, Base: c0}, wantIs: gitrepo.ErrShallow, wantSub: "git fetch"},
		{name: "not a repository", opts: Options{Dir: t.TempDir()}, wantIs: gitrepo.ErrNotRepository},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(context.Background(), tc.opts)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantSub) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantSub)
			}
		})
	}
}

// TestSameCommit needs no Bazel: comparing a commit with itself is empty.
func TestSameCommit(t *testing.T) {
	r := gittest.New(t)
	c := r.Commit("one", map[string]string{"a.txt": "1\n"})
	res, err := Compute(context.Background(), Options{Dir: r.Dir, Base: c, Head: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 0 || res.Schema != Schema || res.Targets == nil || res.Removed == nil {
		t.Errorf("result = %+v, want an empty result with schema", res)
	}
}

// TestUnreadableTreeWhileStreaming: head's query starts before the trees
// are read and waits for them to digest what it streams; when reading a
// tree fails, Compute must return the error, not wait for that query
// forever.
func TestUnreadableTreeWhileStreaming(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("one", map[string]string{"a/BUILD": "# a\n", "a/x.txt": "1\n"})
	head := r.Commit("two", map[string]string{"a/BUILD": "# a\n", "a/x.txt": "2\n", "b.txt": "b\n"})
	// Base's tree object goes missing: the commit resolves, its files
	// cannot be listed.
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	if err := os.Remove(filepath.Join(r.Dir, ".git", "objects", tree[:2], tree[2:])); err != nil {
		t.Skipf("tree object not loose: %v", err)
	}
	// A Bazel that streams one target, then takes its time.
	tg, err := proto.Marshal(&buildpb.Target{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String("//a:x.txt")}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.pb")
	if err := os.WriteFile(out, append(binary.AppendUvarint(nil, uint64(len(tg))), tg...), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "bazel")
	script := "#!/bin/sh\ncase \"$1\" in --version) echo 'bazel 9.9.9'; exit 0;; esac\ncat '" + out + "'\nsleep 0.3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Compute(context.Background(), Options{Dir: r.Dir, Base: base, Head: head, Bazel: fake, CacheDir: filepath.Join(dir, "cache")})
		done <- err
	}()
	select {
	case err := <-done:
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "base") {
			t.Errorf("err = %v, want an InputError about base", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Compute did not return within 30 s")
	}
}
