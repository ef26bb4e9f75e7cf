package owners

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// LoadAt loads the OWNERS tree of a commit (not the work tree). Like Load,
// it returns the tree with a Diagnostics error when files have errors.
func LoadAt(r *gitrepo.Repo, commit plumbing.Hash) (*Tree, error) {
	fsys, err := r.FS(commit)
	if err != nil {
		return nil, err
	}
	return Load(fsys)
}

// loadLenient is LoadAt that keeps a tree with errors (Check reports them).
func loadLenient(r *gitrepo.Repo, commit plumbing.Hash) (*Tree, error) {
	t, err := LoadAt(r, commit)
	var ds Diagnostics
	if err != nil && !(errors.As(err, &ds) && t != nil) {
		return nil, fmt.Errorf("load OWNERS at %s: %w", commit.String()[:12], err)
	}
	return t, nil
}

// RepoCheck says which change CheckRepo checks and with what approvals.
type RepoCheck struct {
	// Change is the change, when the caller has resolved it; else Base
	// and Head name it.
	Change *change.Change
	// Head is the change's head revision; "" means HEAD.
	Head string
	// Base is the revision the change is compared with; "" means the merge
	// base of Head and the default branch (origin/HEAD, main or master).
	Base string
	// Reviews is the content of an approvals file (see ParseReviews), and
	// ReviewsName its name for errors; nil for none.
	Reviews     []byte
	ReviewsName string
	// Approvers are more approving emails (e.g. from flags).
	Approvers []string
	// Authors, if set, replaces the authors of the change's commits.
	Authors []string
	// NoSelfApproval stops authors from counting as approvers.
	NoSelfApproval bool
	// Paths, if set, are the change instead of base..head: these files
	// (root-relative), as if modified, under Head's OWNERS, with only the
	// approvals of Reviews and Approvers (there are no commits).
	Paths []string
}

// CheckRepo checks the change base..head of a repository: the changed
// files (renames detected), approvals from Approved-by trailers of the
// change's commits and from the reviews file, the commits' authors, head's
// OWNERS for the changed files and base's for files that define ownership
// or are gone. Review logins map to emails through base's OWNERS_ALIASES,
// so a change cannot map a login to someone else and approve with it.
// Errors: unknown revisions (gitrepo.ErrUnknownRevision), shallow clones
// (gitrepo.ErrShallow), a bad reviews file (ErrBadApprovals).
func CheckRepo(r *gitrepo.Repo, opts RepoCheck) (*Result, error) {
	if len(opts.Paths) > 0 {
		return checkPaths(r, opts)
	}
	c := opts.Change
	if c == nil {
		var err error
		if c, err = change.Resolve(r, change.Options{Base: opts.Base, Head: opts.Head}); err != nil {
			return nil, err
		}
	}
	base, head := c.Base, c.Head
	headTree, err := loadLenient(r, head)
	if err != nil {
		return nil, err
	}
	changes, err := c.Files()
	if err != nil {
		return nil, err
	}
	// Base's OWNERS matter only for files that are gone, files that
	// define ownership, and review logins; skip loading them otherwise.
	baseTree := headTree
	if base != head && !base.IsZero() && needsBase(headTree, changes, opts.Reviews != nil) {
		if baseTree, err = loadLenient(r, base); err != nil {
			return nil, err
		}
	}
	commits, err := r.CommitsBetween(base, head)
	if err != nil {
		return nil, err
	}
	approvals, unmatched := TrailerApprovals(commits)
	ra, ru, err := opts.givenApprovals(baseTree)
	if err != nil {
		return nil, err
	}
	approvals, unmatched = append(approvals, ra...), append(unmatched, ru...)
	authors := opts.Authors
	if authors == nil {
		seen := map[string]bool{}
		for _, c := range commits {
			e := strings.ToLower(c.Author.Email)
			if e != "" && !seen[e] {
				seen[e] = true
				authors = append(authors, e)
			}
		}
	}
	res := Check(CheckInput{
		Head: headTree, Base: baseTree, Changes: changes, Authors: authors,
		NoSelfApproval: opts.NoSelfApproval, Approvals: approvals, Unmatched: unmatched,
	})
	res.Base, res.Head = base.String(), head.String()
	return res, nil
}

// givenApprovals are the approvals of the reviews file (logins mapped
// through logins' OWNERS_ALIASES) and of Approvers.
func (opts RepoCheck) givenApprovals(logins *Tree) ([]Approval, []Unmatched, error) {
	var approvals []Approval
	var unmatched []Unmatched
	if opts.Reviews != nil {
		name := opts.ReviewsName
		if name == "" {
			name = "approvals"
		}
		var err error
		if approvals, unmatched, err = ParseReviews(name, opts.Reviews, logins.EmailForLogin); err != nil {
			return nil, nil, err
		}
	}
	for _, a := range opts.Approvers {
		approvals = append(approvals, Approval{Email: strings.ToLower(a), Source: "flag"})
	}
	return approvals, unmatched, nil
}

// checkPaths is CheckRepo for opts.Paths.
func checkPaths(r *gitrepo.Repo, opts RepoCheck) (*Result, error) {
	rev := opts.Head
	if rev == "" {
		rev = "HEAD"
	}
	head, err := r.ResolveRevision(rev)
	if err != nil {
		return nil, err
	}
	tree, err := loadLenient(r, head)
	if err != nil {
		return nil, err
	}
	changes := make([]gitrepo.Change, len(opts.Paths))
	for i, p := range opts.Paths {
		changes[i] = gitrepo.Change{Path: p, Status: gitrepo.Modified}
	}
	approvals, unmatched, err := opts.givenApprovals(tree)
	if err != nil {
		return nil, err
	}
	res := Check(CheckInput{Head: tree, Base: tree, Changes: changes, Authors: opts.Authors,
		NoSelfApproval: opts.NoSelfApproval, Approvals: approvals, Unmatched: unmatched})
	res.Head = head.String()
	return res, nil
}

// needsBase reports whether checking changes needs the OWNERS tree at
// base. A file that defines ownership only at base (an include the change
// removed) implies a changed OWNERS file or a changed file still included
// at head, so looking at head's includes is enough.
func needsBase(head *Tree, changes []gitrepo.Change, reviews bool) bool {
	if reviews {
		return true
	}
	for _, c := range changes {
		if c.Status == gitrepo.Deleted || c.Status == gitrepo.Renamed || head.DefinesOwners(c.Path) {
			return true
		}
	}
	return false
}
