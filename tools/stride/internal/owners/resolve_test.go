package owners

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for p, c := range files {
		m[p] = &fstest.MapFile{Data: []byte(c)}
	}
	return m
}

// fixture is a small repository exercising every feature.
var fixture = map[string]string{
	"OWNERS_ALIASES": `
@platform:
  root1@x.example
  root2@x.example
@libs-team: lib1@x.example, lib2@x.example
@release-team: rel1@x.example, rel2@x.example
@security: sec@x.example
@everyone: @platform, @libs-team
login root1-gh = root1@x.example
`,
	"OWNERS":    "@platform\n",
	"README.md": "",
	"go.mod":    "",
	"libs/OWNERS": "@libs-team\nrequire 2\n" +
		"per-file *.proto=@release-team\n" +
		"per-file secret.go=set noparent\nper-file secret.go=@security\n",
	"libs/a/b.go":             "",
	"libs/api.proto":          "",
	"libs/secret.go":          "",
	"libs/relax/OWNERS":       "require 1\n",
	"libs/relax/x.go":         "",
	"third_party/OWNERS":      "set noparent\nvendor@x.example\n",
	"third_party/dep/x.c":     "",
	"services/svc/OWNERS":     "file://libs/OWNERS\n!root2@x.example\nsvc@x.example\n",
	"services/svc/main.go":    "",
	"services/svc/sub/OWNERS": "root2@x.example\n",
	"services/svc/sub/s.go":   "",
	"docs/OWNERS":             "*\n!lib1@x.example\n",
	"docs/index.md":           "",
	"ci/OWNERS":               "@platform\n@release-team\nrequire all-teams\n",
	"ci/env.star":             "",
	"ci/deploy/x.yaml":        "",
}

func loadFixture(t *testing.T, extra map[string]string) *Tree {
	t.Helper()
	files := map[string]string{}
	for k, v := range fixture {
		files[k] = v
	}
	for k, v := range extra {
		if v == "-" {
			delete(files, k)
			continue
		}
		files[k] = v
	}
	tree, err := Load(mapFS(files))
	var ds Diagnostics
	if err != nil && !errors.As(err, &ds) {
		t.Fatalf("Load: %v", err)
	}
	return tree
}

// grantSummary is "entry@level:file:line[+via]" for compact comparisons.
func grantSummary(gs []Grant) []string {
	var out []string
	for _, g := range gs {
		s := g.Entry + "@" + strconv.Itoa(g.Level) + ":" + g.Source.FileLine()
		for _, v := range g.Via {
			s += "<" + v.FileLine()
		}
		if g.PerFile != "" {
			s += "[" + g.PerFile + "]"
		}
		out = append(out, s)
	}
	return out
}

func TestResolve(t *testing.T) {
	tree := loadFixture(t, nil)
	for _, tc := range []struct {
		path    string
		grants  []string
		require int
	}{
		{"README.md", []string{"@platform@0:OWNERS:1"}, 1},
		{"libs/a/b.go", []string{"@libs-team@0:libs/OWNERS:1", "@platform@1:OWNERS:1"}, 2},
		{"libs/api.proto", []string{"@release-team@0:libs/OWNERS:3[*.proto]", "@libs-team@1:libs/OWNERS:1", "@platform@2:OWNERS:1"}, 2},
		{"libs/secret.go", []string{"@security@0:libs/OWNERS:5[secret.go]"}, 1},
		{"libs/relax/x.go", []string{"@libs-team@1:libs/OWNERS:1", "@platform@2:OWNERS:1"}, 1},
		{"libs/", []string{"@libs-team@0:libs/OWNERS:1", "@platform@1:OWNERS:1"}, 2},
		{"third_party/dep/x.c", []string{"vendor@x.example@0:third_party/OWNERS:2"}, 1},
		{"services/svc/main.go", []string{"@libs-team@0:libs/OWNERS:1<services/svc/OWNERS:1", "svc@x.example@0:services/svc/OWNERS:3", "@platform@1:OWNERS:1"}, 1},
		{"services/svc/sub/s.go", []string{"root2@x.example@0:services/svc/sub/OWNERS:1", "@libs-team@1:libs/OWNERS:1<services/svc/OWNERS:1", "svc@x.example@1:services/svc/OWNERS:3", "@platform@2:OWNERS:1"}, 1},
		{"docs/index.md", []string{"*@0:docs/OWNERS:1", "@platform@1:OWNERS:1"}, 1},
		{"nowhere/new.go", []string{"@platform@0:OWNERS:1"}, 1},
	} {
		o := tree.Resolve(tc.path)
		if diff := cmp.Diff(tc.grants, grantSummary(o.Grants)); diff != "" {
			t.Errorf("Resolve(%q) grants (-want +got):\n%s", tc.path, diff)
		}
		if o.Require != tc.require {
			t.Errorf("Resolve(%q).Require = %d, want %d", tc.path, o.Require, tc.require)
		}
	}

	// Exclusions: root2 is excluded from @platform under services/svc, but
	// the closer grant in sub/OWNERS wins there.
	svc := tree.Resolve("services/svc/main.go")
	if svc.IsOwner("root2@x.example") || !svc.IsOwner("root1@x.example") || !svc.IsOwner("LIB1@x.example") {
		t.Errorf("services/svc/main.go owners wrong: %+v", svc.Grants)
	}
	if sub := tree.Resolve("services/svc/sub/s.go"); !sub.IsOwner("root2@x.example") || sub.LevelOf("root2@x.example") != 0 {
		t.Errorf("root2 should own services/svc/sub/s.go at level 0: %+v", sub.Grants)
	}
	// "*" except the excluded.
	doc := tree.Resolve("docs/index.md")
	if !doc.IsOwner("anybody@else.example") || doc.IsOwner("lib1@x.example") || !doc.Anyone() {
		t.Errorf("docs/index.md: * except lib1 expected: %+v", doc.Grants)
	}
	// require all-teams: the teams of the closest granting level.
	ci := tree.Resolve("ci/env.star")
	if !ci.AllTeams || len(ci.Teams) != 2 || ci.Teams[0].Team != "platform" || ci.Teams[1].Team != "release-team" {
		t.Errorf("ci/env.star: want all-teams of platform and release-team, got %v %+v", ci.AllTeams, ci.Teams)
	}
	if got := tree.Resolve("libs/secret.go"); got.NoParent == nil || got.NoParent.FileLine() != "libs/OWNERS:4" {
		t.Errorf("libs/secret.go NoParent = %v, want libs/OWNERS:4", got.NoParent)
	}
	if got := tree.Resolve("libs/a/b.go"); got.OwnersFile != "libs/OWNERS" {
		t.Errorf("OwnersFile = %q", got.OwnersFile)
	}
	if ppl := tree.Resolve("libs/a/b.go").People(); !cmp.Equal(ppl, []string{"lib1@x.example", "lib2@x.example", "root1@x.example", "root2@x.example"}) {
		t.Errorf("People() = %v", ppl)
	}
}

func TestLoadDiagnostics(t *testing.T) {
	fsys := mapFS(map[string]string{
		"OWNERS_ALIASES":   "@a:\n  @b\n@b:\n  @a\n  @nope\n",
		"OWNERS":           "@platfrom\nfile://x/OWNERS\nbad line here\nroot@x.example\n",
		"x/OWNERS":         "file://y/OWNERS\n",
		"y/OWNERS":         "file://x/OWNERS\nfile://missing/OWNERS\nfile://dir\n",
		"dir/f":            "",
		"z/OWNERS_ALIASES": "@t:\n a@b.example\n",
		"testdata/OWNERS":  "this is not read",
	})
	tree, err := Load(fsys)
	var ds Diagnostics
	if !errors.As(err, &ds) || tree == nil {
		t.Fatalf("Load = %v, %v; want a tree and Diagnostics", tree, err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Pos.String()+" "+d.Code)
	}
	want := []string{
		"OWNERS:1:1 unknown-alias",
		"OWNERS:3:5 syntax",
		"OWNERS_ALIASES:4:3 alias-cycle",
		"OWNERS_ALIASES:5:3 unknown-alias",
		"x/OWNERS:1:1 include-cycle",
		"y/OWNERS:1:1 include-cycle",
		"y/OWNERS:2:1 missing-include",
		"y/OWNERS:3:1 missing-include",
		"z/OWNERS_ALIASES ignored",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\n%v", diff, ds)
	}
	if !strings.Contains(ds.Error(), "did you mean @") {
		// @platfrom has no close team here; the message still names it.
		if !strings.Contains(ds.Error(), "@platfrom") {
			t.Errorf("unknown alias message does not name it: %v", ds)
		}
	}
	// The good line of the file with errors still applies.
	if o := tree.Resolve("a.go"); !o.IsOwner("root@x.example") {
		t.Errorf("root@x.example should own a.go despite errors elsewhere in OWNERS: %+v", o.Grants)
	}
}

func TestDidYouMean(t *testing.T) {
	_, err := Load(mapFS(map[string]string{
		"OWNERS_ALIASES": "@platform:\n a@x.example\n",
		"OWNERS":         "@platfrom\n",
	}))
	if err == nil || !strings.Contains(err.Error(), "did you mean @platform?") {
		t.Errorf("err = %v, want a did-you-mean", err)
	}
}

func TestLoadDirGitignore(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".gitignore":        "/out/\n*.tmp\n",
		"OWNERS":            "a@x.example\n",
		"out/copy/OWNERS":   "broken line here\n",
		"keep/OWNERS":       "b@x.example\n",
		"keep/x.tmp":        "",
		"keep/.gitignore":   "local/\n",
		"keep/local/OWNERS": "broken too\n",
		".git/OWNERS":       "never read\n",
	})
	tree, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if diff := cmp.Diff([]string{"OWNERS", "keep/OWNERS"}, tree.OwnersFiles()); diff != "" {
		t.Errorf("OwnersFiles (-want +got):\n%s", diff)
	}
	for _, f := range tree.Files() {
		if strings.HasSuffix(f, ".tmp") {
			t.Errorf("ignored file %s was loaded", f)
		}
	}
}
