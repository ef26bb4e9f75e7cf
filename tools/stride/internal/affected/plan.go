package affected

import (
	"errors"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// The plan: where each side's snapshot comes from.
//
// makePlan decides it from the change, the cache's state and the options;
// it runs no command and reads nothing, and plan_test.go tables every
// case. Each side's plan is a list of sources tried in order: the first
// is the cheapest the change allows, and a source that cannot serve the
// change after all (a patch reaches targets the other map lacks, the work
// tree turns out not to hold head, added files are targets...) declines,
// and the next is tried (execute.go). The last never declines.
//
//	cached      base  head  change                          head's sources            base's sources
//	----------  ----  ----  ------------------------------  ------------------------  ---------------------------
//	-           same commit, no work tree                   same                      same
//	both        -     -     any                             cached                    cached
//	base        -     -     contents only*                  derived, query            cached
//	base        -     -     BUILD files, files added or     patched (work tree, then  cached
//	                        deleted (dirty packages)        scratch), query
//	base        -     -     anything else                   query                     cached
//	head        -     -     contents only*                  cached                    derived, query-scratch
//	head        -     -     dirty packages                  cached                    patched-scratch, query-scratch
//	head        -     -     anything else                   cached                    query-scratch
//	neither     -     -     contents, added non-targets     query                     derived (from head's query), query-scratch
//	neither     -     -     dirty packages, none at base    query                     derived, query-scratch
//	neither     -     -     dirty packages                  query                     patched-scratch, query-scratch
//	neither     -     -     anything else                   query                     query-scratch
//	no cache directory:     the rdeps path first (rdeps.go) when the change is one it takes; then as "neither"
//
// (*) no dirty package at the side derived: only file contents changed,
// or the dirty packages do not exist at that side. "query" is the work
// tree when HEAD is head (and, found out when it runs, no BUILD, .bzl or
// settings file is changed there and the query saw no file head lacks),
// else a scratch copy of head; with --uncommitted, the work tree only.
// With --no-fast-path every side that is not cached is queried in full.
// Without a cache directory there is no scratch copy: a plan that needs
// one first is an input error (err); one that needs one later fails then.
// With neither map cached and HEAD being head, head's full query starts
// before the trees are read (startHeadEarly), and the query step uses it.

// source is where one side's snapshot comes from.
type source int

const (
	srcNone            source = iota
	srcSame                   // base and head are one commit: nothing to compare
	srcCached                 // the side's digest map in the cache
	srcDerived                // the other side's snapshot with this side's file digests, no query
	srcPatchedWorkTree        // the other side's snapshot with the dirty packages queried in the work tree (head)
	srcPatchedScratch         // the same, queried in a scratch copy of the side's commit
	srcQueryWorkTree          // a full query in the user's work tree (head)
	srcQueryScratch           // a full query in a scratch copy of the side's commit
	srcRdeps                  // one query of the change's reverse dependencies (rdeps.go): partial maps of both sides
)

// String is the name of a source in Side.Source (--json) for a side.
func (s source) name(head bool) string {
	switch s {
	case srcSame:
		return "same-commit"
	case srcCached:
		return "cache"
	case srcDerived:
		return "derived"
	case srcPatchedWorkTree:
		return "query-incremental"
	case srcPatchedScratch:
		return "query-scratch-incremental"
	case srcQueryWorkTree:
		return "query"
	case srcQueryScratch:
		return "query-scratch"
	case srcRdeps:
		if head {
			return "query-rdeps"
		}
		return "derived-rdeps"
	}
	return ""
}

func (s source) String() string { return s.name(true) }

// patched reports whether s patches the other side's snapshot.
func (s source) patched() bool { return s == srcPatchedWorkTree || s == srcPatchedScratch }

// scratch reports whether s runs a query in a scratch copy.
func (s source) scratch() bool { return s == srcPatchedScratch || s == srcQueryScratch }

// planState is what the plan depends on besides the change: the options
// and the cache's state, all known before the trees are read.
type planState struct {
	sameCommit  bool // base and head resolve to one commit
	uncommitted bool // head is the work tree (--uncommitted)
	// headCheckedOut: HEAD is head, so the work tree may stand for head
	// in a query (whether it does, git status says later).
	headCheckedOut bool
	cacheDir       bool // a cache directory: maps and scratch copies
	noFastPath     bool
	// baseCached, headCached: the side's map is in the cache (it may
	// still fail to load; then the computation plans again without it).
	baseCached, headCached bool
}

// plan is how a computation obtains both snapshots.
type plan struct {
	// head and base are each side's sources, tried in order.
	head, base []source
	// rdeps, when set, is tried first (rdeps.go); head and base are what
	// runs when it declines.
	rdeps *rdepsPlan
	// dirty are the packages whose query result can differ between the
	// sides (incremental.go), for derived and patched sources.
	dirty []string
	// contentOnly: neither side is cached and base differs from head only
	// in file contents (and added files that head's query must show are
	// no targets): base is derived from head's full query.
	contentOnly bool
	// stacks: a .bzl file changed; head's full query asks for the macro
	// and rule-definition stacks that explain it.
	stacks bool
	// err: the plan needs a scratch copy first and there is no cache
	// directory for one (an input error).
	err error
}

// errNoScratch: base needs a query of its own and there is no cache
// directory for its scratch copy. Compute reports it as an input error
// rather than as a base that cannot be loaded (which would make every
// target affected).
var errNoScratch = errors.New("no cache directory for a copy of base")

// errNoHeadScratch: head needs a scratch copy and there is none.
var errNoHeadScratch = errors.New("the work tree differs from head and there is no cache directory for a copy of head: commit, use --uncommitted, or set --cache-dir")

// startHeadEarly reports whether head's full query in the work tree can
// start before the trees are read: neither map is cached and the rdeps
// path is out, so every plan queries head in full (makePlan's head is
// then srcQueryWorkTree first; a .bzl change wants the stack flags,
// which the early query lacks: it is then not used).
func startHeadEarly(st planState) bool {
	rdepsPossible := !st.cacheDir && !st.noFastPath
	return !rdepsPossible && !st.uncommitted && !st.sameCommit && st.headCheckedOut && !st.headCached && !st.baseCached
}

// makePlan is the plan for a change (cs, between baseFS and headFS) in
// state st.
func makePlan(st planState, cs *changeSet, baseFS, headFS *fileSet) plan {
	var p plan
	for f := range cs.changed {
		if strings.HasSuffix(f, ".bzl") {
			p.stacks = true
		}
	}
	if st.sameCommit && !st.uncommitted && len(cs.changed) == 0 {
		p.head, p.base = []source{srcSame}, []source{srcSame}
		return p
	}
	headCached := st.headCached && !st.uncommitted
	fast := !st.noFastPath
	if fast && !st.cacheDir && !st.uncommitted && !st.sameCommit && st.headCheckedOut {
		// A dirty package that exists at base would need base's version
		// queried in a scratch copy, which needs a cache directory.
		if rp, ok := planRdeps(cs, baseFS, headFS); ok && packagesQuery(rp.dirty, baseFS) == "" {
			p.rdeps = &rp
		}
	}
	var query, patch []source // head's full query, head's patched query
	switch {
	case st.uncommitted:
		query, patch = []source{srcQueryWorkTree}, []source{srcPatchedWorkTree}
	case st.headCheckedOut:
		query = []source{srcQueryWorkTree, srcQueryScratch}
		patch = []source{srcPatchedWorkTree, srcPatchedScratch}
	default:
		query, patch = []source{srcQueryScratch}, []source{srcPatchedScratch}
	}
	incremental := false
	if fast {
		p.dirty, incremental = dirtyPackages(cs, baseFS, headFS, nil)
	}
	if !incremental {
		p.dirty = nil
	}
	switch {
	case headCached && st.baseCached:
		p.head, p.base = []source{srcCached}, []source{srcCached}
	case st.baseCached:
		p.base = []source{srcCached}
		p.head = fromOther(incremental, p.dirty, headFS, patch, query)
	case headCached:
		p.head = []source{srcCached}
		p.base = fromOther(incremental, p.dirty, baseFS, []source{srcPatchedScratch}, []source{srcQueryScratch})
	default:
		p.head = query
		p.contentOnly = fast && contentOnly(cs, baseFS, headFS)
		if p.contentOnly {
			p.dirty = nil
			p.base = []source{srcDerived, srcQueryScratch}
		} else {
			p.base = fromOther(incremental, p.dirty, baseFS, []source{srcPatchedScratch}, []source{srcQueryScratch})
		}
	}
	if !st.cacheDir {
		switch {
		case p.head[0].scratch():
			p.err = errNoHeadScratch
		case p.base[0].scratch():
			p.err = errNoScratch
		}
	}
	return p
}

// graphFile reports whether a change to p can change the query result
// itself (not just a file's content).
func graphFile(p string) bool {
	switch path.Base(p) {
	case "BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "WORKSPACE.bzlmod", "MODULE.bazel", "REPO.bazel",
		".bazelrc", ".bazelversion", ".bazelignore", "user.bazelrc":
		return true
	}
	return strings.HasSuffix(p, ".bzl") || strings.HasSuffix(p, ".bazelrc") || p == "tools/bazel"
}

// contentOnly reports whether base differs from head only by the content
// of existing files (and by added files, checked after head's query, and
// files deleted where no package is: no glob sees them unless a symbolic
// link leads there), none of which shapes the query result: then base's
// query result would be head's.
func contentOnly(cs *changeSet, baseFS, headFS *fileSet) bool {
	links := -1
	for p, st := range cs.changed {
		if graphFile(p) {
			if cs.settingsOnly(p) && st == "modified" {
				continue
			}
			return false
		}
		switch st {
		case "deleted":
			if !regular(baseFS, p) {
				return false
			}
			if _, ok := enclosingPackage(baseFS, p); ok {
				return false
			}
			if _, ok := enclosingPackage(headFS, p); ok {
				return false
			}
			if links < 0 {
				links = 0
				if hasSymlinks(baseFS) || hasSymlinks(headFS) {
					links = 1
				}
			}
			if links == 1 {
				return false
			}
		case "modified":
			if !regular(baseFS, p) || !regular(headFS, p) {
				return false
			}
		case "added":
			if !regular(headFS, p) {
				return false
			}
		}
	}
	return true
}

func regular(f *fileSet, p string) bool {
	e, ok := f.entries[p]
	return ok && (e.Mode == filemode.Regular || e.Mode == filemode.Executable)
}

// fromOther is a side's sources when the other side's snapshot comes
// first: derived from it when none of the dirty packages exists at the
// side (files), patched when some do, then the full query; only the full
// query when the change is not incremental.
func fromOther(incremental bool, dirty []string, files *fileSet, patch, query []source) []source {
	switch {
	case !incremental:
		return query
	case packagesQuery(dirty, files) == "":
		return append([]source{srcDerived}, query...)
	}
	return append(append([]source{}, patch...), query...)
}
