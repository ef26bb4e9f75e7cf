package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

func stride(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"-C", dir}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func writeRun(t *testing.T, ws, head string, status report.Status) string {
	t.Helper()
	dir := filepath.Join(ws, "out", "runs", head)
	os.MkdirAll(dir, 0o755)
	r := report.New(ws, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	r.Head = report.Rev{SHA: head}
	r.Branch = "main"
	r.Tally()
	r.Status, r.ExitCode = status, status.ExitCode()
	if err := r.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPublishAndStoreCommands(t *testing.T) {
	ws := t.TempDir()
	storeDir := filepath.Join(t.TempDir(), "store")
	os.MkdirAll(filepath.Join(ws, "docs"), 0o755)
	os.WriteFile(filepath.Join(ws, "docs", "a.md"), []byte("# A\n"), 0o644)
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: "x"})
	head := strings.Repeat("ab", 20)
	run := writeRun(t, ws, head, report.StatusGreen)

	code, out, errOut := stride(t, ws, "publish", "--run", run, "--deb", deb, "--store", storeDir, "--no-apt", "--number", "3")
	if code != 0 || !strings.Contains(out, "hello            0.3.0+gabababa\n") {
		t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = stride(t, ws, "publish", "--run", run, "--deb", deb, "--store", storeDir, "--no-apt", "--number", "3")
	if code != 0 || !strings.Contains(out, "already published") {
		t.Fatalf("publish again: %d\n%s", code, out)
	}
	failed := writeRun(t, ws, strings.Repeat("cd", 20), report.StatusFailed)
	if code, _, errOut := stride(t, ws, "publish", "--run", failed, "--deb", deb, "--store", storeDir, "--no-apt", "--number", "4"); code != ExitUsage || !strings.Contains(errOut, "not green") {
		t.Fatalf("publish of a failed run: %d %s", code, errOut)
	}

	code, out, _ = stride(t, ws, "store", "ls", "--store", storeDir, "--json")
	var list []StoreBuildSummary
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 || list[0].Build != head {
		t.Fatalf("store ls --json: %d %v\n%s", code, err, out)
	}
	code, out, _ = stride(t, ws, "store", "show", "--store", storeDir, "abab")
	if code != 0 || !strings.Contains(out, "debs/hello_0.3.0+gabababa_amd64.deb") || !strings.Contains(out, "docs/a.html") {
		t.Fatalf("store show: %d\n%s", code, out)
	}
	if code, out, _ = stride(t, ws, "store", "verify", "--store", storeDir); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("store verify: %d\n%s", code, out)
	}
	// gc is a dry run without --confirm; the build is not pinned nor served.
	code, out, _ = stride(t, ws, "store", "gc", "--store", storeDir)
	if code != 0 || !strings.Contains(out, "would remove "+head[:12]) {
		t.Fatalf("store gc: %d\n%s", code, out)
	}
	if code, _, _ = stride(t, ws, "store", "pin", "--store", storeDir, "--reason", "release", "abab"); code != 0 {
		t.Fatal("pin failed")
	}
	code, out, _ = stride(t, ws, "store", "gc", "--store", storeDir, "--confirm")
	if code != 0 || !strings.Contains(out, "keep    "+head[:12]+"  (pinned: release)") {
		t.Fatalf("store gc after pin: %d\n%s", code, out)
	}
	// Damage a blob: verify reports it and exits 1.
	blobs, _ := filepath.Glob(filepath.Join(storeDir, "blobs", "sha256", "*", "*"))
	os.Chmod(blobs[0], 0o644)
	os.WriteFile(blobs[0], []byte("damaged"), 0o644)
	if code, out, _ = stride(t, ws, "store", "verify", "--store", storeDir); code != ExitFindings || !strings.Contains(out, "does not match its digest") {
		t.Fatalf("store verify of a damaged store: %d\n%s", code, out)
	}
	if code, _, _ = stride(t, ws, "store", "show", "--store", storeDir, "ffff"); code != ExitUsage {
		t.Fatalf("store show of an unknown build: %d", code)
	}
}
