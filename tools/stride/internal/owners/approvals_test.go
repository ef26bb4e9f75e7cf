package owners

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// reviewsJSON is shaped like GitHub's GET /repos/{o}/{r}/pulls/{n}/reviews.
const reviewsJSON = `[
  {"id": 1, "node_id": "x", "user": {"login": "root1-gh", "id": 11, "type": "User"},
   "body": "", "state": "APPROVED", "submitted_at": "2024-05-01T10:00:00Z", "commit_id": "abc"},
  {"id": 2, "user": {"login": "lib2-gh"}, "state": "APPROVED", "submitted_at": "2024-05-01T11:00:00Z"},
  {"id": 3, "user": {"login": "lib2-gh"}, "state": "CHANGES_REQUESTED", "submitted_at": "2024-05-01T12:00:00Z"},
  {"id": 4, "user": {"login": "lib1-gh"}, "state": "CHANGES_REQUESTED", "submitted_at": "2024-05-01T09:00:00Z"},
  {"id": 5, "user": {"login": "lib1-gh"}, "state": "APPROVED", "submitted_at": "2024-05-01T13:00:00Z"},
  {"id": 6, "user": {"login": "lib1-gh"}, "state": "COMMENTED", "submitted_at": "2024-05-01T14:00:00Z"},
  {"id": 7, "user": {"login": "stranger"}, "state": "APPROVED", "submitted_at": "2024-05-01T15:00:00Z"},
  {"id": 8, "user": {"login": "bot", "email": "Bot@X.example"}, "state": "APPROVED", "submitted_at": "2024-05-01T16:00:00Z"},
  {"id": 9, "user": {"login": "dismissed"}, "state": "APPROVED", "submitted_at": "2024-05-01T16:00:00Z"},
  {"id": 10, "user": {"login": "dismissed"}, "state": "DISMISSED", "submitted_at": "2024-05-01T17:00:00Z"}
]`

func TestParseReviews(t *testing.T) {
	logins := map[string]string{"root1-gh": "root1@x.example", "lib1-gh": "lib1@x.example", "lib2-gh": "lib2@x.example", "dismissed": "d@x.example"}
	emailFor := func(l string) (string, bool) { e, ok := logins[strings.ToLower(l)]; return e, ok }
	got, unmatched, err := ParseReviews("reviews.json", []byte(reviewsJSON), emailFor)
	if err != nil {
		t.Fatal(err)
	}
	// In the order of each reviewer's first review.
	want := []Approval{
		{Email: "lib1@x.example", Source: "review 5 by lib1-gh"},
		{Email: "root1@x.example", Source: "review 1 by root1-gh"},
		{Email: "bot@x.example", Source: "review 8 by bot"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("approvals (-want +got):\n%s", diff)
	}
	if len(unmatched) != 1 || unmatched[0].Who != "stranger" || !strings.Contains(unmatched[0].Reason, "login stranger = EMAIL") {
		t.Errorf("unmatched = %+v", unmatched)
	}

	got, _, err = ParseReviews("a.json", []byte(`["alice@x.example", "Bob <bob@x.example>"]`), nil)
	if err != nil || len(got) != 2 || got[1].Email != "bob@x.example" {
		t.Errorf("email list: %v, %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `[1]`, "[\n  {\"user\": {\"login\": \"a\"}, \"state\": \"APPROVED\"},\n  oops\n]", `["not an email"]`, `[{"state": "APPROVED"}]`, `[{"user": {"login": "a"}}]`} {
		_, _, err := ParseReviews("bad.json", []byte(bad), nil)
		if !errors.Is(err, ErrBadApprovals) || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("ParseReviews(%q) = %v, want ErrBadApprovals naming the file", bad, err)
		}
	}
	_, _, err = ParseReviews("bad.json", []byte("[\n  {\"user\": {\"login\": \"a\"}, \"state\": \"APPROVED\"},\n  oops\n]"), nil)
	if err == nil || !strings.Contains(err.Error(), "line 3, column 3") {
		t.Errorf("syntax error without line and column: %v", err)
	}
}

func TestTrailerApprovals(t *testing.T) {
	commits := []gitrepo.Commit{{
		Hash: plumbing.NewHash("0123456789abcdef0123456789abcdef01234567"),
		Trailers: []gitrepo.Trailer{
			{Key: "Approved-by", Value: "Alice <Alice@X.example>"},
			{Key: "approved-by", Value: "bob@x.example"},
			{Key: "Approved-by", Value: "Carol"},
			{Key: "Signed-off-by", Value: "dave@x.example"},
		},
	}}
	got, unmatched := TrailerApprovals(commits)
	want := []Approval{{Email: "alice@x.example", Source: "Approved-by in 0123456789ab"}, {Email: "bob@x.example", Source: "Approved-by in 0123456789ab"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(unmatched) != 1 || unmatched[0].Who != "Carol" {
		t.Errorf("unmatched = %+v", unmatched)
	}
}
