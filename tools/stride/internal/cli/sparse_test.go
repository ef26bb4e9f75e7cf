package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/sparse"
)

// sparseRepo is a repository with a stored package map for its HEAD (no
// Bazel needed): @alpha owns app, which needs lib; @empty owns nothing.
func sparseRepo(t *testing.T) *gittest.Repo {
	r := gittest.New(t)
	head := r.Commit("one", map[string]string{
		"WORKSPACE":         "workspace(name = \"w\")\n",
		"OWNERS_ALIASES":    "@alpha:\n  a@example.com\n\n@empty:\n  e@example.com\n",
		"app/OWNERS":        "@alpha\n",
		"app/BUILD.bazel":   "",
		"lib/BUILD.bazel":   "",
		"lib/x.txt":         "x\n",
		"other/BUILD.bazel": "",
		"other/big.txt":     strings.Repeat("o", 1000),
	})
	m := &sparse.Map{
		Schema: sparse.MapSchema, Commit: head,
		Packages: map[string][]string{"app": {"lib"}, "lib": {}, "other": {}},
		Teams:    map[string][]string{"alpha": {"app"}, "empty": {}},
		Dirs: map[string]sparse.DirStat{".": {Files: 2, Bytes: 60}, "app": {Files: 2, Bytes: 6},
			"lib": {Files: 2, Bytes: 2}, "other": {Files: 2, Bytes: 1000}},
	}
	if _, err := sparse.StoreMap(context.Background(), &sparse.Git{Dir: r.Dir}, m); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSparsePlanApplyClone(t *testing.T) {
	r := sparseRepo(t)
	code, out, errOut := ownersRun(t, "-C", r.Dir, "sparse", "plan", "--team", "@alpha", "--json", "--no-bazel")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	var p sparse.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.Schema != sparse.PlanSchema || strings.Join(p.Cone, " ") != "app lib" || p.Checkout.Files != 6 || p.Full.Files != 8 {
		t.Errorf("plan = %+v", p)
	}
	code, out, errOut = ownersRun(t, "-C", r.Dir, "sparse", "plan", "--team", "alpha", "--no-bazel")
	if code != 0 || !strings.Contains(out, "files:       6 of 8 (75.0%)") {
		t.Errorf("plan text: exit %d\n%s%s", code, out, errOut)
	}

	code, _, errOut = ownersRun(t, "-C", r.Dir, "sparse", "apply", "--team", "alpha", "--no-bazel")
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "other")); !os.IsNotExist(err) {
		t.Errorf("other/ still checked out after apply: %v", err)
	}
	if got := r.Git("sparse-checkout", "list"); got != "app\nlib" {
		t.Errorf("sparse-checkout list = %q", got)
	}
	if got := r.Git("config", sparse.TeamConfig); got != "alpha" {
		t.Errorf("recorded team = %q", got)
	}

	// clone: flags after the positional arguments, as in the issue.
	r.Git("config", "uploadpack.allowFilter", "true")
	dst := filepath.Join(t.TempDir(), "c")
	code, out, errOut = ownersRun(t, "sparse", "clone", "file://"+r.Dir, dst, "--team", "alpha", "--no-bazel")
	if code != 0 {
		t.Fatalf("clone: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dst, "lib", "x.txt")); err != nil {
		t.Errorf("lib/x.txt not checked out: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dst, "other")); !os.IsNotExist(err) {
		t.Errorf("other/ checked out in the sparse clone: %v", err)
	}
	b, err := exec.Command("git", "-C", dst, "config", "remote.origin.partialclonefilter").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "blob:none" {
		t.Errorf("not a partial clone: %q %v", b, err)
	}
	code, _, errOut = ownersRun(t, "-C", dst, "sparse", "refresh", "--no-bazel")
	if code != 0 {
		t.Errorf("refresh: exit %d: %s", code, errOut)
	}
}

func TestSparseErrors(t *testing.T) {
	r := sparseRepo(t)
	notRepo := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown team", []string{"-C", r.Dir, "sparse", "plan", "--team", "nosuch", "--no-bazel"}, 2, "unknown team @nosuch (teams: @alpha, @empty)"},
		{"no dirs", []string{"-C", r.Dir, "sparse", "plan", "--team", "empty", "--no-bazel"}, 2, "team owns no directory: no OWNERS file lists @empty"},
		{"not a repo", []string{"-C", notRepo, "sparse", "plan", "--team", "alpha", "--no-bazel"}, 2, "not a git repository: " + notRepo},
		{"apply not a repo", []string{"-C", notRepo, "sparse", "apply", "--team", "alpha"}, 2, "not a git repository: " + notRepo},
		{"refresh no team", []string{"-C", r.Dir, "sparse", "refresh", "--no-fetch", "--no-bazel"}, 2, "records no team"},
		{"missing team", []string{"-C", r.Dir, "sparse", "plan"}, 2, "needs --team NAME"},
		{"unknown subcommand", []string{"sparse", "frob"}, 2, `unknown subcommand "frob"`},
		{"clone args", []string{"sparse", "clone", "x", "--team", "a"}, 2, "needs URL and DIR"},
		{"clone unknown team", []string{"sparse", "clone", "file://" + r.Dir, filepath.Join(notRepo, "c"), "--team", "nosuch"}, 2, "unknown team @nosuch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := ownersRun(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
