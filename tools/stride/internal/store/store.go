// Package store is stride's build store: content-addressed blobs (sha256)
// plus one manifest per build that names each artifact's digest, size and
// kind (docs/store.md).
//
// The contract every backend keeps:
//   - A blob is stored under its digest and never changes. Storing bytes
//     that are already there is a no-op.
//   - A blob whose bytes do not match its digest is never handed out:
//     OpenBlob checks the bytes and returns ErrCorrupt.
//   - A manifest is written after every blob it names, atomically, and never
//     changes afterwards (ErrConflict if a different one is offered). A build
//     without a manifest is not visible: a publish killed half-way leaves
//     only unreferenced blobs, which GC removes.
//
// The embedded backend is FS, a directory on the local disk. The Store
// interface is kept small so a remote backend (bazel-remote's CAS, an
// S3-compatible server) can be added without touching callers.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound: no such blob or build.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt: a blob's bytes do not match its digest.
	ErrCorrupt = errors.New("content does not match its digest")
	// ErrConflict: a manifest for the build exists with other content.
	ErrConflict = errors.New("a different manifest exists for this build")
	// ErrInvalid: a malformed digest, build id or manifest.
	ErrInvalid = errors.New("invalid")
)

// Digest is a content digest, "sha256:" and 64 lower-case hex digits.
type Digest string

// DigestOf returns the digest of b.
func DigestOf(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest("sha256:" + hex.EncodeToString(sum[:]))
}

// Hex returns the hex part of the digest.
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), "sha256:") }

// Validate checks the digest's form.
func (d Digest) Validate() error {
	h := string(d)
	if !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
		return fmt.Errorf("digest %q: %w (want sha256:<64 hex digits>)", h, ErrInvalid)
	}
	for _, c := range h[len("sha256:"):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("digest %q: %w (want sha256:<64 lower-case hex digits>)", h, ErrInvalid)
		}
	}
	return nil
}

// Short is the first 12 hex digits, for messages.
func (d Digest) Short() string {
	h := d.Hex()
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Blob describes a stored blob.
type Blob struct {
	Digest Digest
	Size   int64
}

// Store is what callers use. Implementations are safe for concurrent use
// by one process; concurrent writers in several processes serialize with
// Lock (FS) or the backend's own means.
type Store interface {
	// PutBlob stores the bytes read from r and returns their digest and
	// size. The blob is durable when PutBlob returns.
	PutBlob(ctx context.Context, r io.Reader) (Blob, error)
	// OpenBlob returns the blob's content after checking it against d
	// (ErrCorrupt if it does not match, ErrNotFound if absent).
	OpenBlob(ctx context.Context, d Digest) (io.ReadCloser, error)
	// StatBlob returns a blob's size, or ErrNotFound.
	StatBlob(ctx context.Context, d Digest) (int64, error)
	// PutManifest stores a build's manifest after checking that every blob
	// it names is present with its size. Storing an identical manifest again
	// is a no-op; a different one gives ErrConflict.
	PutManifest(ctx context.Context, m *Manifest) error
	// Manifest returns a build's manifest, or ErrNotFound.
	Manifest(ctx context.Context, build string) (*Manifest, error)
	// Builds lists the ids of the visible builds (those with a manifest),
	// sorted.
	Builds(ctx context.Context) ([]string, error)
}

// Maintainer is what Verify and GC need on top of Store.
type Maintainer interface {
	Store
	// WalkBlobs calls fn for every file where blobs are stored, in no
	// particular order.
	WalkBlobs(ctx context.Context, fn func(BlobFile) error) error
	// CheckBlob hashes a stored blob and returns ErrCorrupt on a mismatch.
	CheckBlob(ctx context.Context, d Digest) error
	DeleteBlob(ctx context.Context, d Digest) error
	DeleteManifest(ctx context.Context, build string) error
	// Pins returns the pinned builds and why.
	Pins(ctx context.Context) (map[string]string, error)
	// Leftovers lists temporary files of interrupted writes.
	Leftovers(ctx context.Context) ([]Leftover, error)
	RemoveLeftover(ctx context.Context, name string) error
}

// BlobFile is one file where blobs are stored, as WalkBlobs finds it.
type BlobFile struct {
	// Digest is what the file's name says; it may be invalid (a stray file).
	Digest  Digest
	Size    int64
	ModTime time.Time
	// Where names the file for messages (for FS, its path under the root).
	Where string
	// Misplaced: the file is not where its digest puts it, so the store
	// cannot find it under that digest.
	Misplaced bool
}

// Leftover is a temporary file of an interrupted write.
type Leftover struct {
	Name    string
	ModTime time.Time
}

var (
	_ Store      = (*FS)(nil)
	_ Maintainer = (*FS)(nil)
)

// ValidateBuildID checks a build id: 1 to 128 characters of [A-Za-z0-9._-],
// not starting with '.' or '-'.
func ValidateBuildID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' || id[0] == '-' {
		return fmt.Errorf("build id %q: %w", id, ErrInvalid)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("build id %q: %w (only letters, digits, '.', '_' and '-')", id, ErrInvalid)
		}
	}
	return nil
}

// PutFile stores a file's content as a blob.
func PutFile(ctx context.Context, s Store, path string) (Blob, error) {
	f, err := os.Open(path)
	if err != nil {
		return Blob{}, fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	b, err := s.PutBlob(ctx, f)
	if err != nil {
		return Blob{}, fmt.Errorf("store %s: %w", path, err)
	}
	return b, nil
}

// ReadBlob returns a blob's whole (verified) content.
func ReadBlob(ctx context.Context, s Store, d Digest) ([]byte, error) {
	rc, err := s.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// CopyBlobToFile writes a blob's (verified) content to path atomically.
func CopyBlobToFile(ctx context.Context, s Store, d Digest, path string) error {
	rc, err := s.OpenBlob(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	return atomicfile.WriteFrom(path, rc, 0o644)
}
