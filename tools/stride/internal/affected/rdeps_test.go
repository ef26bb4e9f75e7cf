package affected

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

func TestPlanRdeps(t *testing.T) {
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
		dirty      string
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
			name:  "a BUILD file changed and a file elsewhere",
			head:  map[string]string{"lib/a/BUILD.bazel": "# v2", "lib/b/b+1.go": "package b // v2"},
			want:  `rdeps(//..., //lib/a:* + filter("^(//lib/b:b\+1\.go)$", set(//lib/b:*))) + //external:*`,
			dirty: "lib/a",
			ok:    true,
		},
		{
			name:  "a new package (its files left the root package)",
			head:  map[string]string{"cmd/c/BUILD.bazel": "", "cmd/c/main.go": "package main"},
			want:  `rdeps(//..., //:* + //cmd/c:*) + //external:*`,
			dirty: " cmd/c",
			ok:    true,
		},
		{
			name:  "a deleted package: only base has it",
			head:  map[string]string{"lib/b/BUILD": "-", "lib/b/b+1.go": "-"},
			want:  `rdeps(//..., //:*) + //external:*`,
			dirty: " lib/b",
			ok:    true,
		},
		{
			name: "a .bzl file changed",
			base: map[string]string{"lib/a/defs.bzl": "v1"},
			head: map[string]string{"lib/a/defs.bzl": "v2"},
		},
		{
			name:  "a file added to a package: dirty",
			head:  map[string]string{"lib/a/new.go": "package a"},
			want:  `rdeps(//..., //lib/a:*) + //external:*`,
			dirty: "lib/a",
			ok:    true,
		},
		{
			name:  "a file deleted from a package: dirty",
			head:  map[string]string{"lib/a/a.go": "-"},
			want:  `rdeps(//..., //lib/a:*) + //external:*`,
			dirty: "lib/a",
			ok:    true,
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
			plan, ok := planRdeps(diffFiles(base, head), base, head)
			if ok != tc.ok || plan.head != tc.want || strings.Join(plan.dirty, " ") != tc.dirty {
				t.Errorf("planRdeps = %q (dirty %q), %v; want %q (dirty %q), %v", plan.head, plan.dirty, ok, tc.want, tc.dirty, tc.ok)
			}
		})
	}
}
