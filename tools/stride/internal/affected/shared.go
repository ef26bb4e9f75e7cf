package affected

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Shared digest maps: runners that start with an empty cache directory
// (hosted CI) get the maps other runners computed from a store they share
// (remotecache.Blobs over bazel-remote's HTTP CAS/AC; docs/scale-out.md),
// so that a push's base, whose map the previous push's runner computed as
// its head, costs no query. Before planning, each side whose map is not in
// the local cache is looked up there; a map found is checked (schema, key,
// commit, consistency) and used as a cached one, and written to the local
// cache. Every map the computation obtained otherwise (queried, derived,
// patched) is uploaded after it is computed, whole (not as a delta).
//
// A map depends only on the commit, the Bazel version and the query
// flags, which its key covers, not on the machine: paths under the
// workspace are stored relative to it (the query's absolute paths are
// replaced by %workspace%), go_repository contents are git-independent
// hashes of files, and output-base paths appear nowhere
// (TestMapsAreMachineIndependent compares the encodings from two clones
// at different paths with different output bases).

// MapStore is a store of digest maps shared between machines.
type MapStore interface {
	// Get returns the blob stored under key; nil and no error when there
	// is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key.
	Put(ctx context.Context, key string, data []byte) error
	// String names the store (a URL, password redacted) for messages.
	String() string
}

// MapNamespace names stride's digest maps in a shared store: the wire
// format below. A change to it gets a new version.
const MapNamespace = "stride.affected-map/v1"

// SharedTimeout bounds a lookup of both sides' maps in the shared store.
const SharedTimeout = 60 * time.Second

// SharedMaps says what the computation did with the shared store
// (Result.Shared).
type SharedMaps struct {
	Store string `json:"store"`
	// Got are the sides ("base", "head") whose maps came from it.
	Got []string `json:"got,omitempty"`
	// Note says why it was not used, or what went wrong with it (a
	// store that does not answer, a map that was refused).
	Note string `json:"note,omitempty"`
}

// wireMap is a digest map as shared: the disk form, with the maps of the
// Snapshot as sorted slices, so that one map encodes to the same bytes on
// every machine (gob writes maps in iteration order).
type wireMap struct {
	Key       string
	Map       diskSnapshot // Repos, Globals, Parent and Changed unset
	RepoNames []string
	Repos     []Repo
	Globals   []string // name, digest, name, digest...
}

// encodeShared is s's shared encoding under key: MapNamespace, a newline,
// then wireMap in gob.
func encodeShared(key string, s *Snapshot) ([]byte, error) {
	d := toDisk(s)
	w := wireMap{Key: key, Map: *d}
	w.Map.Repos, w.Map.Globals = nil, nil
	for name := range s.Repos {
		w.RepoNames = append(w.RepoNames, name)
	}
	sort.Strings(w.RepoNames)
	for _, name := range w.RepoNames {
		w.Repos = append(w.Repos, *s.Repos[name])
	}
	names := make([]string, 0, len(s.Globals))
	for name := range s.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w.Globals = append(w.Globals, name, s.Globals[name])
	}
	var buf bytes.Buffer
	buf.WriteString(MapNamespace + "\n")
	if err := gob.NewEncoder(&buf).Encode(&w); err != nil {
		return nil, fmt.Errorf("encode digest map %s: %w", key, err)
	}
	return buf.Bytes(), nil
}

// decodeShared is the map in b, which must be key's map of commit; an
// error says why it is refused.
func decodeShared(b []byte, key, commit string) (*Snapshot, error) {
	if !bytes.HasPrefix(b, []byte(MapNamespace+"\n")) {
		return nil, errors.New("not a " + MapNamespace + " map")
	}
	var w wireMap
	if err := gob.NewDecoder(bytes.NewReader(b[len(MapNamespace)+1:])).Decode(&w); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	switch {
	case w.Key != key:
		return nil, fmt.Errorf("the map of %s, not %s", w.Key, key)
	case w.Map.Format != FormatVersion:
		return nil, fmt.Errorf("digest format %d, want %d", w.Map.Format, FormatVersion)
	case w.Map.Commit != commit:
		return nil, fmt.Errorf("the map of commit %q, not %s", w.Map.Commit, commit)
	case w.Map.Parent != "" || len(w.Map.Changed) > 0 || len(w.Map.Removed) > 0:
		return nil, errors.New("a delta, not a whole map")
	case len(w.RepoNames) != len(w.Repos) || len(w.Globals)%2 != 0:
		return nil, errors.New("inconsistent repositories or globals")
	}
	w.Map.Repos = make(map[string]*Repo, len(w.Repos))
	for i, name := range w.RepoNames {
		r := w.Repos[i]
		w.Map.Repos[name] = &r
	}
	w.Map.Globals = make(map[string]string, len(w.Globals)/2)
	for i := 0; i < len(w.Globals); i += 2 {
		w.Map.Globals[w.Globals[i]] = w.Globals[i+1]
	}
	s := w.Map.snapshot()
	if s == nil {
		return nil, errors.New("inconsistent nodes")
	}
	return s, nil
}

// shared is the computation's use of Options.Shared.
type shared struct {
	store    MapStore
	readOnly bool
	c        *computation

	mu   sync.Mutex
	info SharedMaps
	// warned: a problem was reported; later ones go to the log only.
	warned bool
}

// problem records and reports a problem with the store: the first one on
// the warning writer too (a store that is down fails every call after
// the first at once: one warning per run).
func (sh *shared) problem(format string, a ...interface{}) {
	msg := fmt.Sprintf(format, a...)
	sh.mu.Lock()
	first := !sh.warned
	sh.warned = true
	if sh.info.Note == "" {
		sh.info.Note = msg
	}
	sh.mu.Unlock()
	sh.c.logf("%s", msg)
	if first && sh.c.opts.Warn != nil {
		fmt.Fprintf(sh.c.opts.Warn, "stride affected: warning: %s\n", msg)
	}
}

// fetch looks up in the store the maps of the sides that are not in the
// local cache, at once, and hands those it can use to the sides as
// loaded maps (and to the local cache, in the background).
func (sh *shared) fetch(ctx context.Context, sides []*side) {
	ctx, cancel := context.WithTimeout(ctx, SharedTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range sides {
		s := s
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			b, err := sh.store.Get(ctx, s.key)
			if err != nil {
				sh.problem("shared digest maps: %s's map: %v; computing without it", s.name(), err)
				return
			}
			if b == nil {
				sh.c.logf("shared digest maps: no map of %s %s in %s", s.name(), short(s.hash), sh.store)
				return
			}
			snap, err := decodeShared(b, s.key, s.commit)
			if err != nil {
				sh.problem("shared digest maps: refused %s's map from %s (%d bytes): %v; computing it", s.name(), sh.store, len(b), err)
				return
			}
			sh.c.logf("shared digest maps: got %s's map of %s (%d bytes, %d targets) from %s in %.3fs", s.name(), short(s.hash), len(b), len(snap.Nodes), sh.store, time.Since(t).Seconds())
			s.loaded = &mapLoad{done: make(chan struct{}), snap: snap}
			close(s.loaded.done)
			s.remote = true
		}()
	}
	wg.Wait()
	for _, s := range sides {
		if s.remote {
			sh.info.Got = append(sh.info.Got, s.name())
			s := s
			sh.c.writes.Add(1)
			go func() {
				defer sh.c.writes.Done()
				if err := sh.c.cache.put(s.key, s.loaded.snap); err != nil {
					sh.c.logf("%v", err)
				}
			}()
		}
	}
}

// upload stores a map the computation obtained in the store (called in
// the background, after it is in the local cache).
func (sh *shared) upload(s *side, snap *Snapshot) {
	if sh.readOnly {
		return
	}
	b, err := encodeShared(s.key, snap)
	if err != nil {
		sh.c.logf("%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), SharedTimeout)
	defer cancel()
	t := time.Now()
	if err := sh.store.Put(ctx, s.key, b); err != nil {
		sh.problem("shared digest maps: uploading %s's map: %v", s.name(), err)
		return
	}
	sh.c.logf("shared digest maps: uploaded %s's map of %s (%d bytes) to %s in %.3fs", s.name(), short(s.hash), len(b), sh.store, time.Since(t).Seconds())
}

// result is what Result.Shared reports.
func (sh *shared) result() *SharedMaps {
	if sh == nil {
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	info := sh.info
	info.Store = sh.store.String()
	return &info
}
