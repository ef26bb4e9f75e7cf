package affected

import (
	"bytes"
	"context"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache/remotecachetest"
)

// sharedFiles is a workspace with external repositories of every kind the
// snapshot digests (local_repository in and out of the workspace,
// new_local_repository with build_file and build_file_content), a macro,
// a genrule and a test: what could carry a path of the machine.
var sharedFiles = merge(extFiles, map[string]string{
	"app/defs.bzl": `def plain_gen(name):
    native.genrule(name = name, srcs = ["plain.sh"], outs = [name + ".out"], cmd = "cp $< $@")
`,
	"app/BUILD": extFiles["app/BUILD"] + `
load(":defs.bzl", "plain_gen")

plain_gen(name = "gen")

sh_test(name = "plain_test", srcs = ["plain.sh"], data = [":gen", "@newext//:files"])
`,
})

// TestSharedMaps is part 3 of issue 21 (docs/scale-out.md, "Warm
// ephemeral runners"), with a real bazel-remote: runner A, in one clone
// with its own output base and cache directory, computes a change and
// uploads both maps; the same commits' maps computed in another clone at
// another path with another output base encode to the same bytes (a map
// depends on nothing of the machine); a fresh runner B (the other clone,
// an empty cache directory) takes the next push's base map from the
// remote and queries nothing at base, with the affected set runner A
// computes; a corrupt entry is refused with one warning and the map
// computed; a store that does not answer costs one warning.
func TestSharedMaps(t *testing.T) {
	w, c0 := newTestWS(t, sharedFiles)
	c1 := w.repo.Commit("content", map[string]string{"app/plain.sh": "echo plain 2\n"})
	c2 := w.repo.Commit("build", map[string]string{"app/BUILD": sharedFiles["app/BUILD"] + `
sh_library(name = "added", srcs = ["plain.sh"])
`})
	srv := remotecachetest.Start(t)
	u, err := url.Parse(srv.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	store, err := remotecache.NewBlobs(u, MapNamespace)
	if err != nil {
		t.Fatal(err)
	}
	cloneB := filepath.Join(t.TempDir(), "elsewhere", "clone-b")
	if out, err := exec.Command("git", "clone", "-q", w.repo.Dir, cloneB).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	gitB := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = cloneB
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	runner := func(dir, ob, cache, base, head string) (Options, *bytes.Buffer, *bytes.Buffer) {
		var log, warn bytes.Buffer
		return Options{
			Dir: dir, Base: base, Head: head,
			CacheDir:        filepath.Join(w.tmp, cache),
			Startup:         []string{"--output_base=" + filepath.Join(w.tmp, ob), "--max_idle_secs=60"},
			ScratchIdleSecs: 60,
			Log:             &log,
			Warn:            &warn,
		}, &log, &warn
	}

	// Runner A: both sides queried in full, both maps uploaded.
	w.checkout(c1)
	a, _, _ := runner(w.repo.Dir, "obA", "cacheA", c0, c1)
	a.NoFastPath, a.Shared = true, store
	resA := compute(t, a)
	if resA.Shared == nil || len(resA.Shared.Got) != 0 || resA.Shared.Note != "" {
		t.Fatalf("runner A: shared = %+v; want nothing got, no note", resA.Shared)
	}

	// The same maps from clone B at another path, another output base.
	gitB("checkout", "-q", "--detach", c1)
	b, _, _ := runner(cloneB, "obB", "cacheB", c0, c1)
	b.NoFastPath = true
	compute(t, b)
	for _, commit := range []string{c0, c1} {
		key := mapKey(t, filepath.Join(b.CacheDir, "maps"), commit)
		mine, err := encodeShared(key, readMap(t, filepath.Join(b.CacheDir, "maps"), commit))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := store.Get(context.Background(), key)
		if err != nil || theirs == nil {
			t.Fatalf("the map of %s in the remote: %v (%d bytes)", commit, err, len(theirs))
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("the map of %s from clone B (%d bytes) differs from clone A's (%d bytes)", commit[:8], len(mine), len(theirs))
			sameSnapshot(t, "clone B's map", mustDecode(t, theirs, key, commit), mustDecode(t, mine, key, commit))
		}
	}

	// The expected affected set of the next push, c1 -> c2, from runner A
	// (c1's map in its cache); its store does not answer: one warning,
	// and nothing else changes.
	w.checkout(c2)
	exp, _, warnA := runner(w.repo.Dir, "obA", "cacheA", c1, c2)
	down, _ := url.Parse("http://127.0.0.1:1")
	exp.Shared, _ = remotecache.NewBlobs(down, MapNamespace)
	want := compute(t, exp)
	if n := strings.Count(warnA.String(), "warning"); n != 1 || !strings.Contains(warnA.String(), "does not answer") {
		t.Errorf("a store that does not answer: warnings %q; want one saying so", warnA.String())
	}

	// Runner B, fresh: an empty cache directory; base's map comes from
	// the remote, and nothing is queried at base.
	gitB("fetch", "-q", "origin")
	gitB("checkout", "-q", "--detach", c2)
	fresh, logB, warnB := runner(cloneB, "obB", "cacheFresh", c1, c2)
	fresh.Shared = store
	got := compute(t, fresh)
	if got.Base.Source != "remote-cache" || strings.Join(got.Shared.Got, ",") != "base" {
		t.Errorf("fresh runner: base from %q, shared %+v; want base from remote-cache", got.Base.Source, got.Shared)
	}
	if strings.Contains(logB.String(), "querying base") || warnB.Len() > 0 {
		t.Errorf("fresh runner queried base or warned:\n%s\nwarnings: %s", logB.String(), warnB.String())
	}
	if strings.Join(got.Labels(), " ") != strings.Join(want.Labels(), " ") || len(want.Labels()) == 0 {
		t.Errorf("fresh runner: affected %v; runner A: %v", got.Labels(), want.Labels())
	}

	// A corrupt entry for c1 (a truncated map): refused with one warning,
	// base computed, the same affected set.
	key1 := mapKey(t, filepath.Join(b.CacheDir, "maps"), c1)
	good, _ := store.Get(context.Background(), key1)
	for name, blob := range map[string][]byte{"truncated": good[:len(good)/2], "garbage": []byte("not a map")} {
		if err := store.Put(context.Background(), key1, blob); err != nil {
			t.Fatal(err)
		}
		corrupt, logC, warnC := runner(cloneB, "obB", "cacheCorrupt-"+name, c1, c2)
		corrupt.Shared, corrupt.SharedReadOnly = store, true
		res := compute(t, corrupt)
		if res.Base.Source == "remote-cache" || !strings.Contains(logC.String(), "querying base") {
			t.Errorf("%s entry: base from %q; want it computed:\n%s", name, res.Base.Source, logC.String())
		}
		if n := strings.Count(warnC.String(), "warning"); n != 1 || !strings.Contains(warnC.String(), "refused base's map") {
			t.Errorf("%s entry: warnings %q; want one refusing base's map", name, warnC.String())
		}
		if strings.Join(res.Labels(), " ") != strings.Join(want.Labels(), " ") {
			t.Errorf("%s entry: affected %v; want %v", name, res.Labels(), want.Labels())
		}
	}
}

// mapKey is the cache key of commit's map in the maps directory.
func mapKey(t *testing.T, maps, commit string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(maps, commit+"-*"+mapExt))
	if len(files) != 1 {
		t.Fatalf("maps of %s in %s: %v; want one", commit, maps, files)
	}
	return strings.TrimSuffix(filepath.Base(files[0]), mapExt)
}

func mustDecode(t *testing.T, b []byte, key, commit string) *Snapshot {
	t.Helper()
	s, err := decodeShared(b, key, commit)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSharedEncoding: a map survives its shared encoding, which is the
// same bytes every time (gob alone writes maps in iteration order), and
// decoding refuses what is not the map asked for.
func TestSharedEncoding(t *testing.T) {
	s := &Snapshot{Format: FormatVersion, Commit: "c1", Workspace: "t",
		Nodes: map[string]*Node{
			"//a:a":    {Type: typeRule, Class: "sh_library", Digest: "d1", Attrs: map[string]string{"srcs": "x", "deps": "y"}, Deps: []string{"//a:a.sh", "@r//:x"}},
			"//a:a.sh": {Type: typeSource, Digest: "d2", Path: "a/a.sh", Vis: "v"},
		},
		Repos:   map[string]*Repo{"r": {Class: "local_repository", Digest: "r1", Dir: "vendor/r"}, "q": {Class: "http_archive", Digest: "q1", Files: []string{"p.patch"}}},
		Globals: map[string]string{".bazelrc": "g1", "WORKSPACE": "g2", ".bazelversion": "g3"},
	}
	first, err := encodeShared("k1", s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, _ := encodeShared("k1", s)
		if !bytes.Equal(first, again) {
			t.Fatal("two encodings of one map differ")
		}
	}
	back, err := decodeShared(first, "k1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, "decoded", s, back)
	if back.Repos["q"].Files[0] != "p.patch" || back.Globals["WORKSPACE"] != "g2" || back.Workspace != "t" {
		t.Errorf("decoded repos/globals/workspace differ: %+v %v %q", back.Repos, back.Globals, back.Workspace)
	}
	other := &Snapshot{Format: FormatVersion + 1, Commit: "c1", Nodes: map[string]*Node{}}
	otherFormat, _ := encodeShared("k1", other)
	for _, tc := range []struct {
		name, key, commit string
		blob              []byte
		want              string
	}{
		{"other key", "k2", "c1", first, "not k2"},
		{"other commit", "k1", "c2", first, "not c2"},
		{"truncated", "k1", "c1", first[:len(first)-10], "decode"},
		{"no header", "k1", "c1", first[10:], "not a"},
		{"empty", "k1", "c1", nil, "not a"},
		{"other format", "k1", "c1", otherFormat, "digest format"},
	} {
		if _, err := decodeShared(tc.blob, tc.key, tc.commit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: decode error %v; want one containing %q", tc.name, err, tc.want)
		}
	}
}
