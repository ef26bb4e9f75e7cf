package store_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func open(t *testing.T) *store.FS {
	t.Helper()
	s, err := store.OpenFS(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s store.Store, content string) store.Blob {
	t.Helper()
	b, err := s.PutBlob(context.Background(), strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlobs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	b := put(t, s, "hello")
	if want := store.DigestOf([]byte("hello")); b.Digest != want || b.Size != 5 {
		t.Fatalf("PutBlob = %+v, want %s size 5", b, want)
	}
	if b2 := put(t, s, "hello"); b2 != b {
		t.Fatalf("second PutBlob = %+v, want %+v", b2, b)
	}
	got, err := store.ReadBlob(ctx, s, b.Digest)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadBlob = %q, %v", got, err)
	}
	if _, err := s.OpenBlob(ctx, store.DigestOf([]byte("absent"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenBlob(absent) = %v, want ErrNotFound", err)
	}
	if _, err := s.OpenBlob(ctx, "sha256:xyz"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("OpenBlob(bad digest) = %v, want ErrInvalid", err)
	}
	ents, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(ents) != 0 {
		t.Errorf("tmp/ not empty after puts: %v", ents)
	}
}

// corrupt flips the blob's bytes in place (same size).
func corrupt(t *testing.T, s *store.FS, d store.Digest) {
	t.Helper()
	p := s.BlobPath(d)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptBlobIsNeverServedAndIsRepairedByPut(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	b := put(t, s, "precious bytes")
	corrupt(t, s, b.Digest)
	if _, err := s.OpenBlob(ctx, b.Digest); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("OpenBlob(corrupt) = %v, want ErrCorrupt", err)
	}
	res, err := store.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Object != "blob "+string(b.Digest) {
		t.Fatalf("Verify problems = %+v, want the corrupt blob", res.Problems)
	}
	put(t, s, "precious bytes")
	if got, err := store.ReadBlob(ctx, s, b.Digest); err != nil || string(got) != "precious bytes" {
		t.Fatalf("after re-put: %q, %v", got, err)
	}
}

func manifest(t *testing.T, s store.Store, build string, number int, files map[string]string) *store.Manifest {
	t.Helper()
	m := &store.Manifest{
		Schema: store.Schema,
		Build:  build,
		Commit: build,
		Branch: "main",
		Number: number,
		Time:   time.Date(2024, 5, 1, 12, 0, number, 0, time.UTC),
	}
	for name, content := range files {
		b := put(t, s, content)
		kind := store.KindDoc
		if strings.HasSuffix(name, ".deb") {
			kind = store.KindDeb
		}
		m.Artifacts = append(m.Artifacts, store.Artifact{Name: name, Kind: kind, Digest: b.Digest, Size: b.Size})
	}
	return m
}

func TestManifestImmutable(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	m := manifest(t, s, "b1", 1, map[string]string{"docs/index.html": "<p>hi</p>"})
	if err := s.PutManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.PutManifest(ctx, m); err != nil {
		t.Fatalf("identical PutManifest = %v, want nil", err)
	}
	m2 := manifest(t, s, "b1", 1, map[string]string{"docs/index.html": "<p>other</p>"})
	if err := s.PutManifest(ctx, m2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("different PutManifest = %v, want ErrConflict", err)
	}
	got, err := s.Manifest(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("Manifest (-put +got):\n%s", diff)
	}
	missing := manifest(t, s, "b2", 2, nil)
	missing.Artifacts = []store.Artifact{{Name: "x.txt", Kind: "doc", Digest: store.DigestOf([]byte("never stored")), Size: 12}}
	if err := s.PutManifest(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutManifest with a missing blob = %v, want ErrNotFound", err)
	}
	if ids, _ := s.Builds(ctx); !cmp.Equal(ids, []string{"b1"}) {
		t.Errorf("Builds = %v, want [b1]", ids)
	}
}

func TestManifestValidate(t *testing.T) {
	d := store.DigestOf(nil)
	good := func() *store.Manifest {
		return &store.Manifest{Schema: store.Schema, Build: "abc", Commit: "abc",
			Artifacts: []store.Artifact{{Name: "debs/a_1_amd64.deb", Kind: store.KindDeb, Digest: d}},
			Packages:  []store.Package{{Name: "a", Version: "1", Architecture: "amd64", Artifact: "debs/a_1_amd64.deb"}}}
	}
	tests := []struct {
		name   string
		mutate func(m *store.Manifest)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(m *store.Manifest) {}, ""},
		{"schema", func(m *store.Manifest) { m.Schema = "x" }, `schema "x"`},
		{"build id", func(m *store.Manifest) { m.Build = "../x" }, `build id "../x"`},
		{"absolute name", func(m *store.Manifest) { m.Artifacts[0].Name = "/etc/passwd" }, `artifact name "/etc/passwd"`},
		{"dotdot name", func(m *store.Manifest) { m.Artifacts[0].Name = "a/../../b" }, `artifact name "a/../../b"`},
		{"hidden name", func(m *store.Manifest) { m.Artifacts[0].Name = "a/.git" }, `artifact name "a/.git"`},
		{"bad digest", func(m *store.Manifest) { m.Artifacts[0].Digest = "md5:1" }, `digest "md5:1"`},
		{"dangling package", func(m *store.Manifest) { m.Packages[0].Artifact = "nope.deb" }, `artifact "nope.deb" is not a deb`},
		{"duplicate artifact", func(m *store.Manifest) { m.Artifacts = append(m.Artifacts, m.Artifacts[0]) }, "listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.mutate(m)
			err := m.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// TestManifestGolden pins the JSON form of the manifest (docs/store.md
// shows the same example).
func TestManifestGolden(t *testing.T) {
	deb := []byte("!<arch>\nnot really a deb")
	m := &store.Manifest{
		Build:  "3f2a9c0d6b1e4f5a7c8d9e0f1a2b3c4d5e6f7a8b",
		Commit: "3f2a9c0d6b1e4f5a7c8d9e0f1a2b3c4d5e6f7a8b",
		Branch: "main",
		Number: 42,
		Time:   time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC),
		Run:    &store.RunInfo{Status: "green", Summary: "3 targets affected; tests: 2 passed", Base: "1111111111111111111111111111111111111111"},
		Packages: []store.Package{{
			Name: "artifactd", Version: "0.42.0+g3f2a9c0", Architecture: "amd64",
			Artifact: "debs/artifactd_0.42.0+g3f2a9c0_amd64.deb", Content: store.DigestOf([]byte("content")),
		}, {
			Name: "releaseboard", Version: "0.40.0+g0c1d2e3", Architecture: "amd64",
			Artifact: "debs/releaseboard_0.40.0+g0c1d2e3_amd64.deb", Content: store.DigestOf([]byte("content2")),
			Since: "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d",
		}},
		Artifacts: []store.Artifact{
			{Name: "test/junit.xml", Kind: store.KindJUnit, Digest: store.DigestOf([]byte("<testsuites/>")), Size: 13},
			{Name: "debs/artifactd_0.42.0+g3f2a9c0_amd64.deb", Kind: store.KindDeb, Digest: store.DigestOf(deb), Size: int64(len(deb))},
			{Name: "debs/releaseboard_0.40.0+g0c1d2e3_amd64.deb", Kind: store.KindDeb, Digest: store.DigestOf([]byte("rb")), Size: 2},
			{Name: "docs/index.html", Kind: store.KindDoc, Digest: store.DigestOf([]byte("<html></html>")), Size: 13},
			{Name: "perf/perf.json", Kind: store.KindPerf, Digest: store.DigestOf([]byte("{}")), Size: 2},
			{Name: "perf/compare.txt", Kind: store.KindPerfCompare, Digest: store.DigestOf([]byte("x")), Size: 1},
			{Name: "report.json", Kind: store.KindReport, Digest: store.DigestOf([]byte("{}\n")), Size: 3},
		},
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "manifest.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("manifest JSON (-golden +got), rerun with -update if intended:\n%s", diff)
	}
	back, err := store.ParseManifest(golden, want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestVerifyAndGC(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	shared := "shared deb"
	for i, id := range []string{"b1", "b2", "b3", "b4"} {
		m := manifest(t, s, id, i+1, map[string]string{"a.deb": shared, "docs/index.html": "docs of " + id})
		if err := s.PutManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	orphan := put(t, s, "blob of a killed publish")
	if err := os.WriteFile(filepath.Join(s.Root(), "tmp", "blob-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := store.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Builds != 4 || res.Blobs != 6 || len(res.Leftovers) != 1 {
		t.Fatalf("Verify = %+v, want OK, 4 builds, 6 blobs, 1 leftover", res)
	}
	if err := s.Pin(ctx, "b1", "release 1.0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Pin(ctx, "nope", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Pin(unknown) = %v, want ErrNotFound", err)
	}
	opts := store.GCOptions{Keep: map[string]string{"b3": "environment uat"}, KeepLast: 1, DryRun: true}
	dry, err := store.GC(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Builds(ctx); len(ids) != 4 {
		t.Fatalf("dry run removed builds: %v", ids)
	}
	opts.DryRun = false
	gc, err := store.GC(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	dry.DryRun = false
	if diff := cmp.Diff(dry, gc); diff != "" {
		t.Errorf("dry run and real run differ (-dry +real):\n%s", diff)
	}
	want := &store.GCResult{
		Kept:      []store.KeptBuild{{Build: "b1", Reason: "pinned: release 1.0"}, {Build: "b3", Reason: "environment uat"}, {Build: "b4", Reason: "among the newest 1"}},
		Removed:   []string{"b2"},
		Blobs:     2, // b2's docs and the orphan
		Bytes:     int64(len("docs of b2") + len("blob of a killed publish")),
		Leftovers: []string{"tmp/blob-123"},
	}
	if diff := cmp.Diff(want, gc); diff != "" {
		t.Errorf("GC (-want +got):\n%s", diff)
	}
	if _, err := s.StatBlob(ctx, orphan.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("orphan blob still there: %v", err)
	}
	res, err = store.Verify(ctx, s)
	if err != nil || !res.OK() || res.Builds != 3 || len(res.Leftovers) != 0 {
		t.Fatalf("Verify after GC = %+v, %v", res, err)
	}
	if ids, _ := s.Builds(ctx); !cmp.Equal(ids, []string{"b1", "b3", "b4"}) {
		t.Errorf("Builds after GC = %v", ids)
	}
}

func TestGCGraceSparesYoungBlobs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	put(t, s, "being published right now")
	gc, err := store.GC(ctx, s, store.GCOptions{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if gc.Blobs != 0 {
		t.Fatalf("GC removed %d young blobs", gc.Blobs)
	}
}

func TestLock(t *testing.T) {
	s := open(t)
	unlock, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx); err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
	unlock()
	unlock2, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestCopyBlobToFile(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	b := put(t, s, "file content")
	p := filepath.Join(t.TempDir(), "out.txt")
	if err := store.CopyBlobToFile(ctx, s, b.Digest, p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, []byte("file content")) {
		t.Fatalf("copied %q", got)
	}
}

func TestServed(t *testing.T) {
	src := func(name string, envs store.Environments, err error) store.ServingSource {
		return store.ServingFunc{Name: name, Func: func(context.Context) (store.Environments, error) { return envs, err }}
	}
	tree := src("published tree", store.Environments{"dev": {"b2"}, "uat": {"b1", "b1x"}}, nil)
	tests := []struct {
		name    string
		sources []store.ServingSource
		want    store.Environments
		err     string
	}{
		{"no sources", nil, store.Environments{}, ""},
		{"agree", []store.ServingSource{tree, src("aptly database", store.Environments{"dev": {"b2"}, "uat": {"b1x"}}, nil)},
			store.Environments{"dev": {"b2"}, "uat": {"b1x"}}, ""},
		{"one alone", []store.ServingSource{tree}, store.Environments{"dev": {"b2"}, "uat": {"b1", "b1x"}}, ""},
		{"database lost", []store.ServingSource{tree, src("aptly database", store.Environments{}, nil)}, nil,
			"dev: the published tree says build b2, the aptly database does not publish it; uat: the published tree says one of the builds b1, b1x (same packages), the aptly database does not publish it"},
		{"other build", []store.ServingSource{tree, src("ledger", store.Environments{"dev": {"b3"}, "uat": {"b1"}}, nil)}, nil,
			"dev: the published tree says build b2, the ledger says build b3"},
		{"unknown packages", []store.ServingSource{src("published tree", store.Environments{"dev": {}}, nil)}, nil,
			"dev: the published tree says packages that no build in the store has"},
		{"unreadable", []store.ServingSource{tree, src("aptly database", nil, errors.New("aptly: boom"))}, nil,
			"read what the environments serve from the aptly database: aptly: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.Served(context.Background(), tc.sources)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Served = %v, %v; want error %q", got, err, tc.err)
				}
				if strings.HasPrefix(tc.name, "unreadable") == errors.Is(err, store.ErrSourcesDisagree) {
					t.Fatalf("Served error %v: ErrSourcesDisagree only for disagreements", err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tc.want) {
				t.Fatalf("Served = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestGCRefusesBeforeRemovingAnything: when the records of what is served
// disagree, GC removes nothing at all.
func TestGCRefusesBeforeRemovingAnything(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	m := manifest(t, s, "b1", 1, map[string]string{"docs/index.html": "b1"})
	if err := s.PutManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	orphan := put(t, s, "orphan")
	lost := store.ServingFunc{Name: "aptly database", Func: func(context.Context) (store.Environments, error) { return store.Environments{}, nil }}
	tree := store.ServingFunc{Name: "published tree", Func: func(context.Context) (store.Environments, error) { return store.Environments{"dev": {"b1"}}, nil }}
	if _, err := store.GC(ctx, s, store.GCOptions{Sources: []store.ServingSource{tree, lost}}); !errors.Is(err, store.ErrSourcesDisagree) {
		t.Fatalf("GC = %v, want ErrSourcesDisagree", err)
	}
	if _, err := s.Manifest(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatBlob(ctx, orphan.Digest); err != nil {
		t.Fatalf("the orphan blob was removed: %v", err)
	}
	res, err := store.GC(ctx, s, store.GCOptions{Sources: []store.ServingSource{tree}})
	if err != nil || len(res.Removed) != 0 || res.Blobs != 1 || res.Kept[0].Reason != "environment dev" {
		t.Fatalf("GC with the tree alone = %+v, %v", res, err)
	}
}

// TestGCAndVerifyStrayFiles is issue 17's item 11: GC counted files that
// are not digests as removed but left them, removed leftovers younger than
// the grace period, and verify said "blob X: blob X:" and "not found" for
// a misplaced blob.
func TestGCAndVerifyStrayFiles(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	corruptBlob := put(t, s, "will rot")
	corrupt(t, s, corruptBlob.Digest)
	misplaced := store.DigestOf([]byte("misplaced"))
	stray := filepath.Join(s.Root(), "blobs", "sha256", "ab", "notadigest")
	os.MkdirAll(filepath.Dir(stray), 0o755)
	os.WriteFile(stray, []byte("x"), 0o444)
	wrong := filepath.Join(s.Root(), "blobs", "sha256", "00", misplaced.Hex())
	os.MkdirAll(filepath.Dir(wrong), 0o755)
	os.WriteFile(wrong, []byte("misplaced"), 0o444)
	young := filepath.Join(s.Root(), "tmp", "blob-young")
	os.WriteFile(young, []byte("being written"), 0o644)
	old := filepath.Join(s.Root(), "tmp", "blob-old")
	os.WriteFile(old, []byte("killed"), 0o644)
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, past, past)

	res, err := store.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Problems {
		got = append(got, p.Object+": "+p.Error)
	}
	want := []string{
		"blob " + string(corruptBlob.Digest) + ": content does not match its digest (its bytes hash to sha256:",
		"blob " + string(misplaced) + ": misplaced: it is blobs/sha256/00/" + misplaced.Hex() + ", not where its digest puts it, so the store cannot find it",
		"file blobs/sha256/ab/notadigest: a file among the blobs whose name is not a digest",
	}
	if len(got) != len(want) {
		t.Fatalf("Verify problems:\n%s", strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("Verify problems lack %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
	gc, err := store.GC(ctx, s, store.GCOptions{Grace: time.Hour, Now: time.Now().Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// The corrupt blob is 30 minutes old: spared. The stray and misplaced
	// files are left alone and said so; only the old leftover goes.
	if gc.Blobs != 0 || !cmp.Equal(gc.Leftovers, []string{"tmp/blob-old"}) ||
		!cmp.Equal(gc.Skipped, []string{"blobs/sha256/00/" + misplaced.Hex(), "blobs/sha256/ab/notadigest"}) {
		t.Fatalf("GC = %+v", gc)
	}
	for _, p := range []string{stray, wrong, young} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("GC removed %s", p)
		}
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("GC left the old leftover: %v", err)
	}
}

func TestOpenExistingFS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	if _, err := store.OpenExistingFS(dir); !errors.Is(err, store.ErrNoStore) {
		t.Fatalf("OpenExistingFS(missing) = %v, want ErrNoStore", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("OpenExistingFS created %s", dir)
	}
	s := open(t)
	if _, err := store.OpenExistingFS(s.Root()); err != nil {
		t.Fatal(err)
	}
}
