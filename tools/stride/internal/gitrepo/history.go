package gitrepo

import (
	"container/heap"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Signature is a commit's author or committer.
type Signature struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	When  time.Time `json:"when"`
}

// Commit is what stride needs of a commit.
type Commit struct {
	Hash      plumbing.Hash   `json:"hash"`
	Parents   []plumbing.Hash `json:"parents"`
	Author    Signature       `json:"author"`
	Committer Signature       `json:"committer"`
	Message   string          `json:"message"`
	// Trailers are the "Key: value" lines of the message's last paragraph
	// (see ParseTrailers).
	Trailers []Trailer `json:"trailers,omitempty"`
}

// TrailerValues returns the values of the trailers named key (compared
// case-insensitively), in order.
func (c *Commit) TrailerValues(key string) []string { return TrailerValues(c.Trailers, key) }

func newCommit(c *object.Commit) Commit {
	return Commit{
		Hash:      c.Hash,
		Parents:   append([]plumbing.Hash(nil), c.ParentHashes...),
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
		Trailers:  ParseTrailers(c.Message),
	}
}

// CommitInfo returns the commit h with its parsed trailers.
func (r *Repo) CommitInfo(h plumbing.Hash) (Commit, error) {
	c, err := r.CommitObject(h)
	if err != nil {
		return Commit{}, err
	}
	return newCommit(c), nil
}

// MergeBase returns the best common ancestor of a and b, as `git merge-base
// a b` does (when there are several, the most recent one). It wraps
// ErrNoMergeBase when the histories do not meet, and ErrShallow when a
// shallow clone's boundary cut the walk short before they did.
func (r *Repo) MergeBase(a, b plumbing.Hash) (plumbing.Hash, error) {
	if a == b {
		if _, err := r.CommitObject(a); err != nil {
			return plumbing.ZeroHash, err
		}
		return a, nil
	}
	p := newPainter(r)
	if err := p.push(a, flagA); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := p.push(b, flagB); err != nil {
		return plumbing.ZeroHash, err
	}
	var results []plumbing.Hash
	for p.hasNonStale() {
		c := p.pop()
		f := p.flags[c.Hash] & (flagA | flagB | flagStale)
		if f == flagA|flagB {
			if p.flags[c.Hash]&flagResult == 0 {
				p.flags[c.Hash] |= flagResult
				results = append(results, c.Hash)
			}
			f |= flagStale
		}
		if err := p.propagate(c, f); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	for _, h := range results {
		if p.flags[h]&flagStale == 0 {
			return h, nil
		}
	}
	if p.hitShallow {
		return plumbing.ZeroHash, fmt.Errorf("%w of %s and %s: %v", ErrNoMergeBase, short(a), short(b),
			r.shallowError("their common ancestor"))
	}
	return plumbing.ZeroHash, fmt.Errorf("%w of %s and %s: their histories are unrelated", ErrNoMergeBase, short(a), short(b))
}

// CommitsBetween returns the commits reachable from head but not from base
// (`git log base..head`), newest first. base need not be an ancestor of
// head (after a force push the result is head's side of the fork). The
// zero hash as base means "all of head's history".
func (r *Repo) CommitsBetween(base, head plumbing.Hash) ([]Commit, error) {
	if base == head {
		return nil, nil
	}
	p := newPainter(r)
	if err := p.push(head, flagB); err != nil {
		return nil, err
	}
	if !base.IsZero() {
		if err := p.push(base, flagA); err != nil {
			return nil, err
		}
	}
	var out []*object.Commit
	// flagA marks "reachable from base" and plays the role of stale: stop
	// once everything queued is reachable from base.
	for p.hasNotFlag(flagA) {
		c := p.pop()
		f := p.flags[c.Hash] & (flagA | flagB)
		if f == flagB {
			out = append(out, c)
		}
		if err := p.propagate(c, f); err != nil {
			return nil, err
		}
	}
	res := make([]Commit, 0, len(out))
	for _, c := range out {
		// A commit popped before base's walk reached it (clock skew) is
		// dropped here.
		if p.flags[c.Hash]&flagA == 0 {
			res = append(res, newCommit(c))
		}
	}
	return res, nil
}

func short(h plumbing.Hash) string { return h.String()[:12] }

const (
	flagA uint8 = 1 << iota
	flagB
	flagStale
	flagResult
)

// painter walks history newest-first (by committer time) spreading flags
// from commits to their parents, as git's paint_down_to_common does.
type painter struct {
	r          *Repo
	flags      map[plumbing.Hash]uint8
	queued     map[plumbing.Hash]bool
	q          commitHeap
	hitShallow bool
}

func newPainter(r *Repo) *painter {
	return &painter{r: r, flags: map[plumbing.Hash]uint8{}, queued: map[plumbing.Hash]bool{}}
}

func (p *painter) push(h plumbing.Hash, f uint8) error {
	c, err := p.r.CommitObject(h)
	if err != nil {
		return err
	}
	p.flags[h] |= f
	p.enqueue(c)
	return nil
}

func (p *painter) enqueue(c *object.Commit) {
	if p.queued[c.Hash] {
		return
	}
	p.queued[c.Hash] = true
	heap.Push(&p.q, c)
}

func (p *painter) pop() *object.Commit {
	c := heap.Pop(&p.q).(*object.Commit)
	delete(p.queued, c.Hash)
	return c
}

func (p *painter) hasNonStale() bool { return p.hasNotFlag(flagStale) }

func (p *painter) hasNotFlag(f uint8) bool {
	for _, c := range p.q {
		if p.flags[c.Hash]&f == 0 {
			return true
		}
	}
	return false
}

// propagate adds f to c's parents and queues those that changed. The
// parents of a shallow boundary commit are not in the repository: like git,
// treat it as a root.
func (p *painter) propagate(c *object.Commit, f uint8) error {
	if p.r.isShallowCommit(c.Hash) {
		p.hitShallow = true
		return nil
	}
	for _, ph := range c.ParentHashes {
		if p.flags[ph]&f == f {
			continue
		}
		parent, err := p.r.git.CommitObject(ph)
		if err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) && p.r.isShallowRepo() {
				p.hitShallow = true
				continue
			}
			return fmt.Errorf("read parent %s of %s: %w", ph, short(c.Hash), err)
		}
		p.flags[ph] |= f
		p.enqueue(parent)
	}
	return nil
}

// commitHeap is a max-heap by committer time (ties: larger hash first, for
// a deterministic order).
type commitHeap []*object.Commit

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	ti, tj := h[i].Committer.When, h[j].Committer.When
	if !ti.Equal(tj) {
		return ti.After(tj)
	}
	return h[i].Hash.String() > h[j].Hash.String()
}
func (h commitHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x interface{}) { *h = append(*h, x.(*object.Commit)) }
func (h *commitHeap) Pop() interface{} {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}
