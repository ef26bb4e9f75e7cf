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
// and query flags, and head's map is the next push's base. When one side
// is cached and the change touches only file contents, BUILD files and
// the set of files, the other side is that snapshot patched with a query
// of just the packages that can differ, or with no query at all when only
// contents changed (incremental.go). When neither is cached and only file
// contents changed, base's snapshot is derived from head's query with
// base's file contents. Otherwise base is queried (its dirty packages, or
// in full) in a scratch copy of the base commit under the cache directory
// (see scratch), in parallel with head. Without a cache directory, most
// changes are answered by one query of their reverse dependencies
// (rdeps.go).
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
	"github.com/strideci/monorepo/tools/stride/internal/change"
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
	// Change, when set, is the change to compare (its repository, base
	// and head commits, and its rename rule for the reasons); Dir, Base,
	// Head and Uncommitted are then ignored. Without it Compute resolves
	// one from them (change.Resolve).
	Change *change.Change
	// Kind filters the targets: "all" (default), "test" or "build".
	Kind string
	// CacheDir holds the digest maps and the scratch workspaces; "" means
	// no cache and no scratch workspaces: changes the rdeps path takes
	// (rdeps.go) cost one query of their reverse dependencies, and a base
	// that needs a query of its own is an input error.
	CacheDir string
	// Bazel is the bazel binary ("bazel" from PATH when empty).
	Bazel string
	// Startup are extra Bazel startup flags for every invocation (those
	// of scratch workspaces come after, so their --output_base wins).
	Startup []string
	// WorkspaceStartup are startup flags for the workspace's own server
	// only, after Startup (stride run's class-data-sharing flag, see
	// bazel.CDS; they must match what the caller passes its own Bazel
	// commands, or the server restarts). They change no digest.
	WorkspaceStartup []string
	// ScratchIdleSecs is --max_idle_secs for the Bazel servers of scratch
	// workspaces (default 300), so they do not linger.
	ScratchIdleSecs int
	// NoFastPath queries every side that is not cached in full: no fast
	// path, no incremental snapshot (for tests and comparisons).
	NoFastPath bool
	// CacheLimit is the most bytes of digest maps kept in CacheDir; the
	// least recently used are deleted beyond it (0: DefaultCacheLimit,
	// negative: no limit).
	CacheLimit int64
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// DeferWrites lets Compute return before the digest maps it computed
	// are in the cache; the caller must call Result.Wait before it exits
	// (stride run waits after Bazel has started building).
	DeferWrites bool
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
	if opts.Change == nil && opts.Uncommitted && opts.Head != "" {
		return nil, inputErr(errors.New("--uncommitted and --head exclude each other"))
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.ScratchIdleSecs <= 0 {
		opts.ScratchIdleSecs = 300
	}
	c := opts.Change
	if c == nil {
		repo, err := gitrepo.Open(opts.Dir)
		if err != nil {
			return nil, inputErr(err)
		}
		if c, err = change.Resolve(repo, change.Options{Base: opts.Base, Head: opts.Head, Uncommitted: opts.Uncommitted}); err != nil {
			return nil, inputErr(err)
		}
	}
	opts.Uncommitted = c.Uncommitted
	repo := c.Repo
	if repo.Root() == "" {
		return nil, inputErr(fmt.Errorf("%s: a bare repository has no workspace to query", opts.Dir))
	}
	r := &run{opts: opts, repo: repo, root: repo.Root(), cache: &cache{dir: opts.CacheDir, limit: opts.CacheLimit}, start: start, ctx: ctx,
		change: c, baseRev: c.BaseRev, headRev: c.HeadRev, baseHash: c.Base, headHash: c.Head}
	res, err := r.compute(ctx)
	if err != nil {
		return nil, err
	}
	res.Stats.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

type run struct {
	opts   Options
	change *change.Change
	repo   *gitrepo.Repo
	root  string
	cache *cache

	baseRev, headRev   string
	baseHash, headHash plumbing.Hash
	baseFS, headFS     *fileSet
	version            string

	// client is the Bazel client the launcher execs in root, when known;
	// else learnClient is the file where a query records it.
	client, learnClient string

	start time.Time
	mu    sync.Mutex
	// bzlChanged: a .bzl file differs, so head's full query asks for
	// macro and rule-definition stacks to explain it.
	bzlChanged bool

	// wtCh delivers workTreeIsHead's answer, computed while the trees
	// are read; headInWorkTree keeps it in wtIs.
	wtCh   chan bool
	wtOnce sync.Once
	wtIs   bool

	ctx  context.Context
	exts map[string]*extContent // by query root (guarded by mu)
}

// extFor is the source of go_repository file contents for a query run in
// root: the workspace, whose output base Bazel is asked for (once, and
// only on a cache miss), or a scratch copy, whose output base is beside
// it.
func (r *run) extFor(root string) extSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.exts[root]; ok {
		return e
	}
	var ob func() (string, error)
	if root == r.root {
		var once sync.Once
		var dir string
		var err error
		ob = func() (string, error) {
			once.Do(func() {
				dir, err = r.bazelAt(r.root).Info(r.ctx, "output_base")
				if err != nil {
					r.logf("bazel info output_base: %v (go_repository targets are digested by their definitions)", err)
				}
			})
			return dir, err
		}
	} else {
		dir := scratchOutputBase(root)
		ob = func() (string, error) { return dir, nil }
	}
	if r.exts == nil {
		r.exts = map[string]*extContent{}
	}
	e := newExtContent(r.opts.CacheDir, ob)
	r.exts[root] = e
	return e
}

func (r *run) logf(format string, a ...interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Log, "stride affected: [%.3fs] "+format+"\n", append([]interface{}{time.Since(r.start).Seconds()}, a...)...)
}

// useRenames replaces the renames diffFiles found with the change's (the
// one rename rule, see package change), so that a reason says "source
// renamed" exactly when the change's file list says renamed. Asked only
// when a file was added: only then can a rename be.
func (r *run) useRenames(cs *changeSet) error {
	for _, st := range cs.changed {
		if st == "added" {
			ren, err := r.change.Renames()
			if err != nil {
				return inputErr(fmt.Errorf("changed files: %w", err))
			}
			cs.renamed = ren
			return nil
		}
	}
	return nil
}

// readTrees reads both sides' files.
func (r *run) readTrees() error {
	// Both trees at once (git ls-tree processes), and whether the work
	// tree holds head (git status), which a query at head needs to know.
	if !r.opts.Uncommitted {
		ch := make(chan bool, 1)
		r.wtCh = ch
		go func() { ch <- r.workTreeIsHead() }()
	}
	var g errgroup.Group
	g.Go(func() error {
		fs, err := commitFiles(r.repo, r.baseHash)
		if err != nil {
			return inputErr(fmt.Errorf("base %s: %w", r.baseRev, err))
		}
		r.baseFS = fs
		return nil
	})
	g.Go(func() error {
		var fs *fileSet
		var err error
		if r.opts.Uncommitted {
			fs, err = workTreeFiles(r.repo, r.headHash)
		} else {
			fs, err = commitFiles(r.repo, r.headHash)
		}
		if err != nil {
			return inputErr(fmt.Errorf("head %s: %w", r.headRev, err))
		}
		r.headFS = fs
		return nil
	})
	return g.Wait()
}

func (r *run) bazelAt(dir string, startup ...string) *bazel.Bazel {
	all := append(append([]string{}, r.opts.Startup...), startup...)
	b := &bazel.Bazel{Binary: r.opts.Bazel, Dir: dir, Startup: all}
	if dir == r.root {
		b.Startup = append(b.Startup, r.opts.WorkspaceStartup...)
		// The client the launcher picks for this workspace (scratch
		// copies may pick another: their .bazelversion is base's).
		b.Client, b.LearnClient = r.client, r.learnClient
	}
	return b
}

func (r *run) compute(ctx context.Context) (_ *Result, err error) {
	res := &Result{
		Schema: Schema,
		Kind:   r.opts.Kind,
		Base:   Side{Rev: r.baseRev, Commit: r.baseHash.String()},
		Head:   Side{Rev: r.headRev, Commit: r.headHash.String(), Uncommitted: r.opts.Uncommitted},
	}
	versionFile := ""
	if r.opts.CacheDir != "" {
		versionFile = bazel.VersionCacheFile(r.opts.CacheDir)
	}
	version, client, err := r.bazelAt(r.root).CachedVersionAndClient(ctx, versionFile)
	if err != nil {
		return nil, inputErr(err)
	}
	r.version = version
	if r.client = client; client == "" {
		r.learnClient = versionFile
	}
	r.logf("bazel: %s", version)
	flags := append(append([]string{}, bazel.ProtoQueryFlags...), QueryExpr)
	headKey := cacheKey(r.headHash.String(), version, flags)
	baseKey := cacheKey(r.baseHash.String(), version, flags)

	// Neither map on disk: head needs a full query whatever changed.
	// Start it in the work tree now, while the trees are read; it is
	// used if the work tree holds head and no .bzl file changed (which
	// wants the stack flags).
	var fullPre chan prefetch
	rdepsCand := false
	if r.opts.CacheDir == "" && !r.opts.NoFastPath && !r.opts.Uncommitted && r.baseHash != r.headHash && r.headIsHEAD() {
		// No cache: the rdeps path (rdeps.go) may answer with a query of
		// the changes' reverse dependencies; it needs the trees first, so
		// no full query starts before them.
		rdepsCand = true
	}
	// treesRead is closed once both trees are read and bzlChanged is
	// set (or reading failed).
	treesRead := make(chan struct{})
	var treesOnce sync.Once
	markTreesRead := func() { treesOnce.Do(func() { close(treesRead) }) }
	if !rdepsCand && !r.opts.Uncommitted && r.baseHash != r.headHash && r.headIsHEAD() && !r.cache.has(headKey) && !r.cache.has(baseKey) {
		fullPre = make(chan prefetch, 1)
		go func() {
			fullPre <- r.streamHead(ctx, treesRead)
		}()
		r.logf("querying head in %s (started before reading the trees)", r.root)
	}
	// The cached maps are decoded while the trees are read.
	type loadedMaps struct{ head, base *Snapshot }
	loaded := make(chan loadedMaps, 1)
	go func() {
		var m loadedMaps
		if !r.opts.Uncommitted {
			m.head = r.cache.get(headKey)
		}
		m.base = r.cache.get(baseKey)
		loaded <- m
	}()
	loadedUsed := false
	fullPreUsed := false
	defer func() {
		if fullPre != nil && !fullPreUsed {
			markTreesRead() // the stream waits for it (reading may have failed)
			<-fullPre       // no Bazel command outlives Compute
		}
		if r.wtCh != nil {
			r.headInWorkTree() // nor a git status
		}
		if !loadedUsed {
			<-loaded // nor a cache read
		}
	}()
	if err := r.readTrees(); err != nil {
		return nil, err
	}
	changes := diffFiles(r.baseFS, r.headFS)
	if err := unreadSubmodules(changes, r.baseFS, r.headFS); err != nil {
		return nil, err
	}
	if err := r.useRenames(changes); err != nil {
		return nil, err
	}
	changes.markTestOnlyRC(r.baseFS, r.headFS)
	for p := range changes.changed {
		if strings.HasSuffix(p, ".bzl") {
			r.bzlChanged = true
		}
	}
	markTreesRead()
	r.logf("base %s, head %s: %d files changed", short(r.baseHash), short(r.headHash), len(changes.changed))
	if len(changes.changed) == 0 && !r.opts.Uncommitted && r.baseHash == r.headHash {
		// Nothing to compare: same commit.
		res.Base.Source, res.Head.Source = "same-commit", "same-commit"
		empty := &Snapshot{Format: FormatVersion, Nodes: map[string]*Node{}, Repos: map[string]*Repo{}, Globals: map[string]string{}}
		res.fill(&comparison{base: empty, head: empty, files: changes, reasons: map[string][]Reason{}})
		return res, nil
	}

	if rdepsCand {
		t := time.Now()
		c, err := r.computeRdeps(ctx, res, changes)
		if err != nil {
			return nil, err
		}
		if c != nil {
			res.fill(c)
			// The maps hold only the affected part of the graph.
			res.Stats.TargetsAtHead, res.Stats.NodesAtHead = 0, 0
			res.Stats.HeadMS = time.Since(t).Milliseconds()
			r.logf("compared: %d targets affected", len(res.Targets))
			return res, nil
		}
	}

	// With base's map on disk and head's not, head will be patched from
	// base: start the query of head's changed packages now, while base's
	// map is read.
	var pre chan prefetch
	if !r.opts.NoFastPath && !r.opts.Uncommitted && !r.cache.has(headKey) && r.cache.has(baseKey) {
		if dirty, ok := dirtyPackages(changes, r.baseFS, r.headFS, nil); ok {
			if expr := packagesQuery(dirty, r.headFS); expr != "" && r.headInWorkTree() {
				pre = make(chan prefetch, 1)
				go func() {
					r.logf("querying head's %d changed packages in %s", len(dirty), r.root)
					qr, err := r.bazelAt(r.root).QueryProto(ctx, expr)
					pre <- prefetch{expr: expr, qr: qr, err: err}
				}()
			}
		}
	}
	preUsed := false
	defer func() {
		if pre != nil && !preUsed {
			<-pre // no Bazel command outlives Compute
		}
	}()
	maps := <-loaded
	loadedUsed = true
	head, base := maps.head, maps.base
	if head != nil {
		res.Head.Source = "cache"
	}
	if base != nil {
		res.Base.Source = "cache"
	}
	r.logf("digest maps cached: base %v, head %v", base != nil, head != nil)
	// Maps are written to the cache while the comparison runs; Compute
	// returns once they are written.
	writes := &sync.WaitGroup{}
	res.wait = writes.Wait
	defer func() {
		if err != nil || !r.opts.DeferWrites {
			writes.Wait()
			res.wait = nil
		}
	}()
	put := func(key string, s *Snapshot) {
		writes.Add(1)
		go func() {
			defer writes.Done()
			if err := r.cache.put(key, s); err != nil {
				r.logf("%v", err)
			}
		}()
	}
	putHead := func(s *Snapshot) {
		if !r.opts.Uncommitted {
			put(headKey, s)
		}
	}
	// putBase stores base's snapshot; one derived from head's (from, which
	// putHead stored) as a delta against it (cache.putDelta).
	putBase := func(s, from *Snapshot) {
		if from == nil || r.opts.Uncommitted {
			put(baseKey, s)
			return
		}
		writes.Add(1)
		go func() {
			defer writes.Done()
			if err := r.cache.putDelta(baseKey, s, headKey, from); err != nil {
				r.logf("%v", err)
			}
		}()
	}
	putBaseWhole := func(s *Snapshot) { putBase(s, nil) }
	var baseErr error
	switch {
	case head != nil && base != nil:
	case base != nil:
		// Head from base's snapshot when the change allows it.
		if !r.opts.NoFastPath {
			t := time.Now()
			var snap *Snapshot
			var src string
			var err error
			if pre != nil {
				preUsed = true
				snap, src, err = r.patchPrefetched(base, changes, <-pre)
			}
			if snap == nil && err == nil {
				snap, src, err = r.patchFrom(ctx, base, changes, r.headFS, r.headHash.String(), true)
			}
			if err != nil {
				return nil, err
			}
			if snap != nil {
				head, res.Head.Source = snap, src
				putHead(snap)
			}
			res.Stats.HeadMS = time.Since(t).Milliseconds()
		}
		if head == nil {
			t := time.Now()
			_, snap, _, src, err := r.queryHead(ctx)
			if err != nil {
				return nil, err
			}
			head, res.Head.Source = snap, src
			putHead(snap)
			res.Stats.HeadMS = time.Since(t).Milliseconds()
		}
	case head != nil:
		t := time.Now()
		if !r.opts.NoFastPath {
			snap, src, err := r.patchFrom(ctx, head, changes, r.baseFS, r.baseHash.String(), false)
			if err != nil {
				return nil, err
			}
			if snap != nil {
				base, res.Base.Source = snap, src
				putBaseWhole(snap)
			}
		}
		if base == nil {
			base, baseErr = r.fullBase(ctx, res, putBaseWhole)
		}
		res.Stats.BaseMS = time.Since(t).Milliseconds()
	default:
		var err error
		fullPreUsed = fullPre != nil
		head, base, baseErr, err = r.computeBoth(ctx, res, changes, putHead, putBase, putBaseWhole, fullPre)
		if err != nil {
			return nil, err
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(baseErr, errNoScratch) {
		return nil, inputErr(fmt.Errorf("base %s needs a Bazel query of its own (the change is not one the rdeps path takes), which runs in a copy of base under the cache directory; run with a --cache-dir", short(r.baseHash)))
	}
	res.fill(compareChanges(base, head, r.baseFS, r.headFS, changes, baseErr))
	r.logf("compared: %d targets affected", len(res.Targets))
	return res, nil
}

// fullBase queries base in full in its scratch copy. A base that cannot
// be loaded is not an error: it makes every target affected.
func (r *run) fullBase(ctx context.Context, res *Result, put func(*Snapshot)) (*Snapshot, error) {
	snap, err := r.queryBase(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logf("base %s could not be queried; treating every target as affected: %v", short(r.baseHash), err)
		}
		res.Base.Source = "failed"
		return nil, err
	}
	res.Base.Source = "query-scratch"
	put(snap)
	return snap, nil
}

// patchFrom derives the other side's snapshot from from (see
// incremental.go): without a query when only file contents changed, else
// by querying the dirty packages at that side (toHead: in head's
// workspace; else in base's scratch copy). It returns nil (and no error)
// when the change does not allow it or the patch gives up.
func (r *run) patchFrom(ctx context.Context, from *Snapshot, changes *changeSet, files *fileSet, commit string, toHead bool) (*Snapshot, string, error) {
	dirty, ok := dirtyPackages(changes, r.baseFS, r.headFS, from)
	if !ok {
		return nil, "", nil
	}
	if toHead && r.opts.Uncommitted {
		commit = ""
	}
	expr := packagesQuery(dirty, files)
	if expr == "" {
		var snap *Snapshot
		if len(dirty) == 0 && !r.opts.Uncommitted {
			// The changed set lists every file whose content differs
			// (for a work tree, rehash every file: patchSnapshot).
			snap = rehashSnapshot(from, files, commit, changes.changed)
		} else {
			var ok bool
			var err error
			snap, _, ok, err = patchSnapshot(from, dirty, nil, files, commit, "", "")
			if err != nil || !ok {
				return nil, "", err
			}
		}
		if len(dirty) == 0 {
			r.logf("derived %s from %s's digest map: only file contents changed", side(toHead), side(!toHead))
		} else {
			r.logf("derived %s from %s's digest map: the %d changed packages do not exist at %s", side(toHead), side(!toHead), len(dirty), side(toHead))
		}
		return snap, "derived", nil
	}
	var snap *Snapshot
	var src string
	if toHead {
		var err error
		_, snap, _, src, err = r.queryHeadWith(ctx, expr, func(qr *buildpb.QueryResult, root, checkDisk string) (*Snapshot, []string, error) {
			s, untracked, ok, err := patchSnapshot(from, dirty, qr, files, commit, root, checkDisk)
			if err == nil && !ok {
				err = errGaveUp
			}
			return s, untracked, err
		})
		if errors.Is(err, errGaveUp) {
			r.logf("the changed packages reach targets head's map lacks; querying head in full")
			return nil, "", nil
		}
		if err != nil {
			r.logf("querying head's changed packages failed; querying head in full: %v", err)
			return nil, "", nil
		}
	} else {
		qr, root, err := r.queryBaseExpr(ctx, expr)
		if err != nil {
			r.logf("querying base's changed packages failed; querying base in full: %v", err)
			return nil, "", nil
		}
		s, _, ok, err := patchSnapshot(from, dirty, qr, files, commit, root, "")
		if err != nil || !ok {
			r.logf("the changed packages reach targets head's map lacks; querying base in full")
			return nil, "", err
		}
		snap, src = s, "query-scratch"
	}
	r.logf("%s: queried the %d changed packages, the rest from %s's digest map", side(toHead), len(dirty), side(!toHead))
	return snap, src + "-incremental", nil
}

var errGaveUp = errors.New("incremental snapshot gave up")

// errNoScratch: base needs a query of its own and there is no cache
// directory for its scratch copy. Compute reports it as an input error
// rather than as a base that cannot be loaded (which would make every
// target affected).
var errNoScratch = errors.New("no cache directory for a copy of base")

// useFullPrefetch returns head's snapshot from the full query started
// before the trees were read, or a nil snapshot when it cannot stand for
// head (it failed, a .bzl changed, the work tree does not hold head or
// holds files head lacks that the query saw).
func (r *run) useFullPrefetch(pre chan prefetch) (*buildpb.QueryResult, *Snapshot, string, string, error) {
	if pre == nil {
		return nil, nil, "", "", nil
	}
	p := <-pre
	if p.err != nil || r.bzlChanged || !r.headInWorkTree() {
		return nil, nil, "", "", nil
	}
	qr, snap, untracked, err := p.stream.finish()
	r.logf("head's query returned %d targets", len(qr.Target))
	if err != nil || len(untracked) > 0 {
		return nil, nil, "", "", err
	}
	return qr, snap, r.root, "query", nil
}

// streamHead runs head's full query in the work tree, started before the
// trees are read (treesRead closes when they are). Once they are, it
// digests the targets as Bazel streams them (snapshotStream); the caller
// finishes the snapshot. The snapshot is of no use when a .bzl file
// changed (the query lacks the stack flags), so it is not started then.
func (r *run) streamHead(ctx context.Context, treesRead <-chan struct{}) prefetch {
	var st *snapshotStream
	waited := false
	var all []*buildpb.Target
	err := r.bazelAt(r.root).QueryStream(ctx, QueryExpr, func(t *buildpb.Target) error {
		if !waited {
			<-treesRead
			waited = true
			if r.headFS != nil && !r.bzlChanged {
				st = newSnapshotStream(r.headFS, r.headHash.String(), r.root, r.root, r.extFor(r.root))
			}
		}
		if st != nil {
			st.add(t)
		} else {
			all = append(all, t)
		}
		return nil
	})
	if err == nil && st == nil {
		// No target came (an empty snapshot), or the snapshot is of no
		// use: the caller will not finish it.
		<-treesRead
		if r.headFS != nil && !r.bzlChanged {
			st = newSnapshotStream(r.headFS, r.headHash.String(), r.root, r.root, r.extFor(r.root))
		} else {
			st = &snapshotStream{all: all, err: errNoStream}
		}
	}
	return prefetch{expr: QueryExpr, stream: st, err: err}
}

var errNoStream = errors.New("no snapshot was built while head's query streamed")

// prefetch is a query of head started early: of its changed packages
// (qr), or in full (stream).
type prefetch struct {
	expr   string
	qr     *buildpb.QueryResult
	stream *snapshotStream
	err    error
}

// patchPrefetched is patchFrom (base to head) with head's changed
// packages already queried in the work tree. It returns nil (and no
// error) when that query cannot be used: it failed, the change touches
// what repositories read, or it saw untracked files.
func (r *run) patchPrefetched(base *Snapshot, changes *changeSet, p prefetch) (*Snapshot, string, error) {
	if p.err != nil {
		r.logf("querying head's changed packages failed: %v", p.err)
		return nil, "", nil
	}
	dirty, ok := dirtyPackages(changes, r.baseFS, r.headFS, base)
	if !ok || packagesQuery(dirty, r.headFS) != p.expr {
		return nil, "", nil
	}
	snap, untracked, ok, err := patchSnapshot(base, dirty, p.qr, r.headFS, r.headHash.String(), r.root, r.root)
	if err != nil || !ok || len(untracked) > 0 {
		return nil, "", err
	}
	r.logf("head: queried the %d changed packages, the rest from base's digest map", len(dirty))
	return snap, "query-incremental", nil
}

func side(head bool) string {
	if head {
		return "head"
	}
	return "base"
}

// computeBoth computes both sides when neither is cached: head by a full
// query; base derived from it (only contents changed and no added file is
// a target), or patched from it with base's changed packages queried in
// the scratch copy (in parallel with head's query), or else queried in
// full.
//
// putBase stores base's snapshot, derived from head's when from is set;
// putBaseWhole one that is not.
func (r *run) computeBoth(ctx context.Context, res *Result, changes *changeSet, putHead func(*Snapshot), putBase func(s, from *Snapshot), putBaseWhole func(*Snapshot), fullPre chan prefetch) (head, base *Snapshot, baseErr, err error) {
	fast := !r.opts.NoFastPath && contentOnly(changes, r.baseFS, r.headFS)
	var dirty []string
	incremental := false
	if !fast && !r.opts.NoFastPath {
		dirty, incremental = dirtyPackages(changes, r.baseFS, r.headFS, nil)
	}
	var headRes, baseRes *buildpb.QueryResult
	var headRoot, baseRoot string
	var baseQErr error
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		t := time.Now()
		qr, snap, root, src, err := r.useFullPrefetch(fullPre)
		if snap == nil {
			qr, snap, root, src, err = r.queryHead(gctx)
		}
		if err != nil {
			return err
		}
		headRes, headRoot, head = qr, root, snap
		res.Head.Source = src
		putHead(snap)
		res.Stats.HeadMS = time.Since(t).Milliseconds()
		return nil
	})
	if !fast {
		g.Go(func() error {
			t := time.Now()
			defer func() { res.Stats.BaseMS = time.Since(t).Milliseconds() }()
			if incremental {
				if expr := packagesQuery(dirty, r.baseFS); expr != "" {
					baseRes, baseRoot, baseQErr = r.queryBaseExpr(gctx, expr)
				}
				return nil
			}
			base, baseErr = r.fullBase(gctx, res, putBaseWhole)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	t := time.Now()
	switch {
	case fast && addedTargets(changes, headRes, head):
		// Added files that the query lists as targets mean a glob saw
		// them: base's query result would differ. Query base after all.
		r.logf("added files are targets; querying base")
		base, baseErr = r.fullBase(ctx, res, putBaseWhole)
	case fast:
		// Only contents changed: base's map is head's with base's file
		// digests; re-digesting the query result is needed only when a
		// repository definition reads a changed file.
		var snap *Snapshot
		if repoCheck(changes, head) {
			snap = rehashSnapshot(head, r.baseFS, r.baseHash.String(), changes.changed)
		} else {
			snap, _, err = buildSnapshot(headRes, r.baseFS, r.baseHash.String(), headRoot, "", r.extFor(headRoot))
		}
		if err != nil {
			return nil, nil, nil, err
		}
		base = snap
		res.Base.Source = "derived"
		putBase(snap, head)
	case incremental:
		ok := baseQErr == nil && repoCheck(changes, head)
		if ok {
			var snap *Snapshot
			snap, _, ok, err = patchSnapshot(head, dirty, baseRes, r.baseFS, r.baseHash.String(), baseRoot, "")
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				base = snap
				res.Base.Source = "query-scratch-incremental"
				if baseRes == nil {
					res.Base.Source = "derived"
				}
				putBase(snap, head)
			}
		}
		if !ok {
			r.logf("base's changed packages could not be patched into head's map (%v); querying base in full", baseQErr)
			base, baseErr = r.fullBase(ctx, res, putBaseWhole)
		}
	}
	res.Stats.BaseMS += time.Since(t).Milliseconds()
	return head, base, baseErr, nil
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// queryHead queries head in full: in the user's workspace when it holds
// head's files (or for --uncommitted), else in a scratch copy. It returns
// the query result, the snapshot, the directory queried and the source.
func (r *run) queryHead(ctx context.Context) (*buildpb.QueryResult, *Snapshot, string, string, error) {
	commit := r.headHash.String()
	if r.opts.Uncommitted {
		commit = ""
	}
	// Macro and rule-definition files (the stack flags) only explain a
	// .bzl change; without one they would cost a third more output.
	var extra []string
	if r.bzlChanged {
		extra = bazel.StackFlags
	}
	return r.queryHeadWith(ctx, QueryExpr, func(qr *buildpb.QueryResult, root, checkDisk string) (*Snapshot, []string, error) {
		return buildSnapshot(qr, r.headFS, commit, root, checkDisk, r.extFor(root))
	}, extra...)
}

// snapshotFunc turns a query result (run in root) into a snapshot,
// listing the files it saw on disk (checkDisk, when set) that head lacks.
type snapshotFunc func(qr *buildpb.QueryResult, root, checkDisk string) (*Snapshot, []string, error)

// queryHeadWith runs expr at head (see queryHead) and builds its snapshot.
func (r *run) queryHeadWith(ctx context.Context, expr string, build snapshotFunc, extra ...string) (*buildpb.QueryResult, *Snapshot, string, string, error) {
	if r.opts.Uncommitted || r.headInWorkTree() {
		r.logf("querying head in %s", r.root)
		qr, err := r.bazelAt(r.root).QueryProto(ctx, expr, extra...)
		if err != nil {
			return nil, nil, "", "", inputErr(fmt.Errorf("query head: %w", err))
		}
		r.logf("head's query returned %d targets", len(qr.Target))
		checkDisk := r.root
		if r.opts.Uncommitted {
			checkDisk = ""
		}
		snap, untracked, err := build(qr, r.root, checkDisk)
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
	qr, err := b.QueryProto(ctx, expr, extra...)
	if err != nil {
		return nil, nil, "", "", inputErr(fmt.Errorf("query head: %w", err))
	}
	snap, _, err := build(qr, s.Src(), "")
	if err != nil {
		return nil, nil, "", "", err
	}
	return qr, snap, s.Src(), "query-scratch", nil
}

// queryBase queries base in full in its scratch copy.
func (r *run) queryBase(ctx context.Context) (*Snapshot, error) {
	qr, root, err := r.queryBaseExpr(ctx, QueryExpr)
	if err != nil {
		return nil, err
	}
	snap, _, err := buildSnapshot(qr, r.baseFS, r.baseHash.String(), root, "", r.extFor(root))
	return snap, err
}

// queryBaseExpr runs expr in base's scratch copy; it returns the result
// and the directory queried.
func (r *run) queryBaseExpr(ctx context.Context, expr string) (*buildpb.QueryResult, string, error) {
	if r.opts.CacheDir == "" {
		return nil, "", errNoScratch
	}
	s, err := openScratch(r.repo, r.opts.CacheDir, "base", r.baseHash)
	if err != nil {
		return nil, "", err
	}
	defer s.Close()
	r.logf("querying base %s in %s", short(r.baseHash), s.Src())
	b := r.bazelAt(s.Src(), "--output_base="+s.OutputBase(), fmt.Sprintf("--max_idle_secs=%d", r.opts.ScratchIdleSecs))
	qr, err := b.QueryProto(ctx, expr)
	if err != nil {
		return nil, "", err
	}
	return qr, s.Src(), nil
}

// headIsHEAD reports whether head is the commit checked out (a cheap
// first test before starting a query in the work tree).
func (r *run) headIsHEAD() bool {
	h, err := r.repo.ResolveRevision("HEAD")
	return err == nil && h == r.headHash
}

// headInWorkTree is workTreeIsHead, computed once (started in resolve).
func (r *run) headInWorkTree() bool {
	r.wtOnce.Do(func() {
		if r.wtCh != nil {
			r.wtIs = <-r.wtCh
		} else {
			r.wtIs = r.workTreeIsHead()
		}
	})
	return r.wtIs
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
