package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, content := range []string{"one", "two"} {
		if err := Write(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d files in the directory, want 1 (no temporary files)", len(entries))
	}
	if err := Write(filepath.Join(dir, "missing", "f"), []byte("x")); err == nil {
		t.Error("Write into a missing directory: no error")
	}
	if got, _ := os.ReadFile(p); string(got) != "two" {
		t.Errorf("a failed write elsewhere changed %s: %q", p, got)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

// TestWriteFrom checks the mode it sets and that a reader failing midway
// leaves the old content and no temporary file.
func TestWriteFrom(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pin")
	if err := WriteFrom(p, strings.NewReader("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s: %v, %v; want mode 0600", p, st, err)
	}
	err := WriteFrom(p, io.MultiReader(strings.NewReader("partial"), failingReader{}), 0o644)
	if err == nil || !strings.Contains(err.Error(), "disk gone") || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want one naming %s and the reader's error", err, p)
	}
	if got, _ := os.ReadFile(p); string(got) != "old\n" {
		t.Errorf("a failed write changed %s to %q", p, got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %d files, want 1", len(entries))
	}
}
