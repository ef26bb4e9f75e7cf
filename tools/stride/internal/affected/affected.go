// Package affected computes the exact set of Bazel targets whose build or
// test result can differ between two commits (`stride affected`).
//
// Each side of the comparison is a Snapshot: a digest per target of
// `bazel query 'deps(//...) + //external:*' --output=proto`, covering the
// target's rule class, attributes (select()s included), the transitive
// digest of the .bzl file that defines its rule, the content of its source
// files (git blob hashes), and for targets of external repositories the
// digest of the repository's definition. Workspace-wide settings
// (.bazelrc, .bazelversion, the WORKSPACE outside repository definitions)
// are digested apart: a change there affects every target.
//
// Comparing two snapshots marks the nodes of head whose own digest
// differs (or that are new), then everything that depends on them in
// head's graph, keeping for each the reasons (source changed, attribute
// changed, depends on, external repository changed...).
//
// Snapshots of commits are cached on disk, keyed by commit, Bazel version
// and query flags, so a push usually needs one query (head), and head's
// map is the next push's base. When only file contents changed (no BUILD,
// .bzl, WORKSPACE or settings file, no deletions), base's snapshot is
// derived from head's query with base's file contents: sound, because the
// query result depends only on those files, and free. Otherwise base is
// queried in a scratch copy of the base commit under the cache directory
// (see scratch), in parallel with head.
package affected

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"golang.org/x/sync/errgroup"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// QueryExpr is the query run at each side.
const QueryExpr = "deps(//...) + //external:*"

// InputError is a failure caused by the input: an unknown revision, a
// shallow clone lacking the base, a workspace Bazel cannot load at head.
// The CLI maps it to exit code 2.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(err error) error { return &InputError{Err: err} }

// Options configure Compute.
type Options struct {
	// Dir is a directory inside the repository.
	Dir string
	// Base and Head are revisions. Head defaults to HEAD; Base to the
	// merge base of head and the default branch.
	Base, Head string
	// Uncommitted compares base with the work tree instead of a commit.
	Uncommitted bool
	// Kind filters the targets: "all" (default), "test" or "build".
	Kind string
	// CacheDir holds the digest maps and the scratch workspaces; "" means
	// no cache and no scratch workspaces (a base that needs a query of its
	// own is then an error).
	CacheDir string
	// Bazel is the bazel binary ("bazel" from PATH when empty).
	Bazel string
	// Startup are extra Bazel startup flags for every invocation (those
	// of scratch workspaces come after, so their --output_base wins).
	Startup []string
	// ScratchIdleSecs is --max_idle_secs for the Bazel servers of scratch
	// workspaces (default 300), so they do not linger.
	ScratchIdleSecs int
	// NoFastPath always queries base (for tests and comparisons).
	NoFastPath bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Compute compares base and head and returns the affected targets.
func Compute(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Kind == "" {
		opts.Kind = "all"
	}
	switch opts.Kind {
	case "all", "test", "build":
	default:
		return nil, inputErr(fmt.Errorf("--kind %q: want all, test or build", opts.Kind))
	}
	if opts.Uncommitted && opts.Head != "" {
		return nil, inputErr(errors.New("--uncommitted and --head exclude each other"))
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.ScratchIdleSecs <= 0 {
		opts.ScratchIdleSecs = 300
	}
	repo, err := gitrepo.Open(opts.Dir)
	if err != nil {
		return nil, inputErr(err)
	}
	if repo.Root() == "" {
		return nil, inputErr(fmt.Errorf("%s: a bare repository has no workspace to query", opts.Dir))
	}
	r := &run{opts: opts, repo: repo, root: repo.Root(), cache: &cache{dir: opts.CacheDir}}
	if err := r.resolve(); err != nil {
		return nil, err
	}
	res, err := r.compute(ctx)
	if err != nil {
		return nil, err
	}
	res.Stats.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

type run struct {
	opts  Options
	repo  *gitrepo.Repo
	root  string
	cache *cache

	baseRev, headRev   string
	baseHash, headHash plumbing.Hash
	baseFS, headFS     *fileSet
	version            string

	mu sync.Mutex
}

func (r *run) logf(format string, a ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Log, "stride affected: "+format+"\n", a...)
}

// resolve finds the two commits and their files.
func (r *run) resolve() error {
	r.headRev = r.opts.Head
	if r.headRev == "" {
		r.headRev = "HEAD"
	}
	h, err := r.repo.ResolveRevision(r.headRev)
	if err != nil {
		return inputErr(fmt.Errorf("head: %w", err))
	}
	r.headHash = h
	if r.opts.Base != "" {
		r.baseRev = r.opts.Base
		b, err := r.repo.ResolveRevision(r.opts.Base)
		if err != nil {
			return inputErr(fmt.Errorf("base: %w", err))
		}
		r.baseHash = b
	} else {
		def, err := r.repo.DefaultBranch()
		if err != nil {
			return inputErr(fmt.Errorf("base: %w", err))
		}
		d, err := r.repo.ResolveRevision(def)
		if err != nil {
			return inputErr(fmt.Errorf("base: default branch: %w", err))
		}
		mb, err := r.repo.MergeBase(d, h)
		if err != nil {
			return inputErr(fmt.Errorf("base: merge base of %s and %s: %w", def, r.headRev, err))
		}
		r.baseRev = "merge-base(" + def + ", " + r.headRev + ")"
		r.baseHash = mb
	}
	if r.baseFS, err = commitFiles(r.repo, r.baseHash); err != nil {
		return inputErr(fmt.Errorf("base %s: %w", r.baseRev, err))
	}
	if r.opts.Uncommitted {
		r.headFS, err = workTreeFiles(r.repo, r.headHash)
	} else {
		r.headFS, err = commitFiles(r.repo, r.headHash)
	}
	if err != nil {
		return inputErr(fmt.Errorf("head %s: %w", r.headRev, err))
	}
	return nil
}

func (r *run) bazelAt(dir string, startup ...string) *bazel.Bazel {
	all := append(append([]string{}, r.opts.Startup...), startup...)
	return &bazel.Bazel{Binary: r.opts.Bazel, Dir: dir, Startup: all}
}

func (r *run) compute(ctx context.Context) (*Result, error) {
	res := &Result{
		Schema: Schema,
		Kind:   r.opts.Kind,
		Base:   Side{Rev: r.baseRev, Commit: r.baseHash.String()},
		Head:   Side{Rev: r.headRev, Commit: r.headHash.String(), Uncommitted: r.opts.Uncommitted},
	}
	changes := diffFiles(r.baseFS, r.headFS)
	if len(changes.changed) == 0 && !r.opts.Uncommitted && r.baseHash == r.headHash {
		// Nothing to compare: same commit.
		res.Base.Source, res.Head.Source = "same-commit", "same-commit"
		empty := &Snapshot{Format: FormatVersion, Nodes: map[string]*Node{}, Repos: map[string]*Repo{}, Globals: map[string]string{}}
		res.fill(&comparison{base: empty, head: empty, files: changes, reasons: map[string][]Reason{}})
		return res, nil
	}
	version, err := r.bazelAt(r.root).VersionKey(ctx)
	if err != nil {
		return nil, inputErr(err)
	}
	r.version = version
	flags := append(append([]string{}, bazel.ProtoQueryFlags...), QueryExpr)
	headKey := cacheKey(r.headHash.String(), version, flags)
	baseKey := cacheKey(r.baseHash.String(), version, flags)

	var head, base *Snapshot
	var headRes *buildpb.QueryResult
	var headRoot string
	if !r.opts.Uncommitted {
		if head = r.cache.get(headKey); head != nil {
			res.Head.Source = "cache"
		}
	}
	if base = r.cache.get(baseKey); base != nil {
		res.Base.Source = "cache"
	}
	fast := !r.opts.NoFastPath && base == nil && contentOnly(changes, r.baseFS, r.headFS)
	needHead := head == nil || fast
	var baseErr error
	g, gctx := errgroup.WithContext(ctx)
	if needHead {
		g.Go(func() error {
			t := time.Now()
			qr, snap, root, src, err := r.queryHead(gctx)
			if err != nil {
				return err
			}
			headRes, headRoot = qr, root
			if head == nil {
				head = snap
				res.Head.Source = src
				if !r.opts.Uncommitted {
					if err := r.cache.put(headKey, snap); err != nil {
						r.logf("%v", err)
					}
				}
			}
			res.Stats.HeadMS = time.Since(t).Milliseconds()
			return nil
		})
	}
	if base == nil && !fast {
		g.Go(func() error {
			t := time.Now()
			snap, err := r.queryBase(gctx)
			res.Stats.BaseMS = time.Since(t).Milliseconds()
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				r.logf("base %s could not be queried; treating every target as affected: %v", short(r.baseHash), err)
				baseErr = err
				res.Base.Source = "failed"
				return nil
			}
			base = snap
			res.Base.Source = "query-scratch"
			if err := r.cache.put(baseKey, snap); err != nil {
				r.logf("%v", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if fast {
		t := time.Now()
		// Added files that the query lists as targets mean a glob saw them:
		// base's query result would differ. Query base after all.
		if addedTargets(changes, headRes, head) {
			r.logf("added files are targets; querying base")
			snap, err := r.queryBase(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				baseErr = err
				res.Base.Source = "failed"
			} else {
				base = snap
				res.Base.Source = "query-scratch"
				if err := r.cache.put(baseKey, snap); err != nil {
					r.logf("%v", err)
				}
			}
		} else {
			snap, _, err := buildSnapshot(headRes, r.baseFS, r.baseHash.String(), headRoot, "")
			if err != nil {
				return nil, err
			}
			snap.Derived = true
			base = snap
			res.Base.Source = "derived"
		}
		res.Stats.BaseMS = time.Since(t).Milliseconds()
	}
	res.fill(compare(base, head, r.baseFS, r.headFS, baseErr))
	return res, nil
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// queryHead queries head: in the user's workspace when it holds head's
// files (or for --uncommitted), else in a scratch copy. It returns the
// query result, the snapshot, the directory queried and the source.
func (r *run) queryHead(ctx context.Context) (*buildpb.QueryResult, *Snapshot, string, string, error) {
	commit := r.headHash.String()
	if r.opts.Uncommitted {
		commit = ""
	}
	if r.opts.Uncommitted || r.workTreeIsHead() {
		r.logf("querying head in %s", r.root)
		qr, err := r.bazelAt(r.root).QueryProto(ctx, QueryExpr)
		if err != nil {
			return nil, nil, "", "", inputErr(fmt.Errorf("query head: %w", err))
		}
		checkDisk := r.root
		if r.opts.Uncommitted {
			checkDisk = ""
		}
		snap, untracked, err := buildSnapshot(qr, r.headFS, commit, r.root, checkDisk)
		if err != nil {
			return nil, nil, "", "", err
		}
		if len(untracked) == 0 {
			return qr, snap, r.root, "query", nil
		}
		r.logf("the work tree has files head lacks (%s); querying a copy of head", untracked[0])
	}
	if r.opts.CacheDir == "" {
		return nil, nil, "", "", inputErr(errors.New("the work tree differs from head and there is no cache directory for a copy of head: commit, use --uncommitted, or set --cache-dir"))
	}
	s, err := openScratch(r.repo, r.opts.CacheDir, "head", r.headHash)
	if err != nil {
		return nil, nil, "", "", err
	}
	defer s.Close()
	r.logf("querying head in %s", s.Src())
	b := r.bazelAt(s.Src(), "--output_base="+s.OutputBase(), fmt.Sprintf("--max_idle_secs=%d", r.opts.ScratchIdleSecs))
	qr, err := b.QueryProto(ctx, QueryExpr)
	if err != nil {
		return nil, nil, "", "", inputErr(fmt.Errorf("query head: %w", err))
	}
	snap, _, err := buildSnapshot(qr, r.headFS, commit, s.Src(), "")
	if err != nil {
		return nil, nil, "", "", err
	}
	return qr, snap, s.Src(), "query-scratch", nil
}

// queryBase queries base in its scratch copy.
func (r *run) queryBase(ctx context.Context) (*Snapshot, error) {
	if r.opts.CacheDir == "" {
		return nil, errors.New("no cache directory for a copy of base")
	}
	s, err := openScratch(r.repo, r.opts.CacheDir, "base", r.baseHash)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.logf("querying base %s in %s", short(r.baseHash), s.Src())
	b := r.bazelAt(s.Src(), "--output_base="+s.OutputBase(), fmt.Sprintf("--max_idle_secs=%d", r.opts.ScratchIdleSecs))
	qr, err := b.QueryProto(ctx, QueryExpr)
	if err != nil {
		return nil, err
	}
	snap, _, err := buildSnapshot(qr, r.baseFS, r.baseHash.String(), s.Src(), "")
	return snap, err
}

// workTreeIsHead reports whether the user's work tree can stand for the
// head commit in a query: HEAD is head, and no file that shapes the query
// result (BUILD, .bzl, WORKSPACE, settings) is changed or deleted there.
// Untracked files that a glob picks up are caught after the query.
func (r *run) workTreeIsHead() bool {
	h, err := r.repo.ResolveRevision("HEAD")
	if err != nil || h != r.headHash {
		return false
	}
	changes, err := r.repo.WorkTreeChanges()
	if err != nil {
		return false
	}
	for _, c := range changes {
		// Untracked and modified files are fine: contents come from git,
		// and a query that lists an untracked file is caught afterwards.
		if c.Deleted || graphFile(c.Path) {
			return false
		}
	}
	return true
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
// of existing files (and by added files, checked after head's query), none
// of which shapes the query result: then base's query result would be
// head's.
func contentOnly(cs *changeSet, baseFS, headFS *fileSet) bool {
	for p, st := range cs.changed {
		if graphFile(p) {
			return false
		}
		switch st {
		case "deleted":
			return false
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

// addedTargets reports whether an added file is a target of head's query.
func addedTargets(cs *changeSet, qr *buildpb.QueryResult, head *Snapshot) bool {
	if qr == nil {
		return true
	}
	for _, n := range head.Nodes {
		if n.Type == typeSource && n.Path != "" && cs.changed[n.Path] == "added" {
			return true
		}
	}
	return false
}
