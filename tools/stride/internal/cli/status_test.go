package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/promote/promotetest"
)

// TestStatusCommand runs `stride status` on the promotion scenario in
// its three formats, and checks its bad-input exits.
func TestStatusCommand(t *testing.T) {
	f := promotetest.New(t, promotetest.Config, nil)
	ids := f.Scenario()
	cfg := filepath.Join(f.Git.Dir, "ci", "environments.star")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	if err := os.WriteFile(cfg, []byte(promotetest.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"-C", f.Git.Dir, "status", "--store", f.Store.Root()}

	code, out, errs := runMain(t, append(common, "--base", ids[1]+"^", "--head", ids[1])...)
	if code != 0 || !strings.Contains(out, "## stride status:") || !strings.Contains(out, "@team-payments") {
		t.Errorf("md: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runMain(t, append(common, "--build", ids[1][:8], "--format", "json")...)
	var s struct {
		Schema string
		Head   string
		Builds []struct{ Build string }
	}
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil || s.Schema != "stride.status/v1" || s.Head != ids[1] || len(s.Builds) != 2 {
		t.Errorf("json: exit %d %v %+v\n%s", code, err, s, errs)
	}
	code, out, _ = runMain(t, append(common, "--build", ids[0], "--format", "checks-json")...)
	var cr struct {
		Name       string
		HeadSHA    string `json:"head_sha"`
		Status     string
		Conclusion string
	}
	if err := json.Unmarshal([]byte(out), &cr); code != 0 || err != nil || cr.Status != "completed" || cr.Conclusion != "success" {
		t.Errorf("checks-json: exit %d %v %+v\n%s", code, err, cr, out)
	}
	for _, bad := range [][]string{
		{"--format", "html"},
		{"--head", "no-such-rev"},
		{"--build", "ffffffff"},
		{"--build", ids[0], "--head", ids[0]},
	} {
		if code, _, errs := runMain(t, append(common, bad...)...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, want 2 with one line: %q", bad, code, errs)
		}
	}
}
