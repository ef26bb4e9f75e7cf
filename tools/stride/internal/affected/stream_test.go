package affected

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// TestSnapshotStream checks that a snapshot built while the targets
// stream equals the one built from the whole result, whether WORKSPACE
// names the workspace as the query does (main-repository targets are
// digested as they arrive) or not (finish starts over), and in either
// order of the //external rule that states the name.
func TestSnapshotStream(t *testing.T) {
	q := fakeQuery("example.com/lib", "v1", "v1")
	// A main-repository target named through the workspace's own name.
	q.Target = append(q.Target, &buildpb.Target{Type: buildpb.Target_RULE.Enum(), Rule: &buildpb.Rule{
		Name: proto.String("//app:test"), RuleClass: proto.String("go_test"), RuleInput: []string{"@t//lib:lib"},
	}})
	reversed := &buildpb.QueryResult{}
	for i := len(q.Target) - 1; i >= 0; i-- {
		reversed.Target = append(reversed.Target, q.Target[i])
	}
	for _, tc := range []struct {
		name      string
		workspace string // WORKSPACE's content
		q         *buildpb.QueryResult
	}{
		{"declared name, //external:t first", `workspace(name = "t")`, reversed},
		{"declared name, //external:t last", `workspace(name = "t")`, q},
		{"other name", `workspace(name = "other")`, q},
		{"no name", `# empty`, q},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := fakeFiles("package lib")
			files.disk = writeTemp(t, map[string]string{"WORKSPACE": tc.workspace})
			want := snap(t, tc.q, files)
			st := newSnapshotStream(files, "", "/ws", "", nil)
			for _, tg := range tc.q.Target {
				st.add(tg)
			}
			qr, got, _, err := st.finish()
			if err != nil {
				t.Fatal(err)
			}
			if len(qr.Target) != len(tc.q.Target) {
				t.Errorf("result has %d targets, want %d", len(qr.Target), len(tc.q.Target))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("streamed snapshot differs (-whole +streamed):\n%s", diff)
			}
			if got.Nodes["//app:test"] == nil || got.Nodes["//app:test"].Deps[0] != "//lib:lib" {
				t.Errorf("//app:test = %+v, want a dependency on //lib:lib", got.Nodes["//app:test"])
			}
		})
	}
}

// TestRehashSnapshot checks that deriving a side by rehashing the changed
// files gives what digesting the same query result with that side's files
// gives: for a changed file, a file inside a directory target, and with a
// symbolic link in the tree (every file rehashed).
func TestRehashSnapshot(t *testing.T) {
	src := func(name string) *buildpb.Target {
		return &buildpb.Target{Type: buildpb.Target_SOURCE_FILE.Enum(), SourceFile: &buildpb.SourceFile{Name: proto.String(name)}}
	}
	res := &buildpb.QueryResult{Target: []*buildpb.Target{
		{Type: buildpb.Target_RULE.Enum(), Rule: &buildpb.Rule{
			Name: proto.String("//p:lib"), RuleClass: proto.String("go_library"),
			RuleInput: []string{"//p:a.go", "//p:b.go", "//p:data"},
		}},
		src("//p:a.go"), src("//p:b.go"), src("//p:data"),
	}}
	entry := func(content string) gitrepo.TreeEntry {
		return gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte(content)), Mode: filemode.Regular}
	}
	baseEntries := func() map[string]gitrepo.TreeEntry {
		return map[string]gitrepo.TreeEntry{
			"p/BUILD": entry("build"), "p/a.go": entry("a"), "p/b.go": entry("b"), "p/data/x.txt": entry("x"),
		}
	}
	for _, tc := range []struct {
		name    string
		changed map[string]string // path -> new content
		link    bool
	}{
		{name: "file", changed: map[string]string{"p/a.go": "a2"}},
		{name: "file in a directory target", changed: map[string]string{"p/data/x.txt": "x2"}},
		{name: "outside any target", changed: map[string]string{"README.md": "r2"}},
		{name: "with a link in the tree", changed: map[string]string{"p/b.go": "b2"}, link: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, he := baseEntries(), baseEntries()
			if tc.link {
				link := gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte("../q")), Mode: filemode.Symlink}
				be["p/link"], he["p/link"] = link, link
			}
			changed := map[string]string{}
			for p, c := range tc.changed {
				he[p] = entry(c)
				changed[p] = "modified"
			}
			from := snap(t, res, &fileSet{entries: he})
			want := snap(t, res, &fileSet{entries: be})
			want.Commit = "base"
			got := rehashSnapshot(from, &fileSet{entries: be}, "base", changed)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rehashed snapshot differs (-digested +rehashed):\n%s", diff)
			}
		})
	}
}
