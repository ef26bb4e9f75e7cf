package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// Ledger is the ledger of one repository.
type Ledger struct {
	repo *gitrepo.Repo
	// Now gives event times (tests); nil is time.Now.
	Now func() time.Time
	// NoCache reads every event from git (verify, tests).
	NoCache bool
	// NoLock skips the local writers' lock, leaving every race to the
	// compare-and-swap (as between machines); for tests.
	NoLock bool

	commonDir string // the git directory, once known
	held      bool   // Lock is held: Update does not lock again
	memo      *Log   // the last log read or written: reused while the ref does not move, extended when it moves on
}

// Lock takes the local writers' lock for a whole sequence of reads and
// appends (a run of the robot), so that robots on one machine take turns.
// Update called meanwhile does not lock again. Call the returned function
// to release it.
func (l *Ledger) Lock() (unlock func()) {
	release := l.lock()
	l.held = true
	return func() {
		l.held = false
		release()
	}
}

// Open returns the ledger of repo.
func Open(repo *gitrepo.Repo) *Ledger { return &Ledger{repo: repo} }

// Log is the ledger read at one commit: every event, oldest first.
type Log struct {
	Tip    plumbing.Hash
	Events []Event
}

// Read reads the whole ledger (an empty Log when the ref does not exist).
func (l *Ledger) Read() (*Log, error) {
	tip, err := l.repo.Ref(Ref)
	if err != nil {
		return nil, err
	}
	if l.memo != nil && l.memo.Tip == tip {
		return l.memo, nil
	}
	log, err := l.readAt(tip)
	if err == nil {
		l.memo = log
	}
	return log, err
}

// cacheFile is the cache's content (gob: it decodes several times
// faster than JSON, and nothing but this package reads it).
type cacheFile struct {
	Schema string
	Tip    string
	Events []Event
}

const cacheSchema = "stride.ledger-cache/v1"

// stateDir is the directory of the cache and the lock file (in the git
// directory), or "" if it cannot be known.
func (l *Ledger) stateDir() string {
	if l.commonDir == "" {
		dir, err := l.repo.CommonDir()
		if err != nil {
			return ""
		}
		l.commonDir = dir
	}
	return filepath.Join(l.commonDir, "stride")
}

func (l *Ledger) cachePath() string {
	if l.NoCache {
		return ""
	}
	if dir := l.stateDir(); dir != "" {
		return filepath.Join(dir, "ledger-cache.gob")
	}
	return ""
}

// lock takes the local writers' lock (an flock in the git directory), so
// that writers on one machine take turns instead of losing races over and
// over. Correctness does not depend on it: the compare-and-swap decides.
// Without a lock file, it returns a no-op.
func (l *Ledger) lock() func() {
	dir := l.stateDir()
	if l.NoLock || dir == "" || os.MkdirAll(dir, 0o755) != nil {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(dir, "ledger.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

func (l *Ledger) loadCache(path string) *cacheFile {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var c cacheFile
	if gob.NewDecoder(bufio.NewReader(f)).Decode(&c) != nil || c.Schema != cacheSchema || len(c.Events) == 0 {
		return nil
	}
	return &c
}

// readAt reads the events of the chain ending at tip. Events cached up to
// a commit of the chain are taken from the cache; the rest are read from
// git, and the cache is rewritten.
func (l *Ledger) readAt(tip plumbing.Hash) (*Log, error) {
	log := &Log{Tip: tip}
	if tip.IsZero() {
		return log, nil
	}
	path := l.cachePath()
	// Events known up to a commit of the chain: the last log this
	// Ledger read (a long-running reader such as the releaseboard reads
	// only what was appended since), else the cache.
	var stop plumbing.Hash
	var known []Event
	if l.memo != nil {
		stop, known = l.memo.Tip, l.memo.Events
	} else if cache := l.loadCache(path); cache != nil {
		stop, known = plumbing.NewHash(cache.Tip), cache.Events
	}
	var fresh []Event // newest first
	h := tip
	for !h.IsZero() && h != stop {
		e, parent, err := l.readEvent(h)
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, e)
		h = parent
	}
	if !stop.IsZero() && h == stop {
		log.Events = append(log.Events, known...)
	}
	base := len(log.Events)
	for i := len(fresh) - 1; i >= 0; i-- {
		e := fresh[i]
		e.Seq = base + len(fresh) - 1 - i
		log.Events = append(log.Events, e)
	}
	if path != "" && len(fresh) > 0 {
		// Best effort: a cache that cannot be written is read from git next time.
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(cacheFile{Schema: cacheSchema, Tip: tip.String(), Events: log.Events}); err == nil {
			if os.MkdirAll(filepath.Dir(path), 0o755) == nil {
				_ = atomicfile.Write(path, buf.Bytes())
			}
		}
	}
	return log, nil
}

// readEvent reads the event of commit h and returns it with its parent.
func (l *Ledger) readEvent(h plumbing.Hash) (Event, plumbing.Hash, error) {
	c, err := l.repo.CommitObject(h)
	if err != nil {
		return Event{}, plumbing.ZeroHash, fmt.Errorf("ledger: %w", err)
	}
	if len(c.ParentHashes) > 1 {
		return Event{}, plumbing.ZeroHash, fmt.Errorf("ledger: commit %s has %d parents; the ledger is a single chain", h, len(c.ParentHashes))
	}
	b, err := l.repo.ReadFileAt(h, EventFile)
	if err != nil {
		return Event{}, plumbing.ZeroHash, fmt.Errorf("ledger: commit %s: %w", h, err)
	}
	e, err := parseEvent("ledger commit "+h.String()+": "+EventFile, b)
	if err != nil {
		return Event{}, plumbing.ZeroHash, err
	}
	e.Commit = h.String()
	var parent plumbing.Hash
	if len(c.ParentHashes) == 1 {
		parent = c.ParentHashes[0]
	}
	return e, parent, nil
}

// NewID returns a new random event ID (16 hex digits).
func NewID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Append appends events unconditionally (see Update).
func (l *Ledger) Append(ctx context.Context, events ...Event) ([]Event, error) {
	return l.Update(ctx, func(*Log) ([]Event, error) { return events, nil })
}

// Update is the ledger's transaction: it reads the ledger, asks decide
// what to append given it, and appends that with one compare-and-swap of
// the ref. When another writer moved the ref first, it reads again and
// calls decide again, so a decision is always made on the ledger it is
// appended to: each event is appended exactly once, and two robots never
// both promote the same build. decide returning no events appends nothing.
// Events get an ID, the schema and a time when they have none; the
// appended events are returned with their commits.
func (l *Ledger) Update(ctx context.Context, decide func(*Log) ([]Event, error)) ([]Event, error) {
	now := l.Now
	if now == nil {
		now = time.Now
	}
	if !l.held {
		unlock := l.lock()
		defer unlock()
	}
	for attempt := 0; ; attempt++ {
		log, err := l.Read()
		if err != nil {
			return nil, err
		}
		events, err := decide(log)
		if err != nil || len(events) == 0 {
			return nil, err
		}
		out := make([]Event, len(events))
		parent := log.Tip
		for i, e := range events {
			if e.ID == "" {
				e.ID = NewID()
			}
			if e.Time.IsZero() {
				e.Time = now().UTC().Truncate(time.Millisecond)
			}
			e.Schema = Schema
			data, err := e.marshal()
			if err != nil {
				return nil, err
			}
			h, err := l.repo.CommitFiles(gitrepo.CommitSpec{
				Files: map[string][]byte{EventFile: data}, Parent: parent,
				Message: e.subject() + "\n", Name: "stride ledger", Email: "stride-ledger@localhost.invalid", When: e.Time,
			})
			if err != nil {
				return nil, fmt.Errorf("ledger: %w", err)
			}
			e.Commit, e.Seq = h.String(), len(log.Events)+i
			out[i] = e
			parent = h
		}
		err = l.repo.UpdateRef(Ref, parent, log.Tip, "stride ledger: "+out[len(out)-1].subject())
		if err == nil {
			all := make([]Event, 0, len(log.Events)+len(out))
			l.memo = &Log{Tip: parent, Events: append(append(all, log.Events...), out...)}
			return out, nil
		}
		if !errors.Is(err, gitrepo.ErrRefChanged) {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		// Lost a race: back off a random while (growing) and decide again.
		max := int64(2 << uint(minInt(attempt, 6))) // 2ms .. 128ms
		n, _ := rand.Int(rand.Reader, big.NewInt(max))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: append after %d lost races: %w", attempt+1, ctx.Err())
		case <-time.After(time.Duration(n.Int64()+1) * time.Millisecond):
		}
	}
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}
