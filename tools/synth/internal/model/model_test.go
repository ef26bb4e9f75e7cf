package model

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewTargetCount(t *testing.T) {
	for _, n := range []int{10, 50, 1000, 5000} {
		m, err := New(Options{Seed: 1, Targets: n})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Targets(); got != n {
			t.Errorf("New(%d targets): model has %d targets", n, got)
		}
	}
	if _, err := New(Options{Seed: 1, Targets: 3}); err == nil {
		t.Error("New(3 targets): no error")
	}
}

func TestDepsPointDown(t *testing.T) {
	m, err := New(Options{Seed: 7, Targets: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ix := m.Index()
	maxFanIn := 0
	fanIn := map[int]int{}
	for _, p := range m.Pkgs {
		for _, d := range p.Deps {
			q := ix[d]
			if q == nil || q.Layer >= p.Layer {
				t.Fatalf("%s (layer %d) depends on %d, not in a lower layer", p.Label(), p.Layer, d)
			}
			fanIn[d]++
			if fanIn[d] > maxFanIn {
				maxFanIn = fanIn[d]
			}
		}
	}
	// Preferential attachment makes hubs.
	if maxFanIn < 20 {
		t.Errorf("largest fan-in %d; want hubs of at least 20", maxFanIn)
	}
}

func TestRenderDeterministic(t *testing.T) {
	boot := map[string][]byte{"tools/bazel/gomod_repo.bzl": []byte("# stub\n")}
	a, _ := New(Options{Seed: 3, Targets: 200})
	b, _ := New(Options{Seed: 3, Targets: 200})
	fa, fb := a.Render(boot), b.Render(boot)
	if len(fa) != len(fb) {
		t.Fatalf("%d files vs %d", len(fa), len(fb))
	}
	for k, v := range fa {
		if !bytes.Equal(v, fb[k]) {
			t.Fatalf("%s differs between two renders of the same seed", k)
		}
	}
	for _, want := range []string{"WORKSPACE", ".bazelrc", "go.mod", "go.sum", "build/deps.bzl", "build/defs.bzl", "docs/README.md", "tools/bazel/gomod_repo.bzl"} {
		if _, ok := fa[want]; !ok {
			t.Errorf("render has no %s", want)
		}
	}
	if _, ok := fa["BUILD.bazel"]; ok {
		t.Error("the workspace root must not be a package (docs/ is outside every package)")
	}
	ws := string(fa["WORKSPACE"])
	for _, want := range []string{"v0.34.0", "v0.25.0", "go1.19.13", "go_register_toolchains()", "go_repository_default_config"} {
		if !strings.Contains(ws, want) {
			t.Errorf("WORKSPACE lacks %q", want)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	m, _ := New(Options{Seed: 1, Targets: 100})
	c := m.Clone()
	c.Pkgs[0].Const++
	c.Docs["docs/x"] = "y"
	if m.Pkgs[0].Const == c.Pkgs[0].Const || m.Docs["docs/x"] != "" {
		t.Error("Clone shares state with the original")
	}
}
