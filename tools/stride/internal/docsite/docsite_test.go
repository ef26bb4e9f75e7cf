package docsite_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/docsite"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestRenderGolden(t *testing.T) {
	files, err := docsite.Render(os.DirFS("testdata/docs"), docsite.Site{
		Build: "3f2a9c0d", Commit: "3f2a9c0d", Branch: "main",
		Services: []docsite.Service{{Name: "releaseboard", Version: "0.40.0+g0c1d2e3", Since: "0c1d2e3f"}, {Name: "artifactd", Version: "0.42.0+g3f2a9c0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"guide/setup.html", "index.html", "intro.html", "logo.png"}; !cmp.Equal(names, want) {
		t.Fatalf("files = %v, want %v", names, want)
	}
	for _, n := range []string{"index.html", "intro.html", "guide/setup.html"} {
		golden := filepath.Join("testdata", "golden", strings.ReplaceAll(n, "/", "_"))
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, files[n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(files[n])); diff != "" {
			t.Errorf("%s (-golden +got), rerun with -update if intended:\n%s", n, diff)
		}
	}
	intro := string(files["intro.html"])
	for _, want := range []string{`href="guide/setup.html#install"`, `href="https://example.com/api.md"`, "<table>", `<title>Getting started · stride docs</title>`, `<del>todo</del>`} {
		if !strings.Contains(intro, want) {
			t.Errorf("intro.html lacks %s", want)
		}
	}
	if strings.Contains(intro, "<script>") {
		t.Error("raw HTML passed through")
	}
	if !strings.Contains(string(files["guide/setup.html"]), `href="../intro.html"`) {
		t.Error("relative link from a subdirectory not rewritten")
	}
}

// TestRenderIndexPage checks that docs/index.md opens the generated index
// page instead of being refused, and that an index.html of the user's
// still is (the index page is generated).
func TestRenderIndexPage(t *testing.T) {
	files, err := docsite.Render(fstest.MapFS{
		"index.md":       {Data: []byte("# Welcome\n\nStart with [setup](guide/setup.md).\n")},
		"guide/setup.md": {Data: []byte("# Setup\n")},
	}, docsite.Site{Build: "3f2a9c0d"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["index.md"]; ok {
		t.Error("index.md copied as is")
	}
	index := string(files["index.html"])
	for _, want := range []string{"<title>Welcome · stride docs</title>", `<h1 id="welcome">Welcome</h1>`, `href="guide/setup.html"`, "Build 3f2a9c0d", "<h2>Documents</h2>", `<a href="guide/setup.html">Setup</a>`} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %s:\n%s", want, index)
		}
	}
	if strings.Contains(index, "<h1>stride docs</h1>") || strings.Contains(index, `(index.md)`) {
		t.Errorf("index.html has the default heading or lists itself:\n%s", index)
	}
	if _, err := docsite.Render(fstest.MapFS{"index.html": {Data: []byte("<p>mine</p>")}}, docsite.Site{}); err == nil || !strings.Contains(err.Error(), "write docs/index.md instead") {
		t.Errorf("a docs/index.html: err = %v", err)
	}
}

func TestRenderRepositoryDocs(t *testing.T) {
	if _, err := os.Stat("../../../../docs/publish.md"); err != nil {
		t.Skipf("the repository's docs/ is not here (bazel test sandbox): %v", err)
	}
	files, err := docsite.Render(os.DirFS("../../../../docs"), docsite.Site{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("rendered only %d files of docs/", len(files))
	}
}
