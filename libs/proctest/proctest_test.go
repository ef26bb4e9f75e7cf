package proctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	rel := filepath.Join("services", "x", "cmd", "x", "x_", "x")
	abs := filepath.Join(root, "ws", rel)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SRCDIR", root)
	t.Setenv("TEST_WORKSPACE", "ws")
	t.Setenv("RUNFILES_DIR", "")
	for _, in := range []string{abs, rel} {
		got, err := resolve(in)
		if err != nil || got != abs {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, abs)
		}
	}
	if _, err := resolve("nope/bin"); err == nil || !strings.Contains(err.Error(), "binary nope/bin not found") {
		t.Errorf("resolve(missing) error = %v", err)
	}
}

func TestEnvIsMinimal(t *testing.T) {
	t.Setenv("ARTIFACTD_ROOT", "/leak")
	for _, kv := range Env("A=1") {
		if strings.HasPrefix(kv, "ARTIFACTD_") {
			t.Errorf("Env leaks %s", kv)
		}
	}
}
