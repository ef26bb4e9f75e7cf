package affected

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// cache stores snapshots on disk, one gob file per key (gob decodes
// about 4x faster than JSON; the files are not compressed: gzip took 40%
// of the time to write a map, which an uncached run waits for). A key
// covers the commit, the digest format, the Bazel version and the query
// flags: anything that changes what a snapshot of the same commit would
// say. Entries are written atomically (temporary file, then rename), so
// concurrent runs never see a partial file; the cache is safe to delete.
// It is kept under a size limit by deleting the least recently used maps
// (reads refresh a map's modification time).
type cache struct {
	dir string
	// limit is the most bytes of maps kept (0: DefaultCacheLimit,
	// negative: no limit).
	limit int64
}

// DefaultCacheLimit is the size the digest cache is kept under: about
// 450 maps of a 5,000-target workspace.
const DefaultCacheLimit = 1 << 30

// mapExt ends the names of map files. Files of earlier formats (".gob.gz")
// are deleted by the size check.
const mapExt = ".gob"

func cacheKey(commit, bazelVersion string, flags []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "format=%d\ncommit=%s\nbazel=%s\nflags=%s\n", FormatVersion, commit, bazelVersion, strings.Join(flags, " "))
	return commit + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func (c *cache) path(key string) string {
	return filepath.Join(c.dir, "maps", key+mapExt)
}

// has reports whether an entry for key exists (it may still be corrupt).
func (c *cache) has(key string) bool {
	if c == nil || c.dir == "" {
		return false
	}
	_, err := os.Stat(c.path(key))
	return err == nil
}

// get returns the snapshot stored under key, or nil. A corrupt entry is
// treated as missing (and overwritten later).
func (c *cache) get(key string) *Snapshot {
	return c.load(key, true)
}

// load reads the entry for key; a delta (see putDelta) only when
// deltaOK, applied to its parent, which must be a whole map.
func (c *cache) load(key string, deltaOK bool) *Snapshot {
	if c == nil || c.dir == "" {
		return nil
	}
	p := c.path(key)
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var d diskSnapshot
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16)).Decode(&d); err != nil || d.Format != FormatVersion {
		return nil
	}
	if d.Parent != "" && !deltaOK {
		return nil
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recently used: kept longest
	if d.Parent != "" {
		parent := c.load(d.Parent, false)
		if parent == nil {
			return nil
		}
		return d.apply(parent)
	}
	return d.snapshot()
}

// putDelta stores s, which was derived from parent (stored under
// parentKey by the same run), as the nodes that differ from parent's
// (compared by pointer: a derived snapshot shares its unchanged nodes),
// instead of a whole map: an uncached run waits for this write, and a
// base derived from head differs from it in a few files. When parent
// cannot be read later the entry is a miss. A large difference is stored
// whole.
func (c *cache) putDelta(key string, s *Snapshot, parentKey string, parent *Snapshot) error {
	if c == nil || c.dir == "" {
		return nil
	}
	d := &diskSnapshot{Format: s.Format, Commit: s.Commit, Workspace: s.Workspace, Repos: s.Repos, Globals: s.Globals,
		NoRegistrations: s.NoRegistrations, Parent: parentKey, Changed: map[string]*Node{}}
	for name, n := range s.Nodes {
		if parent.Nodes[name] != n {
			d.Changed[name] = n
		}
	}
	for name := range parent.Nodes {
		if _, ok := s.Nodes[name]; !ok {
			d.Removed = append(d.Removed, name)
		}
	}
	sort.Strings(d.Removed)
	if len(d.Changed)+len(d.Removed) > len(s.Nodes)/4 {
		return c.put(key, s)
	}
	return c.write(key, d)
}

// apply rebuilds a delta's snapshot on its parent.
func (d *diskSnapshot) apply(parent *Snapshot) *Snapshot {
	s := &Snapshot{Format: d.Format, Commit: d.Commit, Workspace: d.Workspace, Repos: d.Repos, Globals: d.Globals,
		NoRegistrations: d.NoRegistrations, Nodes: make(map[string]*Node, len(parent.Nodes))}
	if s.Repos == nil {
		s.Repos = map[string]*Repo{}
	}
	if s.Globals == nil {
		s.Globals = map[string]string{}
	}
	for name, n := range parent.Nodes {
		s.Nodes[name] = n
	}
	for name, n := range d.Changed {
		if n == nil {
			return nil
		}
		s.Nodes[name] = n
	}
	for _, name := range d.Removed {
		delete(s.Nodes, name)
	}
	return s
}

// put stores s under key, then deletes the least recently used maps while
// the cache is over its limit. Unlike atomicfile.Write it streams the
// encoding and does not fsync: an uncached run waits for this write, and a
// map torn by a crash fails to decode and is recomputed, since the cache
// is disposable.
func (c *cache) put(key string, s *Snapshot) error {
	if c == nil || c.dir == "" {
		return nil
	}
	return c.write(key, toDisk(s))
}

// write stores d under key (see put).
func (c *cache) write(key string, d *diskSnapshot) error {
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write digest cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write digest cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<16)
	if err := gob.NewEncoder(w).Encode(d); err != nil {
		tmp.Close()
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := c.evict(filepath.Base(p)); err != nil {
		return fmt.Errorf("digest cache size check: %w", err)
	}
	return nil
}

// evict deletes maps of earlier formats, temporary files left by killed
// runs (older than an hour), and the least recently used maps until the
// rest fit in 90% of the limit. keep (a file name) is never deleted.
func (c *cache) evict(keep string) error {
	limit := c.limit
	if limit == 0 {
		limit = DefaultCacheLimit
	}
	dir := filepath.Join(c.dir, "maps")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type file struct {
		name string
		size int64
		mod  time.Time
	}
	var maps []file
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted meanwhile, or not ours
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			if time.Since(info.ModTime()) > time.Hour {
				_ = os.Remove(filepath.Join(dir, name))
			}
		case strings.HasSuffix(name, ".gob.gz"):
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, mapExt):
			maps = append(maps, file{name, info.Size(), info.ModTime()})
			total += info.Size()
		}
	}
	if limit < 0 || total <= limit {
		return nil
	}
	sort.Slice(maps, func(i, j int) bool { return maps[i].mod.Before(maps[j].mod) })
	for _, f := range maps {
		if total <= limit/10*9 {
			break
		}
		if f.name == keep {
			continue
		}
		if err := os.Remove(filepath.Join(dir, f.name)); err != nil && !os.IsNotExist(err) {
			return err
		}
		total -= f.size
	}
	return nil
}

// diskSnapshot is a Snapshot as stored: nodes in a slice, dependencies as
// indexes into it (labels repeat in every dependent's list otherwise),
// attributes as name/digest pairs. It encodes and decodes about twice as
// fast as the map form.
type diskSnapshot struct {
	Format    int
	Commit    string
	Workspace string
	Names     []string
	Nodes     []diskNode
	// Extra are dependencies that name no node (index len(Names)+i).
	Extra   []string
	Repos   map[string]*Repo
	Globals map[string]string
	// NoRegistrations is Snapshot's (false in files written before it).
	NoRegistrations bool
	// A delta (putDelta) has no Names, Nodes and Extra but the key of
	// its parent, the nodes that differ from the parent's and those the
	// parent has and it has not.
	Parent  string
	Changed map[string]*Node
	Removed []string
}

type diskNode struct {
	Type, Class, Digest, Path, Vis, Repo, Def string
	Attrs                                     []string // name, digest, name, digest...
	Deps                                      []int32
	Macros                                    []string
}

func toDisk(s *Snapshot) *diskSnapshot {
	d := &diskSnapshot{Format: s.Format, Commit: s.Commit, Workspace: s.Workspace, Repos: s.Repos, Globals: s.Globals,
		NoRegistrations: s.NoRegistrations}
	d.Names = make([]string, 0, len(s.Nodes))
	for name := range s.Nodes {
		d.Names = append(d.Names, name)
	}
	sort.Strings(d.Names)
	index := make(map[string]int32, len(d.Names))
	for i, name := range d.Names {
		index[name] = int32(i)
	}
	extra := map[string]int32{}
	d.Nodes = make([]diskNode, len(d.Names))
	for i, name := range d.Names {
		n := s.Nodes[name]
		dn := diskNode{Type: n.Type, Class: n.Class, Digest: n.Digest, Path: n.Path, Vis: n.Vis, Repo: n.Repo, Def: n.Def, Macros: n.Macros}
		if len(n.Attrs) > 0 {
			keys := make([]string, 0, len(n.Attrs))
			for k := range n.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			dn.Attrs = make([]string, 0, 2*len(keys))
			for _, k := range keys {
				dn.Attrs = append(dn.Attrs, k, n.Attrs[k])
			}
		}
		if len(n.Deps) > 0 {
			dn.Deps = make([]int32, len(n.Deps))
			for j, dep := range n.Deps {
				x, ok := index[dep]
				if !ok {
					if x, ok = extra[dep]; !ok {
						x = int32(len(d.Names) + len(d.Extra))
						extra[dep] = x
						d.Extra = append(d.Extra, dep)
					}
				}
				dn.Deps[j] = x
			}
		}
		d.Nodes[i] = dn
	}
	return d
}

// snapshot rebuilds the map form; nil when the data is inconsistent.
func (d *diskSnapshot) snapshot() *Snapshot {
	if len(d.Nodes) != len(d.Names) {
		return nil
	}
	s := &Snapshot{Format: d.Format, Commit: d.Commit, Workspace: d.Workspace, Repos: d.Repos, Globals: d.Globals,
		NoRegistrations: d.NoRegistrations, Nodes: make(map[string]*Node, len(d.Names))}
	if s.Repos == nil {
		s.Repos = map[string]*Repo{}
	}
	if s.Globals == nil {
		s.Globals = map[string]string{}
	}
	nodes := make([]Node, len(d.Nodes))
	for i := range d.Nodes {
		dn := &d.Nodes[i]
		n := &nodes[i]
		*n = Node{Type: dn.Type, Class: dn.Class, Digest: dn.Digest, Path: dn.Path, Vis: dn.Vis, Repo: dn.Repo, Def: dn.Def, Macros: dn.Macros}
		if len(dn.Attrs) > 0 {
			if len(dn.Attrs)%2 != 0 {
				return nil
			}
			n.Attrs = make(map[string]string, len(dn.Attrs)/2)
			for j := 0; j < len(dn.Attrs); j += 2 {
				n.Attrs[dn.Attrs[j]] = dn.Attrs[j+1]
			}
		}
		if len(dn.Deps) > 0 {
			n.Deps = make([]string, len(dn.Deps))
			for j, x := range dn.Deps {
				switch {
				case x >= 0 && int(x) < len(d.Names):
					n.Deps[j] = d.Names[x]
				case int(x) >= len(d.Names) && int(x)-len(d.Names) < len(d.Extra):
					n.Deps[j] = d.Extra[int(x)-len(d.Names)]
				default:
					return nil
				}
			}
		}
		s.Nodes[d.Names[i]] = n
	}
	return s
}
