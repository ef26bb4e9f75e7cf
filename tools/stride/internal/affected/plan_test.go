package affected

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// planTree is a tree for the plan's tests: path -> content; a content
// starting with "-> " is a symbolic link to the rest.
type planTree map[string]string

func (t planTree) fileSet() *fileSet {
	fs := &fileSet{entries: map[string]gitrepo.TreeEntry{}}
	for p, c := range t {
		mode := filemode.Regular
		if strings.HasPrefix(c, "-> ") {
			mode = filemode.Symlink
		}
		fs.entries[p] = gitrepo.TreeEntry{Hash: plumbing.ComputeHash(plumbing.BlobObject, []byte(c)), Mode: mode}
	}
	return fs
}

// with is t with edits: a path mapped to "" is deleted.
func (t planTree) with(edits planTree) planTree {
	out := planTree{}
	for p, c := range t {
		out[p] = c
	}
	for p, c := range edits {
		if c == "" {
			delete(out, p)
		} else {
			out[p] = c
		}
	}
	return out
}

var planBase = planTree{
	"WORKSPACE":      "workspace(name = \"t\")\n",
	".bazelrc":       "build --nosandbox_debug\n",
	"defs.bzl":       "def m(): pass\n",
	"a/BUILD.bazel":  "go_library(name = \"a\")\n",
	"a/a.go":         "package a\n",
	"b/BUILD.bazel":  "go_library(name = \"b\")\n",
	"b/b.go":         "package b\n",
	"docs/readme.md": "# readme\n",
}

// planChange is a change for the plan's tests.
type planChange struct {
	name string
	head planTree
	// testOnlyRC: the .bazelrc change is test flags only (markTestOnlyRC
	// reads file contents from git, which these trees do not have).
	testOnlyRC bool
}

var planChanges = []planChange{
	{name: "none", head: planBase},
	{name: "contents", head: planBase.with(planTree{"a/a.go": "package a // 2\n"})},
	{name: "outside-package", head: planBase.with(planTree{"docs/readme.md": "# readme 2\n"})},
	{name: "added-outside-package", head: planBase.with(planTree{"docs/new.md": "new\n"})},
	{name: "added-in-package", head: planBase.with(planTree{"a/new.go": "package a\n"})},
	{name: "build-file", head: planBase.with(planTree{"a/BUILD.bazel": "go_library(name = \"a2\")\n"})},
	{name: "new-package", head: planBase.with(planTree{"c/BUILD.bazel": "go_library(name = \"c\")\n", "c/c.go": "package c\n"})},
	{name: "deleted-package", head: planBase.with(planTree{"b/BUILD.bazel": "", "b/b.go": ""})},
	{name: "bzl", head: planBase.with(planTree{"defs.bzl": "def m(): return 1\n"})},
	{name: "workspace", head: planBase.with(planTree{"WORKSPACE": "workspace(name = \"t\")\n# x\n"})},
	{name: "bazelrc-test-only", head: planBase.with(planTree{".bazelrc": "build --nosandbox_debug\ntest --test_env=X=1\n"}), testOnlyRC: true},
	{name: "bazelrc", head: planBase.with(planTree{".bazelrc": "build --copt=-O3\n"})},
	{name: "symlink-added", head: planBase.with(planTree{"a/link": "-> ../b"})},
}

// planStates are the cache states and options every change is planned in.
var planStates = map[string]planState{
	"both-cached":   {headCheckedOut: true, cacheDir: true, baseCached: true, headCached: true},
	"base-cached":   {headCheckedOut: true, cacheDir: true, baseCached: true},
	"head-cached":   {headCheckedOut: true, cacheDir: true, headCached: true},
	"neither":       {headCheckedOut: true, cacheDir: true},
	"not-checked":   {cacheDir: true},
	"base-cached-n": {cacheDir: true, baseCached: true},
	"uncommitted":   {uncommitted: true, headCheckedOut: true, cacheDir: true, baseCached: true, headCached: true},
	"uncommitted-0": {uncommitted: true, headCheckedOut: true, cacheDir: true},
	"no-cache-dir":  {headCheckedOut: true},
	"no-fast-path":  {headCheckedOut: true, cacheDir: true, noFastPath: true},
	"no-fast-b":     {headCheckedOut: true, cacheDir: true, noFastPath: true, baseCached: true},
	"same-commit":   {sameCommit: true, headCheckedOut: true, cacheDir: true},
}

func planFor(t *testing.T, st planState, c planChange) plan {
	t.Helper()
	baseFS, headFS := planBase.fileSet(), c.head.fileSet()
	cs := diffFiles(baseFS, headFS)
	cs.testOnlyRC = c.testOnlyRC
	return makePlan(st, cs, baseFS, headFS)
}

// describe is a plan in one line: "head: a, b; base: c" plus rdeps, err.
func (p plan) describe() string {
	s := "head: " + sourceNames(p.head, true) + "; base: " + sourceNames(p.base, false)
	if p.rdeps != nil {
		s = "rdeps; " + s
	}
	if p.err != nil {
		s += "; error: " + p.err.Error()
	}
	return s
}

// TestPlan tables the plan of every case in plan.go's table.
func TestPlan(t *testing.T) {
	const (
		wtQuery   = "query, then query-scratch"
		wtPatched = "query-incremental, then query-scratch-incremental, then " + wtQuery
	)
	tests := []struct {
		state, change string
		want          string
		dirty         []string
	}{
		{"same-commit", "none", "head: same-commit; base: same-commit", nil},
		// Both cached: nothing to obtain.
		{"both-cached", "contents", "head: cache; base: cache", nil},
		{"both-cached", "bzl", "head: cache; base: cache", nil},
		// Base cached: head derived, patched or queried.
		{"base-cached", "contents", "head: derived, then " + wtQuery + "; base: cache", []string{}},
		{"base-cached", "outside-package", "head: derived, then " + wtQuery + "; base: cache", []string{}},
		{"base-cached", "bazelrc-test-only", "head: derived, then " + wtQuery + "; base: cache", []string{}},
		{"base-cached", "deleted-package", "head: derived, then " + wtQuery + "; base: cache", []string{"b"}},
		{"base-cached", "build-file", "head: " + wtPatched + "; base: cache", []string{"a"}},
		{"base-cached", "added-in-package", "head: " + wtPatched + "; base: cache", []string{"a"}},
		{"base-cached", "new-package", "head: " + wtPatched + "; base: cache", []string{"c"}},
		{"base-cached", "bzl", "head: " + wtQuery + "; base: cache", nil},
		{"base-cached", "workspace", "head: " + wtQuery + "; base: cache", nil},
		{"base-cached", "bazelrc", "head: " + wtQuery + "; base: cache", nil},
		{"base-cached", "symlink-added", "head: " + wtQuery + "; base: cache", nil},
		// HEAD is not head: head's queries run in a scratch copy.
		{"base-cached-n", "build-file", "head: query-scratch-incremental, then query-scratch; base: cache", []string{"a"}},
		{"base-cached-n", "contents", "head: derived, then query-scratch; base: cache", []string{}},
		{"not-checked", "contents", "head: query-scratch; base: derived, then query-scratch", nil},
		// Head cached: base derived, patched or queried in its scratch copy.
		{"head-cached", "contents", "head: cache; base: derived, then query-scratch", []string{}},
		{"head-cached", "new-package", "head: cache; base: derived, then query-scratch", []string{"c"}},
		{"head-cached", "build-file", "head: cache; base: query-scratch-incremental, then query-scratch", []string{"a"}},
		{"head-cached", "deleted-package", "head: cache; base: query-scratch-incremental, then query-scratch", []string{"b"}},
		{"head-cached", "bzl", "head: cache; base: query-scratch", nil},
		// Neither cached: head queried in full, base derived from it,
		// patched, or queried.
		{"neither", "contents", "head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"neither", "added-in-package", "head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"neither", "added-outside-package", "head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"neither", "bazelrc-test-only", "head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"neither", "new-package", "head: " + wtQuery + "; base: derived, then query-scratch", []string{"c"}},
		{"neither", "build-file", "head: " + wtQuery + "; base: query-scratch-incremental, then query-scratch", []string{"a"}},
		{"neither", "deleted-package", "head: " + wtQuery + "; base: query-scratch-incremental, then query-scratch", []string{"b"}},
		{"neither", "bzl", "head: " + wtQuery + "; base: query-scratch", nil},
		{"neither", "workspace", "head: " + wtQuery + "; base: query-scratch", nil},
		// --uncommitted: head is the work tree, never cached.
		{"uncommitted", "contents", "head: derived, then query; base: cache", []string{}},
		{"uncommitted", "build-file", "head: query-incremental, then query; base: cache", []string{"a"}},
		{"uncommitted-0", "bzl", "head: query; base: query-scratch", nil},
		{"uncommitted-0", "contents", "head: query; base: derived, then query-scratch", nil},
		// --no-fast-path: every side not cached is queried in full.
		{"no-fast-path", "contents", "head: " + wtQuery + "; base: query-scratch", nil},
		{"no-fast-b", "contents", "head: " + wtQuery + "; base: cache", nil},
		// No cache directory: the rdeps path, then the full computation;
		// a plan that needs a scratch copy first is an error.
		{"no-cache-dir", "contents", "rdeps; head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"no-cache-dir", "new-package", "rdeps; head: " + wtQuery + "; base: derived, then query-scratch", []string{"c"}},
		{"no-cache-dir", "bazelrc-test-only", "rdeps; head: " + wtQuery + "; base: derived, then query-scratch", nil},
		{"no-cache-dir", "build-file", "head: " + wtQuery + "; base: query-scratch-incremental, then query-scratch; error: " + errNoScratch.Error(), []string{"a"}},
		{"no-cache-dir", "bzl", "head: " + wtQuery + "; base: query-scratch; error: " + errNoScratch.Error(), nil},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		tc := tc
		t.Run(tc.state+"/"+tc.change, func(t *testing.T) {
			st, ok := planStates[tc.state]
			if !ok {
				t.Fatalf("no state %q", tc.state)
			}
			var c *planChange
			for i := range planChanges {
				if planChanges[i].name == tc.change {
					c = &planChanges[i]
				}
			}
			if c == nil {
				t.Fatalf("no change %q", tc.change)
			}
			p := planFor(t, st, *c)
			if got := p.describe(); got != tc.want {
				t.Errorf("plan:\n got %s\nwant %s", got, tc.want)
			}
			if tc.dirty != nil && fmt.Sprint(p.dirty) != fmt.Sprint(tc.dirty) {
				t.Errorf("dirty = %v, want %v", p.dirty, tc.dirty)
			}
		})
		covered[tc.state] = true
	}
	for st := range planStates {
		if !covered[st] {
			t.Errorf("state %s has no row in the table", st)
		}
	}
}

// TestPlanInvariants checks every change in every state: each side's
// last source never declines; a side derived or patched from the other
// never waits for one derived from itself; head's early query is started
// only when the plan queries head in the work tree first; and the
// stack flags are asked for exactly when a .bzl file changed.
func TestPlanInvariants(t *testing.T) {
	var names []string
	for n := range planStates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := planStates[n]
		for _, c := range planChanges {
			p := planFor(t, st, c)
			where := n + "/" + c.name + " (" + p.describe() + ")"
			if len(p.head) == 0 || len(p.base) == 0 {
				t.Errorf("%s: a side without sources", where)
				continue
			}
			for _, side := range []struct {
				name    string
				sources []source
				other   []source
			}{{"head", p.head, p.base}, {"base", p.base, p.head}} {
				last := side.sources[len(side.sources)-1]
				final := last == srcSame || last == srcCached || last == srcQueryScratch || last == srcQueryWorkTree && st.uncommitted
				if !final {
					t.Errorf("%s: %s's last source %s may decline", where, side.name, last.name(side.name == "head"))
				}
				for _, s := range side.sources {
					if (s == srcDerived || s.patched()) && (side.other[0] == srcDerived || side.other[0].patched()) {
						t.Errorf("%s: both sides wait for each other", where)
					}
				}
			}
			if startHeadEarly(st) && p.rdeps == nil && p.head[0] != srcQueryWorkTree && p.head[0] != srcSame {
				t.Errorf("%s: head's query starts early but the plan does not query the work tree first", where)
			}
			if p.stacks != (c.name == "bzl") {
				t.Errorf("%s: stacks = %v", where, p.stacks)
			}
			if p.rdeps != nil && (st.cacheDir || st.noFastPath) {
				t.Errorf("%s: the rdeps path with a cache directory or --no-fast-path", where)
			}
		}
	}
}

func TestSourceNames(t *testing.T) {
	for s := srcSame; s <= srcRdeps; s++ {
		if s.name(true) == "" || s.name(false) == "" {
			t.Errorf("source %d has no name", s)
		}
	}
	if srcRdeps.name(true) != "query-rdeps" || srcRdeps.name(false) != "derived-rdeps" {
		t.Errorf("rdeps names: %s, %s", srcRdeps.name(true), srcRdeps.name(false))
	}
}
