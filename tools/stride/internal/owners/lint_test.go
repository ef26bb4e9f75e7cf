package owners

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func codes(ds Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Pos.String()+" "+d.Severity.String()+" "+d.Code)
	}
	return out
}

func TestLintClean(t *testing.T) {
	tree := loadFixture(t, map[string]string{"security/OWNERS": "sec@x.example\n"})
	if ds := Lint(tree); len(ds) != 0 {
		t.Errorf("Lint(fixture) = %v, want nothing", ds)
	}
}

func TestLint(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{
		"OWNERS_ALIASES":   "@t:\n  a@x.example\n@empty:\nlogin ghost = ghost@x.example\n",
		"OWNERS":           "a@x.example\na@x.example\nroot@x.example\n!a@x.example\nper-file *.nothing=a@x.example\nper-file *.go=b@x.example\n",
		"main.go":          "",
		"sealed/OWNERS":    "set noparent\n",
		"sealed/a.txt":     "",
		"sealed/sub/b.txt": "",
		"few/OWNERS":       "set noparent\nonly@x.example\nrequire 3\n",
		"few/f":            "",
		"inc/OWNERS":       "file://shared/TEAM\n@unknown\n",
		"inc/f":            "",
		"shared/TEAM":      "a@x.example\nset noparent\nper-file x=b@x.example\n",
		"bad/OWNERS":       "what is this\n",
		"bad/f":            "",
		"cycle/OWNERS":     "file:OWNERS\n",
	}))
	got := codes(Lint(tree))
	want := []string{
		"OWNERS:2:1 warning duplicate",
		"OWNERS:4:1 warning conflict",
		"OWNERS:5:1 warning unused",
		"OWNERS_ALIASES:3:1 warning empty-team",
		"OWNERS_ALIASES:4:1 warning unused",
		"bad/OWNERS:1:6 error syntax",
		"cycle/OWNERS:1:1 error include-cycle",
		"few/OWNERS:3:1 error unsatisfiable",
		"inc/OWNERS:2:1 error unknown-alias",
		"sealed/OWNERS:1:1 error unowned",
		"sealed/OWNERS:1:1 error unowned",
		"shared/TEAM:2:1 warning ignored",
		"shared/TEAM:3:1 warning ignored",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lint (-want +got):\n%s\n%v", diff, Lint(tree))
	}
	// Both unowned directories are named.
	msgs := Lint(tree).Error()
	for _, s := range []string{"in sealed/ (e.g. sealed/OWNERS)", "in sealed/sub/ (e.g. sealed/sub/b.txt)", "require 3, but only 1 person"} {
		if !strings.Contains(msgs, s) {
			t.Errorf("lint output lacks %q:\n%s", s, msgs)
		}
	}
	rep := NewLintReport(tree, Lint(tree), false)
	if rep.OK || rep.Errors != 6 || rep.Warnings != 7 || rep.Schema != LintSchema {
		t.Errorf("report = %+v", rep)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}

func TestLintNoRootOwners(t *testing.T) {
	tree, _ := Load(mapFS(map[string]string{"a/b.go": "", "c/OWNERS": "x@x.example\n", "c/d.go": ""}))
	got := codes(Lint(tree))
	if diff := cmp.Diff([]string{"OWNERS error unowned"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTeams(t *testing.T) {
	tree := loadFixture(t, map[string]string{
		"libs/sub/OWNERS":   "@libs-team\n",
		"services/b/OWNERS": "@libs-team\n",
		"services/c/OWNERS": "per-file *.go=@release-team\nc@x.example\n",
		"OWNERS_ALIASES":    fixture["OWNERS_ALIASES"] + "@idle:\n  idle@x.example\n",
	})
	teams := tree.Teams()
	var names []string
	for _, tm := range teams {
		names = append(names, tm.Name)
	}
	if diff := cmp.Diff([]string{"everyone", "idle", "libs-team", "platform", "release-team", "security"}, names); diff != "" {
		t.Errorf("Teams (-want +got):\n%s", diff)
	}
	for _, tm := range teams {
		if tm.Name == "everyone" && !cmp.Equal(tm.Members, []string{"lib1@x.example", "lib2@x.example", "root1@x.example", "root2@x.example"}) {
			t.Errorf("@everyone members = %v", tm.Members)
		}
	}
	for _, tc := range []struct {
		team string
		want []string
		err  error
	}{
		{"libs-team", []string{"libs", "services/b"}, nil}, // libs/sub is below libs; services/svc includes libs/OWNERS
		{"@platform", []string{".", "ci"}, nil},
		{"release-team", []string{"ci"}, nil}, // per-file grants do not own directories
		{"idle", nil, ErrNoOwnedDirs},
		{"nobody", nil, ErrUnknownTeam},
	} {
		got, err := tree.DirsOwnedBy(tc.team)
		if !errors.Is(err, tc.err) {
			t.Errorf("DirsOwnedBy(%q) error = %v, want %v", tc.team, err, tc.err)
			continue
		}
		if tc.team == "libs-team" {
			tc.want = []string{"libs", "services/b", "services/svc"}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("DirsOwnedBy(%q) (-want +got):\n%s", tc.team, diff)
		}
	}
	if _, err := tree.DirsOwnedBy("nobody"); err == nil || !strings.Contains(err.Error(), "@libs-team") {
		t.Errorf("unknown-team error should list the teams: %v", err)
	}
}

// unreadableFS refuses to read the files named in deny, as a file without
// read permission does.
type unreadableFS struct {
	fs.FS
	deny map[string]bool
}

func (u unreadableFS) Open(name string) (fs.File, error) {
	if u.deny[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return u.FS.Open(name)
}

// TestLintUnreadableFiles is issue 17's item 9: an unreadable OWNERS file
// stopped lint (exit 3) instead of being one of the problems it reports.
func TestLintUnreadableFiles(t *testing.T) {
	fsys := unreadableFS{mapFS(map[string]string{
		"OWNERS":         "root@x.example\n",
		"OWNERS_ALIASES": "@t:\n  a@x.example\n",
		"a/OWNERS":       "a@x.example\n",
		"b/OWNERS":       "not an entry\n",
		"b/x.go":         "",
	}), map[string]bool{"a/OWNERS": true, "OWNERS_ALIASES": true}}
	tree, err := Load(fsys)
	if tree == nil {
		t.Fatalf("Load = %v", err)
	}
	got := codes(Lint(tree))
	for _, want := range []string{"a/OWNERS error unreadable", "OWNERS_ALIASES error unreadable", "b/OWNERS:1:5 error syntax"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("Lint lacks %q: %v", want, got)
		}
	}
}

// TestLintLongEmail is issue 17's item 11: lint accepted a 1 MB address.
func TestLintLongEmail(t *testing.T) {
	long := strings.Repeat("a", 1<<20) + "@x.example"
	f, ds := Parse("OWNERS", []byte(long+"\nok@x.example\n"+strings.Repeat("b", 250)+"@x.example\n"))
	if len(ds) != 2 || !strings.Contains(ds[0].Msg, "longer than 254 characters") || len(ds[0].Msg) > 200 || len(f.Entries) != 1 {
		t.Fatalf("Parse of long addresses: entries %v, diagnostics %.300v", f.Entries, ds)
	}
}

func TestUnknownTeamError(t *testing.T) {
	many := []string{}
	for i := 0; i < 20; i++ {
		many = append(many, fmt.Sprintf("team%02d", i))
	}
	tests := []struct {
		name  string
		known []string
		want  string
	}{
		{"alpah", []string{"beta", "alpha"}, "unknown team @alpah: did you mean @alpha? (teams: @alpha, @beta)"},
		{"nosuch", []string{"beta", "alpha"}, "unknown team @nosuch (teams: @alpha, @beta)"},
		{"x", nil, "unknown team @x (teams: none defined)"},
		{"team1", many, "unknown team @team1: did you mean @team01 or @team10 or @team11? (teams: 20 defined; stride owners teams lists them)"},
	}
	for _, tc := range tests {
		err := UnknownTeamError(tc.name, tc.known)
		if !errors.Is(err, ErrUnknownTeam) || err.Error() != tc.want {
			t.Errorf("UnknownTeamError(%q) = %v, want %q", tc.name, err, tc.want)
		}
	}
}
