package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
)

func TestLedgerLogVerify(t *testing.T) {
	repo := gittest.New(t)
	if code, _, errs := runMain(t, "-C", repo.Dir, "ledger", "log"); code != 0 || !strings.Contains(errs, "the ledger is empty") {
		t.Errorf("log of an empty ledger: %d %s", code, errs)
	}
	r, err := gitrepo.Open(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := strings.Repeat("ab", 20)
	ev := ledger.Event{ID: "e1", Kind: ledger.KindEvaluation, Env: "dev", Build: b, Verdict: ledger.VerdictPass, Actor: "robot",
		Criteria: []ledger.CriterionResult{{Criterion: "tests_green()", Kind: "tests_green", Status: ledger.StatusPass}}}
	if _, err := ledger.Open(r).Append(context.Background(), ev,
		ledger.Event{ID: "p1", Kind: ledger.KindPromotion, Env: "dev", Build: b, Evaluation: "e1", Actor: "robot"},
		ledger.Event{ID: "h1", Kind: ledger.KindHold, Env: "prod", Actor: "alice", Reason: "freeze"}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runMain(t, "-C", repo.Dir, "ledger", "log", "--env", "dev")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "promotion  dev      abababababab  by robot") ||
		!strings.Contains(out, "pass: ✓ tests_green()") {
		t.Errorf("log --env dev: %d\n%s%s", code, out, errs)
	}
	code, out, _ = runMain(t, "-C", repo.Dir, "ledger", "log", "--json", "--build", "abab")
	var evs []ledger.Event
	if err := json.Unmarshal([]byte(out), &evs); code != 0 || err != nil || len(evs) != 2 || evs[1].Evaluation != "e1" {
		t.Errorf("log --json: %d %v %s", code, err, out)
	}
	if code, out, _ = runMain(t, "-C", repo.Dir, "ledger", "verify"); code != 0 || !strings.Contains(out, "3 events, 0 problems") {
		t.Errorf("verify: %d %s", code, out)
	}
	if _, err := ledger.Open(r).Append(context.Background(), ledger.Event{ID: "p2", Kind: ledger.KindPromotion, Env: "uat", Build: b}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = runMain(t, "-C", repo.Dir, "ledger", "verify"); code != ExitFindings || !strings.Contains(out, "promotion p2: names no evaluation") {
		t.Errorf("verify of a promotion without evaluation: %d %s", code, out)
	}
	if code, _, errs = runMain(t, "-C", t.TempDir(), "ledger", "log"); code != ExitUsage || !strings.Contains(errs, "not a git repository") {
		t.Errorf("log outside a repository: %d %s", code, errs)
	}
}
