package ledger

import (
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
)

// Problem is one thing wrong with the ledger.
type Problem struct {
	Commit  string `json:"commit,omitempty"`
	Seq     int    `json:"seq"`
	Problem string `json:"problem"`
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Tip      string    `json:"tip,omitempty"`
	Events   int       `json:"events"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the ledger has no problems.
func (r *VerifyResult) OK() bool { return len(r.Problems) == 0 }

// Verify reads the whole chain from git (not the cache) and checks it: a
// single chain of commits each holding exactly one valid event.json, IDs
// unique, every promotion naming an earlier evaluation of the same build
// and environment that passed (or is an override), every step naming an
// earlier promotion or rollback of its environment, every rollback naming
// an earlier promotion of the build it goes back to.
func (l *Ledger) Verify() (*VerifyResult, error) {
	tip, err := l.repo.Ref(Ref)
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{Problems: []Problem{}}
	if tip.IsZero() {
		return res, nil
	}
	res.Tip = tip.String()
	var chain []Event
	for h := tip; !h.IsZero(); {
		c, err := l.repo.CommitObject(h)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Commit: h.String(), Problem: "the chain is broken: " + err.Error()})
			break
		}
		if fsys, err := l.repo.FS(h); err != nil {
			res.Problems = append(res.Problems, Problem{Commit: h.String(), Problem: err.Error()})
		} else if ents, err := fs.ReadDir(fsys, "."); err != nil || len(ents) != 1 || ents[0].Name() != EventFile {
			res.Problems = append(res.Problems, Problem{Commit: h.String(), Problem: fmt.Sprintf("the tree holds %d entries; want exactly one file, %s", len(ents), EventFile)})
		}
		e, _, err := l.readEvent(h)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Commit: h.String(), Problem: err.Error()})
			e = Event{Commit: h.String()}
		}
		chain = append(chain, e)
		if len(c.ParentHashes) > 1 {
			res.Problems = append(res.Problems, Problem{Commit: h.String(), Problem: "a merge commit: the ledger must be a single chain"})
		}
		h = plumbing.ZeroHash
		if len(c.ParentHashes) > 0 {
			h = c.ParentHashes[0]
		}
	}
	// Oldest first.
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	res.Events = len(chain)
	seen := map[string]*Event{}
	promoted := map[string]bool{} // env + " " + build
	add := func(e *Event, format string, a ...interface{}) {
		res.Problems = append(res.Problems, Problem{Commit: e.Commit, Seq: e.Seq, Problem: fmt.Sprintf("%s %s: ", e.Kind, e.ID) + fmt.Sprintf(format, a...)})
	}
	for i := range chain {
		e := &chain[i]
		e.Seq = i
		if e.ID == "" {
			continue // reported above
		}
		if prev, dup := seen[e.ID]; dup {
			add(e, "the id is also event %d's", prev.Seq)
			continue
		}
		seen[e.ID] = e
		switch e.Kind {
		case KindPromotion:
			if e.Env == "" || e.Build == "" {
				add(e, "no environment or build")
				break
			}
			ev, ok := seen[e.Evaluation]
			switch {
			case e.Evaluation == "":
				add(e, "names no evaluation")
			case !ok:
				add(e, "its evaluation %s is not earlier in the ledger", e.Evaluation)
			case ev.Kind != KindEvaluation || ev.Env != e.Env || ev.Build != e.Build:
				add(e, "event %s is not an evaluation of build %s for %s", e.Evaluation, short(e.Build), e.Env)
			case ev.Verdict != VerdictPass && !e.Override:
				add(e, "its evaluation %s did not pass (%s) and it is not an override", e.Evaluation, ev.Verdict)
			}
			promoted[e.Env+" "+e.Build] = true
		case KindRollback:
			if e.Env == "" || e.Build == "" {
				add(e, "no environment or build")
			} else if !promoted[e.Env+" "+e.Build] {
				add(e, "goes back to build %s, which was never promoted to %s", short(e.Build), e.Env)
			}
		case KindStep:
			of, ok := seen[e.Of]
			if !ok || (of.Kind != KindPromotion && of.Kind != KindRollback) || of.Env != e.Env {
				add(e, "names %q, not an earlier promotion or rollback of %s", e.Of, e.Env)
			}
		case KindEvaluation:
			if e.Verdict != VerdictPass && e.Verdict != VerdictBlocked {
				add(e, "verdict %q", e.Verdict)
			}
		case KindHold, KindUnhold:
			if e.Env == "" {
				add(e, "no environment")
			}
		}
	}
	return res, nil
}
