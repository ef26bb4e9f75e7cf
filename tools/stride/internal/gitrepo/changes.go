package gitrepo

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Status is how a change touched a path.
type Status string

// The statuses of a Change.
const (
	Added    Status = "added"
	Modified Status = "modified" // content, mode or type changed
	Deleted  Status = "deleted"
	Renamed  Status = "renamed" // moved, possibly with edits
)

// Change is one changed path between two commits. Path is the path at head
// (for deletions: the path that was deleted). OldPath is set for renames
// only: the path at base.
type Change struct {
	Path    string `json:"path"`
	OldPath string `json:"old_path,omitempty"`
	Status  Status `json:"status"`
}

// RenameScore is the similarity (0-100) above which a deleted and an added
// file count as a rename; 50 is git's default.
const RenameScore = 50

// ChangedFiles compares the trees of base and head and returns the changed
// files sorted by Path, with renames detected as git does (exact renames,
// then content similarity of at least RenameScore percent when at most
// 1,000 files were added or deleted), except that go-git pairs similar
// files only when both are regular files: an executable or a symbolic
// link is renamed only when its content is unchanged. This is stride's
// one rename rule (package change). It compares trees, so it works when
// base is not an ancestor of head (a force push). The zero hash as base
// means the empty tree (every file of head is added). A base missing from
// a shallow clone gives an error wrapping ErrShallow that names the fetch
// to run.
func (r *Repo) ChangedFiles(base, head plumbing.Hash) ([]Change, error) {
	var baseTree *object.Tree
	if !base.IsZero() {
		t, err := r.treeOf(base)
		if err != nil {
			return nil, err
		}
		baseTree = t
	}
	headTree, err := r.treeOf(head)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), baseTree, headTree, &object.DiffTreeOptions{
		DetectRenames: true,
		RenameScore:   RenameScore,
		RenameLimit:   1000,
	})
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", short(base), short(head), err)
	}
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		from, to := c.From.Name, c.To.Name
		switch {
		case from == "" && to == "":
			continue
		case from == "":
			out = append(out, Change{Path: to, Status: Added})
		case to == "":
			out = append(out, Change{Path: from, Status: Deleted})
		case from != to:
			out = append(out, Change{Path: to, OldPath: from, Status: Renamed})
		default:
			out = append(out, Change{Path: to, Status: Modified})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Status < out[j].Status
	})
	return out, nil
}

func (r *Repo) treeOf(h plumbing.Hash) (*object.Tree, error) {
	c, err := r.CommitObject(h)
	if err != nil {
		return nil, err
	}
	r.objMu.Lock()
	t, err := c.Tree()
	r.objMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", short(h), err)
	}
	return t, nil
}
