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
// and query flags, and head's map is the next push's base. Where each
// side's snapshot comes from (the cache, the other side's snapshot
// derived or patched with a query of the changed packages, a full query
// in the work tree or in a scratch copy of the commit, or one query of
// the change's reverse dependencies) is decided by a pure function,
// makePlan, whose table is in plan.go; the executors that obtain the
// snapshots are in execute.go, the incremental snapshots in
// incremental.go, the rdeps path in rdeps.go and scratch copies in
// scratch.go.
package affected

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/sync/errgroup"

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
	// Shared, when set, is a store of digest maps shared between
	// machines (shared.go): maps missing from the local cache are looked
	// up there before planning, and the maps computed are uploaded
	// (unless SharedReadOnly).
	Shared         MapStore
	SharedReadOnly bool
	// Warn receives warnings a user should see without -v (a shared store
	// that does not answer: one line per run); nil: Log only.
	Warn io.Writer
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
	ch := opts.Change
	if ch == nil {
		repo, err := gitrepo.Open(opts.Dir)
		if err != nil {
			return nil, inputErr(err)
		}
		if ch, err = change.Resolve(repo, change.Options{Base: opts.Base, Head: opts.Head, Uncommitted: opts.Uncommitted}); err != nil {
			return nil, inputErr(err)
		}
	}
	opts.Uncommitted = ch.Uncommitted
	repo := ch.Repo
	if repo.Root() == "" {
		return nil, inputErr(fmt.Errorf("%s: a bare repository has no workspace to query", opts.Dir))
	}
	c := &computation{opts: opts, change: ch, repo: repo, root: repo.Root(), cache: &cache{dir: opts.CacheDir, limit: opts.CacheLimit}, start: start, ctx: ctx}
	c.sides()
	res, err := c.run(ctx)
	if err != nil {
		return nil, err
	}
	res.Stats.DurationMS = time.Since(start).Milliseconds()
	return res, nil
}

// computation is one Compute call: the two sides, the Bazel that queries
// them, and what its goroutines share.
type computation struct {
	opts   Options
	change *change.Change
	repo   *gitrepo.Repo
	root   string
	cache  *cache
	start  time.Time
	ctx    context.Context

	base, head *side
	changes    *changeSet
	version    string

	// client is the Bazel client the launcher execs in root, when known;
	// else learnClient is the file where a query records it.
	client, learnClient string

	// wt says whether the work tree can stand for head in a query.
	wt *workTree
	// early is head's full query, started before the trees were read
	// (startHeadEarly); the first work-tree query of head takes it.
	early *earlyQuery
	// stacks: a .bzl file changed (plan.stacks), set before treesRead
	// closes, for the early query.
	stacks bool

	// writes are the digest maps being written to the cache (and
	// uploaded to the shared store).
	writes sync.WaitGroup
	// shared is the use of Options.Shared; nil without a store.
	shared *shared

	mu   sync.Mutex
	exts map[string]*extContent // by query root (guarded by mu)
}

// side is one side of the comparison.
type side struct {
	head bool
	rev  string // as given, or how it was resolved
	hash plumbing.Hash
	// commit is the commit its snapshot records: "" for a work tree.
	commit string
	files  *fileSet
	key    string   // its digest map's cache key
	loaded *mapLoad // its map read from the cache, when it is there
	// remote: loaded came from the shared store, not the cache directory.
	remote bool
	out    *sideFuture
}

func (s *side) name() string {
	if s.head {
		return "head"
	}
	return "base"
}

// extFor is the source of go_repository file contents for a query run in
// root: the workspace, whose output base Bazel is asked for (once, and
// only on a cache miss), or a scratch copy, whose output base is beside
// it.
func (c *computation) extFor(root string) extSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.exts[root]; ok {
		return e
	}
	var ob func() (string, error)
	if root == c.root {
		var once sync.Once
		var dir string
		var err error
		ob = func() (string, error) {
			once.Do(func() {
				dir, err = c.bazelAt(c.root).Info(c.ctx, "output_base")
				if err != nil {
					c.logf("bazel info output_base: %v (go_repository targets are digested by their definitions)", err)
				}
			})
			return dir, err
		}
	} else {
		dir := scratchOutputBase(root)
		ob = func() (string, error) { return dir, nil }
	}
	if c.exts == nil {
		c.exts = map[string]*extContent{}
	}
	e := newExtContent(c.opts.CacheDir, ob)
	c.exts[root] = e
	return e
}

func (c *computation) logf(format string, a ...interface{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.opts.Log, "stride affected: [%.3fs] "+format+"\n", append([]interface{}{time.Since(c.start).Seconds()}, a...)...)
}

// sides sets up base and head from the change.
func (c *computation) sides() {
	c.head = &side{head: true, rev: c.change.HeadRev, hash: c.change.Head}
	if !c.opts.Uncommitted {
		c.head.commit = c.head.hash.String()
	}
	c.base = &side{rev: c.change.BaseRev, hash: c.change.Base, commit: c.change.Base.String()}
}

// useRenames replaces the renames diffFiles found with the change's (the
// one rename rule, see package change), so that a reason says "source
// renamed" exactly when the change's file list says renamed. Asked only
// when a file was added: only then can a rename be.
func (c *computation) useRenames(cs *changeSet) error {
	for _, st := range cs.changed {
		if st == "added" {
			ren, err := c.change.Renames()
			if err != nil {
				return inputErr(fmt.Errorf("changed files: %w", err))
			}
			cs.renamed = ren
			return nil
		}
	}
	return nil
}

// readTrees reads both sides' files (git ls-tree processes, at once).
func (c *computation) readTrees() error {
	var g errgroup.Group
	g.Go(func() error {
		fs, err := commitFiles(c.repo, c.base.hash)
		if err != nil {
			return inputErr(fmt.Errorf("base %s: %w", c.base.rev, err))
		}
		c.base.files = fs
		return nil
	})
	g.Go(func() error {
		var fs *fileSet
		var err error
		if c.opts.Uncommitted {
			fs, err = workTreeFiles(c.repo, c.head.hash)
		} else {
			fs, err = commitFiles(c.repo, c.head.hash)
		}
		if err != nil {
			return inputErr(fmt.Errorf("head %s: %w", c.head.rev, err))
		}
		c.head.files = fs
		return nil
	})
	return g.Wait()
}

func (c *computation) bazelAt(dir string, startup ...string) *bazel.Bazel {
	all := append(append([]string{}, c.opts.Startup...), startup...)
	b := &bazel.Bazel{Binary: c.opts.Bazel, Dir: dir, Startup: all}
	if dir == c.root {
		b.Startup = append(b.Startup, c.opts.WorkspaceStartup...)
		// The client the launcher picks for this workspace (scratch
		// copies may pick another: their .bazelversion is base's).
		b.Client, b.LearnClient = c.client, c.learnClient
	}
	return b
}

// run plans and obtains both snapshots and compares them. Every
// goroutine it starts (the cached maps' reads, git status, the early
// query of head, the two sides' executors) is in one errgroup: the first
// error cancels the rest, and run returns only once all have ended, so
// no Bazel command or git process outlives Compute.
func (c *computation) run(ctx context.Context) (_ *Result, err error) {
	res := &Result{
		Schema: Schema,
		Kind:   c.opts.Kind,
		Base:   Side{Rev: c.base.rev, Commit: c.base.hash.String()},
		Head:   Side{Rev: c.head.rev, Commit: c.head.hash.String(), Uncommitted: c.opts.Uncommitted},
	}
	versionFile := ""
	if c.opts.CacheDir != "" {
		versionFile = bazel.VersionCacheFile(c.opts.CacheDir)
	}
	version, client, err := c.bazelAt(c.root).CachedVersionAndClient(ctx, versionFile)
	if err != nil {
		return nil, inputErr(err)
	}
	c.version = version
	if c.client = client; client == "" {
		c.learnClient = versionFile
	}
	c.logf("bazel: %s", version)
	flags := append(append([]string{}, bazel.ProtoQueryFlags...), QueryExpr)
	c.head.key = cacheKey(c.head.hash.String(), version, flags)
	c.base.key = cacheKey(c.base.hash.String(), version, flags)
	st := planState{
		sameCommit:     c.base.hash == c.head.hash,
		uncommitted:    c.opts.Uncommitted,
		headCheckedOut: c.headCheckedOut(),
		cacheDir:       c.opts.CacheDir != "",
		noFastPath:     c.opts.NoFastPath,
		baseCached:     c.cache.has(c.base.key),
		headCached:     !c.opts.Uncommitted && c.cache.has(c.head.key),
	}
	if c.opts.Shared != nil {
		c.shared = &shared{store: c.opts.Shared, readOnly: c.opts.SharedReadOnly, c: c}
		defer func() { res.Shared = c.shared.result() }()
		var missing []*side
		if !st.baseCached && !st.sameCommit {
			missing = append(missing, c.base)
		}
		if !st.headCached && !c.opts.Uncommitted {
			missing = append(missing, c.head)
		}
		if len(missing) > 0 {
			c.shared.fetch(ctx, missing)
			st.baseCached = st.baseCached || c.base.remote
			st.headCached = st.headCached || c.head.remote
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	// treesRead closes once both trees are read and c.stacks is set (or
	// reading failed): the early query digests what streams after it.
	treesRead := make(chan struct{})
	var treesOnce sync.Once
	markTreesRead := func() { treesOnce.Do(func() { close(treesRead) }) }
	defer func() {
		if err != nil {
			cancel()
		}
		markTreesRead()
		_ = g.Wait()
		cancel()
		if err != nil || !c.opts.DeferWrites {
			c.writes.Wait()
			res.wait = nil
		}
	}()
	res.wait = c.writes.Wait

	c.startBackground(gctx, g, st, treesRead)
	if err := c.readTrees(); err != nil {
		return nil, err
	}
	c.changes = diffFiles(c.base.files, c.head.files)
	if err := unreadSubmodules(c.changes, c.base.files, c.head.files); err != nil {
		return nil, err
	}
	if err := c.useRenames(c.changes); err != nil {
		return nil, err
	}
	c.changes.markTestOnlyRC(c.base.files, c.head.files)
	c.changes.outsideRCClean = outsideRCClean(c.root)
	p := makePlan(st, c.changes, c.base.files, c.head.files)
	c.stacks = p.stacks
	markTreesRead()
	c.logf("base %s, head %s: %d files changed", short(c.base.hash), short(c.head.hash), len(c.changes.changed))

	if p.head[0] == srcSame {
		res.Base.Source, res.Head.Source = srcSame.name(false), srcSame.name(true)
		empty := &Snapshot{Format: FormatVersion, Nodes: map[string]*Node{}, Repos: map[string]*Repo{}, Globals: map[string]string{}}
		res.fill(&comparison{base: empty, head: empty, files: c.changes, reasons: map[string][]Reason{}})
		return res, nil
	}
	if p.rdeps != nil {
		t := time.Now()
		cmp, err := c.rdepsPath(gctx, *p.rdeps)
		if err != nil {
			return nil, err
		}
		if cmp != nil {
			res.Head.Source, res.Base.Source = srcRdeps.name(true), srcRdeps.name(false)
			res.fill(cmp)
			c.filterIncompatibleAtHead(ctx, res, cmp.head)
			// The maps hold only the affected part of the graph.
			res.Stats.TargetsAtHead, res.Stats.NodesAtHead = 0, 0
			res.Stats.HeadMS = time.Since(t).Milliseconds()
			c.logf("compared: %d targets affected", len(res.Targets))
			return res, nil
		}
	}
	head, base, err := c.obtainBoth(gctx, g, st, p)
	if err != nil {
		return nil, err
	}
	res.Head.Source, res.Base.Source = head.src.name(true), base.src.name(false)
	if head.src == srcCached && c.head.remote {
		res.Head.Source = "remote-cache"
	}
	if base.src == srcCached && c.base.remote {
		res.Base.Source = "remote-cache"
	}
	if base.failed != nil {
		res.Base.Source = "failed"
	}
	res.Stats.HeadMS, res.Stats.BaseMS = head.ms, base.ms
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res.fill(compareChanges(base.snap, head.snap, c.base.files, c.head.files, c.changes, base.failed))
	c.filterIncompatibleAtHead(ctx, res, head.snap)
	c.logf("compared: %d targets affected", len(res.Targets))
	return res, nil
}

// startBackground starts what runs while the trees are read: git status
// (does the work tree hold head?), the cached maps' decoding, and, when
// every plan queries head in full, that query (which digests what
// streams once treesRead closes).
func (c *computation) startBackground(gctx context.Context, g *errgroup.Group, st planState, treesRead <-chan struct{}) {
	c.wt = &workTree{checkedOut: st.headCheckedOut && !st.uncommitted, done: make(chan struct{})}
	g.Go(func() error {
		c.wt.check(c.repo)
		return nil
	})
	for _, s := range []*side{c.base, c.head} {
		if (s.head && st.headCached || !s.head && st.baseCached) && !s.remote {
			s := s
			s.loaded = &mapLoad{done: make(chan struct{})}
			g.Go(func() error {
				s.loaded.snap = c.cache.get(s.key)
				close(s.loaded.done)
				return nil
			})
		}
	}
	if startHeadEarly(st) {
		e := &earlyQuery{done: make(chan struct{})}
		c.early = e
		g.Go(func() error {
			e.res = c.streamHead(gctx, treesRead)
			close(e.done)
			return nil
		})
		c.logf("querying head in %s (started before reading the trees)", c.root)
	}
}

// obtainBoth runs both sides' executors under the plan and returns their
// outcomes. A cached map that cannot be read makes it plan again without
// it (st's other fields are as they were).
func (c *computation) obtainBoth(gctx context.Context, g *errgroup.Group, st planState, p plan) (head, base outcome, err error) {
	for {
		if p.err != nil {
			if errors.Is(p.err, errNoScratch) {
				return head, base, c.noScratchErr()
			}
			return head, base, inputErr(p.err)
		}
		c.logf("plan: head from %s; base from %s", sourceNames(p.head, true), sourceNames(p.base, false))
		c.head.out, c.base.out = newSideFuture(), newSideFuture()
		pl := p
		g.Go(func() error { return c.obtain(gctx, &pl, c.head, c.base) })
		g.Go(func() error { return c.obtain(gctx, &pl, c.base, c.head) })
		var herr, berr error
		head, herr = c.head.out.get()
		base, berr = c.base.out.get()
		if !errors.Is(herr, errReplan) && !errors.Is(berr, errReplan) {
			if herr != nil || berr != nil {
				// The first error, not the cancellation it caused.
				if werr := g.Wait(); werr != nil {
					return head, base, werr
				}
				if herr != nil {
					return head, base, herr
				}
				return head, base, berr
			}
			return head, base, nil
		}
		// A cached map that could not be read: plan without it.
		st.headCached = st.headCached && c.head.loaded.get() != nil
		st.baseCached = st.baseCached && c.base.loaded.get() != nil
		p = makePlan(st, c.changes, c.base.files, c.head.files)
	}
}

// noScratchErr is the input error of a base that needs a scratch copy
// when there is no cache directory.
func (c *computation) noScratchErr() error {
	return inputErr(fmt.Errorf("base %s needs a Bazel query of its own (the change is not one the rdeps path takes), which runs in a copy of base under the cache directory; run with a --cache-dir", short(c.base.hash)))
}

func sourceNames(ss []source, head bool) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.name(head)
	}
	return strings.Join(names, ", then ")
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// headCheckedOut reports whether head is the commit checked out (a cheap
// first test before starting a query in the work tree; workTree checks
// the rest).
func (c *computation) headCheckedOut() bool {
	h, err := c.repo.ResolveRevision("HEAD")
	return err == nil && h == c.head.hash
}

// workTree says whether the user's work tree can stand for the head
// commit in a query: HEAD is head (checkedOut), and git status shows no
// file that shapes the query result (BUILD, .bzl, WORKSPACE, settings)
// changed or deleted. It is found out in the background while the trees
// are read. Untracked files that a glob picks up are caught after the
// query.
type workTree struct {
	checkedOut bool
	done       chan struct{}
	holds      bool
}

// check runs git status (when HEAD is head) and records the answer.
func (w *workTree) check(repo *gitrepo.Repo) {
	defer close(w.done)
	if !w.checkedOut {
		return
	}
	changes, err := repo.WorkTreeChanges()
	if err != nil {
		return
	}
	for _, c := range changes {
		// Untracked and modified files are fine: contents come from git,
		// and a query that lists an untracked file is caught afterwards.
		if c.Deleted || graphFile(c.Path) {
			return
		}
	}
	w.holds = true
}

// holdsHead waits for check's answer.
func (w *workTree) holdsHead() bool {
	<-w.done
	return w.holds
}

// mapLoad is a side's digest map being read from the cache.
type mapLoad struct {
	done chan struct{}
	snap *Snapshot // nil: missing or unreadable
}

func (m *mapLoad) get() *Snapshot {
	if m == nil {
		return nil
	}
	<-m.done
	return m.snap
}

// earlyQuery is head's full query started before the trees were read.
type earlyQuery struct {
	done chan struct{}
	res  streamed
}
