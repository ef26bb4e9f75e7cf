package corpus

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/synth/internal/model"
	"github.com/strideci/monorepo/tools/synth/internal/repo"
)

func generate(t *testing.T, dir string, changes int) Manifest {
	t.Helper()
	boot := map[string][]byte{"tools/bazel/gomod_repo.bzl": []byte("# stub\n"), "tools/bazel/BUILD.bazel": []byte("")}
	m, err := model.New(model.Options{Seed: 5, Targets: 300})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := repo.Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteInitial(rp, boot, m, "initial"); err != nil {
		t.Fatal(err)
	}
	g, err := New(rp, boot, m, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Generate(changes); err != nil {
		t.Fatal(err)
	}
	// The work tree at head is what the model renders.
	if out, err := rp.Git("status", "--porcelain"); err != nil || out != "" {
		t.Fatalf("work tree not clean after generating: %v %s", err, out)
	}
	return g.Manifest()
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestCorpusCoversKindsAndHistoryShapes(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := filepath.Join(t.TempDir(), "ws")
	mf := generate(t, dir, 45)
	if len(mf.Changes) != 45 {
		t.Fatalf("%d changes, want 45", len(mf.Changes))
	}
	seen := map[string]bool{}
	prevHead := mf.Initial
	for _, c := range mf.Changes {
		seen[c.Kind] = true
		if c.Base != prevHead {
			t.Errorf("change %d: base %s is not the previous head %s", c.ID, c.Base, prevHead)
		}
		prevHead = c.Head
		parents := strings.Fields(git(t, dir, "rev-list", "--parents", "-n1", c.Head))[1:]
		switch c.Kind {
		case "merge":
			if len(parents) != 2 {
				t.Errorf("change %d (merge): %d parents", c.ID, len(parents))
			}
		case "force-push":
			if err := exec.Command("git", "-C", dir, "merge-base", "--is-ancestor", c.Base, c.Head).Run(); err == nil {
				t.Errorf("change %d (force-push): base is an ancestor of head", c.ID)
			}
		default:
			if len(parents) != 1 || parents[0] != c.Base {
				t.Errorf("change %d (%s): parents %v, want [%s]", c.ID, c.Kind, parents, c.Base)
			}
		}
		if len(c.Paths) == 0 {
			t.Errorf("change %d (%s) touches no file", c.ID, c.Kind)
		}
	}
	for _, k := range Kinds() {
		if !seen[k] {
			t.Errorf("kind %s not in the corpus", k)
		}
	}
}

func TestCorpusReproducible(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	a := generate(t, filepath.Join(t.TempDir(), "a"), 12)
	b := generate(t, filepath.Join(t.TempDir(), "b"), 12)
	for i := range a.Changes {
		if a.Changes[i].Head != b.Changes[i].Head {
			t.Fatalf("change %d: heads %s and %s differ for the same seed", i+1, a.Changes[i].Head, b.Changes[i].Head)
		}
	}
}
