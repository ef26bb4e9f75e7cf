package owners

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// changesOf makes changes from paths: "p" modified, "+p" added, "-p"
// deleted, "old=>new" renamed.
func changesOf(paths ...string) []gitrepo.Change {
	var out []gitrepo.Change
	for _, p := range paths {
		switch {
		case strings.Contains(p, "=>"):
			i := strings.Index(p, "=>")
			out = append(out, gitrepo.Change{Path: p[i+2:], OldPath: p[:i], Status: gitrepo.Renamed})
		case strings.HasPrefix(p, "+"):
			out = append(out, gitrepo.Change{Path: p[1:], Status: gitrepo.Added})
		case strings.HasPrefix(p, "-"):
			out = append(out, gitrepo.Change{Path: p[1:], Status: gitrepo.Deleted})
		default:
			out = append(out, gitrepo.Change{Path: p, Status: gitrepo.Modified})
		}
	}
	return out
}

func approvals(emails ...string) []Approval {
	var out []Approval
	for _, e := range emails {
		out = append(out, Approval{Email: e, Source: "test"})
	}
	return out
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fileVerdicts(res *Result) map[string]bool {
	m := map[string]bool{}
	for _, f := range res.Files {
		m[f.Path] = f.Approved
	}
	return m
}

func TestCheck(t *testing.T) {
	tree := loadFixture(t, nil)
	for _, tc := range []struct {
		name      string
		changes   []string
		authors   []string
		noSelf    bool
		approvals []string
		want      map[string]bool
		ok        bool
	}{
		{name: "require 2, one approval", changes: []string{"libs/a/b.go"}, approvals: []string{"lib1@x.example"},
			want: map[string]bool{"libs/a/b.go": false}},
		{name: "require 2, two approvals", changes: []string{"libs/a/b.go"}, approvals: []string{"lib1@x.example", "ROOT1@x.example"},
			want: map[string]bool{"libs/a/b.go": true}, ok: true},
		{name: "author counts", changes: []string{"libs/a/b.go"}, authors: []string{"lib2@x.example"}, approvals: []string{"lib1@x.example"},
			want: map[string]bool{"libs/a/b.go": true}, ok: true},
		{name: "no self approval", changes: []string{"libs/a/b.go"}, authors: []string{"lib2@x.example"}, noSelf: true, approvals: []string{"lib1@x.example"},
			want: map[string]bool{"libs/a/b.go": false}},
		{name: "non-owner approval", changes: []string{"README.md"}, approvals: []string{"lib1@x.example"},
			want: map[string]bool{"README.md": false}},
		{name: "per-file and dir owners add up", changes: []string{"libs/api.proto"}, approvals: []string{"rel1@x.example", "lib1@x.example"},
			want: map[string]bool{"libs/api.proto": true}, ok: true},
		{name: "per-file noparent keeps root out", changes: []string{"libs/secret.go"}, approvals: []string{"root1@x.example"},
			want: map[string]bool{"libs/secret.go": false}},
		{name: "excluded root", changes: []string{"services/svc/main.go"}, approvals: []string{"root2@x.example"},
			want: map[string]bool{"services/svc/main.go": false}},
		{name: "anyone", changes: []string{"docs/index.md"}, approvals: []string{"random@else.example"},
			want: map[string]bool{"docs/index.md": true}, ok: true},
		{name: "anyone but excluded", changes: []string{"docs/index.md"}, approvals: []string{"lib1@x.example"},
			want: map[string]bool{"docs/index.md": false}},
		{name: "all teams missing one", changes: []string{"ci/env.star"}, approvals: []string{"root1@x.example"},
			want: map[string]bool{"ci/env.star": false}},
		{name: "all teams", changes: []string{"ci/env.star"}, approvals: []string{"root1@x.example", "rel2@x.example"},
			want: map[string]bool{"ci/env.star": true}, ok: true},
		{name: "rename needs both sides", changes: []string{"libs/relax/x.go=>services/svc/x.go"}, approvals: []string{"svc@x.example"},
			want: map[string]bool{"services/svc/x.go": true, "libs/relax/x.go": false}},
		{name: "rename both sides", changes: []string{"libs/relax/x.go=>services/svc/x.go"}, approvals: []string{"svc@x.example", "lib1@x.example"},
			want: map[string]bool{"services/svc/x.go": true, "libs/relax/x.go": true}, ok: true},
		{name: "nothing changed", ok: true, want: map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(CheckInput{Head: tree, Changes: changesOf(tc.changes...), Authors: tc.authors,
				NoSelfApproval: tc.noSelf, Approvals: approvals(tc.approvals...)})
			if diff := cmp.Diff(tc.want, fileVerdicts(res)); diff != "" {
				t.Errorf("approved (-want +got):\n%s", diff)
			}
			if res.OK != tc.ok {
				t.Errorf("OK = %v, want %v", res.OK, tc.ok)
			}
			if res.Schema != CheckSchema {
				t.Errorf("Schema = %q", res.Schema)
			}
		})
	}
}

func TestCheckDetails(t *testing.T) {
	tree := loadFixture(t, nil)
	res := Check(CheckInput{Head: tree, Changes: changesOf("libs/a/b.go", "ci/env.star", "+libs/a/new.go"),
		Approvals: approvals("lib1@x.example", "root1@x.example")})
	byPath := map[string]FileResult{}
	for _, f := range res.Files {
		byPath[f.Path] = f
	}
	if f := byPath["libs/a/b.go"]; !f.Approved || f.Need != 0 || !cmp.Equal(f.ApprovedBy, []string{"lib1@x.example", "root1@x.example"}) {
		t.Errorf("libs/a/b.go: %+v", f)
	}
	if f := byPath["ci/env.star"]; f.Approved || !cmp.Equal(f.MissingTeams, []string{"release-team"}) || f.Need != 0 {
		t.Errorf("ci/env.star: approved=%v missing=%v need=%d", f.Approved, f.MissingTeams, f.Need)
	}
	var ci DirResult
	for _, d := range res.Dirs {
		if d.Dir == "ci" {
			ci = d
		}
	}
	if ci.Approved || ci.Needs != "a member of @release-team" || ci.Missing != 1 {
		t.Errorf("ci dir: %+v", ci)
	}
	// root1 approved already: not listed among who can still approve.
	for _, c := range ci.CanApprove {
		for _, m := range c.Members {
			if m == "root1@x.example" {
				t.Errorf("root1 listed as a candidate although it approved: %+v", ci.CanApprove)
			}
		}
	}
	if res.Summary != (Summary{Files: 3, Approved: 2, Missing: 1, Dirs: 2, DirsReady: 1}) {
		t.Errorf("Summary = %+v", res.Summary)
	}
	// JSON round trip keeps the schema and verdicts.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != CheckSchema || back.OK || len(back.Files) != 3 {
		t.Errorf("JSON round trip: %+v", back)
	}
}

func TestCheckOwnersFilesUseBase(t *testing.T) {
	base := loadFixture(t, nil)
	// The change adds evil@ to libs/OWNERS and edits a libs file.
	head := loadFixture(t, map[string]string{"libs/OWNERS": "@libs-team\nevil@x.example\nrequire 1\n"})
	in := CheckInput{Head: head, Base: base, Changes: changesOf("libs/OWNERS", "libs/a/b.go"), Approvals: approvals("evil@x.example")}
	res := Check(in)
	want := map[string]bool{"libs/OWNERS": false, "libs/a/b.go": true}
	if diff := cmp.Diff(want, fileVerdicts(res)); diff != "" {
		t.Errorf("approved (-want +got):\n%s", diff)
	}
	for _, f := range res.Files {
		if f.Path == "libs/OWNERS" && (f.OwnersAt != "base" || f.Require != 2) {
			t.Errorf("libs/OWNERS judged by %s with require %d; want base, 2", f.OwnersAt, f.Require)
		}
	}
	in.Approvals = approvals("lib1@x.example", "lib2@x.example")
	if res := Check(in); !res.OK {
		t.Errorf("libs team approval of its OWNERS change: not OK: %+v", res.Files)
	}
	// OWNERS_ALIASES is owned by the root owners at base.
	res = Check(CheckInput{Head: head, Base: base, Changes: changesOf("OWNERS_ALIASES"), Approvals: approvals("lib1@x.example")})
	if res.OK {
		t.Errorf("OWNERS_ALIASES approved by a non-root owner")
	}
	// Deleted files are judged by base's OWNERS (who owned them).
	head2 := loadFixture(t, map[string]string{"third_party/OWNERS": "-", "third_party/dep/x.c": "-"})
	res = Check(CheckInput{Head: head2, Base: base, Changes: changesOf("-third_party/OWNERS", "-third_party/dep/x.c"), Approvals: approvals("vendor@x.example")})
	if !res.OK {
		t.Errorf("deletion approved by the old owner: not OK: %+v", fileVerdicts(res))
	}
}

func TestCheckDiagnosticsRelevance(t *testing.T) {
	head := loadFixture(t, map[string]string{"services/svc/OWNERS": "svc@x.example\nnot valid\n"})
	res := Check(CheckInput{Head: head, Changes: changesOf("libs/a/b.go"), Approvals: approvals("lib1@x.example", "lib2@x.example")})
	if !res.OK || len(res.Diagnostics) != 0 {
		t.Errorf("an error in an unrelated OWNERS file failed the check: %v", res.Diagnostics)
	}
	res = Check(CheckInput{Head: head, Changes: changesOf("services/svc/main.go"), Approvals: approvals("svc@x.example")})
	if res.OK || len(res.Diagnostics) != 1 || res.Diagnostics[0].Pos.FileLine() != "services/svc/OWNERS:2" {
		t.Errorf("an error in the governing OWNERS file must fail the check: ok=%v %v", res.OK, res.Diagnostics)
	}
}

func TestCheckUnowned(t *testing.T) {
	tree := loadFixture(t, map[string]string{"empty/OWNERS": "set noparent\n", "empty/x.go": ""})
	res := Check(CheckInput{Head: tree, Changes: changesOf("empty/x.go"), Approvals: approvals("root1@x.example")})
	if res.OK || !res.Files[0].Unowned {
		t.Errorf("empty/x.go: %+v", res.Files[0])
	}
	if !strings.Contains(res.Dirs[0].Needs, "no OWNERS entry covers") {
		t.Errorf("Needs = %q", res.Dirs[0].Needs)
	}
}

func TestRenderGolden(t *testing.T) {
	tree := loadFixture(t, map[string]string{"services/svc/OWNERS": "file://libs/OWNERS\n!root2@x.example\nsvc@x.example\nbroken|line\n"})
	res := Check(CheckInput{
		Head:      tree,
		Changes:   changesOf("libs/a/b.go", "libs/api.proto", "ci/env.star", "+services/svc/new.go", "-docs/index.md", "libs/relax/x.go=>services/svc/x.go"),
		Authors:   []string{"svc@x.example"},
		Approvals: []Approval{{Email: "lib1@x.example", Source: "Approved-by in 0123456789ab"}, {Email: "root1@x.example", Source: "review 7 by root1-gh"}},
		Unmatched: []Unmatched{{Who: "mystery", Source: "review 8 by mystery", Reason: "no email for this login"}},
	})
	res.Base, res.Head = strings.Repeat("a", 40), strings.Repeat("b", 40)
	sug := Suggest(res)
	var md, txt, stxt bytes.Buffer
	if err := res.WriteMarkdown(&md, sug); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if err := sug.WriteText(&stxt); err != nil {
		t.Fatal(err)
	}
	var who bytes.Buffer
	var list []*Owners
	for _, p := range []string{"libs/api.proto", "services/svc/main.go", "ci/env.star", "docs/index.md", "libs/secret.go"} {
		list = append(list, tree.Resolve(p))
	}
	if err := WriteWho(&who, list); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"check.md": md.String(), "check.txt": txt.String(), "suggest.txt": stxt.String(), "who.txt": who.String()} {
		golden := filepath.Join("testdata", "render", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", golden, diff)
		}
	}
}
