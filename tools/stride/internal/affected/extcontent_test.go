package affected

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// outputBase makes an output base whose external/ holds go_repository
// dep (fakeQuery's) with files (path -> content), fetched (a marker
// file) unless marker is empty.
func outputBase(t *testing.T, marker string, files map[string]string) string {
	t.Helper()
	ob := t.TempDir()
	for p, c := range files {
		full := filepath.Join(ob, "external", "dep", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if marker != "" {
		if err := os.WriteFile(filepath.Join(ob, "external", "@dep.marker"), []byte(marker), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ob
}

func fixedOB(dir string) func() (string, error) { return func() (string, error) { return dir, nil } }

// TestContentDigestedRepository checks that go_repository targets are
// digested by the files fetched into the output base: a new definition
// with the same files affects nothing, a changed file or BUILD file
// affects what depends on it, and where the files cannot be read the
// definition stands in (affected, never missed). Digests read once are
// cached by definition.
func TestContentDigestedRepository(t *testing.T) {
	cacheDir := t.TempDir()
	v1 := map[string]string{"BUILD.bazel": "go_library(name = 'd')\n", "d.go": "package d\n"}
	q1 := fakeQuery("example.com/lib", "v1", "v1")
	q2 := fakeQuery("example.com/lib", "v2", "v1")
	files := fakeFiles("package lib")
	build := func(q1v bool, ext extSource) *Snapshot {
		q := q2
		if q1v {
			q = q1
		}
		s, _, err := buildSnapshot(q, files, "", "/ws", "", ext)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := build(true, newExtContent(cacheDir, fixedOB(outputBase(t, "m1", v1))))
	affected := map[string][]string{"//lib:lib": {"external repository dep changed"}, "//app:bin": {"depends on //lib:lib"}}
	failing := func() (string, error) { return "", errors.New("no output base") }

	tests := []struct {
		name string
		head *Snapshot
		want map[string][]string
	}{
		{"new definition, same files", build(false, newExtContent(cacheDir, fixedOB(outputBase(t, "m2", v1)))), map[string][]string{}},
		{"new definition, a file changed", build(false, newExtContent(cacheDir+"2", fixedOB(outputBase(t, "m2",
			map[string]string{"BUILD.bazel": v1["BUILD.bazel"], "d.go": "package d // 2\n"})))), affected},
		{"new definition, BUILD file changed", build(false, newExtContent("", fixedOB(outputBase(t, "m2",
			map[string]string{"BUILD.bazel": "go_library(name = 'd', x = 1)\n", "d.go": v1["d.go"]})))), affected},
		{"new definition, output base unknown", build(false, newExtContent("", failing)), affected},
		{"new definition, not fetched", build(false, newExtContent("", fixedOB(outputBase(t, "", v1)))), affected},
		{"new definition, no content source", build(false, nil), affected},
		{"same definition, from the cache", build(true, newExtContent(cacheDir, failing)), map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, got := compareReasons(base, tc.head, files, files)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if res.Everything {
				t.Error("everything affected")
			}
		})
	}

	// The digests read for v1 are in the cache; a snapshot built from it
	// equals one built from the output base.
	if diff := cmp.Diff(base, build(true, newExtContent(cacheDir, failing))); diff != "" {
		t.Errorf("snapshot from the cache differs (-disk +cache):\n%s", diff)
	}
}

// TestDiskDigest checks what a file's content digest covers.
func TestDiskDigest(t *testing.T) {
	dir := t.TempDir()
	write := func(p, c string, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	digest := func(p string) string {
		d, err := diskDigest(filepath.Join(dir, p), 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	write("a", "x", 0o644)
	write("b", "x", 0o644)
	write("c", "x", 0o755)
	write("d/1", "x", 0o644)
	if digest("a") != digest("b") {
		t.Error("equal files differ")
	}
	if digest("a") == digest("c") {
		t.Error("the executable bit is not covered")
	}
	if got := digest("nope"); got != "missing" {
		t.Errorf("missing file: %q", got)
	}
	before := digest("d")
	write("d/1", "y", 0o644)
	if digest("d") == before {
		t.Error("a directory's digest does not cover its files")
	}
	if err := os.Symlink("a", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if digest("l") != digest("a") {
		t.Error("a symbolic link is not followed")
	}
}
