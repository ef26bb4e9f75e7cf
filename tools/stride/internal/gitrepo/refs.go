package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrRefChanged: a compare-and-swap ref update lost a race (the ref no
// longer had the expected value, or another writer held its lock). The
// caller re-reads the ref and tries again.
var ErrRefChanged = errors.New("ref changed concurrently")

// Ref returns the commit a ref (e.g. "refs/stride/ledger") points at, or
// the zero hash when the ref does not exist.
func (r *Repo) Ref(name string) (plumbing.Hash, error) {
	ref, err := r.git.Storer.Reference(plumbing.ReferenceName(name))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read ref %s: %w", name, err)
	}
	return ref.Hash(), nil
}

// CommitSpec is a commit CommitFiles writes.
type CommitSpec struct {
	// Files are the tree's files, at its top level (names without '/').
	Files map[string][]byte
	// Parent is the parent commit; zero for a root commit.
	Parent  plumbing.Hash
	Message string
	// Name and Email are the author's and committer's; When their time.
	Name, Email string
	When        time.Time
}

// CommitFiles writes the blobs, the tree and the commit of spec into the
// object database (loose objects, each written atomically) and returns the
// commit's hash. No ref changes: publish it with UpdateRef.
func (r *Repo) CommitFiles(spec CommitSpec) (plumbing.Hash, error) {
	names := make([]string, 0, len(spec.Files))
	for n := range spec.Files {
		if n == "" || strings.Contains(n, "/") {
			return plumbing.ZeroHash, fmt.Errorf("commit files: bad file name %q", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	tree := &object.Tree{}
	for _, n := range names {
		h, err := r.writeObject(plumbing.BlobObject, spec.Files[n])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: n, Mode: filemode.Regular, Hash: h})
	}
	th, err := r.encode(tree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: spec.Name, Email: spec.Email, When: spec.When}
	c := &object.Commit{Author: sig, Committer: sig, Message: spec.Message, TreeHash: th}
	if !spec.Parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{spec.Parent}
	}
	return r.encode(c)
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (r *Repo) encode(o encoder) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode object: %w", err)
	}
	r.objMu.Lock()
	h, err := r.git.Storer.SetEncodedObject(obj)
	r.objMu.Unlock()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write object: %w", err)
	}
	return h, nil
}

func (r *Repo) writeObject(t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	obj.SetType(t)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	r.objMu.Lock()
	h, err := r.git.Storer.SetEncodedObject(obj)
	r.objMu.Unlock()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write object: %w", err)
	}
	return h, nil
}

// UpdateRef moves ref name from old to new atomically with `git update-ref
// NAME NEW OLD` (git's lock file protocol, so it is safe against every
// other git writer). A zero old means the ref must not exist yet. Losing
// the race returns an error wrapping ErrRefChanged.
func (r *Repo) UpdateRef(name string, new, old plumbing.Hash, reason string) error {
	oldArg := old.String()
	if old.IsZero() {
		oldArg = strings.Repeat("0", 40)
	}
	out, err := r.runGit("update-ref", "-m", reason, name, new.String(), oldArg)
	if err != nil {
		// git says "cannot lock ref ...: is at X but expected Y", or "...
		// reference already exists", or that the lock file exists.
		if strings.Contains(out, "cannot lock ref") || strings.Contains(out, "File exists") || strings.Contains(out, "already exists") {
			return fmt.Errorf("update %s: %w", name, ErrRefChanged)
		}
		return fmt.Errorf("git update-ref %s: %v: %s", name, err, strings.TrimSpace(out))
	}
	return nil
}

// CommonDir is the repository's git directory shared by its worktrees
// (where refs and objects live), for files that belong with the
// repository (caches).
func (r *Repo) CommonDir() (string, error) {
	out, err := r.runGit("rev-parse", "--git-common-dir")
	if err != nil {
		return "", fmt.Errorf("git rev-parse --git-common-dir: %v: %s", err, strings.TrimSpace(out))
	}
	d := strings.TrimSpace(out)
	if !filepath.IsAbs(d) {
		d = filepath.Join(r.gitCwd(), d)
	}
	return d, nil
}

// gitCwd is the directory git commands run in: the work tree, or the git
// directory of a bare repository.
func (r *Repo) gitCwd() string {
	if r.workTree == "" && r.storage != nil {
		return r.storage.Filesystem().Root()
	}
	return r.workTree
}

// runGit runs git in the repository and returns its combined output.
func (r *Repo) runGit(args ...string) (string, error) {
	g := &Git{Dir: r.gitCwd()}
	out, err := g.Run(context.Background(), nil, args...)
	var ge *GitError
	if errors.As(err, &ge) {
		return string(out) + ge.Stderr, err
	}
	return string(out), err
}
