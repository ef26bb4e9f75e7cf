// Package gitrepo is stride's one door to git. It reads repositories through
// go-git (no git binary needed): opening a repository from any directory
// inside it, resolving revisions, merge bases, the files a change touches
// (with rename detection), the commits of a change and their message
// trailers, and files at a commit (ReadFileAt, or a whole commit as an
// fs.FS with FS).
//
// Errors name what failed (the revision, the path, the directory) and wrap
// the sentinel errors below, so callers test them with errors.Is. A
// repository that is a shallow clone is handled like git does (its shallow
// commits have no parents); when a needed commit is missing because of that,
// the error wraps ErrShallow and says which `git fetch` fixes it.
//
// A Repo is safe for concurrent reads.
package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotRepository: the directory is not inside a git repository.
	ErrNotRepository = errors.New("not a git repository")
	// ErrUnknownRevision: a revision (branch, tag, sha, HEAD~2...) does not
	// resolve to a commit.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrShallow: a commit is missing because the clone is shallow. The
	// error's text names the fetch command that fixes it.
	ErrShallow = errors.New("commit missing from shallow clone")
	// ErrNoMergeBase: two commits share no history.
	ErrNoMergeBase = errors.New("no merge base")
	// ErrNoDefaultBranch: none of origin/HEAD, main, master exists.
	ErrNoDefaultBranch = errors.New("no default branch")
)

// Repo is an open repository.
type Repo struct {
	git      *git.Repository
	storage  *filesystem.Storage // closed by Close
	workTree string              // absolute work tree root; "" for a bare repository

	// objMu serializes go-git's object reads that callers make from
	// several goroutines: blob reads (ReadBlob, Export), ResolveRevision,
	// CommitObject and tree reads. go-git's object storage is not safe for
	// concurrent use: a loose object enters its cache before its content
	// is read (seen by the race detector: ResolveRevision("HEAD") beside a
	// blob read).
	objMu sync.Mutex

	shallowOnce sync.Once
	shallow     map[plumbing.Hash]bool
	shallowErr  error

	subs subRepos // clones of submodules (submodules.go)
}

// Open opens the repository that contains dir (dir itself or any parent, as
// git does). Linked worktrees (`git worktree add`) work. The error for a
// directory outside any repository wraps ErrNotRepository and reads
// "not a git repository: DIR".
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	r, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// go-git's detection looks for a .git upwards only: a bare
		// repository (the pushed-to one of a post-receive hook) is
		// opened as itself.
		r, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{})
	}
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%w: %s", ErrNotRepository, abs)
		}
		return nil, fmt.Errorf("open repository %s: %w", abs, err)
	}
	repo := &Repo{git: r}
	var wtfs billy.Filesystem
	if wt, err := r.Worktree(); err == nil {
		repo.workTree = wt.Filesystem.Root()
		wtfs = wt.Filesystem
	}
	// Reopen the same storage keeping pack files open: go-git's default
	// opens the pack file for every object read, which makes walking
	// large trees ~10x slower.
	if st, ok := r.Storer.(*filesystem.Storage); ok {
		kept := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(),
			filesystem.Options{MaxOpenDescriptors: 64})
		if r2, err := git.Open(kept, wtfs); err == nil {
			repo.git, repo.storage = r2, kept
			// A Repo nobody closes releases its files when collected.
			runtime.SetFinalizer(repo, func(r *Repo) { _ = r.Close() })
		}
	}
	return repo, nil
}

// Close releases the pack files Open keeps open. The Repo must not be used
// afterwards. Optional: a Repo that is not closed releases them when the
// garbage collector frees it.
func (r *Repo) Close() error {
	if r.storage == nil {
		return nil
	}
	st := r.storage
	r.storage = nil
	runtime.SetFinalizer(r, nil)
	return st.Close()
}

// Root returns the absolute path of the work tree's top directory, or ""
// for a bare repository.
func (r *Repo) Root() string { return r.workTree }

// Git returns the underlying go-git repository, for what this package does
// not cover. Prefer adding a function here over using it widely.
func (r *Repo) Git() *git.Repository { return r.git }

// ResolveRevision resolves rev (a full or abbreviated sha, branch, tag,
// remote branch such as origin/main, HEAD, HEAD~2, main^2...) to a commit
// hash. An unknown revision gives an error naming rev that wraps
// ErrUnknownRevision; a sha (or an ancestor walk) that points past the
// boundary of a shallow clone gives ErrShallow with the fetch to run.
func (r *Repo) ResolveRevision(rev string) (plumbing.Hash, error) {
	if strings.TrimSpace(rev) == "" {
		return plumbing.ZeroHash, fmt.Errorf("%w: empty revision", ErrUnknownRevision)
	}
	r.objMu.Lock()
	h, err := r.git.ResolveRevision(plumbing.Revision(rev))
	r.objMu.Unlock()
	if err == nil && h != nil && !h.IsZero() {
		return *h, nil
	}
	if r.isShallowRepo() && (isHex(rev) || strings.ContainsAny(rev, "~^")) {
		return plumbing.ZeroHash, r.shallowError(rev)
	}
	if err == nil {
		err = plumbing.ErrReferenceNotFound
	}
	if errors.Is(err, io.EOF) {
		// go-git walked off the root commit ("HEAD~50" on a short history).
		return plumbing.ZeroHash, fmt.Errorf("%w %q: the history has fewer commits than that", ErrUnknownRevision, rev)
	}
	return plumbing.ZeroHash, fmt.Errorf("%w %q: %v", ErrUnknownRevision, rev, err)
}

func isHex(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// CommitObject returns go-git's commit object for h. A missing object in a
// shallow clone wraps ErrShallow.
func (r *Repo) CommitObject(h plumbing.Hash) (*object.Commit, error) {
	r.objMu.Lock()
	c, err := r.git.CommitObject(h)
	r.objMu.Unlock()
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) && r.isShallowRepo() {
			return nil, r.shallowError(h.String())
		}
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

// IsShallow reports whether the repository is a shallow clone.
func (r *Repo) IsShallow() bool { return r.isShallowRepo() }

func (r *Repo) loadShallow() {
	r.shallowOnce.Do(func() {
		hs, err := r.git.Storer.Shallow()
		r.shallowErr = err
		r.shallow = make(map[plumbing.Hash]bool, len(hs))
		for _, h := range hs {
			r.shallow[h] = true
		}
	})
}

func (r *Repo) isShallowRepo() bool {
	r.loadShallow()
	return len(r.shallow) > 0
}

// isShallowCommit reports whether h is a boundary commit of a shallow clone
// (its parents are not in the repository).
func (r *Repo) isShallowCommit(h plumbing.Hash) bool {
	r.loadShallow()
	return r.shallow[h]
}

func (r *Repo) shallowError(what string) error {
	return fmt.Errorf("%w: %s is not in this shallow clone; fetch more history with "+
		"`git fetch --deepen=1000` (or all of it with `git fetch --unshallow`) and retry", ErrShallow, what)
}

// DefaultBranch guesses the repository's default branch and returns it as a
// revision for ResolveRevision: the target of origin/HEAD (e.g.
// "origin/main"), else "main", else "master" (local branches), else
// "origin/main" or "origin/master". None of them: ErrNoDefaultBranch.
func (r *Repo) DefaultBranch() (string, error) {
	if ref, err := r.git.Storer.Reference(plumbing.NewRemoteHEADReferenceName("origin")); err == nil {
		if ref.Type() == plumbing.SymbolicReference {
			t := ref.Target()
			if t.IsRemote() {
				if _, err := r.git.Reference(t, true); err == nil {
					return strings.TrimPrefix(t.String(), "refs/remotes/"), nil
				}
			}
		} else if !ref.Hash().IsZero() {
			return "origin/HEAD", nil
		}
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName("main"),
		plumbing.NewBranchReferenceName("master"),
		plumbing.NewRemoteReferenceName("origin", "main"),
		plumbing.NewRemoteReferenceName("origin", "master"),
	} {
		if _, err := r.git.Reference(name, true); err == nil {
			return name.Short(), nil
		}
	}
	return "", fmt.Errorf("%w: none of origin/HEAD, main, master exists (pass the base revision explicitly)", ErrNoDefaultBranch)
}
