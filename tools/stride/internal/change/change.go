// Package change is stride's one answer to "what is the change?": the two
// commits a command compares and the files between them. Every command
// that looks at a change (affected, owners, policy, run, the hooks, watch,
// report) builds one Change per invocation with Resolve and passes it
// down; none resolves a base of its own.
//
// # Where base and head come from
//
// Head is --head, else HEAD. With Uncommitted, head is the work tree on
// top of that commit. Base is, in order:
//
//  1. --base when given (an unknown revision is an input error);
//  2. the pushed ref's previous tip, for a hook (Options.Pushed), when it
//     is in the repository (a pre-push's remote tip may not be: then the
//     default below, and Change.Note says so);
//  3. the merge base of head and the default branch (origin/HEAD, main,
//     master; gitrepo.DefaultBranch), except with FirstParent when head
//     is on the default branch (the merge base is head itself, and a push
//     of one commit to main would compare nothing): head's first parent;
//  4. with WholeHistory and no default branch: no base (the zero hash;
//     every commit of head's history is in the change).
//
// # Changed files and renames
//
// Files lists the changed paths once for everyone (the report, the
// affected set's reasons, owners). The one rename rule is
// gitrepo.ChangedFiles's (go-git's rename detection): a deleted and an
// added file are a rename when their contents are identical (any file
// mode, the same on both sides), or, for regular files, at least
// gitrepo.RenameScore (50) percent similar. That is `git diff -M` except
// for executables and symbolic links, which must be exact renames here
// (git also pairs similar ones). Work-tree changes (Uncommitted) are not
// paired into renames: a file moved in the work tree is a deletion and an
// addition, as `git status --no-renames` sees it.
package change

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// How base was chosen (Change.BaseFrom).
const (
	FromExplicit    = "explicit"     // --base
	FromPushed      = "pushed"       // the pushed ref's previous tip (a hook)
	FromMergeBase   = "merge-base"   // merge base of head and the default branch
	FromFirstParent = "first-parent" // head is on the default branch: its first parent
	FromNone        = "none"         // no default branch: head's whole history
)

// Options say which change to resolve.
type Options struct {
	// Base and Head are revisions; "" means the defaults (see the package
	// comment).
	Base, Head string
	// Pushed is the previous tip of a pushed ref, as a hook receives it
	// ("" or all zeros for a new branch). Used when Base is "".
	Pushed string
	// Uncommitted makes head the work tree on top of the Head commit.
	Uncommitted bool
	// FirstParent: when head is on the default branch, base is head's
	// first parent rather than head itself (stride run, hooks, ci/test).
	FirstParent bool
	// WholeHistory: without a default branch, the change is head's whole
	// history (the zero base) rather than an error (policy check).
	WholeHistory bool
}

// Change is one change: base and head commits and the files between them.
// It is safe for concurrent use.
type Change struct {
	// Repo is the repository, opened once for the invocation.
	Repo *gitrepo.Repo
	// Base and Head are the commits; Base is zero for FromNone.
	Base, Head plumbing.Hash
	// BaseRev and HeadRev say how they were named, for reports:
	// "origin/main", "HEAD", "merge-base(main, HEAD)", a sha.
	BaseRev, HeadRev string
	// BaseFrom says how base was chosen (FromExplicit, ...).
	BaseFrom string
	// Uncommitted: head is the work tree on top of Head.
	Uncommitted bool
	// Note explains a fallback (a pushed base that is not in the
	// repository); "" when none was needed.
	Note string

	filesOnce sync.Once
	files     []gitrepo.Change
	filesErr  error
}

// ErrHeadNotWorkTree: --uncommitted with a --head other than HEAD (the
// work tree's changes sit on HEAD, not on another commit). An input error.
var ErrHeadNotWorkTree = errors.New("--uncommitted makes head the work tree on HEAD")

// Open opens the repository containing dir and resolves the change.
func Open(dir string, o Options) (*Change, error) {
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return nil, err
	}
	return Resolve(repo, o)
}

// Resolve resolves the change o names in repo. Errors wrap gitrepo's
// sentinels (ErrUnknownRevision, ErrShallow, ErrNoMergeBase,
// ErrNoDefaultBranch): they are input errors.
func Resolve(repo *gitrepo.Repo, o Options) (*Change, error) {
	c := &Change{Repo: repo, HeadRev: o.Head, Uncommitted: o.Uncommitted}
	if c.HeadRev == "" {
		c.HeadRev = "HEAD"
	}
	h, err := repo.ResolveRevision(c.HeadRev)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	c.Head = h
	if o.Uncommitted && o.Head != "" {
		// The work tree sits on HEAD: a head elsewhere with it is no change
		// anyone made.
		wt, err := repo.ResolveRevision("HEAD")
		if err != nil {
			return nil, fmt.Errorf("head: %w", err)
		}
		if wt != h {
			return nil, fmt.Errorf("%w: --head %s is %.12s, the work tree is on HEAD %.12s (drop --head, or check out %s)",
				ErrHeadNotWorkTree, o.Head, h, wt, o.Head)
		}
	}
	switch {
	case o.Base != "":
		b, err := repo.ResolveRevision(o.Base)
		if err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
		c.Base, c.BaseRev, c.BaseFrom = b, o.Base, FromExplicit
		return c, nil
	case o.Pushed != "" && strings.Trim(o.Pushed, "0") != "":
		if b, err := repo.ResolveRevision(o.Pushed); err == nil {
			c.Base, c.BaseRev, c.BaseFrom = b, o.Pushed, FromPushed
			return c, nil
		}
		c.Note = fmt.Sprintf("base %.12s is not in this repository; using the default base", o.Pushed)
	}
	if err := c.defaultBase(o); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultBase sets the merge base of head and the default branch, or
// head's first parent (FirstParent), or no base (WholeHistory).
func (c *Change) defaultBase(o Options) error {
	def, err := c.Repo.DefaultBranch()
	if err != nil {
		if o.WholeHistory && errors.Is(err, gitrepo.ErrNoDefaultBranch) {
			c.BaseFrom = FromNone
			return nil
		}
		return fmt.Errorf("base: %w", err)
	}
	d, err := c.Repo.ResolveRevision(def)
	if err != nil {
		return fmt.Errorf("base: default branch: %w", err)
	}
	mb, err := c.Repo.MergeBase(d, c.Head)
	if err != nil {
		return fmt.Errorf("base: merge base of %s and %s: %w (pass --base)", def, c.HeadRev, err)
	}
	c.Base, c.BaseRev, c.BaseFrom = mb, "merge-base("+def+", "+c.HeadRev+")", FromMergeBase
	if o.FirstParent && mb == c.Head && !o.Uncommitted {
		hc, err := c.Repo.CommitObject(c.Head)
		if err == nil && len(hc.ParentHashes) > 0 {
			p := hc.ParentHashes[0]
			c.Base, c.BaseRev, c.BaseFrom = p, p.String(), FromFirstParent
		}
	}
	return nil
}

// Files returns the changed files, sorted by path (computed once; see the
// package comment for the rename rule). For an uncommitted change: the
// files changed from base to the Head commit, overlaid with the work
// tree's changes.
func (c *Change) Files() ([]gitrepo.Change, error) {
	c.filesOnce.Do(func() {
		c.files, c.filesErr = c.listFiles()
	})
	return c.files, c.filesErr
}

func (c *Change) listFiles() ([]gitrepo.Change, error) {
	var committed []gitrepo.Change
	if c.Base != c.Head || c.Base.IsZero() {
		var err error
		if committed, err = c.Repo.ChangedFiles(c.Base, c.Head); err != nil {
			return nil, err
		}
	}
	if !c.Uncommitted {
		return committed, nil
	}
	wt, err := c.Repo.WorkTreeChanges()
	if err != nil {
		return nil, err
	}
	return c.overlay(committed, wt)
}

// overlay applies the work tree's changes (against the Head commit) to
// the committed changes (base to Head).
func (c *Change) overlay(committed []gitrepo.Change, wt []gitrepo.WorkTreeChange) ([]gitrepo.Change, error) {
	byPath := map[string]gitrepo.Change{}
	for _, f := range committed {
		byPath[f.Path] = f
	}
	var atBase fs.FS
	inBase := func(p string) (bool, error) {
		if c.Base.IsZero() {
			return false, nil
		}
		if atBase == nil {
			fsys, err := c.Repo.FS(c.Base)
			if err != nil {
				return false, err
			}
			atBase = fsys
		}
		_, err := fs.Stat(atBase, p)
		return err == nil, nil
	}
	for _, w := range wt {
		prev, had := byPath[w.Path]
		if had && prev.Status == gitrepo.Renamed {
			if w.Deleted {
				// Renamed by a commit, then deleted in the work tree.
				byPath[prev.OldPath] = gitrepo.Change{Path: prev.OldPath, Status: gitrepo.Deleted}
				delete(byPath, w.Path)
			}
			continue
		}
		ok, err := inBase(w.Path)
		if err != nil {
			return nil, err
		}
		switch {
		case w.Deleted && ok:
			byPath[w.Path] = gitrepo.Change{Path: w.Path, Status: gitrepo.Deleted}
		case w.Deleted:
			delete(byPath, w.Path) // added, then deleted in the work tree
		case ok:
			byPath[w.Path] = gitrepo.Change{Path: w.Path, Status: gitrepo.Modified}
		default:
			byPath[w.Path] = gitrepo.Change{Path: w.Path, Status: gitrepo.Added}
		}
	}
	out := make([]gitrepo.Change, 0, len(byPath))
	for _, f := range byPath {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Renames maps the new path of each renamed file to its old path.
func (c *Change) Renames() (map[string]string, error) {
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		if f.Status == gitrepo.Renamed {
			out[f.Path] = f.OldPath
		}
	}
	return out, nil
}

// HeadCheckedOut reports whether head is the commit checked out in the
// work tree (what Bazel builds).
func (c *Change) HeadCheckedOut() (bool, error) {
	cur, err := c.Repo.ResolveRevision("HEAD")
	if err != nil {
		return false, fmt.Errorf("work tree HEAD: %w", err)
	}
	return cur == c.Head, nil
}

// Schema is the "schema" of the JSON form of a Change (Summary).
const Schema = "stride.change/v1"

// Summary is the JSON form of a Change (`stride change --json`).
type Summary struct {
	Schema      string           `json:"schema"`
	Base        string           `json:"base"` // "" for FromNone
	BaseRev     string           `json:"base_rev,omitempty"`
	BaseFrom    string           `json:"base_from"`
	Head        string           `json:"head"`
	HeadRev     string           `json:"head_rev"`
	Uncommitted bool             `json:"uncommitted,omitempty"`
	Note        string           `json:"note,omitempty"`
	Files       []gitrepo.Change `json:"files"`
}

// Summary returns c's JSON form, with its files.
func (c *Change) Summary() (*Summary, error) {
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	s := &Summary{Schema: Schema, BaseRev: c.BaseRev, BaseFrom: c.BaseFrom, Head: c.Head.String(),
		HeadRev: c.HeadRev, Uncommitted: c.Uncommitted, Note: c.Note, Files: files}
	if s.Files == nil {
		s.Files = []gitrepo.Change{}
	}
	if !c.Base.IsZero() {
		s.Base = c.Base.String()
	}
	return s, nil
}
