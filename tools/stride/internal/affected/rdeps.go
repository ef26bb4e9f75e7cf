package affected

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// The rdeps path: `stride affected` without a cache directory.
//
// With a cache, the first run of a chain queries head's whole graph, so
// that its map is the next push's base and later runs need little or no
// Bazel (see plan.go). With no cache directory there is no next run
// to prepare for, and, when no .bzl, WORKSPACE or settings file changed
// (but for test-only .bazelrc flags, which affect every test: the query
// lists them all then), the two sides' query results differ at most in
// the dirty packages (a BUILD file changed, or a file was added to or
// deleted from them, which a glob may see; incremental.go). Every other
// node has the same own digest at both sides except the changed source
// files'. So the targets whose digests or dependencies can differ are the
// reverse dependencies, in head's graph, of the changed files and of the
// dirty packages' targets. One query at head gives them,
//
//	bazel query 'rdeps(//..., //dirty:* + filter(FILES, set(//pkg:*))) + //external:*'
//
// with the repository definitions (to check that none reads a changed
// file). Head's partial map and base's (the same nodes without the dirty
// packages, with base's file contents) compared as usual give the
// targets, reasons and removed targets the full maps would (the tests
// check it on every case), for a query about as fast as `bazel query
// //...`. A dirty package that exists at base would need a query of base
// in a scratch copy, which lives in the cache directory, so the path
// takes only dirty packages new at head. It gives up (and the full
// computation runs) when a query fails, when the work tree is not head,
// when a repository definition reads a changed file, when the query saw
// files head lacks, or when the comparison finds a workspace-wide change
// (a toolchain or platform target affected), whose answer is every
// target.

// maxRdepsFiles bounds the changed files the rdeps path takes.
const maxRdepsFiles = 500

// maxRdepsPackages bounds the dirty packages the rdeps path re-queries
// at base.
const maxRdepsPackages = 50

// rdepsPlan is what the rdeps path queries.
type rdepsPlan struct {
	// head is the query at head: the reverse dependencies of the changed
	// files and of every target of the dirty packages, and the
	// repository definitions.
	head string
	// dirty are the packages whose targets can differ between the sides
	// (a BUILD file changed, or a file was added to or deleted from them:
	// a glob may see it).
	dirty []string
	// allTests: .bazelrc changed test-only flags, which affect every test;
	// the head query lists every test rule too.
	allTests bool
}

// testsExpr lists every test rule (isTest) of the main repository.
const testsExpr = `kind("_test rule$|^test_suite rule$", //...)`

// planRdeps returns the rdeps path's plan for a change, ok false when the
// change is not one it takes: only BUILD files, regular files and
// test-only .bazelrc flags changed (no .bzl, WORKSPACE or other settings
// file, no symbolic link or submodule), at
// most maxRdepsFiles files and maxRdepsPackages dirty packages, and no
// file added or deleted in a tree with symbolic links (a link can make a
// glob see another directory).
func planRdeps(cs *changeSet, baseFS, headFS *fileSet) (plan rdepsPlan, ok bool) {
	if len(cs.changed) == 0 || len(cs.changed) > maxRdepsFiles {
		return plan, false
	}
	dirty := map[string]bool{}
	filePkgs := map[string]bool{}
	var labels []string
	links := -1
	for p, st := range cs.changed {
		if graphFile(p) && !isBuildFile(p) {
			if !cs.settingsOnly(p) || st != "modified" {
				return plan, false
			}
			plan.allTests = true
			continue
		}
		switch st {
		case "modified":
			if !regular(baseFS, p) || !regular(headFS, p) {
				return plan, false
			}
		case "added", "deleted":
			if links < 0 {
				links = 0
				if hasSymlinks(baseFS) || hasSymlinks(headFS) {
					links = 1
				}
			}
			if links == 1 || st == "added" && !regular(headFS, p) || st == "deleted" && !regular(baseFS, p) {
				return plan, false
			}
		default:
			return plan, false
		}
		if isBuildFile(p) || st != "modified" {
			for _, fs := range []*fileSet{baseFS, headFS} {
				if pkg, ok := enclosingPackage(fs, p); ok {
					dirty[pkg] = true
				}
			}
			continue
		}
		pkg, ok := enclosingPackage(headFS, p)
		if !ok {
			continue // in no package: no target's input
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p, pkg), "/")
		if strings.ContainsAny(name, "\"'") {
			return plan, false // not quotable in a query word
		}
		filePkgs[pkg] = true
		labels = append(labels, regexp.QuoteMeta("//"+pkg+":"+name))
	}
	if len(dirty) > maxRdepsPackages {
		return plan, false
	}
	var roots []string
	for p := range dirty {
		plan.dirty = append(plan.dirty, p)
		if headFS.exists(path.Join(p, "BUILD.bazel")) || headFS.exists(path.Join(p, "BUILD")) {
			roots = append(roots, "//"+p+":*")
		}
	}
	sort.Strings(plan.dirty)
	sort.Strings(roots)
	if len(labels) > 0 {
		sort.Strings(labels)
		var sets []string
		for p := range filePkgs {
			sets = append(sets, "//"+p+":*")
		}
		sort.Strings(sets)
		// A file of a package is a target only if a rule or exports_files
		// names it; filter() over the package's targets drops the others
		// (which no target reads) without the error a missing label gives.
		roots = append(roots, fmt.Sprintf(`filter("^(%s)$", set(%s))`, strings.Join(labels, "|"), strings.Join(sets, " ")))
	}
	plan.head = "//external:*"
	if len(roots) > 0 {
		plan.head = fmt.Sprintf("rdeps(//..., %s) + //external:*", strings.Join(roots, " + "))
	}
	if plan.allTests {
		plan.head += " + " + testsExpr
	}
	return plan, true
}

// rdepsPath runs the rdeps path of the plan. It returns nil (and no
// error) when the path declines; the computation then follows the rest
// of the plan.
func (c *computation) rdepsPath(ctx context.Context, plan rdepsPlan) (*comparison, error) {
	if !c.wt.holdsHead() {
		return nil, nil
	}
	c.logf("no cache directory and no .bzl, WORKSPACE or settings file changed: querying the reverse dependencies of the changes in %s", c.root)
	qr, err := c.bazelAt(c.root).QueryProto(ctx, plan.head)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.logf("the reverse-dependency query failed; computing in full: %v", firstLine(errText(err)))
		return nil, nil
	}
	head, untracked, err := buildSnapshot(qr, c.head.files, c.head.commit, c.root, c.root, c.extFor(c.root))
	if err != nil {
		return nil, err
	}
	if len(untracked) > 0 {
		c.logf("the work tree has files head lacks (%s); computing in full", untracked[0])
		return nil, nil
	}
	if !repoCheck(c.changes, head) {
		c.logf("a repository definition reads a changed file; computing in full")
		return nil, nil
	}
	base := basePartial(head, plan.dirty, c.base.files, c.base.commit)
	cmp := compareChanges(base, head, c.base.files, c.head.files, c.changes, nil)
	if len(cmp.global) > 0 {
		c.logf("the change affects every target (%s); computing in full", cmp.global[0].Text)
		return nil, nil
	}
	return cmp, nil
}

// basePartial is base's side of the rdeps path: head's partial map without
// the main repository's targets of the dirty packages (which base does
// not have) and with every source file's digest recomputed from files.
func basePartial(head *Snapshot, dirty []string, files *fileSet, commit string) *Snapshot {
	dirtySet := make(map[string]bool, len(dirty))
	for _, d := range dirty {
		dirtySet[d] = true
	}
	kept := &Snapshot{Format: head.Format, Workspace: head.Workspace, Nodes: make(map[string]*Node, len(head.Nodes)), Repos: head.Repos}
	for name, n := range head.Nodes {
		if n.Repo == "" && !strings.HasPrefix(name, "//external:") {
			if l, ok := parseLabel(name); ok && dirtySet[l.pkg] {
				continue
			}
		}
		kept.Nodes[name] = n
	}
	return rehashSources(kept, files, commit)
}

// rehashSources is snap with the digests of the workspace's source files
// recomputed from files: the other side of a change that only modified
// file contents.
func rehashSources(snap *Snapshot, files *fileSet, commit string) *Snapshot {
	out := &Snapshot{
		Format:    snap.Format,
		Commit:    commit,
		Workspace: snap.Workspace,
		Nodes:     make(map[string]*Node, len(snap.Nodes)),
		Repos:     snap.Repos,
	}
	for name, n := range snap.Nodes {
		if n.Type == typeSource && n.Path != "" {
			c := *n
			c.Digest = sourceDigest(n.Vis, files.digest(n.Path))
			n = &c
		}
		out.Nodes[name] = n
	}
	out.Globals = computeGlobals(files, out)
	return out
}

func errText(err error) string {
	if be, ok := err.(*bazel.Error); ok {
		return strings.TrimSpace(be.Stderr)
	}
	return err.Error()
}
