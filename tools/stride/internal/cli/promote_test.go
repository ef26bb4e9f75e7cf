package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPromoteLint(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ci"), 0o755)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "ci", "environments.star"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", criteria = [tests_green(), soak(minutes = 30)])\n")
	code, out, errs := runMain(t, "-C", dir, "promote", "lint")
	if code != 0 || !strings.Contains(out, "uat (after dev): tests_green() soak(minutes = 30)") || !strings.Contains(out, "ok (2 environments)") {
		t.Errorf("lint = %d\n%s%s", code, out, errs)
	}
	write("environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\", criteria = [nope()])\n")
	code, out, errs = runMain(t, "-C", dir, "promote", "lint")
	want := "stride promote: ci/environments.star:2:54: environment \"uat\": unknown criterion nope()"
	if code != ExitUsage || !strings.HasPrefix(errs, want) {
		t.Errorf("lint of a bad file = %d\n%s%s\nwant stderr starting %q", code, out, errs, want)
	}
	os.Remove(filepath.Join(dir, "ci", "environments.star"))
	if code, _, errs = runMain(t, "-C", dir, "promote", "lint"); code != ExitUsage || !strings.Contains(errs, "no such file") {
		t.Errorf("lint of a missing file = %d %s", code, errs)
	}
}

// TestPromoteLintRepository checks this repository's ci/environments.star.
func TestPromoteLintRepository(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "ci", "environments.star")); err != nil {
		t.Skip("not in the monorepo's source tree (bazel test)")
	}
	if code, out, errs := runMain(t, "-C", root, "promote", "lint"); code != 0 {
		t.Errorf("stride promote lint on the repository = %d\n%s%s", code, out, errs)
	}
}
