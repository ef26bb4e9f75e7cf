package soundness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCheckoutSubmodules: checkout materializes the submodule at each
// revision's gitlink and path (the oracle builds what the commit names),
// and removes a submodule checkout left at a path the revision lacks.
func TestCheckoutSubmodules(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root := t.TempDir()
	sub, super := filepath.Join(root, "sub"), filepath.Join(root, "super")
	for _, d := range []string{sub, super} {
		os.MkdirAll(d, 0o755)
		gitIn(t, d, "init", "-q")
	}
	os.WriteFile(filepath.Join(sub, "f.txt"), []byte("one\n"), 0o644)
	gitIn(t, sub, "add", "-A")
	gitIn(t, sub, "commit", "-qm", "one")
	os.WriteFile(filepath.Join(sub, "f.txt"), []byte("two\n"), 0o644)
	gitIn(t, sub, "commit", "-qam", "two")

	gitIn(t, super, "submodule", "add", "-q", sub, "a")
	gitIn(t, super, "commit", "-qm", "add at a (two)")
	r1 := gitIn(t, super, "rev-parse", "HEAD")
	gitIn(t, filepath.Join(super, "a"), "checkout", "-q", "HEAD~1")
	gitIn(t, super, "commit", "-qam", "gitlink back (one)")
	r2 := gitIn(t, super, "rev-parse", "HEAD")
	gitIn(t, super, "mv", "a", "b")
	gitIn(t, super, "commit", "-qm", "move to b")
	r3 := gitIn(t, super, "rev-parse", "HEAD")
	// The module clone is what submodule update reads; drop the work tree's.
	os.RemoveAll(filepath.Join(super, "b"))

	for _, c := range []struct {
		rev, path, want, gone string
	}{
		{r1, "a", "two\n", "b"},
		{r3, "b", "one\n", "a"},
		{r2, "a", "one\n", "b"},
		{r1, "a", "two\n", "b"},
	} {
		if err := checkout(super, c.rev); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(super, c.path, "f.txt"))
		if err != nil || string(b) != c.want {
			t.Errorf("at %s: %s/f.txt = %q, %v; want %q", c.rev[:7], c.path, b, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(super, c.gone)); err == nil {
			t.Errorf("at %s: %s still exists", c.rev[:7], c.gone)
		}
	}
}
