package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// FS is the filesystem backend. Its layout under Root (docs/store.md):
//
//	blobs/sha256/ab/abcdef...   blobs, by digest
//	builds/<id>.json            manifests
//	pins/<id>                   pinned builds (the file holds the reason)
//	tmp/                        blobs being written
//	lock                        flock'ed by writers (Lock)
//
// Every write goes to a temporary file that is synced, then renamed (blobs)
// or hard-linked (manifests, so an existing one is never replaced) into
// place, and the directory is synced.
type FS struct {
	root string
	// BeforeRename, when set, is called after a blob's temporary file is
	// complete and synced and before it is renamed into place (tests kill
	// the process there).
	BeforeRename func(tmp, final string)
}

// storeDirs are the directories of a store.
var storeDirs = []string{"blobs/sha256", "builds", "pins", "tmp"}

// ErrNoStore: the directory is not a store (stride publish creates one).
var ErrNoStore = errors.New("no build store there (stride publish creates one)")

// OpenFS opens the store rooted at root, creating it if needed (what
// publish does). Its directories are made readable by everyone whatever the
// umask, so that artifactd, running as another user, can serve it.
func OpenFS(root string) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", root, err)
	}
	for _, d := range storeDirs {
		if err := mkdirReadable(abs, d); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return &FS{root: abs}, nil
}

// OpenExistingFS opens the store rooted at root, which must exist: every
// command but publish reads or changes a store and never creates one (a
// mistyped --store must not look like a healthy empty store). It returns
// ErrNoStore when root does not hold one.
func OpenExistingFS(root string) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", root, err)
	}
	for _, d := range []string{"blobs", "builds"} {
		fi, err := os.Stat(filepath.Join(abs, d))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("store %s: %w", abs, ErrNoStore)
		}
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", abs, err)
		}
	}
	return &FS{root: abs}, nil
}

// mkdirReadable creates root/rel and its parents under root with mode
// 0755, whatever the umask.
func mkdirReadable(root, rel string) error {
	p := root
	for _, el := range append([]string{""}, strings.Split(rel, "/")...) {
		p = filepath.Join(p, el)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Root returns the store's directory.
func (s *FS) Root() string { return s.root }

// BlobPath returns where the blob with digest d lives (it may not exist).
func (s *FS) BlobPath(d Digest) string {
	h := d.Hex()
	if len(h) < 2 {
		return filepath.Join(s.root, "blobs", "sha256", "_invalid")
	}
	return filepath.Join(s.root, "blobs", "sha256", h[:2], h)
}

// ManifestPath returns where a build's manifest lives.
func (s *FS) ManifestPath(build string) string {
	return filepath.Join(s.root, "builds", build+".json")
}

// PutBlob implements Store. If a blob with the same digest is present but
// damaged (its bytes no longer match), the new copy replaces it.
func (s *FS) PutBlob(ctx context.Context, r io.Reader) (Blob, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-*")
	if err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	if err := f.Chmod(0o444); err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return Blob{}, fmt.Errorf("put blob: %w", err)
	}
	b := Blob{Digest: Digest("sha256:" + hex.EncodeToString(h.Sum(nil))), Size: n}
	final := s.BlobPath(b.Digest)
	if fi, err := os.Stat(final); err == nil && fi.Size() == n {
		if err := s.CheckBlob(ctx, b.Digest); err == nil {
			done = true
			os.Remove(tmp)
			return b, nil
		}
	}
	if err := mkdirReadable(s.root, "blobs/sha256/"+b.Digest.Hex()[:2]); err != nil {
		return Blob{}, fmt.Errorf("put blob %s: %w", b.Digest.Short(), err)
	}
	if s.BeforeRename != nil {
		s.BeforeRename(tmp, final)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Blob{}, fmt.Errorf("put blob %s: %w", b.Digest.Short(), err)
	}
	done = true
	if err := atomicfile.SyncDir(filepath.Dir(final)); err != nil {
		return Blob{}, fmt.Errorf("put blob %s: %w", b.Digest.Short(), err)
	}
	return b, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// OpenBlob implements Store: it hashes the blob before returning it.
func (s *FS) OpenBlob(ctx context.Context, d Digest) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	if err := checkReader(ctx, d, f); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return f, nil
}

// CheckBlob implements Maintainer.
func (s *FS) CheckBlob(ctx context.Context, d Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	f, err := os.Open(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("check blob %s: %w", d, err)
	}
	defer f.Close()
	return checkReader(ctx, d, f)
}

func checkReader(ctx context.Context, d Digest, r io.Reader) error {
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("check blob %s: %w", d, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.Hex() {
		return fmt.Errorf("blob %s: %w (its bytes hash to sha256:%s)", d, ErrCorrupt, got)
	}
	return nil
}

// StatBlob implements Store.
func (s *FS) StatBlob(ctx context.Context, d Digest) (int64, error) {
	if err := d.Validate(); err != nil {
		return 0, err
	}
	fi, err := os.Stat(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return fi.Size(), nil
}

// PutManifest implements Store.
func (s *FS) PutManifest(ctx context.Context, m *Manifest) error {
	m.Normalize()
	if err := m.Validate(); err != nil {
		return err
	}
	for _, a := range m.Artifacts {
		size, err := s.StatBlob(ctx, a.Digest)
		if err != nil {
			return fmt.Errorf("manifest %s: artifact %s: %w", m.Build, a.Name, err)
		}
		if size != a.Size {
			return fmt.Errorf("manifest %s: artifact %s: blob %s has %d bytes, manifest says %d: %w", m.Build, a.Name, a.Digest.Short(), size, a.Size, ErrInvalid)
		}
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	final := s.ManifestPath(m.Build)
	if old, err := os.ReadFile(final); err == nil {
		if bytes.Equal(old, b) {
			return nil
		}
		return fmt.Errorf("manifest %s: %w", m.Build, ErrConflict)
	}
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, ".tmp-"+m.Build+"-*")
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	if err := f.Chmod(0o444); err != nil {
		f.Close()
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	// A hard link creates the name only if it is free: a manifest is never
	// replaced, even by a racing writer.
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			old, rerr := os.ReadFile(final)
			if rerr == nil && bytes.Equal(old, b) {
				return nil
			}
			return fmt.Errorf("manifest %s: %w", m.Build, ErrConflict)
		}
		return fmt.Errorf("write manifest %s: %w", m.Build, err)
	}
	return atomicfile.SyncDir(dir)
}

// Manifest implements Store.
func (s *FS) Manifest(ctx context.Context, build string) (*Manifest, error) {
	if err := ValidateBuildID(build); err != nil {
		return nil, err
	}
	p := s.ManifestPath(build)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("build %s: %w", build, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := ParseManifest(p, b)
	if err != nil {
		return nil, err
	}
	if m.Build != build {
		return nil, fmt.Errorf("%s: build %q in a file named for %q: %w", p, m.Build, build, ErrInvalid)
	}
	return m, nil
}

// Builds implements Store.
func (s *FS) Builds(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "builds"))
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	var ids []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") || e.IsDir() {
			continue
		}
		ids = append(ids, strings.TrimSuffix(n, ".json"))
	}
	sort.Strings(ids)
	return ids, nil
}

// WalkBlobs implements Maintainer.
func (s *FS) WalkBlobs(ctx context.Context, fn func(BlobFile) error) error {
	base := filepath.Join(s.root, "blobs", "sha256")
	dirs, err := os.ReadDir(base)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, dir := range dirs {
		if !dir.IsDir() {
			info, err := dir.Info()
			if err != nil {
				continue
			}
			if err := fn(BlobFile{Digest: Digest("sha256:" + dir.Name()), Size: info.Size(), ModTime: info.ModTime(),
				Where: "blobs/sha256/" + dir.Name(), Misplaced: true}); err != nil {
				return err
			}
			continue
		}
		ents, err := os.ReadDir(filepath.Join(base, dir.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			info, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			d := Digest("sha256:" + e.Name())
			misplaced := d.Validate() == nil && d.Hex()[:2] != dir.Name()
			if err := fn(BlobFile{Digest: d, Size: info.Size(), ModTime: info.ModTime(),
				Where: "blobs/sha256/" + dir.Name() + "/" + e.Name(), Misplaced: misplaced}); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteBlob implements Maintainer.
func (s *FS) DeleteBlob(ctx context.Context, d Digest) error {
	if err := os.Remove(s.BlobPath(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return nil
}

// DeleteManifest implements Maintainer.
func (s *FS) DeleteManifest(ctx context.Context, build string) error {
	if err := ValidateBuildID(build); err != nil {
		return err
	}
	if err := os.Remove(s.ManifestPath(build)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete build %s: %w", build, err)
	}
	return atomicfile.SyncDir(filepath.Join(s.root, "builds"))
}

// Pin marks a build as kept by GC, with a reason.
func (s *FS) Pin(ctx context.Context, build, reason string) error {
	if err := ValidateBuildID(build); err != nil {
		return err
	}
	if _, err := s.Manifest(ctx, build); err != nil {
		return err
	}
	if reason == "" {
		reason = "pinned"
	}
	if err := mkdirReadable(s.root, "pins"); err != nil {
		return fmt.Errorf("pin %s: %w", build, err)
	}
	return atomicfile.WriteFrom(filepath.Join(s.root, "pins", build), strings.NewReader(reason+"\n"), 0o644)
}

// Unpin removes a pin; unpinning a build that is not pinned is a no-op.
func (s *FS) Unpin(ctx context.Context, build string) error {
	if err := ValidateBuildID(build); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.root, "pins", build)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unpin %s: %w", build, err)
	}
	return nil
}

// Pins implements Maintainer.
func (s *FS) Pins(ctx context.Context) (map[string]string, error) {
	dir := filepath.Join(s.root, "pins")
	pins := map[string]string{}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return pins, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read pin: %w", err)
		}
		pins[e.Name()] = strings.TrimSpace(string(b))
	}
	return pins, nil
}

// Leftovers implements Maintainer: files under tmp/ and temporary
// manifests and pins, relative to the root.
func (s *FS) Leftovers(ctx context.Context) ([]Leftover, error) {
	var out []Leftover
	for _, dir := range []string{"tmp", "builds", "pins"} {
		ents, err := os.ReadDir(filepath.Join(s.root, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range ents {
			if dir == "tmp" || strings.HasPrefix(e.Name(), ".tmp-") {
				info, err := e.Info()
				if err != nil {
					continue // removed meanwhile
				}
				out = append(out, Leftover{Name: dir + "/" + e.Name(), ModTime: info.ModTime()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveLeftover implements Maintainer.
func (s *FS) RemoveLeftover(ctx context.Context, name string) error {
	if err := os.RemoveAll(filepath.Join(s.root, filepath.FromSlash(name))); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Lock takes the store's writer lock (an flock on Root/lock), waiting until
// it is free or ctx is done. A killed holder releases it with its process.
func (s *FS) Lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.root, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock store %s: %w", s.root, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock store %s: %w", s.root, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
