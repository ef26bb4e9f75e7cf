package owners

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// ErrBadApprovals wraps errors in an approvals file.
var ErrBadApprovals = errors.New("bad approvals file")

// ApprovedByTrailer is the commit trailer that records an approval.
const ApprovedByTrailer = "Approved-by"

// review is the part of GitHub's pull-request review object stride reads
// (GET /repos/{owner}/{repo}/pulls/{n}/reviews). user.email is not in
// GitHub's API; stride accepts it when a tool adds it.
type review struct {
	ID   int64 `json:"id"`
	User *struct {
		Login string `json:"login"`
		Email string `json:"email"`
	} `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submitted_at"`
	CommitID    string `json:"commit_id"`
}

// ParseReviews reads an approvals file: either the JSON array returned by
// GitHub's list-reviews API, or a JSON array of email strings. For reviews,
// each user's latest review that decides (APPROVED, CHANGES_REQUESTED,
// DISMISSED) counts, as on GitHub; COMMENTED and PENDING reviews change
// nothing. A reviewer is identified by user.email if present, else by
// user.login through the login lines of OWNERS_ALIASES (emailFor), else by a
// login that is itself an email. Reviewers stride cannot identify come back
// as Unmatched (they are reported, never silently dropped). name names the
// file in errors.
func ParseReviews(name string, data []byte, emailFor func(login string) (string, bool)) ([]Approval, []Unmatched, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil, fmt.Errorf("%w %s: empty file (want a JSON array)", ErrBadApprovals, name)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w %s: %s", ErrBadApprovals, name, jsonErr(data, err))
	}
	var approvals []Approval
	var unmatched []Unmatched
	var reviews []review
	for i, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			if gitrepo.AddressOf(s) == "" {
				return nil, nil, fmt.Errorf("%w %s: element %d: %q is not an email", ErrBadApprovals, name, i, s)
			}
			approvals = append(approvals, Approval{Email: strings.ToLower(gitrepo.AddressOf(s)), Source: "approvals file " + name})
			continue
		}
		var rv review
		if err := json.Unmarshal(r, &rv); err != nil {
			return nil, nil, fmt.Errorf("%w %s: element %d: want a review object or an email string: %v", ErrBadApprovals, name, i, err)
		}
		if rv.User == nil || (rv.User.Login == "" && rv.User.Email == "") {
			return nil, nil, fmt.Errorf("%w %s: element %d: review without user.login", ErrBadApprovals, name, i)
		}
		if rv.State == "" {
			return nil, nil, fmt.Errorf("%w %s: element %d: review without state", ErrBadApprovals, name, i)
		}
		reviews = append(reviews, rv)
	}
	// Order by submission time when every review has one (GitHub already
	// lists them chronologically); otherwise keep the file's order.
	times := make([]time.Time, len(reviews))
	allTimed := true
	for i, rv := range reviews {
		t, err := time.Parse(time.RFC3339, rv.SubmittedAt)
		if err != nil {
			allTimed = false
			break
		}
		times[i] = t
	}
	if allTimed {
		idx := make([]int, len(reviews))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].Before(times[idx[b]]) })
		sorted := make([]review, len(reviews))
		for i, j := range idx {
			sorted[i] = reviews[j]
		}
		reviews = sorted
	}
	type verdict struct {
		rv       review
		approved bool
	}
	latest := map[string]*verdict{}
	var order []string
	for _, rv := range reviews {
		key := strings.ToLower(rv.User.Login)
		if key == "" {
			key = strings.ToLower(rv.User.Email)
		}
		var approved bool
		switch strings.ToUpper(rv.State) {
		case "APPROVED":
			approved = true
		case "CHANGES_REQUESTED", "DISMISSED":
			approved = false
		default: // COMMENTED, PENDING
			continue
		}
		if _, ok := latest[key]; !ok {
			order = append(order, key)
		}
		latest[key] = &verdict{rv: rv, approved: approved}
	}
	for _, key := range order {
		v := latest[key]
		if !v.approved {
			continue
		}
		src := "review"
		if v.rv.ID != 0 {
			src = fmt.Sprintf("review %d", v.rv.ID)
		}
		if v.rv.User.Login != "" {
			src += " by " + v.rv.User.Login
		}
		email := strings.ToLower(strings.TrimSpace(v.rv.User.Email))
		if email == "" && emailFor != nil {
			if e, ok := emailFor(v.rv.User.Login); ok {
				email = e
			}
		}
		if email == "" && gitrepo.AddressOf(v.rv.User.Login) != "" {
			email = strings.ToLower(v.rv.User.Login)
		}
		if email == "" {
			unmatched = append(unmatched, Unmatched{Who: v.rv.User.Login, Source: src,
				Reason: "no email for this login: add \"login " + v.rv.User.Login + " = EMAIL\" to " + AliasesFile})
			continue
		}
		approvals = append(approvals, Approval{Email: email, Source: src})
	}
	return approvals, unmatched, nil
}

// jsonErr describes a JSON error with its line and column.
func jsonErr(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // Offset counts the offending byte
		if off < 0 {
			off = 0
		}
	case errors.As(err, &te):
		off = te.Offset
		return fmt.Sprintf("%s: want a JSON array, got %s", lineCol(data, off), te.Value)
	}
	if off < 0 {
		return err.Error()
	}
	return fmt.Sprintf("%s: %v", lineCol(data, off), err)
}

func lineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// TrailerApprovals returns the Approved-by trailers of commits as
// approvals; trailers without an email come back as Unmatched.
func TrailerApprovals(commits []gitrepo.Commit) ([]Approval, []Unmatched) {
	var out []Approval
	var unmatched []Unmatched
	for _, c := range commits {
		src := ApprovedByTrailer + " in " + c.Hash.String()[:12]
		for _, v := range c.TrailerValues(ApprovedByTrailer) {
			if e := gitrepo.AddressOf(v); e != "" {
				out = append(out, Approval{Email: strings.ToLower(e), Source: src})
			} else {
				unmatched = append(unmatched, Unmatched{Who: v, Source: src, Reason: "no email address (write Approved-by: Name <email>)"})
			}
		}
	}
	return out, unmatched
}
