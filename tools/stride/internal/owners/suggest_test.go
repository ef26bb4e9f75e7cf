package owners

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func suggested(s *Suggestion) []string {
	var out []string
	for _, a := range s.Approvers {
		out = append(out, a.Email)
	}
	return out
}

func TestSuggest(t *testing.T) {
	tree := loadFixture(t, map[string]string{
		"tiny/OWNERS": "set noparent\nonly@x.example\nrequire 2\n",
		"tiny/f.go":   "",
	})
	for _, tc := range []struct {
		name       string
		changes    []string
		authors    []string
		noSelf     bool
		approvals  []string
		want       []string
		unresolved []string
	}{
		// Closest owners, never the root's @platform; lib1 covers two files.
		{name: "closest", changes: []string{"libs/a/b.go", "services/svc/main.go", "libs/api.proto"},
			want: []string{"lib1@x.example", "lib2@x.example", "rel1@x.example", "rel2@x.example"}},
		{name: "one approval given", changes: []string{"libs/a/b.go"}, approvals: []string{"lib2@x.example"},
			want: []string{"lib1@x.example"}},
		{name: "authors are not suggested", changes: []string{"libs/a/b.go"}, authors: []string{"lib1@x.example"},
			want: []string{"lib2@x.example"}},
		// Level 0 (@libs-team) has one person left: widen to the root.
		{name: "widen when the closest level is short", changes: []string{"libs/a/b.go"}, authors: []string{"lib1@x.example"}, noSelf: true,
			want: []string{"lib2@x.example", "root1@x.example"}},
		{name: "all teams: one per team", changes: []string{"ci/env.star"},
			want: []string{"rel1@x.example", "root1@x.example"}},
		{name: "excluded never suggested", changes: []string{"services/svc/main.go"}, authors: []string{"lib1@x.example", "lib2@x.example", "svc@x.example"}, noSelf: true,
			want: []string{"root1@x.example"}},
		{name: "too few people", changes: []string{"tiny/f.go"},
			want: []string{"only@x.example"}, unresolved: []string{"tiny/f.go"}},
		{name: "approved: nothing", changes: []string{"README.md"}, approvals: []string{"root2@x.example"}, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(CheckInput{Head: tree, Changes: changesOf(tc.changes...), Authors: tc.authors, NoSelfApproval: tc.noSelf, Approvals: approvals(tc.approvals...)})
			s := Suggest(res)
			if diff := cmp.Diff(tc.want, suggested(s)); diff != "" {
				t.Errorf("suggested (-want +got):\n%s", diff)
			}
			var unresolved []string
			for _, u := range s.Unresolved {
				unresolved = append(unresolved, u.Path)
			}
			if diff := cmp.Diff(tc.unresolved, unresolved); diff != "" {
				t.Errorf("unresolved (-want +got):\n%s", diff)
			}
			// Everyone suggested is an owner of each file they are listed for.
			for _, a := range s.Approvers {
				for _, f := range a.Files {
					if !tree.Resolve(f).IsOwner(a.Email) {
						t.Errorf("%s suggested for %s, which they do not own", a.Email, f)
					}
				}
			}
		})
	}
}

// TestSuggestMinimal checks that suggestions are not padded: one person
// who owns every file beats one per file at the same level.
func TestSuggestMinimal(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"OWNERS":   "root@x.example\n",
		"a/OWNERS": "both@x.example\na1@x.example\n",
		"b/OWNERS": "both@x.example\nb1@x.example\n",
		"c/OWNERS": "c1@x.example\nboth@x.example\n",
		"a/f":      "", "b/f": "", "c/f": "",
	}))
	res := Check(CheckInput{Head: tree, Changes: changesOf("a/f", "b/f", "c/f")})
	if diff := cmp.Diff([]string{"both@x.example"}, suggested(Suggest(res))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Determinism: the same input gives the same answer.
	for i := 0; i < 20; i++ {
		if got := suggested(Suggest(res)); len(got) != 1 || got[0] != "both@x.example" {
			t.Fatalf("run %d: %v", i, got)
		}
	}
}

// TestSuggestLastResort: an owner marked #{LAST_RESORT_SUGGESTION} (as in
// Chromium) approves like any other but is suggested only when no one
// else can approve.
func TestSuggestLastResort(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"a/OWNERS": "set noparent\nboss@x.example #{LAST_RESORT_SUGGESTION}\nann@x.example\n",
		"a/f":      "",
	}))
	res := Check(CheckInput{Head: tree, Changes: changesOf("a/f")})
	if diff := cmp.Diff([]string{"ann@x.example"}, suggested(Suggest(res))); diff != "" {
		t.Errorf("with another owner (-want +got):\n%s", diff)
	}
	res = Check(CheckInput{Head: tree, Changes: changesOf("a/f"), Authors: []string{"ann@x.example"}, NoSelfApproval: true})
	if diff := cmp.Diff([]string{"boss@x.example"}, suggested(Suggest(res))); diff != "" {
		t.Errorf("no one else (-want +got):\n%s", diff)
	}
	res = Check(CheckInput{Head: tree, Changes: changesOf("a/f"), Approvals: approvals("boss@x.example")})
	if !res.OK {
		t.Errorf("a last-resort owner's approval does not count: %+v", res.Files)
	}
}

// TestPerFileGlobParity is ported from depot_tools' owners tests: a
// per-file glob without '/' covers files in subdirectories too.
func TestPerFileGlobParity(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"content/baz/OWNERS":   "ben@x.example\nper-file *.cc=tom@x.example\nper-file BUILD=bob@x.example\n",
		"content/baz/sub/x.cc": "", "content/baz/x.cc": "", "content/baz/sub/BUILD": "", "content/baz/BUILD": "",
	}))
	for _, tc := range []struct {
		path, who string
		owner     bool
	}{
		{"content/baz/x.cc", "tom@x.example", true},
		{"content/baz/sub/x.cc", "tom@x.example", true},
		{"content/baz/sub/x.h", "tom@x.example", false},
		{"content/baz/BUILD", "bob@x.example", true},
		{"content/baz/sub/BUILD", "bob@x.example", false},
		{"content/baz/sub/x.cc", "ben@x.example", true},
	} {
		if got := tree.Resolve(tc.path).IsOwner(tc.who); got != tc.owner {
			t.Errorf("%s owns %s = %v, want %v", tc.who, tc.path, got, tc.owner)
		}
	}
}

// TestSuggestAnyOfTeam: when any one member of a team can approve
// everything, the suggestion says so instead of naming one of them.
func TestSuggestAnyOfTeam(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"OWNERS_ALIASES": "@plat: p1@x.example, p2@x.example, p3@x.example\n",
		"OWNERS":         "@plat\n",
		"a/OWNERS":       "solo@x.example\n",
		"x/f":            "", "y/f": "", "a/f": "",
	}))
	s := Suggest(Check(CheckInput{Head: tree, Changes: changesOf("x/f", "y/f"), Authors: []string{"p3@x.example"}, NoSelfApproval: true}))
	if len(s.Approvers) != 1 || !cmp.Equal(s.Approvers[0].AnyOf, []string{"p1@x.example", "p2@x.example"}) {
		t.Errorf("team-owned files: %+v (authors are not offered)", s.Approvers)
	}
	s = Suggest(Check(CheckInput{Head: tree, Changes: changesOf("a/f")}))
	if len(s.Approvers) != 1 || s.Approvers[0].Email != "solo@x.example" || s.Approvers[0].AnyOf != nil {
		t.Errorf("a file only solo can approve at the closest level: %+v", s.Approvers)
	}
}

// TestSuggestOnePerson: two closest owners are suggested, and the one
// person who could approve everything (the root's) is named as well.
func TestSuggestOnePerson(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"OWNERS":   "root@x.example\n",
		"a/OWNERS": "ann@x.example\n",
		"b/OWNERS": "bob@x.example\n",
		"a/f":      "", "b/f": "",
	}))
	s := Suggest(Check(CheckInput{Head: tree, Changes: changesOf("a/f", "b/f")}))
	if diff := cmp.Diff([]string{"ann@x.example", "bob@x.example"}, suggested(s)); diff != "" {
		t.Errorf("closest owners (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"root@x.example"}, s.OnePerson); diff != "" {
		t.Errorf("one person (-want +got):\n%s", diff)
	}
	s = Suggest(Check(CheckInput{Head: tree, Changes: changesOf("a/f")}))
	if s.OnePerson != nil {
		t.Errorf("one approver suggested, yet OnePerson = %v", s.OnePerson)
	}
}
