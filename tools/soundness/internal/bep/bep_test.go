package bep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	s, err := ReadFile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	wantOutputs := map[string][]string{
		"//lib/a:a":      {"/OUT/lib/a/a.a"},
		"//lib/a:a_test": {"/OUT/lib/a/a_test_/a_test", "/OUT/lib/a/data file.txt"},
	}
	if diff := cmp.Diff(wantOutputs, s.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	wantTests := map[string]*Test{
		"//lib/a:a_test": {Status: "PASSED"},
		"//lib/c:c_test": {Status: "FAILED", Executed: true},
		"//lib/d:d_test": {Status: "PASSED"},
	}
	if diff := cmp.Diff(wantTests, s.Tests); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"//lib/b:b"}, s.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
}

func TestReadBadLine(t *testing.T) {
	_, err := Read(strings.NewReader("{\"id\":{}}\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want one naming line 2", err)
	}
}

func TestDigester(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte("one"), 0o644)
	d := NewDigester()
	d1 := d.Target([]string{a})
	if d.Target([]string{a}) != d1 {
		t.Fatal("digest not stable")
	}
	os.WriteFile(a, []byte("two!"), 0o644)
	if d.Target([]string{a}) == d1 {
		t.Error("digest did not change with the content")
	}
	if d.Target([]string{filepath.Join(dir, "missing")}) == d1 {
		t.Error("a missing file digests like a present one")
	}
}
