package affected

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// The rdeps path.
//
// When neither side's digest map is cached and the change only modifies
// the content of regular files (no BUILD, .bzl, WORKSPACE or settings
// file; files added or deleted only where no glob sees them: see
// rdepsQuery), both sides have the same query result. Every node's own digest is then equal at both sides
// except the changed source files', so the targets whose digests or
// dependencies differ are exactly the reverse dependencies of those files
// in head's graph: one
//
//	bazel query 'rdeps(//..., filter(FILES, set(//pkg:* ...))) + //external:*'
//
// gives them (and the repository definitions, to check that none reads a
// changed file). Its snapshots of head and base (the same nodes, with
// base's file contents) compared as usual give the same targets and
// reasons as the full maps would, at the cost of a query about as fast as
// `bazel query //...`, instead of one of the whole graph with every
// attribute. The maps are partial, so none is cached. The path gives up
// (and the full computation runs) when the query fails, when the work tree
// is not head, when a repository definition reads a changed file, when
// the query saw files that head lacks, or when the comparison finds a
// workspace-wide change (a toolchain or platform target affected), whose
// answer is every target.

// maxRdepsFiles bounds the changed files the rdeps path takes.
const maxRdepsFiles = 500

// modifiedOnly reports, from `git diff-tree` (a few milliseconds, before
// the trees are read), whether base..head only modifies, adds or deletes
// regular files that do not shape the query result: a candidate for the
// rdeps path, which rdepsQuery decides with the trees.
func (r *run) modifiedOnly(ctx context.Context) bool {
	cmd := exec.CommandContext(ctx, "git", "-C", r.root, "diff-tree", "-r", "-z", "--no-renames", "--raw", r.baseHash.String(), r.headHash.String())
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return false
	}
	fields := bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0})
	if len(fields)%2 != 0 || len(fields)/2 > maxRdepsFiles {
		return false
	}
	for i := 0; i < len(fields); i += 2 {
		// ":100644 100644 <sha> <sha> M", then the path.
		meta := strings.Fields(strings.TrimPrefix(string(fields[i]), ":"))
		if len(meta) != 5 || graphFile(string(fields[i+1])) {
			return false
		}
		switch meta[4] {
		case "M":
			if !regularMode(meta[0]) || !regularMode(meta[1]) {
				return false
			}
		case "A":
			if !regularMode(meta[1]) {
				return false
			}
		case "D":
			if !regularMode(meta[0]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func regularMode(m string) bool { return m == "100644" || m == "100755" }

// rdepsQuery is the query of the rdeps path for the changed files; ok is
// false when the change is not one the path takes. Modified regular files
// may be anywhere. A file deleted from a package may have been a glob's
// match at base, so deleted files must be in no package at either side.
// An added file may be in a package if no target has it at head (a glob
// that matched it would change the graph: computeRdeps checks that after
// the query, which the added files' labels are part of). Added or deleted
// files in a tree with symbolic links are refused (a link can make a
// glob see another directory).
func rdepsQuery(cs *changeSet, baseFS, headFS *fileSet) (expr string, ok bool) {
	if len(cs.changed) == 0 || len(cs.changed) > maxRdepsFiles {
		return "", false
	}
	pkgs := map[string]bool{}
	var labels []string
	links := -1
	for p, st := range cs.changed {
		if graphFile(p) {
			return "", false
		}
		switch st {
		case "modified":
			if !regular(baseFS, p) || !regular(headFS, p) {
				return "", false
			}
		case "added", "deleted":
			if links < 0 {
				links = 0
				if hasSymlinks(baseFS) || hasSymlinks(headFS) {
					links = 1
				}
			}
			if links == 1 {
				return "", false
			}
			if st == "added" && !regular(headFS, p) || st == "deleted" && !regular(baseFS, p) {
				return "", false
			}
			_, inBase := enclosingPackage(baseFS, p)
			_, inHead := enclosingPackage(headFS, p)
			if st == "deleted" && (inBase || inHead) {
				return "", false
			}
		default:
			return "", false
		}
		if st == "deleted" {
			continue // in no package
		}
		pkg, ok := enclosingPackage(headFS, p)
		if !ok {
			continue // in no package: no target's input
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p, pkg), "/")
		if strings.ContainsAny(name, "\"'") {
			return "", false // not quotable in a query word
		}
		pkgs[pkg] = true
		labels = append(labels, regexp.QuoteMeta("//"+pkg+":"+name))
	}
	if len(labels) == 0 {
		return "//external:*", true
	}
	sort.Strings(labels)
	var sets []string
	for p := range pkgs {
		sets = append(sets, "//"+p+":*")
	}
	sort.Strings(sets)
	// A file of a package is a target only if a rule or exports_files
	// names it; filter() over the package's targets drops the others
	// (which no target reads) without the error a missing label gives.
	return fmt.Sprintf(`rdeps(//..., filter("^(%s)$", set(%s))) + //external:*`, strings.Join(labels, "|"), strings.Join(sets, " ")), true
}

// computeRdeps runs the rdeps path. It returns nil (and no error) when the
// path gives up; the caller then computes in full.
func (r *run) computeRdeps(ctx context.Context, res *Result, changes *changeSet) (*comparison, error) {
	expr, ok := rdepsQuery(changes, r.baseFS, r.headFS)
	if !ok || !r.headInWorkTree() {
		return nil, nil
	}
	r.logf("only file contents changed and no map is cached: querying the changed files' reverse dependencies in %s", r.root)
	qr, err := r.bazelAt(r.root).QueryProto(ctx, expr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.logf("the reverse-dependency query failed; computing in full: %v", firstLine(errText(err)))
		return nil, nil
	}
	head, untracked, err := buildSnapshot(qr, r.headFS, r.headHash.String(), r.root, r.root)
	if err != nil {
		return nil, err
	}
	if len(untracked) > 0 {
		r.logf("the work tree has files head lacks (%s); computing in full", untracked[0])
		return nil, nil
	}
	for _, n := range head.Nodes {
		if n.Type == typeSource && n.Path != "" && changes.changed[n.Path] == "added" {
			r.logf("an added file is a target (%s); computing in full", n.Path)
			return nil, nil
		}
	}
	if !repoCheck(changes, head) {
		r.logf("a repository definition reads a changed file; computing in full")
		return nil, nil
	}
	base := rehashSources(head, r.baseFS, r.baseHash.String())
	c := compareChanges(base, head, r.baseFS, r.headFS, changes, nil)
	if len(c.global) > 0 {
		r.logf("the change affects every target (%s); computing in full", c.global[0].Text)
		return nil, nil
	}
	res.Head.Source, res.Base.Source = "query-rdeps", "derived-rdeps"
	return c, nil
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
