package sparse

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
)

func TestLabelPkg(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"//a/b:c", "a/b", true},
		{"//a/b", "a/b", true},
		{"//:x", ".", true},
		{"@//tools/nogo:nogo", "tools/nogo", true},
		{"@ws//lib:x", "lib", true},
		{"@io_bazel_rules_go//go:def.bzl", "", false},
		{":local", "", false},
		{"//visibility:public", "visibility", true},
		{"$(location //a:b)", "", false},
		{"//a/../b:c", "", false},
	} {
		got, ok := labelPkg(tc.in, "ws")
		if got != tc.want || ok != tc.ok {
			t.Errorf("labelPkg(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func rule(name string, inputs ...string) *buildpb.Target {
	return &buildpb.Target{Type: buildpb.Target_RULE.Enum(), Rule: &buildpb.Rule{Name: proto.String(name), RuleClass: proto.String("r"), RuleInput: inputs}}
}

func TestPackageDepsThroughExternal(t *testing.T) {
	res := &buildpb.QueryResult{Target: []*buildpb.Target{
		rule("//app:app", "//app:main.go", "//lib/a:a", "@rules_go//:ctx"),
		{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String("//app:main.go")}},
		rule("//lib/a:a", "//lib/b:gen"),
		{Type: buildpb.Target_GENERATED_FILE.Enum(), GeneratedFile: &buildpb.GeneratedFile{Name: proto.String("//lib/b:gen"), GeneratingRule: proto.String("//lib/b:genrule")}},
		rule("//lib/b:genrule"),
		rule("@rules_go//:ctx", "@rules_nogo//:nogo", "@rules_go//:other"),
		rule("@rules_go//:other", "@rules_go//:ctx"), // a cycle must not hang
		rule("@rules_nogo//:nogo", "@//tools/nogo:nogo"),
		rule("//tools/nogo:nogo", "//tools/lint/x:x"),
		rule("//tools/lint/x:x"),
	}}
	got := packageDeps(res, "ws")
	want := map[string][]string{
		"app":          {"lib/a", "tools/nogo"},
		"lib/a":        {"lib/b"},
		"lib/b":        {},
		"tools/nogo":   {"tools/lint/x"},
		"tools/lint/x": {},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packageDeps (-want +got):\n%s", d)
	}
}

func testMap() *Map {
	return &Map{
		Schema: MapSchema, Commit: "c0ffee",
		Packages: map[string][]string{
			".":            {},
			"app":          {"lib/a", "tools/nogo"},
			"app/sub":      {"other"},
			"lib/a":        {"lib/b"},
			"lib/b":        {},
			"other":        {},
			"unrelated":    {},
			"tools/nogo":   {"tools/lint/x"},
			"tools/lint/x": {},
			"tools/bazel":  {},
		},
		Always: []string{"tools/bazel"},
		Teams:  map[string][]string{"alpha": {"app"}, "empty": {}, "root": {"."}},
		Dirs: map[string]DirStat{
			".": {2, 20}, "app": {1, 10}, "app/sub": {1, 10}, "lib": {}, "lib/a": {1, 10}, "lib/b": {1, 10},
			"other": {1, 10}, "unrelated": {5, 500}, "tools": {1, 1}, "tools/nogo": {1, 10}, "tools/lint": {},
			"tools/lint/x": {1, 10}, "tools/bazel": {1, 10},
		},
	}
}

func TestPlanFor(t *testing.T) {
	m := testMap()
	p, err := PlanFor(m, "@Alpha", nil)
	if err != nil {
		t.Fatal(err)
	}
	// app/sub is below app, so it is checked out and its dependency
	// (other) comes along.
	wantCone := []string{"app", "lib/a", "lib/b", "other", "tools/bazel", "tools/lint/x", "tools/nogo"}
	if d := cmp.Diff(wantCone, p.Cone); d != "" {
		t.Errorf("cone (-want +got):\n%s", d)
	}
	// Files: root 2, app 1, app/sub 1, lib/a, lib/b, other, tools (parent) 1,
	// tools/bazel, tools/nogo, tools/lint/x; lib and tools/lint have none.
	if want := (Count{Dirs: 12, Files: 11, Bytes: 101}); p.Checkout != want {
		t.Errorf("checkout = %+v, want %+v", p.Checkout, want)
	}
	if want := (Count{Dirs: 13, Files: 16, Bytes: 601}); p.Full != want {
		t.Errorf("full = %+v, want %+v", p.Full, want)
	}
	p, err = PlanFor(m, "root", []string{"lib/b"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"lib/b", "tools/bazel"}, p.Cone); d != "" {
		t.Errorf("root team's cone (-want +got):\n%s", d)
	}
}

func TestTeamErrors(t *testing.T) {
	m := testMap()
	_, err := PlanFor(m, "nosuch", nil)
	if !errors.Is(err, owners.ErrUnknownTeam) || !strings.Contains(err.Error(), "(teams: @alpha, @empty, @root)") {
		t.Errorf("unknown team: %v", err)
	}
	_, err = PlanFor(m, "@empty", nil)
	if !errors.Is(err, owners.ErrNoOwnedDirs) || !IsTeamError(err) {
		t.Errorf("team without directories: %v", err)
	}
}

func TestNotRepository(t *testing.T) {
	dir := t.TempDir()
	_, err := PlanDir(context.Background(), dir, "alpha", Options{})
	if !errors.Is(err, ErrNotRepository) || !strings.Contains(err.Error(), "not a git repository: "+dir) {
		t.Errorf("got %v", err)
	}
	_, err = Apply(context.Background(), dir+"/missing", "alpha", Options{})
	if !errors.Is(err, ErrNotRepository) {
		t.Errorf("missing dir: %v", err)
	}
}

type fakeQuerier struct{ res *buildpb.QueryResult }

func (f fakeQuerier) QueryProto(context.Context, string, ...string) (*buildpb.QueryResult, error) {
	return f.res, nil
}

// TestBuildStoreFind computes a map with a fake Bazel, stores it in git and
// finds it again from a later commit.
func TestBuildStoreFind(t *testing.T) {
	ctx := context.Background()
	r := gittest.New(t)
	c1 := r.Commit("one", map[string]string{
		"WORKSPACE": `workspace(name = "ws")
load("//tools/bazel:repo.bzl", "repo")
local_repository(name = "x", path = "third_party/x")
register_stuff(nogo = "@//tools/nogo:nogo", junk = "//not/a:package")
`,
		".bazelrc":                "build --workspace_status_command=tools/status/status.sh\n",
		"OWNERS_ALIASES":          "@alpha:\n  a@example.com\n\n@empty:\n  e@example.com\n",
		"app/OWNERS":              "@alpha\n",
		"app/BUILD.bazel":         "load(\"//tools/defs:defs.bzl\", \"m\")\nload(\"@rules_go//go:def.bzl\", \"go_library\")\n",
		"tools/defs/BUILD.bazel":  "",
		"tools/defs/defs.bzl":     "load(\":more.bzl\", \"y\")\nload(\"//tools/macros:m.bzl\", \"z\")\n",
		"tools/defs/more.bzl":     "",
		"tools/macros/BUILD":      "",
		"tools/macros/m.bzl":      "",
		"tools/bazel/BUILD.bazel": "",
		"tools/bazel/repo.bzl":    "",
		"tools/nogo/BUILD.bazel":  "",
		"tools/status/status.sh":  "#!/bin/sh\n",
		"third_party/x/WORKSPACE": "",
		"lib/a/BUILD.bazel":       "",
		"docs/readme.md":          "hello\n",
	})
	res := &buildpb.QueryResult{Target: []*buildpb.Target{rule("//app:app", "//lib/a:a", "@rules_go//:ctx"), rule("@rules_go//:ctx", "@ws//tools/nogo:nogo"), rule("//lib/a:a"), rule("//tools/nogo:nogo")}}
	g := &Git{Dir: r.Dir}
	m, err := BuildMap(ctx, BuildOptions{Dir: r.Dir, Bazel: fakeQuerier{res}, Git: g})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"lib/a", "tools/defs", "tools/macros", "tools/nogo"}, m.Packages["app"]); d != "" {
		t.Errorf("app's packages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"third_party", "third_party/x", "tools/bazel", "tools/nogo", "tools/status"}, m.Always); d != "" {
		t.Errorf("always (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string][]string{"alpha": {"app"}, "empty": {}}, m.Teams); d != "" {
		t.Errorf("teams (-want +got):\n%s", d)
	}
	if s := m.Dirs["docs"]; s.Files != 1 || s.Bytes != 6 {
		t.Errorf("docs stats = %+v", s)
	}
	if m.Commit != c1 || m.Workspace != "ws" {
		t.Errorf("commit %s workspace %q", m.Commit, m.Workspace)
	}
	ref, err := StoreMap(ctx, g, m)
	if err != nil {
		t.Fatal(err)
	}
	if ref != MapRefPrefix+c1 {
		t.Errorf("ref = %s", ref)
	}
	c2 := r.Commit("two", map[string]string{"docs/more.md": "x"})
	got, err := FindMap(ctx, g, c2)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m, got); d != "" {
		t.Errorf("found map (-stored +found):\n%s", d)
	}
	// MapFor without Bazel falls back to the ancestor's map, not exact.
	if _, exact, err := MapFor(ctx, r.Dir, Options{}); err != nil || exact {
		t.Errorf("MapFor: exact %v, err %v", exact, err)
	}
	r2 := gittest.New(t)
	r2.Commit("x", map[string]string{"a": "b"})
	if _, err := FindMap(ctx, &Git{Dir: r2.Dir}, "HEAD"); !errors.Is(err, ErrNoMap) {
		t.Errorf("no map: %v", err)
	}
}

func TestGitTooOld(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "git")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'git version 2.20.1'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := CheckVersion(context.Background(), &Git{Binary: bin, Dir: t.TempDir()})
	if !errors.Is(err, ErrGitTooOld) || !strings.Contains(err.Error(), "need 2.27 or newer") {
		t.Errorf("got %v", err)
	}
	if err := CheckVersion(context.Background(), &Git{}); err != nil {
		t.Errorf("host git: %v", err)
	}
}
