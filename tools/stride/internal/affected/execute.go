package affected

import (
	"context"
	"errors"
	"fmt"
	"time"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// The executors: each obtains one side's snapshot from one source of the
// plan (plan.go). A side's goroutine tries its sources in order (obtain);
// an executor that cannot serve the change returns errDeclined (the next
// source is tried) or errGaveUp (a patch is impossible: the next source
// that is not a patch is tried). Derived and patched sources wait for the
// other side's snapshot; a patched source starts its query first, so it
// runs while the other side's map is read or queried.

var (
	// errDeclined: the source cannot serve this change; try the next.
	errDeclined = errors.New("source declined")
	// errGaveUp: an incremental snapshot is impossible; skip the other
	// patched sources.
	errGaveUp = errors.New("incremental snapshot gave up")
	// errReplan: a cached map could not be read; plan again without it.
	errReplan = errors.New("cached map unreadable")
)

// outcome is one side's snapshot and how it was obtained.
type outcome struct {
	snap *Snapshot
	// qr is the query result when the side was queried in full, and root
	// the directory it ran in (base derived from head's query needs them).
	qr   *buildpb.QueryResult
	root string
	src  source
	// failed: base's query failed, which makes every target affected.
	failed error
	ms     int64 // time spent, not counting waits for the other side
}

// sideFuture delivers a side's outcome, once, to the other side and to
// the computation.
type sideFuture struct {
	done chan struct{}
	out  outcome
	err  error
}

func newSideFuture() *sideFuture { return &sideFuture{done: make(chan struct{})} }

// get waits for the outcome.
func (f *sideFuture) get() (outcome, error) {
	<-f.done
	return f.out, f.err
}

// wait is get, or ctx's error when ctx ends first.
func (f *sideFuture) wait(ctx context.Context) (outcome, error) {
	select {
	case <-f.done:
		return f.out, f.err
	case <-ctx.Done():
		return outcome{}, ctx.Err()
	}
}

// obtain runs s's sources in order until one gives its snapshot, stores
// it in the cache and delivers it to s.out. An error cancels the
// computation, but errReplan, which only asks for a new plan.
func (c *computation) obtain(ctx context.Context, p *plan, s, other *side) (err error) {
	var out outcome
	defer func() {
		s.out.out, s.out.err = out, err
		close(s.out.done)
		if errors.Is(err, errReplan) {
			err = nil
		}
	}()
	sources := p.base
	if s.head {
		sources = p.head
	}
	start := time.Now()
	skipPatched := false
	var waited time.Duration
	for _, src := range sources {
		if skipPatched && src.patched() {
			continue
		}
		var w time.Duration
		out, w, err = c.execute(ctx, p, src, s, other)
		waited += w
		switch {
		case err == nil:
			out.src = src
			out.ms = (time.Since(start) - waited).Milliseconds()
			if out.failed == nil && src != srcCached {
				c.store(s, out, other)
			}
			return nil
		case errors.Is(err, errGaveUp):
			skipPatched = true
		case errors.Is(err, errDeclined):
		default:
			return err
		}
	}
	return fmt.Errorf("%s: every source declined (%s)", s.name(), sourceNames(sources, s.head))
}

// execute obtains s's snapshot from src; it returns how long it waited
// for the other side.
func (c *computation) execute(ctx context.Context, p *plan, src source, s, other *side) (outcome, time.Duration, error) {
	switch src {
	case srcCached:
		return c.cached(s)
	case srcDerived:
		return c.derive(ctx, p, s, other)
	case srcPatchedWorkTree, srcPatchedScratch:
		return c.patch(ctx, p, src == srcPatchedScratch, s, other)
	case srcQueryWorkTree:
		out, err := c.queryWorkTree(ctx, p)
		return out, 0, err
	case srcQueryScratch:
		out, err := c.queryScratch(ctx, p, s)
		return out, 0, err
	}
	return outcome{}, 0, fmt.Errorf("%s: no executor for source %d", s.name(), src)
}

// store writes s's snapshot to the cache in the background (head's only
// for a commit). Base derived or patched from head's snapshot, which
// this computation stores too, is stored as a delta against it
// (cache.putDelta): an uncached run waits for this write.
func (c *computation) store(s *side, out outcome, other *side) {
	if s.head && c.opts.Uncommitted {
		return
	}
	var from *Snapshot
	if !s.head && (out.src == srcDerived || out.src.patched()) && !c.opts.Uncommitted {
		if h, err := other.out.get(); err == nil && h.src != srcCached {
			from = h.snap
		}
	}
	c.writes.Add(1)
	go func() {
		defer c.writes.Done()
		var err error
		if from != nil {
			err = c.cache.putDelta(s.key, out.snap, other.key, from)
		} else {
			err = c.cache.put(s.key, out.snap)
		}
		if err != nil {
			c.logf("%v", err)
		}
		if c.shared != nil && s.commit != "" {
			c.shared.upload(s, out.snap)
		}
	}()
}

// cached is s's map from the cache, read while the trees were.
func (c *computation) cached(s *side) (outcome, time.Duration, error) {
	snap := s.loaded.get()
	if snap == nil {
		c.logf("%s's digest map could not be read; planning again without it", s.name())
		return outcome{}, 0, errReplan
	}
	return outcome{snap: snap}, 0, nil
}

// waitOther waits for the other side's snapshot; it declines when there
// is none (base's query failed).
func waitOther(ctx context.Context, other *side) (outcome, time.Duration, error) {
	t := time.Now()
	from, err := other.out.wait(ctx)
	if err == nil && from.snap == nil {
		err = errDeclined
	}
	return from, time.Since(t), err
}

// derive is s's snapshot from the other side's without a query: its file
// digests recomputed (only contents changed), the dirty packages, which
// do not exist at s, dropped.
func (c *computation) derive(ctx context.Context, p *plan, s, other *side) (outcome, time.Duration, error) {
	from, waited, err := waitOther(ctx, other)
	if err != nil {
		return outcome{}, waited, err
	}
	if p.contentOnly {
		// Base from head's full query: the same query result unless a
		// glob saw an added file.
		if addedTargets(c.changes, from.qr, from.snap) {
			c.logf("added files are targets; querying base")
			return outcome{}, waited, errDeclined
		}
		// Re-digesting the query result is needed only when a
		// repository definition reads a changed file.
		if repoCheck(c.changes, from.snap) {
			return outcome{snap: rehashSnapshot(from.snap, s.files, s.commit, c.changes.changed)}, waited, nil
		}
		snap, _, err := buildSnapshot(from.qr, s.files, s.commit, from.root, "", c.extFor(from.root))
		return outcome{snap: snap}, waited, err
	}
	if !repoCheck(c.changes, from.snap) {
		c.logf("a repository definition reads a changed file; querying %s", s.name())
		return outcome{}, waited, errDeclined
	}
	if len(p.dirty) == 0 && !c.opts.Uncommitted {
		// The changed set lists every file whose content differs (for a
		// work tree, patchSnapshot rehashes every file).
		c.logf("derived %s from %s's digest map: only file contents changed", s.name(), other.name())
		return outcome{snap: rehashSnapshot(from.snap, s.files, s.commit, c.changes.changed)}, waited, nil
	}
	snap, _, ok, err := patchSnapshot(from.snap, p.dirty, nil, s.files, s.commit, "", "")
	if err != nil {
		return outcome{}, waited, err
	}
	if !ok {
		return outcome{}, waited, errDeclined
	}
	c.logf("derived %s from %s's digest map: the %d changed packages do not exist at %s", s.name(), other.name(), len(p.dirty), s.name())
	return outcome{snap: snap}, waited, nil
}

// patch is s's snapshot from the other side's, with the dirty packages
// queried at s: in the work tree (head) or in a scratch copy. The query
// starts before the other side's snapshot is ready.
func (c *computation) patch(ctx context.Context, p *plan, inScratch bool, s, other *side) (outcome, time.Duration, error) {
	expr := packagesQuery(p.dirty, s.files)
	var qr *buildpb.QueryResult
	var root, checkDisk string
	var err error
	if inScratch {
		if c.opts.CacheDir == "" {
			return outcome{}, 0, errGaveUp
		}
		qr, root, err = c.queryInScratch(ctx, s, expr)
	} else {
		if !c.opts.Uncommitted && !c.wt.holdsHead() {
			return outcome{}, 0, errDeclined
		}
		c.logf("querying head's %d changed packages in %s", len(p.dirty), c.root)
		root = c.root
		if !c.opts.Uncommitted {
			checkDisk = c.root
		}
		qr, err = c.bazelAt(c.root).QueryProto(ctx, expr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return outcome{}, 0, ctx.Err()
		}
		c.logf("querying %s's changed packages failed; querying %s in full: %v", s.name(), s.name(), err)
		return outcome{}, 0, errGaveUp
	}
	from, waited, err := waitOther(ctx, other)
	if err != nil {
		return outcome{}, waited, err
	}
	if !repoCheck(c.changes, from.snap) {
		c.logf("a repository definition reads a changed file; querying %s in full", s.name())
		return outcome{}, waited, errGaveUp
	}
	snap, untracked, ok, err := patchSnapshot(from.snap, p.dirty, qr, s.files, s.commit, root, checkDisk)
	if err != nil {
		if !s.head {
			return outcome{}, waited, err
		}
		c.logf("patching head's map failed; querying head in full: %v", err)
		return outcome{}, waited, errGaveUp
	}
	if !ok {
		c.logf("the changed packages reach targets %s's map lacks; querying %s in full", other.name(), s.name())
		return outcome{}, waited, errGaveUp
	}
	if len(untracked) > 0 {
		c.logf("the work tree has files head lacks (%s); querying a copy of head", untracked[0])
		return outcome{}, waited, errDeclined
	}
	c.logf("%s: queried the %d changed packages, the rest from %s's digest map", s.name(), len(p.dirty), other.name())
	return outcome{snap: snap}, waited, nil
}

// queryWorkTree queries head in full in the user's workspace, when it
// holds head's files (or for --uncommitted), using the query started
// before the trees were read when there is one and it can serve.
func (c *computation) queryWorkTree(ctx context.Context, p *plan) (outcome, error) {
	if !c.opts.Uncommitted && !c.wt.holdsHead() {
		return outcome{}, errDeclined
	}
	var qr *buildpb.QueryResult
	var snap *Snapshot
	var untracked []string
	var err error
	if e := c.early; e != nil && !p.stacks {
		c.early = nil
		<-e.done
		if e.res.err == nil {
			qr, snap, untracked, err = e.res.stream.finish()
		}
	}
	if qr == nil {
		c.logf("querying head in %s", c.root)
		qr, err = c.bazelAt(c.root).QueryProto(ctx, QueryExpr, stackFlags(p)...)
		if err != nil {
			return outcome{}, inputErr(fmt.Errorf("query head: %w", err))
		}
		checkDisk := c.root
		if c.opts.Uncommitted {
			checkDisk = ""
		}
		snap, untracked, err = buildSnapshot(qr, c.head.files, c.head.commit, c.root, checkDisk, c.extFor(c.root))
	}
	c.logf("head's query returned %d targets", len(qr.Target))
	if err != nil {
		return outcome{}, err
	}
	if len(untracked) > 0 {
		c.logf("the work tree has files head lacks (%s); querying a copy of head", untracked[0])
		return outcome{}, errDeclined
	}
	return outcome{snap: snap, qr: qr, root: c.root}, nil
}

// stackFlags are head's full query's extra flags: macro and
// rule-definition files only explain a .bzl change; without one they
// would cost a third more output.
func stackFlags(p *plan) []string {
	if p.stacks {
		return bazel.StackFlags
	}
	return nil
}

// queryScratch queries s in full in its scratch copy. A base that cannot
// be loaded is not an error: it makes every target affected.
func (c *computation) queryScratch(ctx context.Context, p *plan, s *side) (outcome, error) {
	if c.opts.CacheDir == "" {
		if s.head {
			return outcome{}, inputErr(errNoHeadScratch)
		}
		return outcome{}, c.noScratchErr()
	}
	var extra []string
	if s.head {
		extra = stackFlags(p)
	}
	qr, root, err := c.queryInScratch(ctx, s, QueryExpr, extra...)
	var snap *Snapshot
	if err == nil {
		snap, _, err = buildSnapshot(qr, s.files, s.commit, root, "", c.extFor(root))
	}
	if err != nil {
		if s.head {
			return outcome{}, inputErr(fmt.Errorf("query head: %w", err))
		}
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		c.logf("base %s could not be queried; treating every target as affected: %v", short(s.hash), err)
		return outcome{failed: err}, nil
	}
	return outcome{snap: snap, qr: qr, root: root}, nil
}

// queryInScratch runs expr in s's scratch copy; it returns the result
// and the directory queried.
func (c *computation) queryInScratch(ctx context.Context, s *side, expr string, extra ...string) (*buildpb.QueryResult, string, error) {
	sc, err := openScratch(c.repo, c.opts.CacheDir, s.name(), s.hash)
	if err != nil {
		return nil, "", err
	}
	defer sc.Close()
	c.logf("querying %s %s in %s", s.name(), short(s.hash), sc.Src())
	b := c.bazelAt(sc.Src(), "--output_base="+sc.OutputBase(), fmt.Sprintf("--max_idle_secs=%d", c.opts.ScratchIdleSecs))
	qr, err := b.QueryProto(ctx, expr, extra...)
	if err != nil {
		return nil, "", err
	}
	return qr, sc.Src(), nil
}

// streamed is head's full query run before the trees were read: the
// snapshot built while it streamed.
type streamed struct {
	stream *snapshotStream
	err    error
}

// streamHead runs head's full query in the work tree, started before the
// trees are read (treesRead closes when they are). Once they are, it
// digests the targets as Bazel streams them (snapshotStream); the work
// tree query finishes the snapshot. The snapshot is of no use when a .bzl
// file changed (the query lacks the stack flags).
func (c *computation) streamHead(ctx context.Context, treesRead <-chan struct{}) streamed {
	var st *snapshotStream
	waited := false
	var all []*buildpb.Target
	h := c.head
	err := c.bazelAt(c.root).QueryStream(ctx, QueryExpr, func(t *buildpb.Target) error {
		if !waited {
			<-treesRead
			waited = true
			if h.files != nil && !c.stacks {
				st = newSnapshotStream(h.files, h.commit, c.root, c.root, c.extFor(c.root))
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
		// use: the work tree query will not finish it.
		<-treesRead
		if h.files != nil && !c.stacks {
			st = newSnapshotStream(h.files, h.commit, c.root, c.root, c.extFor(c.root))
		} else {
			st = &snapshotStream{all: all, err: errNoStream}
		}
	}
	return streamed{stream: st, err: err}
}

var errNoStream = errors.New("no snapshot was built while head's query streamed")

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
