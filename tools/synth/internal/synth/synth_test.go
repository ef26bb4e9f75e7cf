package synth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/synth/internal/corpus"
)

func TestMainUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(nil, &out, &errb); code != 2 {
		t.Errorf("no -out: exit %d, want 2", code)
	}
	if code := Main([]string{"-bogus"}, &out, &errb); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

// fakeRoot is a fake monorepo root with the bootstrap files.
func fakeRoot(t *testing.T) string {
	root := t.TempDir()
	for _, f := range []string{"WORKSPACE", "go.mod", "tools/bazel/gomod_repo.bzl", "third_party/bazel/rules_cc/WORKSPACE"} {
		p := filepath.Join(root, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("# "+f+"\n"), 0o644)
	}
	return root
}

func TestMainGenerates(t *testing.T) {
	root := fakeRoot(t)
	out := filepath.Join(t.TempDir(), "ws")
	var stdout, stderr bytes.Buffer
	args := []string{"-out", out, "-targets", "60", "-changes", "3", "-bootstrap", root}
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"WORKSPACE", "tools/bazel/gomod_repo.bzl", "tools/bazel/BUILD.bazel", "third_party/bazel/rules_cc/WORKSPACE", ".git/synth/corpus.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "60 rule targets") || !strings.Contains(stdout.String(), "3 changes") {
		t.Errorf("stdout: %s", stdout.String())
	}
	// A second run needs -force, and -force refuses a non-synth directory.
	if code := Main(args, &stdout, &stderr); code != 3 {
		t.Errorf("second run without -force: exit %d, want 3", code)
	}
	if code := Main(append(args, "-force"), &stdout, &stderr); code != 0 {
		t.Errorf("second run with -force: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, ".git", "synth", "generating")); !os.IsNotExist(err) {
		t.Errorf("a finished workspace keeps the generating marker: %v", err)
	}
	// A workspace whose generation was killed (the marker, no manifest) is
	// replaced by -force too.
	cut := filepath.Join(t.TempDir(), "cut")
	os.MkdirAll(filepath.Join(cut, ".git", "synth"), 0o755)
	os.WriteFile(filepath.Join(cut, ".git", "synth", "generating"), nil, 0o644)
	os.WriteFile(filepath.Join(cut, "WORKSPACE"), []byte("# half made"), 0o644)
	if code := Main([]string{"-out", cut, "-targets", "60", "-bootstrap", root, "-force"}, &stdout, &stderr); code != 0 {
		t.Errorf("-force on a workspace cut off while generated: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(cut, ".git", "synth", "corpus.json")); err != nil {
		t.Errorf("regenerated workspace: %v", err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "precious"), []byte("x"), 0o644)
	if code := Main([]string{"-out", other, "-targets", "60", "-bootstrap", root, "-force"}, &stdout, &stderr); code != 3 {
		t.Errorf("-force on a foreign directory: exit %d, want 3", code)
	}
	if _, err := os.Stat(filepath.Join(other, "precious")); err != nil {
		t.Error("-force deleted a foreign directory")
	}
}

// TestBenchSampleHasSubmoduleChange: ci/bench sample (run by ci/test)
// checks the first 5 changes of `synth -targets 50 -seed 1 -changes 6`
// with Bazel; one of them must change the submodule, the one soundness
// defect stride ever had. If the seeded order moves, change the sample.
func TestBenchSampleHasSubmoduleChange(t *testing.T) {
	root := fakeRoot(t)
	out := filepath.Join(t.TempDir(), "ws")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"-out", out, "-targets", "50", "-seed", "1", "-changes", "6", "-bootstrap", root}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	mf, err := corpus.ReadManifest(filepath.Join(out, ".git", "synth", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range mf.Changes[:5] {
		kinds = append(kinds, c.Kind)
		if strings.HasPrefix(c.Kind, "submodule-") {
			return
		}
	}
	t.Errorf("ci/bench sample's changes %v include no submodule change", kinds)
}
