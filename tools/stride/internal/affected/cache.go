package affected

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cache stores snapshots on disk, one gzipped gob file per key (gob
// decodes about 4x faster than JSON). A key
// covers the commit, the digest format, the Bazel version and the query
// flags: anything that changes what a snapshot of the same commit would
// say. Entries are written atomically (temporary file, then rename), so
// concurrent runs never see a partial file; the cache is safe to delete.
type cache struct {
	dir string
}

func cacheKey(commit, bazelVersion string, flags []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "format=%d\ncommit=%s\nbazel=%s\nflags=%s\n", FormatVersion, commit, bazelVersion, strings.Join(flags, " "))
	return commit + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func (c *cache) path(key string) string {
	return filepath.Join(c.dir, "maps", key+".gob.gz")
}

// get returns the snapshot stored under key, or nil. A corrupt entry is
// treated as missing (and overwritten later).
func (c *cache) get(key string) *Snapshot {
	if c == nil || c.dir == "" {
		return nil
	}
	f, err := os.Open(c.path(key))
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	var s Snapshot
	if err := gob.NewDecoder(bufio.NewReaderSize(zr, 1<<16)).Decode(&s); err != nil || s.Format != FormatVersion || s.Nodes == nil {
		return nil
	}
	return &s
}

// put stores s under key.
func (c *cache) put(key string, s *Snapshot) error {
	if c == nil || c.dir == "" {
		return nil
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write digest cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write digest cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw, _ := gzip.NewWriterLevel(tmp, gzip.BestSpeed)
	if err := gob.NewEncoder(zw).Encode(s); err != nil {
		tmp.Close()
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write digest cache %s: %w", p, err)
	}
	return nil
}
