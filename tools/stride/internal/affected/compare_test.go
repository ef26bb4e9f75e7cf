package affected

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeQuery builds a query result like Bazel's for a tiny graph:
// //app:bin -> //lib:lib -> lib/lib.go, //lib:lib -> @dep//:d (a
// go_repository), and an unused go_repository @unused.
func fakeQuery(libAttr, depVersion, unusedVersion string) *buildpb.QueryResult {
	str := func(name, v string) *buildpb.Attribute {
		return &buildpb.Attribute{Name: proto.String(name), Type: buildpb.Attribute_STRING.Enum(), StringValue: proto.String(v)}
	}
	rule := func(name, class string, inputs []string, attrs ...*buildpb.Attribute) *buildpb.Target {
		return &buildpb.Target{Type: buildpb.Target_RULE.Enum(), Rule: &buildpb.Rule{
			Name: proto.String(name), RuleClass: proto.String(class), Attribute: attrs, RuleInput: inputs,
		}}
	}
	src := func(name string) *buildpb.Target {
		return &buildpb.Target{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String(name)}}
	}
	return &buildpb.QueryResult{Target: []*buildpb.Target{
		rule("//app:bin", "go_binary", []string{"//lib:lib"}),
		rule("//lib:lib", "go_library", []string{"//lib:lib.go", "@dep//:d"}, str("importpath", libAttr)),
		src("//lib:lib.go"),
		rule("@dep//:d", "go_library", []string{"@dep//:d.go"}),
		src("@dep//:d.go"),
		rule("//external:dep", "go_repository", nil, str("version", depVersion), str("importpath", "example.com/dep")),
		rule("//external:unused", "go_repository", nil, str("version", unusedVersion)),
		rule("//external:t", "local_repository", nil, str("path", ".")),
	}}
}

func fakeFiles(lib string) *fileSet {
	return &fileSet{entries: map[string]gitrepo.TreeEntry{
		"lib/lib.go": {Hash: gitrepo.BlobHash([]byte(lib)), Mode: filemode.Regular},
		"lib/BUILD":  {Hash: plumbing.ZeroHash, Mode: filemode.Regular},
	}}
}

func snap(t *testing.T, q *buildpb.QueryResult, f *fileSet) *Snapshot {
	t.Helper()
	s, _, err := buildSnapshot(q, f, "", "/ws", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompareReasons(t *testing.T) {
	base := snap(t, fakeQuery("example.com/lib", "v1", "v1"), fakeFiles("package lib"))
	tests := []struct {
		name       string
		head       *Snapshot
		headFS     *fileSet
		want       map[string][]string // label -> reason texts
		everything bool
	}{
		{name: "nothing", head: snap(t, fakeQuery("example.com/lib", "v1", "v1"), fakeFiles("package lib")), headFS: fakeFiles("package lib"),
			want: map[string][]string{}},
		{name: "source", head: snap(t, fakeQuery("example.com/lib", "v1", "v1"), fakeFiles("package lib // 2")), headFS: fakeFiles("package lib // 2"),
			want: map[string][]string{"//lib:lib": {"source changed: lib/lib.go"}, "//app:bin": {"depends on //lib:lib"}}},
		{name: "attribute", head: snap(t, fakeQuery("example.com/lib2", "v1", "v1"), fakeFiles("package lib")), headFS: fakeFiles("package lib"),
			want: map[string][]string{"//lib:lib": {"attribute changed: importpath"}, "//app:bin": {"depends on //lib:lib"}}},
		{name: "external repository", head: snap(t, fakeQuery("example.com/lib", "v2", "v1"), fakeFiles("package lib")), headFS: fakeFiles("package lib"),
			want: map[string][]string{"//lib:lib": {"external repository dep changed"}, "//app:bin": {"depends on //lib:lib"}}},
		{name: "unused go_repository", head: snap(t, fakeQuery("example.com/lib", "v1", "v2"), fakeFiles("package lib")), headFS: fakeFiles("package lib"),
			want: map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, got := compareReasons(base, tc.head, fakeFiles("package lib"), tc.headFS)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if res.Everything != tc.everything {
				t.Errorf("everything = %v, want %v", res.Everything, tc.everything)
			}
		})
	}
}

// compareReasons compares two snapshots and returns the result and the
// reasons' texts by label.
func compareReasons(base, head *Snapshot, baseFS, headFS *fileSet) (*Result, map[string][]string) {
	res := &Result{Kind: "all"}
	res.fill(compare(base, head, baseFS, headFS, nil))
	got := map[string][]string{}
	for _, tg := range res.Targets {
		for _, r := range tg.Reasons {
			got[tg.Label] = append(got[tg.Label], r.Text)
		}
	}
	return res, got
}

// TestResultJSON pins the --json schema (stride.affected/v1) with a golden
// file; run with -update after an intended change, and update
// docs/affected.md.
func TestResultJSON(t *testing.T) {
	base := snap(t, fakeQuery("example.com/lib", "v1", "v1"), fakeFiles("package lib"))
	head := snap(t, fakeQuery("example.com/lib", "v2", "v1"), fakeFiles("package lib // 2"))
	delete(head.Nodes, "//app:bin")
	res := &Result{Schema: Schema, Kind: "all",
		Base: Side{Rev: "origin/main", Commit: "1111111111111111111111111111111111111111", Source: "cache"},
		Head: Side{Rev: "HEAD", Commit: "2222222222222222222222222222222222222222", Source: "query"},
	}
	res.fill(compare(base, head, fakeFiles("package lib"), fakeFiles("package lib // 2"), nil))
	res.Stats.DurationMS, res.Stats.HeadMS, res.Stats.BaseMS = 1234, 1000, 0
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "result.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("JSON differs from %s (-want +got):\n%s", golden, diff)
	}
	e, err := res.Explain("//lib:lib")
	if err != nil {
		t.Fatal(err)
	}
	wantExplain := "//lib:lib <- external repository dep changed\n//lib:lib <- source changed: lib/lib.go\n"
	if e.String() != wantExplain {
		t.Errorf("Explain = %q, want %q", e.String(), wantExplain)
	}
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		in   string
		want label
	}{
		{"//a/b:c", label{"", "a/b", "c"}},
		{"//:c", label{"", "", "c"}},
		{"//a/b", label{"", "a/b", "b"}},
		{"@r//a:c/d.go", label{"r", "a", "c/d.go"}},
	}
	for _, tc := range tests {
		got, ok := parseLabel(tc.in)
		if !ok || got != tc.want {
			t.Errorf("parseLabel(%q) = %+v, %v; want %+v", tc.in, got, ok, tc.want)
		}
	}
}

func TestWorkspaceSkeleton(t *testing.T) {
	snapWith := func() *Snapshot {
		return &Snapshot{Repos: map[string]*Repo{"a": {Class: "http_archive"}, "b": {Class: "go_repository"}}}
	}
	ws := func(text string) *fileSet {
		return &fileSet{entries: map[string]gitrepo.TreeEntry{}, disk: writeTemp(t, map[string]string{"WORKSPACE": text})}
	}
	base, reg := workspaceSkeleton(ws(`workspace(name = "x")
http_archive(name = "a", urls = ["u1"])
`), snapWith())
	if reg {
		t.Error("a WORKSPACE of repository definitions registers toolchains")
	}
	tests := []struct {
		name, text string
		same       bool
	}{
		{"repository attributes", "workspace(name = \"x\")\nhttp_archive(name = \"a\", urls = [\"u2\"])\n", true},
		{"comment", "# hi\nworkspace(name = \"x\")\nhttp_archive(name = \"a\", urls = [\"u1\"])  # pin\n", true},
		{"comment block and blank lines", "workspace(name = \"x\")\n\n# workspace edit 1\n\n\nhttp_archive(name = \"a\", urls = [\"u1\"])\n# trailing\n", true},
		{"a macro of repository definitions only", "workspace(name = \"x\")\ndef deps():\n    # note\n\n    http_archive(name = \"a\", urls = [\"u1\"])\n\ndeps()\n", true},
		{"assignments and loads only repository definitions use", "load(\"@bazel_tools//tools/build_defs/repo:http.bzl\", \"http_archive\")\nTAG = \"v1\"\nSHA = \"s\"\nworkspace(name = \"x\")\nhttp_archive(name = \"a\", sha256 = SHA, urls = [\"u/\" + TAG.replace(\"/\", \"-\")])\n", true},
		{"a macro with local variables and a docstring", "workspace(name = \"x\")\ndef deps():\n    \"\"\"Deps.\"\"\"\n    tag = \"v1\"\n    http_archive(name = \"a\", urls = [tag])\n    pass\n\ndeps()\n", true},
		{"a macro that calls another", "workspace(name = \"x\")\ndef deps():\n    http_archive(name = \"a\", urls = [\"u\"])\ndef all_deps():\n    deps()\nall_deps()\n", true},
		{"a macro that registers toolchains", "workspace(name = \"x\")\ndef deps():\n    http_archive(name = \"a\", urls = [\"u\"])\n    register_toolchains(\"//tc:all\")\ndeps()\n", false},
		{"a variable a registration reads", "workspace(name = \"x\")\nTC = \"//tc:all\"\nhttp_archive(name = \"a\", urls = [\"u1\"])\nregister_toolchains(TC)\n", false},
		{"a macro with an effectful call", "workspace(name = \"x\")\ndef deps():\n    x = other_macro()\n    http_archive(name = \"a\", urls = [\"u\"])\ndeps()\n", false},
		{"toolchains", "workspace(name = \"x\")\nhttp_archive(name = \"a\", urls = [\"u1\"])\nregister_toolchains(\"//tc:all\")\n", false},
		{"other rule class with the same name", "workspace(name = \"x\")\ngit_repository(name = \"a\")\n", false},
		{"workspace name", "workspace(name = \"y\")\nhttp_archive(name = \"a\", urls = [\"u1\"])\n", false},
		{"a macro of another repository", "workspace(name = \"x\")\nload(\"@a//:deps.bzl\", \"a_setup\")\nhttp_archive(name = \"a\", urls = [\"u1\"])\na_setup()\n", false},
		{"native.register_execution_platforms", "workspace(name = \"x\")\nhttp_archive(name = \"a\", urls = [\"u1\"])\nnative.register_execution_platforms(\"//p:all\")\n", false},
	}
	// What may register toolchains or platforms (toolchains.go).
	regs := map[string]bool{"a macro that registers toolchains": true, "a variable a registration reads": true,
		"toolchains": true, "a macro of another repository": true, "native.register_execution_platforms": true}
	for _, tc := range tests {
		got, reg := workspaceSkeleton(ws(tc.text), snapWith())
		if (got == base) != tc.same {
			t.Errorf("%s: same skeleton = %v, want %v", tc.name, got == base, tc.same)
		}
		if reg != regs[tc.name] {
			t.Errorf("%s: registers = %v, want %v", tc.name, reg, regs[tc.name])
		}
	}
	// A macro of a loaded workspace .bzl that only defines repositories
	// (target-determinator's unconsumedIndirectWorkspaceChangeIsNoOp).
	loaded := &fileSet{entries: map[string]gitrepo.TreeEntry{}, disk: writeTemp(t, map[string]string{
		"WORKSPACE":     "workspace(name = \"x\")\nload(\"//:workspace.bzl\", \"setup\")\nsetup()\n",
		"workspace.bzl": "load(\"@bazel_tools//tools/build_defs/repo:http.bzl\", \"http_archive\")\n\ndef setup():\n    TAG = \"v2\"\n    http_archive(name = \"a\", urls = [TAG])\n",
	})}
	if got, reg := workspaceSkeleton(loaded, snapWith()); got != base || reg {
		t.Errorf("a loaded macro that only defines repositories changed the skeleton (or registers: %v)", reg)
	}
	loadedReg := &fileSet{entries: map[string]gitrepo.TreeEntry{}, disk: writeTemp(t, map[string]string{
		"WORKSPACE":     "workspace(name = \"x\")\nload(\"//:workspace.bzl\", \"setup\")\nsetup()\n",
		"workspace.bzl": "def setup():\n    native.register_toolchains(\"@a//:tc\")\n",
	})}
	if _, reg := workspaceSkeleton(loadedReg, snapWith()); !reg {
		t.Error("a loaded macro calling native.register_toolchains does not register")
	}
	macro, _ := workspaceSkeleton(ws("def deps():\n    http_archive(name = \"a\", urls = [\"u1\"])\n    register_toolchains(\"//tc:all\")\n\ndeps()\n"), snapWith())
	commented, _ := workspaceSkeleton(ws("def deps():\n    # note\n\n    http_archive(name = \"a\", urls = [\"u1\"])\n\n    # more\n    register_toolchains(\"//tc:all\")  # why\n\n\ndeps()\n"), snapWith())
	if macro != commented {
		t.Error("comments and blank lines inside a WORKSPACE function changed the skeleton")
	}
}

func writeTemp(t *testing.T, files map[string]string) string {
	d := t.TempDir()
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(d, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestRCMayRegister(t *testing.T) {
	for text, want := range map[string]bool{
		"":                                    false,
		"build --jobs=2\ntest --test_env=A=1": false,
		"build --override_repository=platforms=/x": false,
		"build --extra_toolchains=//tc:all":        true,
		"build --noincompatible_x --platforms //p": true,
		"build --host_javabase=x":                  true,
		"build --define=x=@r//:y":                  true,
		"build --@r//:flag=1":                      true,
		"build --jobs=2 # --extra_toolchains=x":    false,
	} {
		if got := rcMayRegister(text); got != want {
			t.Errorf("rcMayRegister(%q) = %v, want %v", text, got, want)
		}
	}
	for name, want := range map[string]bool{"rules": false, "remotejdk11_linux": true, "remotejdk17_linux": true,
		"local_config_cc": true, "rules_java": true, "remote_java_tools": true, "io_bazel_rules_go": false} {
		if got := builtinToolchainRepo(name); got != want {
			t.Errorf("builtinToolchainRepo(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestTestOnlyChange(t *testing.T) {
	tests := []struct {
		name, base, head string
		want             string // flags; "" = not test-only
	}{
		{"test_env added", "build --jobs=2", "build --jobs=2\ntest --test_env=A=1", "--test_env"},
		{"value as next field", "", "test:ci --test_env A=1 --notest_keep_going", "--test_env --test_keep_going"},
		{"timeout changed", "test --test_timeout=60", "test --test_timeout=120", "--test_timeout"},
		{"build line", "", "build --test_env=A=1", ""},
		{"other test flag", "", "test --copt=-O2", ""},
		{"stray value", "", "test A=1", ""},
		{"same", "test --test_env=A", "test --test_env=A", ""},
	}
	for _, tc := range tests {
		flags, ok := testOnlyChange(tc.base, tc.head)
		got := ""
		if ok {
			got = strings.Join(flags, " ")
		}
		if got != tc.want {
			t.Errorf("%s: testOnlyChange = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCacheRoundTrip(t *testing.T) {
	s := &Snapshot{
		Format: FormatVersion, Commit: "c0ffee", Workspace: "ws",
		Nodes: map[string]*Node{
			"//a:a":     {Type: typeRule, Class: "go_library", Digest: "d1", Attrs: map[string]string{"srcs": "x", "deps": "y"}, Deps: []string{"//a:a.go", "@r//b:b", "//missing:m"}, Macros: []string{"m.bzl"}, Def: "rules.bzl"},
			"//a:a.go":  {Type: typeSource, Digest: "d2", Path: "a/a.go", Vis: "v"},
			"@r//b:b":   {Type: typeRule, Class: "go_library", Digest: "d3", Repo: "r"},
			"//a:a_gen": {Type: typeGenerated, Digest: "d4", Deps: []string{"//a:a"}},
		},
		Repos:   map[string]*Repo{"r": {Class: "go_repository", Digest: "rd", Files: []string{"BUILD.r"}}},
		Globals: map[string]string{".bazelrc": "g"},
	}
	c := &cache{dir: t.TempDir()}
	if err := c.put("k", s); err != nil {
		t.Fatal(err)
	}
	got := c.get("k")
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, s)
	}
	if err := os.WriteFile(c.path("k"), []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.get("k") != nil {
		t.Error("a corrupt entry was not treated as missing")
	}
}

// TestCacheDelta checks that a snapshot derived from another is stored
// as a delta against it and read back equal; that a delta whose parent
// is gone, or is itself a delta, is a miss; and that a snapshot differing
// in many nodes is stored whole.
func TestCacheDelta(t *testing.T) {
	parent := &Snapshot{Format: FormatVersion, Commit: "h", Nodes: map[string]*Node{}, Repos: map[string]*Repo{"r": {Class: "go_repository", Digest: "rd"}},
		Globals: map[string]string{".bazelrc": "g"}}
	for i := 0; i < 300; i++ {
		parent.Nodes[fmt.Sprintf("//p%d:f.go", i)] = &Node{Type: typeSource, Digest: fmt.Sprint("d", i), Path: fmt.Sprintf("p%d/f.go", i), Vis: "v"}
	}
	parent.Nodes["//p0:lib"] = &Node{Type: typeRule, Class: "go_library", Digest: "r", Deps: []string{"//p0:f.go"}, Attrs: map[string]string{"srcs": "a"}}
	derived := rehashSnapshot(parent, &fileSet{entries: map[string]gitrepo.TreeEntry{
		"p3/f.go": {Hash: gitrepo.BlobHash([]byte("changed")), Mode: filemode.Regular},
	}}, "b", map[string]string{"p3/f.go": "m"})
	derived.Globals = map[string]string{".bazelrc": "g2"}
	delete(derived.Nodes, "//p7:f.go")

	c := &cache{dir: t.TempDir()}
	if err := c.put("h", parent); err != nil {
		t.Fatal(err)
	}
	if err := c.putDelta("b", derived, "h", parent); err != nil {
		t.Fatal(err)
	}
	whole, _ := os.Stat(c.path("h"))
	delta, _ := os.Stat(c.path("b"))
	if delta.Size() >= whole.Size()/4 {
		t.Errorf("delta is %d bytes, the whole map %d", delta.Size(), whole.Size())
	}
	if diff := cmp.Diff(derived, c.get("b")); diff != "" {
		t.Errorf("delta round trip (-want +got):\n%s", diff)
	}
	if err := c.putDelta("b2", derived, "b", derived); err != nil {
		t.Fatal(err)
	}
	if c.get("b2") != nil {
		t.Error("a delta on a delta was read")
	}
	os.Remove(c.path("h"))
	if c.get("b") != nil {
		t.Error("a delta without its parent was read")
	}

	other := &Snapshot{Format: FormatVersion, Commit: "o", Nodes: map[string]*Node{}}
	for name, n := range parent.Nodes {
		cp := *n
		other.Nodes[name] = &cp
	}
	if err := c.putDelta("o", other, "h", parent); err != nil {
		t.Fatal(err)
	}
	if got := c.load("o", false); got == nil || len(got.Nodes) != len(other.Nodes) {
		t.Errorf("a snapshot sharing no node was not stored whole: %v", got)
	}
}

// TestCacheEviction checks that the cache stays under its limit by
// deleting the least recently used maps (a read counts as a use), old
// format files and stale temporary files, and never the map just written.
func TestCacheEviction(t *testing.T) {
	dir := t.TempDir()
	snap := func(commit string) *Snapshot {
		nodes := map[string]*Node{}
		for i := 0; i < 50; i++ {
			nodes[fmt.Sprintf("//p%d:t", i)] = &Node{Type: typeRule, Digest: strings.Repeat(commit, 8)}
		}
		return &Snapshot{Format: FormatVersion, Commit: commit, Nodes: nodes}
	}
	c := &cache{dir: dir, limit: -1}
	for _, k := range []string{"a", "b", "c"} {
		if err := c.put(k, snap(k)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(c.path("a"))
	if err != nil {
		t.Fatal(err)
	}
	size := info.Size()
	// Ages: a oldest, then b, c; then a is read, which makes it newest.
	old := time.Now().Add(-3 * time.Hour)
	for i, k := range []string{"a", "b", "c"} {
		tm := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(c.path(k), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	if c.get("a") == nil {
		t.Fatal("get(a) = nil")
	}
	maps := filepath.Join(dir, "maps")
	stale := filepath.Join(maps, ".tmp-stale")
	fresh := filepath.Join(maps, ".tmp-fresh")
	gz := filepath.Join(maps, "x-0123.gob.gz")
	for _, f := range []string{stale, fresh, gz} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	// Room for about two maps: writing d must delete b, then c (the least
	// recently used), keep a (read) and d (just written).
	c.limit = size*2 + size/2
	if err := c.put("d", snap("d")); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": false, "d": true} {
		if got := c.has(k); got != want {
			t.Errorf("after eviction has(%s) = %v, want %v", k, got, want)
		}
	}
	for f, want := range map[string]bool{stale: false, fresh: true, gz: false} {
		_, err := os.Stat(f)
		if got := err == nil; got != want {
			t.Errorf("after eviction %s exists = %v, want %v", filepath.Base(f), got, want)
		}
	}
	// A limit below one map still keeps the map just written.
	c.limit = 1
	if err := c.put("e", snap("e")); err != nil {
		t.Fatal(err)
	}
	if !c.has("e") || c.has("a") || c.has("d") {
		t.Errorf("limit 1: has(e, a, d) = %v %v %v, want true false false", c.has("e"), c.has("a"), c.has("d"))
	}
}

// TestBuildSnapshotParallel checks that a graph large enough to be
// digested on two goroutines gives the same snapshot as digesting it on
// one (run with -race to check the sharing).
func TestBuildSnapshotParallel(t *testing.T) {
	var targets []*buildpb.Target
	entries := map[string]gitrepo.TreeEntry{}
	for i := 0; i < 2500; i++ {
		pkg := "p" + strconv.Itoa(i)
		src := pkg + "/a.go"
		entries[src] = gitrepo.TreeEntry{Hash: plumbing.NewHash(strconv.Itoa(1000 + i)), Mode: filemode.Regular}
		entries[pkg+"/data/x.txt"] = gitrepo.TreeEntry{Hash: plumbing.NewHash("7"), Mode: filemode.Regular}
		deps := []string{"//" + pkg + ":a.go", "//" + pkg + ":data"}
		if i > 0 {
			deps = append(deps, "//p"+strconv.Itoa(i-1)+":lib")
		}
		targets = append(targets,
			&buildpb.Target{Type: buildpb.Target_RULE.Enum(), Rule: &buildpb.Rule{
				Name: proto.String("//" + pkg + ":lib"), RuleClass: proto.String("go_library"), RuleInput: deps,
				Attribute: []*buildpb.Attribute{{Name: proto.String("importpath"), Type: buildpb.Attribute_STRING.Enum(), StringValue: proto.String(pkg)}},
			}},
			&buildpb.Target{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String("//" + pkg + ":a.go")}},
			&buildpb.Target{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String("//" + pkg + ":data")}})
	}
	res := &buildpb.QueryResult{Target: targets}
	par, _, err := buildSnapshot(res, &fileSet{entries: entries}, "c", "/ws", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := buildSnapshot(&buildpb.QueryResult{Target: targets[:3]}, &fileSet{entries: entries}, "c", "/ws", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(par.Nodes) != 7500 {
		t.Fatalf("%d nodes, want 7500", len(par.Nodes))
	}
	for name, n := range seq.Nodes {
		if !reflect.DeepEqual(par.Nodes[name], n) {
			t.Errorf("%s: parallel %+v, sequential %+v", name, par.Nodes[name], n)
		}
	}
	if d := par.Nodes["//p7:data"].Digest; d == par.Nodes["//p7:a.go"].Digest || !strings.HasPrefix(entriesDigest(t, entries, "p7/data"), "dir:") {
		t.Errorf("directory source not digested as a directory: %s", d)
	}
}

func entriesDigest(t *testing.T, entries map[string]gitrepo.TreeEntry, p string) string {
	t.Helper()
	return (&fileSet{entries: entries}).digest(p)
}
