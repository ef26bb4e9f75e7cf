package bazel

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestCachedVersionKey(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bazel")
	count := filepath.Join(dir, "count")
	script := "#!/bin/sh\necho x >> " + count + "\necho 'bazel 9.9.9'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	b := &Bazel{Binary: bin, Dir: ws}
	cacheFile := filepath.Join(dir, "cache", "versions.json")
	calls := func() int {
		data, _ := os.ReadFile(count)
		return len(data) / 2
	}
	for i := 0; i < 3; i++ {
		v, err := b.CachedVersionKey(context.Background(), cacheFile)
		if err != nil || v != "bazel 9.9.9" {
			t.Fatalf("CachedVersionKey = %q, %v", v, err)
		}
	}
	if n := calls(); n != 1 {
		t.Errorf("bazel --version ran %d times, want 1", n)
	}
	// A .bazelversion change (Bazelisk picks the version from it) asks again.
	if err := os.WriteFile(filepath.Join(ws, ".bazelversion"), []byte("7.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CachedVersionKey(context.Background(), cacheFile); err != nil {
		t.Fatal(err)
	}
	if n := calls(); n != 2 {
		t.Errorf("after .bazelversion changed, bazel --version ran %d times, want 2", n)
	}
	// A corrupt cache file is recomputed.
	if err := os.WriteFile(cacheFile, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := b.CachedVersionKey(context.Background(), cacheFile); err != nil || v != "bazel 9.9.9" {
		t.Fatalf("with a corrupt cache: %q, %v", v, err)
	}
	if n := calls(); n != 3 {
		t.Errorf("after corruption, bazel --version ran %d times, want 3", n)
	}
}
