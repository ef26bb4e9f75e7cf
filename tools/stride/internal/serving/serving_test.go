package serving_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/serving"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// build stores a build with one package per name=content.
func build(t *testing.T, s store.Store, id string, number int, pkgs map[string]string) *store.Manifest {
	t.Helper()
	m := &store.Manifest{Schema: store.Schema, Build: id, Commit: id, Number: number, Time: time.Date(2024, 1, 1, 0, 0, number, 0, time.UTC)}
	for name, content := range pkgs {
		b, err := s.PutBlob(context.Background(), strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		art := "debs/" + name + "_1_amd64.deb"
		m.Artifacts = append(m.Artifacts, store.Artifact{Name: art, Kind: store.KindDeb, Digest: b.Digest, Size: b.Size})
		m.Packages = append(m.Packages, store.Package{Name: name, Version: "1", Architecture: "amd64", Artifact: art})
	}
	if err := s.PutManifest(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// publishDist writes dists/DIST/Release and its Packages index for m, as
// aptly lays them out.
func publishDist(t *testing.T, public, dist string, m *store.Manifest) {
	t.Helper()
	var idx strings.Builder
	for _, e := range serving.ManifestEntries(m) {
		fmt.Fprintf(&idx, "Package: %s\nVersion: %s\nArchitecture: %s\nFilename: pool/main/x/%s.deb\nSHA256: %s\nDescription: test\n multi-line: yes\n\n", e.Package, e.Version, e.Architecture, e.Package, e.SHA256)
	}
	dir := filepath.Join(public, "dists", dist)
	os.MkdirAll(filepath.Join(dir, "main", "binary-amd64"), 0o755)
	os.WriteFile(filepath.Join(dir, "main", "binary-amd64", "Packages"), []byte(idx.String()), 0o644)
	sum := sha256.Sum256([]byte(idx.String()))
	rel := fmt.Sprintf("Origin: stride\nSuite: %s\nMD5Sum:\n 00 %d main/binary-amd64/Packages\nSHA256:\n %s %d main/binary-amd64/Packages\n 11 3 main/binary-amd64/Packages.gz\n",
		dist, idx.Len(), hex.EncodeToString(sum[:]), idx.Len())
	os.WriteFile(filepath.Join(dir, "Release"), []byte(rel), 0o644)
}

func TestTree(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenFS(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	b1 := build(t, s, "b1", 1, map[string]string{"hello": "h1", "world": "w"})
	build(t, s, "b1docs", 2, map[string]string{"hello": "h1", "world": "w"}) // same packages as b1
	b3 := build(t, s, "b3", 3, map[string]string{"hello": "h3", "world": "w"})
	public := filepath.Join(t.TempDir(), "public")
	tree := &serving.Tree{Dir: public, Store: s}

	if got, err := tree.Environments(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no tree: %v, %v", got, err)
	}
	publishDist(t, public, "dev", b3)
	publishDist(t, public, "uat", b1)
	os.MkdirAll(filepath.Join(public, "dists", "half"), 0o755) // a first publish killed early
	got, err := tree.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Environments{"dev": {"b3"}, "uat": {"b1", "b1docs"}}); !cmp.Equal(got, want) {
		t.Fatalf("Environments = %v, want %v", got, want)
	}
	newest, err := serving.Newest(ctx, s, got)
	if err != nil || !cmp.Equal(newest, map[string]string{"dev": "b3", "uat": "b1docs"}) {
		t.Fatalf("Newest = %v, %v", newest, err)
	}

	// A damaged index is an error, not "nothing served".
	p := filepath.Join(public, "dists", "dev", "main", "binary-amd64", "Packages")
	os.WriteFile(p, []byte("Package: hello\n"), 0o644)
	if _, err := tree.Environments(ctx); err == nil || !strings.Contains(err.Error(), "does not match its size and SHA256") {
		t.Fatalf("damaged index: %v", err)
	}
	// Packages no build has: the environment serves an unknown build.
	publishDist(t, public, "dev", &store.Manifest{Packages: []store.Package{{Name: "gone", Version: "9", Architecture: "amd64", Artifact: "debs/gone.deb"}},
		Artifacts: []store.Artifact{{Name: "debs/gone.deb", Digest: store.DigestOf([]byte("gone"))}}})
	if got, err := tree.Environments(ctx); err != nil || len(got["dev"]) != 0 {
		t.Fatalf("unknown packages: %v, %v", got, err)
	}
	if _, err := serving.Newest(ctx, s, store.Environments{"dev": {}}); err == nil {
		t.Fatal("Newest of an unknown build succeeded")
	}
}

type fixedSource store.Environments

func (f fixedSource) SourceName() string { return "fixed" }
func (f fixedSource) Environments(context.Context) (store.Environments, error) {
	return store.Environments(f), nil
}

func TestOverride(t *testing.T) {
	base := fixedSource{"dev": {"b3"}, "uat": {"b1", "b2"}}
	for _, tc := range []struct {
		name   string
		builds map[string]string
		want   store.Environments
	}{
		{"nothing recorded", nil, store.Environments{"dev": {"b3"}, "uat": {"b1", "b2"}}},
		{"ledger names uat", map[string]string{"uat": "b1"}, store.Environments{"dev": {"b3"}, "uat": {"b1"}}},
		{"ledger names an environment the tree lacks", map[string]string{"prod": "b0", "dev": ""}, store.Environments{"dev": {"b3"}, "uat": {"b1", "b2"}, "prod": {"b0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &serving.Override{Base: base, Name: "ledger", Builds: tc.builds}
			got, err := o.Environments(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := (&serving.Override{Base: base, Name: "ledger"}).SourceName(); got != "ledger over the fixed" {
		t.Errorf("SourceName = %q", got)
	}
}
