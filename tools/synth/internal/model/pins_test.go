package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bazelbuild/buildtools/build"
)

// pins returns, for each go_module_repository and go_repository rule of a
// WORKSPACE, its version and sum.
func pins(t *testing.T, name string, data []byte) map[string][2]string {
	t.Helper()
	f, err := build.ParseWorkspace(name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	out := map[string][2]string{}
	for _, r := range f.Rules("") {
		if k := r.Kind(); k == "go_module_repository" || k == "go_repository" {
			out[r.Name()] = [2]string{r.AttrString("version"), r.AttrString("sum")}
		}
	}
	return out
}

// TestPinsMatchMonorepo: the generated WORKSPACE repeats the monorepo's
// offline bootstrap (it must stand alone), so every pin it shares with the
// monorepo's WORKSPACE must be the same version and sum.
func TestPinsMatchMonorepo(t *testing.T) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var mono []byte
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "WORKSPACE")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				mono = b
				break
			}
		}
		if filepath.Dir(d) == d {
			t.Skip("the monorepo's WORKSPACE is not visible (bazel test sandbox); run with go test")
		}
	}
	m, err := New(Options{Seed: 1, Targets: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := pins(t, "WORKSPACE", mono)
	got := pins(t, "synth WORKSPACE", []byte(m.workspace()))
	shared := 0
	for name, g := range got {
		w, ok := want[name]
		if !ok {
			continue
		}
		shared++
		if g != w {
			t.Errorf("%s: synth pins %s %s, the monorepo's WORKSPACE %s %s", name, g[0], g[1], w[0], w[1])
		}
	}
	if shared < 4 {
		t.Errorf("only %d pins shared with the monorepo's WORKSPACE; the comparison found nothing to check", shared)
	}
}
