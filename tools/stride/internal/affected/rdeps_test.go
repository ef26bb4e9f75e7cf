package affected

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

func TestRdepsQuery(t *testing.T) {
	files := func(extra map[string]string) *fileSet {
		fs := &fileSet{entries: map[string]gitrepo.TreeEntry{}}
		for p, c := range map[string]string{
			"BUILD.bazel":         "",
			"README.md":           "readme",
			"lib/a/BUILD.bazel":   "",
			"lib/a/a.go":          "package a",
			"lib/a/sub/x.txt":     "x",
			"lib/b/BUILD":         "",
			"lib/b/b+1.go":        "package b",
			"docs/guide/intro.md": "intro",
		} {
			fs.entries[p] = gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte(c)), Mode: filemode.Regular}
		}
		for p, c := range extra {
			switch c {
			case "-":
				delete(fs.entries, p)
			case "symlink":
				fs.entries[p] = gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte("lib")), Mode: filemode.Symlink}
			default:
				fs.entries[p] = gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte(c)), Mode: filemode.Regular}
			}
		}
		return fs
	}
	tests := []struct {
		name       string
		base, head map[string]string
		want       string
		ok         bool
	}{
		{
			name: "contents of files in packages",
			head: map[string]string{"lib/a/a.go": "package a // v2", "lib/a/sub/x.txt": "y", "lib/b/b+1.go": "package b // v2"},
			want: `rdeps(//..., filter("^(//lib/a:a\.go|//lib/a:sub/x\.txt|//lib/b:b\+1\.go)$", set(//lib/a:* //lib/b:*))) + //external:*`,
			ok:   true,
		},
		{
			name: "a file of the root package",
			head: map[string]string{"README.md": "new"},
			want: `rdeps(//..., filter("^(//:README\.md)$", set(//:*))) + //external:*`,
			ok:   true,
		},
		{
			name: "files in no package: only the repository definitions",
			base: map[string]string{"BUILD.bazel": "-"},
			head: map[string]string{"BUILD.bazel": "-", "docs/guide/intro.md": "v2"},
			want: `//external:*`,
			ok:   true,
		},
		{
			name: "a BUILD file changed",
			head: map[string]string{"lib/a/BUILD.bazel": "# v2"},
		},
		{
			name: "a .bzl file changed",
			base: map[string]string{"lib/a/defs.bzl": "v1"},
			head: map[string]string{"lib/a/defs.bzl": "v2"},
		},
		{
			name: "a file added to a package: checked after the query",
			head: map[string]string{"lib/a/new.go": "package a"},
			want: `rdeps(//..., filter("^(//lib/a:new\.go)$", set(//lib/a:*))) + //external:*`,
			ok:   true,
		},
		{
			name: "a file deleted from a package",
			head: map[string]string{"lib/a/a.go": "-"},
		},
		{
			name: "files added and deleted in no package",
			base: map[string]string{"BUILD.bazel": "-"},
			head: map[string]string{"BUILD.bazel": "-", "docs/guide/intro.md": "-", "docs/new.md": "new"},
			want: `//external:*`,
			ok:   true,
		},
		{
			name: "a file added in a tree with symbolic links",
			base: map[string]string{"link": "symlink"},
			head: map[string]string{"link": "symlink", "lib/a/new.go": "package a"},
		},
		{
			name: "a name a query word cannot quote",
			base: map[string]string{`lib/a/say"hi".txt`: "v1"},
			head: map[string]string{`lib/a/say"hi".txt`: "v2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, head := files(tc.base), files(tc.head)
			got, ok := rdepsQuery(diffFiles(base, head), base, head)
			if ok != tc.ok || got != tc.want {
				t.Errorf("rdepsQuery = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
