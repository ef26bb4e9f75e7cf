package affected

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnreadableCachedMap: a cached map that cannot be read (truncated,
// or a delta whose parent is gone) is planned around: the computation
// plans again without it and gives the set the full maps give.
func TestUnreadableCachedMap(t *testing.T) {
	w, c0 := newTestWS(t, gitFiles)
	c1 := w.repo.Commit("lib and a new package", map[string]string{
		"lib/lib.sh":  "echo lib2\n",
		"new/BUILD":   `sh_library(name = "n", srcs = ["n.sh"], deps = ["//lib"])` + "\n",
		"new/n.sh":    "echo n\n",
		"other/o.txt": "not a target\n",
	})
	w.checkout(c1)
	want := []string{"//app:app", "//lib:lib", "//new:n"}
	o := w.opts(c0, c1)
	maps := filepath.Join(o.CacheDir, "maps")
	full := compute(t, o) // both maps cached from here on
	checkResult(t, affectedCase{want: want}, full)
	for _, side := range []struct{ name, commit, wantSource string }{
		// Base unreadable: head's map is cached, base is patched from it.
		{"base", full.Base.Commit, "query-scratch-incremental"},
		// Head unreadable: base's map is cached, head is patched from it.
		{"head", full.Head.Commit, "query-incremental"},
	} {
		t.Run(side.name, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(maps, side.commit+"-*"+mapExt))
			if len(files) != 1 {
				t.Fatalf("%d maps of %s's commit, want 1", len(files), side.name)
			}
			if err := os.WriteFile(files[0], []byte("not a gob"), 0o644); err != nil {
				t.Fatal(err)
			}
			res := compute(t, o)
			checkResult(t, affectedCase{want: want}, res)
			got := res.Base.Source
			if side.name == "head" {
				got = res.Head.Source
			}
			if got != side.wantSource {
				t.Errorf("%s's source = %s, want %s", side.name, got, side.wantSource)
			}
		})
	}
}
