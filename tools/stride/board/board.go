// Package board is the releaseboard's "can I release?" board: it reads the
// promotion ledger (refs/stride/ledger) of a repository and the build
// store, both read-only, and serves an overview of the environments and
// services with a verdict per environment, a page per build, per
// environment and per change (pull request), the JSON twin of each under
// /api/..., and live updates by server-sent events.
//
// It is a package of stride, outside stride's internal/, because
// services/releaseboard imports it: the pages are computed from the same
// Go values stride writes (internal/ledger, internal/store,
// internal/status), never from a second reading of their formats.
//
// Nothing the board does writes: the ledger is read without its cache
// (ledger.Ledger.NoCache; new events are read incrementally), the store
// only through its read methods, and no route accepts anything but GET
// and HEAD. Pages are html/template (contextual escaping) under a
// Content-Security-Policy that allows only the board's own script and
// style.
package board

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/status"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Options configure New.
type Options struct {
	// Repo is the repository (a work tree or a bare repository) whose
	// refs/stride/ledger is read.
	Repo string
	// Store is the build store's directory.
	Store string
	// Config is the environments file; "" reads ci/environments.star
	// from Repo's work tree, else from its HEAD commit.
	Config string
	// Title heads the pages (default "Can I release?").
	Title string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Poll is how often the ledger's ref is checked (default 250ms).
	Poll time.Duration
	// Refresh recomputes the verdicts at least this often, for soaks
	// that count down (default 30s).
	Refresh time.Duration
	// StreamFor is how long one live-update connection stays open before
	// the browser reconnects (default 25s; below the server's write
	// timeout).
	StreamFor time.Duration
	// MaxClients bounds the live-update connections (default 1000).
	MaxClients int
	// Trend is how many builds the benchmark charts show (default 20).
	Trend int
	// NoLive skips the robot's dry run: verdicts come from recorded
	// evaluations only.
	NoLive bool
	// EnvRoot is where the local environments run (stride env); ""
	// is env.DefaultRoot of Repo. What each runs (instances, versions,
	// states, restarts) is read every EnvPoll (default 2s).
	EnvRoot string
	EnvPoll time.Duration
}

// Board serves the pages. It is safe for concurrent use.
type Board struct {
	opts  Options
	repo  *gitrepo.Repo
	store *cachedStore
	cfg   *promote.Config
	led   *ledger.Ledger

	// mu guards the repository, the ledger reader and the facts'
	// caches (none is safe for concurrent use); snapMu the snapshot.
	mu     sync.Mutex
	snapMu sync.RWMutex
	snap   *snapshot

	hub    *hub
	cancel context.CancelFunc
	done   chan struct{}
	// commitTimes caches commit times (lead time), under mu.
	commitTimes map[string]time.Time
}

// snapshot is what the pages show at one ledger tip and time.
type snapshot struct {
	facts    *status.Facts
	tip      plumbing.Hash
	at       time.Time
	overview *Overview
	// running is what each local environment runs (nil: none), read at
	// runningAt.
	running   map[string]*env.Status
	runningAt time.Time
}

// New opens the repository and the store and reads them once. Call Run
// to follow the ledger, and Close when done.
func New(ctx context.Context, opts Options) (*Board, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "Can I release?"
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 30 * time.Second
	}
	if opts.StreamFor <= 0 {
		opts.StreamFor = 25 * time.Second
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = 1000
	}
	if opts.Trend <= 0 {
		opts.Trend = 20
	}
	if opts.EnvPoll <= 0 {
		opts.EnvPoll = 2 * time.Second
	}
	if opts.EnvRoot == "" {
		if root, err := env.DefaultRoot(opts.Repo); err == nil {
			opts.EnvRoot = root
		}
	}
	repo, err := gitrepo.Open(opts.Repo)
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	st, err := store.OpenExistingFS(opts.Store)
	if err != nil {
		repo.Close()
		return nil, fmt.Errorf("board: %w", err)
	}
	cfg, err := loadConfig(repo, opts)
	if err != nil {
		repo.Close()
		return nil, err
	}
	led := ledger.Open(repo)
	led.NoCache = true
	b := &Board{opts: opts, repo: repo, store: newCachedStore(st), cfg: cfg, led: led, hub: newHub(opts.MaxClients),
		done: make(chan struct{}), commitTimes: map[string]time.Time{}}
	if err := b.reload(ctx); err != nil {
		repo.Close()
		return nil, err
	}
	return b, nil
}

// loadConfig reads the environments: opts.Config, else the work tree's
// ci/environments.star, else HEAD's.
func loadConfig(repo *gitrepo.Repo, opts Options) (*promote.Config, error) {
	path := opts.Config
	if path == "" && repo.Root() != "" {
		p := filepath.Join(repo.Root(), promote.ConfigFile)
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	if path != "" {
		cfg, err := promote.LoadConfig(path, path)
		if err != nil {
			return nil, fmt.Errorf("board: %w", err)
		}
		return cfg, nil
	}
	head, err := repo.ResolveRevision("HEAD")
	if err != nil {
		return nil, fmt.Errorf("board: no environments file: %w", err)
	}
	data, err := repo.ReadFileAt(head, promote.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("board: read %s at HEAD: %w", promote.ConfigFile, err)
	}
	cfg, err := promote.ParseConfig(promote.ConfigFile+"@HEAD", data)
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	return cfg, nil
}

// reload reads the ledger and the store again and recomputes the
// overview; it returns the events appended since the previous snapshot.
func (b *Board) reload(ctx context.Context) error {
	_, err := b.reloadEvents(ctx)
	return err
}

func (b *Board) reloadEvents(ctx context.Context) ([]ledger.Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.opts.Now()
	facts, err := status.Load(ctx, status.Sources{Config: b.cfg, Repo: b.repo, Ledger: b.led, Store: b.store, Now: now, NoLive: b.opts.NoLive})
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	snap := &snapshot{facts: facts, tip: facts.Log.Tip, at: now, running: b.readRunning(), runningAt: now}
	snap.overview = b.overview(facts, snap.running)
	b.snapMu.Lock()
	prev := b.snap
	b.snap = snap
	b.snapMu.Unlock()
	var fresh []ledger.Event
	if prev != nil {
		n := len(prev.facts.Log.Events)
		if n <= len(facts.Log.Events) {
			fresh = facts.Log.Events[n:]
		}
	}
	return fresh, nil
}

func (b *Board) current() *snapshot {
	b.snapMu.RLock()
	defer b.snapMu.RUnlock()
	return b.snap
}

// Run follows the ledger until ctx ends: when its ref moves (checked
// every Poll) or Refresh passes, the pages are recomputed, and new events
// are sent to the live-update clients.
func (b *Board) Run(ctx context.Context) error {
	defer close(b.done)
	tick := time.NewTicker(b.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			b.hub.close()
			return nil
		case <-tick.C:
		}
		tip, err := b.tip()
		if err != nil {
			continue // a moment of git trouble; the next tick retries
		}
		b.refreshRunning()
		snap := b.current()
		if tip == snap.tip && b.opts.Now().Sub(snap.at) < b.opts.Refresh {
			continue
		}
		// New events go out first (reading them is cheap: only what was
		// appended), with the verdicts as they were; the verdicts follow
		// once recomputed (the robot's dry run reads the store).
		if tip != snap.tip {
			for _, e := range b.appended(snap) {
				b.hub.publish(liveMessage(eventView(e), snap.overview))
			}
		}
		if _, err := b.reloadEvents(ctx); err != nil {
			continue
		}
		b.hub.publish(liveRefresh(b.current().overview))
	}
}

// readRunning reads what each environment runs, when it has a local
// environment (stride env status; read-only).
func (b *Board) readRunning() map[string]*env.Status {
	if b.opts.EnvRoot == "" {
		return nil
	}
	if _, err := os.Stat(b.opts.EnvRoot); err != nil {
		return nil
	}
	out := map[string]*env.Status{}
	for _, e := range b.cfg.Envs {
		if st, err := env.ReadStatus(b.opts.EnvRoot, e.Name); err == nil && (st.Up || len(st.Instances) > 0 || st.Deploy != nil) {
			out[e.Name] = st
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// refreshRunning reads the environments again and, when what they run
// changed, recomputes the overview and sends the verdicts.
func (b *Board) refreshRunning() {
	snap := b.current()
	if b.opts.Now().Sub(snap.runningAt) < b.opts.EnvPoll {
		return
	}
	b.mu.Lock()
	running := b.readRunning()
	next := *snap
	next.runningAt = b.opts.Now()
	changed := !sameJSON(running, snap.running)
	if changed {
		next.running = running
		next.overview = b.overview(snap.facts, running)
	}
	b.mu.Unlock()
	b.snapMu.Lock()
	if b.snap == snap {
		b.snap = &next
	}
	b.snapMu.Unlock()
	if changed {
		b.hub.publish(liveRefresh(next.overview))
	}
}

func sameJSON(a, b interface{}) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// appended reads the events appended to the ledger since snap.
func (b *Board) appended(snap *snapshot) []ledger.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	log, err := b.led.Read()
	if err != nil {
		return nil
	}
	n := len(snap.facts.Log.Events)
	if n > len(log.Events) {
		return nil
	}
	return log.Events[n:]
}

func (b *Board) tip() (plumbing.Hash, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.repo.Ref(ledger.Ref)
}

// Close releases the repository.
func (b *Board) Close() error {
	b.hub.close()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.repo.Close()
}

// cachedStore keeps the manifests read (a build's manifest never
// changes); the list of builds is read each time.
type cachedStore struct {
	store.Store
	mu sync.Mutex
	m  map[string]*store.Manifest
}

func newCachedStore(s store.Store) *cachedStore {
	return &cachedStore{Store: s, m: map[string]*store.Manifest{}}
}

func (c *cachedStore) Manifest(ctx context.Context, build string) (*store.Manifest, error) {
	c.mu.Lock()
	m, ok := c.m[build]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := c.Store.Manifest(ctx, build)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[build] = m
	c.mu.Unlock()
	return m, nil
}

// errNotFound is a page that does not exist (404).
var errNotFound = errors.New("not found")
