package proctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// VerifyUnit checks a systemd unit file: it must contain every line of
// wantLines, and, when systemd-analyze is installed, `systemd-analyze verify`
// must accept a copy whose installedBin (e.g. /usr/bin/artifactd) is replaced
// by bin, the binary under test (verify insists that ExecStart exists).
// Without systemd-analyze only the lines are checked, and the test logs so.
func VerifyUnit(t testing.TB, unitPath, installedBin, bin string, wantLines []string) {
	t.Helper()
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, w := range wantLines {
		if !lines[w] {
			t.Errorf("%s lacks the line %q", unitPath, w)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not found; %s checked for its lines only", unitPath)
		return
	}
	copyPath := filepath.Join(t.TempDir(), filepath.Base(unitPath))
	if err := os.WriteFile(copyPath, bytes.ReplaceAll(data, []byte(installedBin), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
}
