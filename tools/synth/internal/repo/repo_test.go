package repo

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "WORKSPACE"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "go.mod"), nil, 0o644)
	sub := filepath.Join(root, "a", "b")
	os.MkdirAll(sub, 0o755)
	got, err := FindRoot(sub)
	if err != nil || got != root {
		t.Errorf("FindRoot = %q, %v; want %q", got, err, root)
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Error("FindRoot outside a monorepo: no error")
	}
}

func TestApplyWritesAndRemoves(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := filepath.Join(t.TempDir(), "ws")
	r, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(map[string][]byte{"a/b/c.txt": []byte("1"), "d.txt": []byte("2")}); err != nil {
		t.Fatal(err)
	}
	c1, err := r.Commit("one")
	if err != nil {
		t.Fatal(err)
	}
	touched, err := r.Apply(map[string][]byte{"d.txt": []byte("3")})
	if err != nil {
		t.Fatal(err)
	}
	if len(touched) != 2 {
		t.Errorf("touched %v, want a/b/c.txt and d.txt", touched)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Error("empty directory a/ left behind")
	}
	c2, err := r.Commit("two")
	if err != nil || c2 == c1 {
		t.Fatalf("second commit %s (%v)", c2, err)
	}
}
