package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// publishedStore publishes one build without aptly into a new store and
// returns the workspace, the store and the build id.
func publishedStore(t *testing.T) (ws, storeDir, head string) {
	t.Helper()
	ws = t.TempDir()
	storeDir = filepath.Join(t.TempDir(), "store")
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: "x"})
	head = strings.Repeat("ab", 20)
	run := writeRun(t, ws, head, report.StatusGreen)
	if code, out, errOut := stride(t, ws, "publish", "--run", run, "--deb", deb, "--store", storeDir, "--no-apt", "--number", "3", "--docs", "-"); code != 0 {
		t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
	}
	return ws, storeDir, head
}

// TestStoreGCKeepsServedBuildsWithoutAptlyDB is issue 17's first defect
// end to end: `stride store gc --confirm` after aptly's database was lost
// deleted every build, the served ones too. Now it refuses (exit 1) and
// removes nothing; `stride store rebuild-apt` rebuilds the database, and
// gc then keeps what dev serves.
func TestStoreGCKeepsServedBuildsWithoutAptlyDB(t *testing.T) {
	ws := t.TempDir()
	storeDir, gnupg, heads := publishTwo(t, ws)
	if err := os.RemoveAll(filepath.Join(storeDir, "aptly", "db")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := stride(t, ws, "store", "gc", "--store", storeDir, "--gnupg", gnupg, "--confirm", "--grace", "0s")
	if code != ExitFindings || !strings.Contains(errOut, "dev: the published tree says build "+heads[1][:12]+", the aptly database does not publish it") {
		t.Fatalf("gc --confirm without aptly's database: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, h := range heads {
		if _, err := os.Stat(filepath.Join(storeDir, "builds", h+".json")); err != nil {
			t.Fatalf("gc removed build %s: %v", h, err)
		}
	}
	if code, out, errOut = stride(t, ws, "store", "rebuild-apt", "--store", storeDir, "--gnupg", gnupg); code != 0 || !strings.Contains(out, "dev serves "+heads[1][:12]) {
		t.Fatalf("rebuild-apt: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = stride(t, ws, "store", "gc", "--store", storeDir, "--gnupg", gnupg, "--confirm", "--grace", "0s")
	if code != 0 || !strings.Contains(out, "keep    "+heads[1][:12]+"  (environment dev)") || !strings.Contains(out, "removed "+heads[0][:12]) {
		t.Fatalf("gc after rebuild-apt: %d\n%s\n%s", code, out, errOut)
	}
}

// publishTwo publishes two builds of one package to dev in a new store
// and returns the store, its keyring and the builds' heads, oldest first.
func publishTwo(t *testing.T, ws string) (storeDir, gnupg string, heads []string) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: aptly and gpg run in go test ./... (ci/test)")
	}
	if err := apt.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	storeDir = filepath.Join(t.TempDir(), "store")
	gnupg, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (&apt.Keyring{Home: gnupg}).KillAgent(); os.RemoveAll(gnupg) })
	for i, payload := range []string{"one", "two"} {
		deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: payload})
		head := strings.Repeat(string(rune('a'+i)), 40)
		run := writeRun(t, ws, head, report.StatusGreen)
		if code, out, errOut := stride(t, ws, "publish", "--run", run, "--deb", deb, "--store", storeDir, "--gnupg", gnupg, "--number", string(rune('3'+i)), "--docs", "-"); code != 0 {
			t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
		}
		heads = append(heads, head)
	}
	return storeDir, gnupg, heads
}

// TestRebuildAptFollowsTheLedger: where the ledger names an environment,
// rebuild-apt republishes the build the ledger says it serves, not the
// one the published tree shows (a rollback recorded before its switch).
func TestRebuildAptFollowsTheLedger(t *testing.T) {
	repo := gittest.New(t)
	storeDir, gnupg, heads := publishTwo(t, repo.Dir)
	r, err := gitrepo.Open(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ev := ledger.Event{ID: ledger.NewID(), Kind: ledger.KindEvaluation, Env: "dev", Build: heads[0], Verdict: ledger.VerdictPass, Actor: "test"}
	if _, err := ledger.Open(r).Append(context.Background(), ev,
		ledger.Event{Kind: ledger.KindRollback, Env: "dev", Build: heads[0], From: heads[1], Evaluation: ev.ID, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(storeDir, "aptly", "db")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := stride(t, repo.Dir, "store", "rebuild-apt", "--store", storeDir, "--gnupg", gnupg)
	if code != 0 || !strings.Contains(out, "dev serves "+heads[0][:12]) {
		t.Fatalf("rebuild-apt: %d\n%s\n%s", code, out, errOut)
	}
}

// TestStorePinTakesTheLock is issue 17's third defect: pin took no lock,
// so a running gc could remove a build just reported pinned. Pin now waits
// for the lock gc holds.
func TestStorePinTakesTheLock(t *testing.T) {
	ws, storeDir, head := publishedStore(t)
	s, err := store.OpenFS(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		code, _, _ := stride(t, ws, "store", "pin", "--store", storeDir, head[:8])
		done <- code
	}()
	select {
	case code := <-done:
		unlock()
		t.Fatalf("pin finished (exit %d) while the store's lock was held", code)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := os.Stat(filepath.Join(storeDir, "pins", head)); !os.IsNotExist(err) {
		t.Fatalf("pin written while the lock was held: %v", err)
	}
	unlock()
	if code := <-done; code != 0 {
		t.Fatalf("pin after unlock: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(storeDir, "pins", head)); err != nil {
		t.Fatal(err)
	}
}

// TestStoreExitCodes checks issue 17's exit codes for bad input (2) of the
// store commands and publish.
func TestStoreExitCodes(t *testing.T) {
	ws, storeDir, head := publishedStore(t)
	typo := filepath.Join(t.TempDir(), "typo")
	for _, sub := range []string{"ls", "verify", "gc"} {
		code, out, errOut := stride(t, ws, "store", sub, "--store", typo)
		if code != ExitUsage || !strings.Contains(errOut, "no build store there") {
			t.Errorf("store %s --store typo: exit %d\n%s%s", sub, code, out, errOut)
		}
	}
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Errorf("a command created the mistyped store: %v", err)
	}
	// Flags after BUILD count.
	if code, out, errOut := stride(t, ws, "store", "show", head[:6], "--store", storeDir, "--json"); code != 0 || !strings.Contains(out, `"schema": "stride.manifest/v1"`) {
		t.Errorf("show BUILD --store DIR --json: exit %d\n%s%s", code, out, errOut)
	}

	// A malformed manifest: ls lists the rest and exits 2, show exits 2.
	bad := strings.Repeat("cd", 20)
	if err := os.WriteFile(filepath.Join(storeDir, "builds", bad+".json"), []byte("{not json"), 0o444); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := stride(t, ws, "store", "ls", "--store", storeDir)
	if code != ExitUsage || !strings.Contains(out, head[:12]) || !strings.Contains(errOut, bad+".json") {
		t.Errorf("ls with a malformed manifest: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := stride(t, ws, "store", "show", "--store", storeDir, bad); code != ExitUsage || !strings.Contains(errOut, bad+".json") {
		t.Errorf("show of a malformed manifest: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := stride(t, ws, "store", "gc", "--store", storeDir); code != ExitUsage {
		t.Errorf("gc with a malformed manifest: exit %d\n%s", code, errOut)
	}

	// publish: bad input is refused with 2, before anything is written.
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: "y"})
	fresh := filepath.Join(t.TempDir(), "fresh")
	run := writeRun(t, ws, strings.Repeat("ef", 20), report.StatusGreen)
	notDeb := filepath.Join(t.TempDir(), "x.deb")
	os.WriteFile(notDeb, []byte("not a package"), 0o644)
	gnupg, err := os.MkdirTemp("", "g") // never used: bad input stops publish first
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (&apt.Keyring{Home: gnupg}).KillAgent(); os.RemoveAll(gnupg) })
	malformed := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(malformed, 0o755)
	os.WriteFile(filepath.Join(malformed, report.JSONFile), []byte(`{"schema": 3`), 0o644)
	for name, args := range map[string][]string{
		"--dist ../../x":        {"--run", run, "--deb", deb, "--dist", "../../x"},
		"missing --deb":         {"--run", run, "--deb", filepath.Join(ws, "nope.deb"), "--no-apt"},
		"--deb not a .deb":      {"--run", run, "--deb", notDeb, "--no-apt"},
		"malformed report.json": {"--run", malformed, "--deb", deb, "--no-apt"},
	} {
		args = append([]string{"publish", "--store", fresh, "--gnupg", gnupg, "--number", "5", "--docs", "-"}, args...)
		code, out, errOut := stride(t, ws, args...)
		if code != ExitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("publish with %s: exit %d, want 2 and one line\n%s%s", name, code, out, errOut)
		}
		if ids, _ := os.ReadDir(filepath.Join(fresh, "builds")); len(ids) != 0 {
			t.Errorf("publish with %s wrote %v", name, ids)
		}
	}
}
