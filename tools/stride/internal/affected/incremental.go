package affected

import (
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

// Incremental snapshots.
//
// When two commits differ only in file contents, in BUILD files and in
// which files exist (no .bzl, WORKSPACE or settings file changed), a
// package's query result can differ between them only if its BUILD file
// changed or a file was added to or removed from it (a glob may see it).
// Every other package has the same targets with the same attributes at
// both commits. So one side's snapshot is the other's with those "dirty"
// packages queried again (`bazel query 'set(//a:* //b:*)'`, a few
// packages instead of the whole graph) and every source file's digest
// recomputed from the side's files. With no dirty package at all (only
// contents changed) no query is needed.
//
// patchSnapshot gives up (and the caller runs the full query) when the
// re-queried packages reach a target the other snapshot lacks: a new
// external target or a file no target used before.

// maxDirtyPackages bounds the packages re-queried; above it a full query
// is as cheap.
const maxDirtyPackages = 200

// dirtyPackages returns the packages (by path, "" for the root) whose
// query result can differ between base and head, or ok=false when the
// change is not of the shape described above: a .bzl, WORKSPACE or
// settings file changed, a file of an in-tree local repository changed, a
// repository definition reads a changed file, a modified file is not a
// regular file on both sides, or files were added or removed in a tree
// with symbolic links (a link can make a glob see another directory).
// snap is either side's snapshot (for its repositories; nil skips those
// checks, which the caller then makes with repoCheck).
func dirtyPackages(cs *changeSet, baseFS, headFS *fileSet, snap *Snapshot) ([]string, bool) {
	if snap != nil && !repoCheck(cs, snap) {
		return nil, false
	}
	dirty := map[string]bool{}
	links := -1
	for p, st := range cs.changed {
		isBuild := isBuildFile(p)
		if graphFile(p) && !isBuild {
			if cs.settingsOnly(p) && st == "modified" {
				continue
			}
			return nil, false
		}
		if st == "modified" {
			if !regular(baseFS, p) || !regular(headFS, p) {
				return nil, false
			}
			if !isBuild {
				continue
			}
		} else {
			if links < 0 {
				links = 0
				if hasSymlinks(baseFS) || hasSymlinks(headFS) {
					links = 1
				}
			}
			if links == 1 {
				return nil, false
			}
		}
		for _, fs := range []*fileSet{baseFS, headFS} {
			if pkg, ok := enclosingPackage(fs, p); ok {
				dirty[pkg] = true
			}
		}
	}
	out := make([]string, 0, len(dirty))
	for p := range dirty {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, len(out) <= maxDirtyPackages
}

// repoCheck reports whether no changed file belongs to an in-tree local
// repository or is read by a repository definition of snap.
func repoCheck(cs *changeSet, snap *Snapshot) bool {
	repoFiles := map[string]bool{}
	var repoDirs []string
	for _, r := range snap.Repos {
		for _, f := range r.Files {
			repoFiles[f] = true
		}
		if r.Dir != "" {
			repoDirs = append(repoDirs, r.Dir)
		}
	}
	for p := range cs.changed {
		if repoFiles[p] {
			return false
		}
		for _, d := range repoDirs {
			if p == d || strings.HasPrefix(p, d+"/") {
				return false
			}
		}
	}
	return true
}

func isBuildFile(p string) bool {
	b := path.Base(p)
	return b == "BUILD" || b == "BUILD.bazel"
}

// rehashSnapshot derives the snapshot of files (for commit) from from
// when the two differ only by the contents of the paths in changed
// (contentOnly): the same graph, with new digests for the changed files
// and for the directories holding them (a source target can name a
// directory). Through a symbolic link any file's digest can change, so
// with links in the tree every file is rehashed.
func rehashSnapshot(from *Snapshot, files *fileSet, commit string, changed map[string]string) *Snapshot {
	snap := &Snapshot{
		Format:    FormatVersion,
		Commit:    commit,
		Workspace: from.Workspace,
		Nodes:     make(map[string]*Node, len(from.Nodes)),
		Repos:     from.Repos,
	}
	all := hasSymlinks(files)
	touched := make(map[string]bool, 2*len(changed))
	for p := range changed {
		for ; p != "." && p != "/" && !touched[p]; p = path.Dir(p) {
			touched[p] = true
		}
	}
	for name, n := range from.Nodes {
		if n.Type == typeSource && n.Path != "" && (all || touched[n.Path]) {
			if d := sourceDigest(n.Vis, files.digest(n.Path)); d != n.Digest {
				c := *n
				c.Digest = d
				n = &c
			}
		}
		snap.Nodes[name] = n
	}
	snap.Globals = computeGlobals(files, snap)
	return snap
}

func hasSymlinks(fs *fileSet) bool {
	for _, e := range fs.entries {
		if e.Mode == filemode.Symlink {
			return true
		}
	}
	return false
}

// enclosingPackage returns the package that file p belongs to in fs: the
// nearest directory above it (or its own, for a BUILD file) with a BUILD
// file.
func enclosingPackage(fs *fileSet, p string) (string, bool) {
	dir := path.Dir(p)
	for {
		d := dir
		if d == "." {
			d = ""
		}
		if fs.exists(path.Join(d, "BUILD.bazel")) || fs.exists(path.Join(d, "BUILD")) {
			return d, true
		}
		if d == "" {
			return "", false
		}
		dir = path.Dir(d)
	}
}

// packagesQuery is the query expression for every target of the packages
// that exist in fs, or "" when none does.
func packagesQuery(pkgs []string, fs *fileSet) string {
	var parts []string
	for _, p := range pkgs {
		if fs.exists(path.Join(p, "BUILD.bazel")) || fs.exists(path.Join(p, "BUILD")) {
			parts = append(parts, "//"+p+":*")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "set(" + strings.Join(parts, " ") + ")"
}

// patchSnapshot returns from with the main repository's targets of the
// dirty packages replaced by qr's (a query of those packages at the other
// side; nil when none of them exists there), source digests recomputed
// from files, and the globals recomputed. It keeps only what the main
// repository's rules reach, as a full query would. ok is false when the
// result reaches a target that neither qr nor from has. untracked lists
// files the query saw on disk (checkDisk) that files lacks.
func patchSnapshot(from *Snapshot, dirty []string, qr *buildpb.QueryResult, files *fileSet, commit, root, checkDisk string) (snap *Snapshot, untracked []string, ok bool, err error) {
	snap = &Snapshot{
		Format:    FormatVersion,
		Commit:    commit,
		Workspace: from.Workspace,
		Nodes:     make(map[string]*Node, len(from.Nodes)),
		Repos:     from.Repos,
	}
	dirtySet := make(map[string]bool, len(dirty))
	for _, d := range dirty {
		dirtySet[d] = true
	}
	for name, n := range from.Nodes {
		if n.Repo == "" && !strings.HasPrefix(name, "//external:") {
			if l, ok := parseLabel(name); ok && dirtySet[l.pkg] {
				continue
			}
		}
		snap.Nodes[name] = n
	}
	if qr != nil {
		b := &builder{files: files, root: root, checkDisk: checkDisk, snap: snap}
		for _, t := range qr.Target {
			if err := b.addTarget(t); err != nil {
				return nil, nil, false, err
			}
		}
		untracked = b.untracked
	}
	// Dependencies a full query would not resolve either (none are
	// expected) are tolerated; any other missing one means a target the
	// other side never reached.
	known := map[string]bool{}
	for _, n := range from.Nodes {
		for _, d := range n.Deps {
			if _, ok := from.Nodes[d]; !ok {
				known[d] = true
			}
		}
	}
	// Keep what the main repository's rules reach, and what the query
	// lists besides (//external binds, and external targets nothing
	// depends on, which deps(//...) returns all the same).
	depended := map[string]bool{}
	for _, n := range from.Nodes {
		for _, d := range n.Deps {
			depended[d] = true
		}
	}
	reached := make(map[string]bool, len(snap.Nodes))
	var stack []string
	for name, n := range snap.Nodes {
		root := strings.HasPrefix(name, "//external:") ||
			(n.Repo == "" && n.Type == typeRule) ||
			(n.Repo != "" && !depended[name])
		if root {
			reached[name] = true
			stack = append(stack, name)
		}
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range snap.Nodes[name].Deps {
			if reached[d] {
				continue
			}
			if _, ok := snap.Nodes[d]; !ok {
				if !known[d] {
					return nil, untracked, false, nil
				}
				continue
			}
			reached[d] = true
			stack = append(stack, d)
		}
	}
	for name, n := range snap.Nodes {
		if !reached[name] {
			delete(snap.Nodes, name)
			continue
		}
		if n.Type == typeSource && n.Path != "" {
			if d := sourceDigest(n.Vis, files.digest(n.Path)); d != n.Digest {
				c := *n
				c.Digest = d
				snap.Nodes[name] = &c
			}
		}
	}
	snap.Globals = computeGlobals(files, snap)
	return snap, untracked, true, nil
}
