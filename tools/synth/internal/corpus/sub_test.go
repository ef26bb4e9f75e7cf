package corpus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitlinks returns the gitlinks of a commit's tree (path -> commit).
func gitlinks(t *testing.T, dir, rev string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(git(t, dir, "ls-tree", "-r", rev), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "160000" {
			out[f[3]] = f[2]
		}
	}
	return out
}

// TestSubmoduleKinds checks what each submodule change kind does to the
// superproject (gitlink, .gitmodules) and that `git submodule update
// --init` checks the submodule out at every head from the repository
// the generator keeps inside .git/synth.
func TestSubmoduleKinds(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := filepath.Join(t.TempDir(), "ws")
	mf := generate(t, dir, 45)
	sub := filepath.Join(dir, ".git", "synth", "sub")
	// Bazel finds BUILD files under .git as packages: the submodule's
	// repository must keep none in its work tree.
	filepath.Walk(filepath.Join(dir, ".git"), func(p string, info os.FileInfo, err error) error {
		if err == nil && (info.Name() == "BUILD.bazel" || info.Name() == "BUILD") {
			t.Errorf("%s: a BUILD file inside .git", p)
		}
		return nil
	})
	if l := gitlinks(t, dir, mf.Initial); l["third_party/sub"] == "" || len(l) != 1 {
		t.Fatalf("initial commit's gitlinks: %v, want third_party/sub", l)
	}
	seen := map[string]int{}
	for _, c := range mf.Changes {
		before, after := gitlinks(t, dir, c.Base), gitlinks(t, dir, c.Head)
		if len(before) != 1 || len(after) != 1 {
			t.Fatalf("change %d (%s): gitlinks %v -> %v, want one each", c.ID, c.Kind, before, after)
		}
		var bPath, bCommit, aPath, aCommit string
		for p, x := range before {
			bPath, bCommit = p, x
		}
		for p, x := range after {
			aPath, aCommit = p, x
		}
		gm := git(t, dir, "diff", "--name-only", c.Base, c.Head, "--", ".gitmodules")
		if !strings.HasPrefix(c.Kind, "submodule-") {
			if c.Kind != "force-push" && (bPath != aPath || bCommit != aCommit || gm != "") {
				t.Errorf("change %d (%s) moved the gitlink or edited .gitmodules", c.ID, c.Kind)
			}
			continue
		}
		seen[c.Kind]++
		switch c.Kind {
		case "submodule-src":
			if bPath != aPath || bCommit == aCommit || gm != "" {
				t.Errorf("change %d (%s): gitlink %s@%s -> %s@%s, .gitmodules %q", c.ID, c.Kind, bPath, bCommit, aPath, aCommit, gm)
			}
			if git(t, sub, "diff", "--name-only", bCommit, aCommit) == "" {
				t.Errorf("change %d (%s): the submodule's commits have the same files", c.ID, c.Kind)
			}
		case "submodule-gitlink":
			if bPath != aPath || bCommit == aCommit || gm != "" {
				t.Errorf("change %d (%s): gitlink %s@%s -> %s@%s, .gitmodules %q", c.ID, c.Kind, bPath, bCommit, aPath, aCommit, gm)
			}
		case "submodule-path":
			if bPath == aPath || bCommit != aCommit || gm == "" {
				t.Errorf("change %d (%s): gitlink %s@%s -> %s@%s, .gitmodules %q", c.ID, c.Kind, bPath, bCommit, aPath, aCommit, gm)
			}
			if !strings.Contains(git(t, dir, "show", c.Head+":.gitmodules"), "path = "+aPath) {
				t.Errorf("change %d (%s): .gitmodules does not say path = %s", c.ID, c.Kind, aPath)
			}
		case "submodule-gitmodules":
			if bPath != aPath || bCommit != aCommit || gm == "" || strings.Join(c.Paths, " ") != ".gitmodules" {
				t.Errorf("change %d (%s): gitlink %s@%s -> %s@%s, paths %v", c.ID, c.Kind, bPath, bCommit, aPath, aCommit, c.Paths)
			}
		}
		// The superproject's users of the submodule's libraries name it
		// at its path.
		if users := git(t, dir, "grep", "-l", "//"+aPath+"/s0:s0", c.Head, "--", "lib"); users == "" {
			t.Errorf("change %d (%s): no BUILD file depends on //%s/s0:s0", c.ID, c.Kind, aPath)
		}
		// A checkout with submodules materializes the gitlinked files.
		git(t, dir, "checkout", "-q", "--force", "--detach", c.Head)
		git(t, dir, "clean", "-ffdq")
		git(t, dir, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", "--force")
		if got := git(t, filepath.Join(dir, aPath), "rev-parse", "HEAD"); got != aCommit {
			t.Errorf("change %d (%s): submodule checked out at %s, gitlink %s", c.ID, c.Kind, got, aCommit)
		}
		if _, err := os.Stat(filepath.Join(dir, aPath, "s0", "BUILD.bazel")); err != nil {
			t.Errorf("change %d (%s): %v", c.ID, c.Kind, err)
		}
		if bPath != aPath {
			if _, err := os.Stat(filepath.Join(dir, bPath)); err == nil {
				t.Errorf("change %d (%s): the old path %s is still there after checkout and clean", c.ID, c.Kind, bPath)
			}
		}
	}
	for _, k := range subKinds {
		if seen[k.name] == 0 {
			t.Errorf("kind %s not in the corpus", k.name)
		}
	}
	t.Logf("submodule changes: %v", seen)
}
