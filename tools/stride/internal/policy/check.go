package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// maxScanSize is the largest file scanned for secrets; larger ones are
// data, and file-size reports them anyway.
const maxScanSize = 8 << 20

// Check checks the change base..head of the repository that contains
// repoDir. base "" or all zeros (git's "no commit", as a hook passes for a
// new branch) means the merge base of head and the default branch, or
// head's whole history when there is none. head "" means HEAD.
//
// A revision that does not resolve gives an error wrapping
// gitrepo.ErrUnknownRevision; bad options wrap ErrBadInput. Findings are
// not errors: they are in the Result.
func Check(ctx context.Context, repoDir, base, head string, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if strings.Trim(base, "0") == "" {
		base = ""
	}
	c, err := change.Open(repoDir, change.Options{Base: base, Head: head, WholeHistory: true})
	if err != nil {
		return nil, err
	}
	return CheckChange(ctx, c, opts)
}

// CheckChange is Check of a resolved change.
func CheckChange(ctx context.Context, c *change.Change, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	repo, baseH, headH := c.Repo, c.Base, c.Head
	base, head := c.BaseRev, c.HeadRev
	res := &Result{Schema: Schema, Head: headH.String(), Findings: []Finding{}}
	if !baseH.IsZero() {
		res.Base = baseH.String()
	}
	for _, r := range Rules {
		if opts.enabled(r.ID) {
			res.Rules = append(res.Rules, r.ID)
		}
	}

	commits, err := repo.CommitsBetween(baseH, headH)
	if err != nil {
		return nil, fmt.Errorf("commits %s..%s: %w", base, head, err)
	}
	changed := map[string]bool{}             // every path a checked commit touched
	for i := len(commits) - 1; i >= 0; i-- { // oldest first
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := commits[i]
		if len(c.Parents) > 1 {
			continue
		}
		res.Commits++
		sha := c.Hash.String()
		res.Findings = append(res.Findings, checkMessage(sha, c.Message, &opts)...)
		var parent plumbing.Hash
		if len(c.Parents) == 1 {
			parent = c.Parents[0]
		}
		found, err := checkCommitFiles(repo, parent, c.Hash, &opts, changed)
		if err != nil {
			return nil, err
		}
		res.Findings = append(res.Findings, found...)
	}

	if opts.enabled(RuleOwnersLint) {
		found, skip, err := checkOwners(repo, headH, changed)
		if err != nil {
			return nil, err
		}
		res.Findings = append(res.Findings, found...)
		if skip != "" {
			res.Skipped = append(res.Skipped, Skip{Rule: RuleOwnersLint, Reason: skip})
		}
	}
	if opts.enabled(RuleGeneratedDrift) {
		found, skip, err := checkGazelle(ctx, repo, baseH, headH, changed, &opts)
		if err != nil {
			return nil, err
		}
		res.Findings = append(res.Findings, found...)
		if skip != "" {
			res.Skipped = append(res.Skipped, Skip{Rule: RuleGeneratedDrift, Reason: skip})
		}
	} else if opts.NoGazelle {
		res.Skipped = append(res.Skipped, Skip{Rule: RuleGeneratedDrift, Reason: "--no-gazelle"})
	}
	res.sortFindings()
	return res, nil
}

// checkCommitFiles applies file-size and secrets to the files commit
// changes relative to parent (the zero hash: the empty tree), and adds
// their paths to changed.
func checkCommitFiles(repo *gitrepo.Repo, parent, commit plumbing.Hash, o *Options, changed map[string]bool) ([]Finding, error) {
	changes, err := repo.ChangedFiles(parent, commit)
	if err != nil {
		return nil, err
	}
	sizeOn, secretsOn := o.enabled(RuleFileSize), o.enabled(RuleSecrets)
	var fsys fs.FS
	if sizeOn {
		if fsys, err = repo.FS(commit); err != nil {
			return nil, err
		}
	}
	sha := commit.String()
	var out []Finding
	for _, ch := range changes {
		changed[ch.Path] = true
		if ch.OldPath != "" {
			changed[ch.OldPath] = true
		}
		if ch.Status == gitrepo.Deleted {
			continue
		}
		var size int64 = -1
		if sizeOn {
			if fi, err := fs.Stat(fsys, ch.Path); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
			if size > o.MaxFileSize && !allowedLarge(ch.Path, o.AllowLarge) {
				out = append(out, Finding{Rule: RuleFileSize, Commit: sha, File: ch.Path,
					Message: fmt.Sprintf("%s is %s, over the limit of %s: keep large files out of git (or add the path to --allow-large)",
						ch.Path, humanSize(size), humanSize(o.MaxFileSize))})
			}
		}
		if !secretsOn || size > maxScanSize {
			continue
		}
		found, err := scanChange(repo, parent, commit, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// scanChange scans the lines a change added for secrets.
func scanChange(repo *gitrepo.Repo, parent, commit plumbing.Hash, ch gitrepo.Change) ([]Finding, error) {
	newData, err := repo.ReadFileAt(commit, ch.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // a submodule or a symlink to nowhere
		}
		return nil, err
	}
	if len(newData) > maxScanSize || isBinary(newData) {
		return nil, nil
	}
	var added map[int]bool // nil: every line
	if ch.Status != gitrepo.Added && !parent.IsZero() {
		old := ch.OldPath
		if old == "" {
			old = ch.Path
		}
		oldData, err := repo.ReadFileAt(parent, old)
		if err == nil && !isBinary(oldData) {
			added = addedLines(string(oldData), string(newData))
		}
	}
	var out []Finding
	for _, s := range ScanSecrets(string(newData), added) {
		out = append(out, Finding{Rule: RuleSecrets, Commit: commit.String(), File: ch.Path, Line: s.Line,
			Message: fmt.Sprintf("%s (%s): remove it from the commit and revoke it; a line marked %s is exempt",
				s.Pattern.Desc, s.Pattern.ID, AllowSecretMarker)})
	}
	return out, nil
}

// addedLines returns the 1-based numbers of the lines of newText that a
// line diff from oldText adds.
func addedLines(oldText, newText string) map[int]bool {
	out := map[int]bool{}
	line := 1
	for _, d := range diff.Do(oldText, newText) {
		n := strings.Count(d.Text, "\n")
		if !strings.HasSuffix(d.Text, "\n") && d.Text != "" {
			n++ // a last line without a newline
		}
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			for i := 0; i < n; i++ {
				out[line+i] = true
			}
			line += n
		case diffmatchpatch.DiffEqual:
			line += n
		}
	}
	return out
}

func isBinary(b []byte) bool {
	if len(b) > 8000 {
		b = b[:8000]
	}
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}

// allowedLarge reports whether p matches one of the patterns.
func allowedLarge(p string, patterns []string) bool {
	for _, pat := range patterns {
		if ok, _ := matchPath(pat, p); ok {
			return true
		}
	}
	return false
}

// matchPath matches p against a path.Match pattern, or a directory prefix
// "dir/**".
func matchPath(pattern, p string) (bool, error) {
	if strings.HasSuffix(pattern, "/**") {
		dir := strings.TrimSuffix(pattern, "/**")
		return strings.HasPrefix(p, dir+"/"), nil
	}
	return path.Match(pattern, p)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
