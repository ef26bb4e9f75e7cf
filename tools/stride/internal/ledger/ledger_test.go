package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
)

func open(t testing.TB, dir string) *ledger.Ledger {
	t.Helper()
	r, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return ledger.Open(r)
}

func build(n int) string { return strings.Repeat(fmt.Sprintf("%x", n%16), 40) }

// promote returns an evaluation that passed and the promotion it allows.
func promote(env, b, from string) []ledger.Event {
	ev := ledger.Event{ID: ledger.NewID(), Kind: ledger.KindEvaluation, Env: env, Build: b, Verdict: ledger.VerdictPass, Actor: "test",
		Criteria: []ledger.CriterionResult{{Criterion: "tests_green()", Kind: "tests_green", Status: ledger.StatusPass, Evidence: "3 passed"}}}
	return []ledger.Event{ev, {Kind: ledger.KindPromotion, Env: env, Build: b, From: from, Evaluation: ev.ID, Actor: "test"}}
}

func TestAppendReadStateVerify(t *testing.T) {
	repo := gittest.New(t)
	l := open(t, repo.Dir)
	ctx := context.Background()
	log, err := l.Read()
	if err != nil || len(log.Events) != 0 || !log.Tip.IsZero() {
		t.Fatalf("empty ledger: %+v, %v", log, err)
	}
	p1, err := l.Append(ctx, promote("dev", build(1), "")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, ledger.Event{Kind: ledger.KindStep, Env: "dev", Build: build(1), Of: p1[1].ID, Step: ledger.StepSwitch, Status: ledger.StepDone}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, promote("dev", build(2), build(1))...); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, ledger.Event{Kind: ledger.KindHold, Env: "uat", Reason: "release freeze", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, ledger.Event{Kind: ledger.KindRollback, Env: "dev", Build: build(1), From: build(2), Reason: "bad", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	// Read twice, as new processes would: from git (writing the cache),
	// then from the cache; and once more with the cache deleted.
	var logs []*ledger.Log
	for i := 0; i < 3; i++ {
		l := open(t, repo.Dir)
		if i == 2 {
			matches, _ := filepath.Glob(filepath.Join(repo.Dir, ".git", "stride", "ledger-cache.gob"))
			if len(matches) != 1 {
				t.Fatalf("no cache file: %v", matches)
			}
			os.Remove(matches[0])
		}
		log, err := l.Read()
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, log)
	}
	for i, log := range logs {
		if len(log.Events) != 7 {
			t.Fatalf("read %d: %d events", i, len(log.Events))
		}
		for j, e := range log.Events {
			if e.Seq != j || e.Commit == "" || e.Schema != ledger.Schema {
				t.Errorf("read %d event %d: seq %d commit %q schema %q", i, j, e.Seq, e.Commit, e.Schema)
			}
			if e.ID != logs[0].Events[j].ID {
				t.Errorf("read %d event %d differs", i, j)
			}
		}
	}
	st := logs[0].State()
	dev := st.Env("dev")
	if dev.Build != build(1) || dev.Change.Kind != ledger.KindRollback || dev.RolledBack[build(2)] == nil {
		t.Errorf("dev state: %+v", dev)
	}
	if h := st.Held("uat"); h == nil || h.Reason != "release freeze" {
		t.Errorf("uat hold: %+v", h)
	}
	if keep := st.Keep(); len(keep) != 1 || keep[build(1)] != "the ledger: dev serves it" {
		t.Errorf("keep = %v", keep)
	}
	if st.Held("dev") != nil {
		t.Error("dev is held")
	}
	if got := len(logs[0].Filter("dev", "")); got != 6 {
		t.Errorf("filter dev: %d events", got)
	}
	if got := len(logs[0].Filter("", build(2)[:8])); got != 3 {
		t.Errorf("filter build 2: %d events", got)
	}
	res, err := l.Verify()
	if err != nil || !res.OK() || res.Events != 7 {
		t.Errorf("verify: %+v, %v", res, err)
	}
	// git itself sees one commit per event, each with one file.
	if n := repo.Git("rev-list", "--count", ledger.Ref); n != "7" {
		t.Errorf("git rev-list --count = %s", n)
	}
	if files := repo.Git("ls-tree", "--name-only", ledger.Ref); files != "event.json" {
		t.Errorf("tree = %q", files)
	}
	if body := repo.Git("show", ledger.Ref+":event.json"); !strings.Contains(body, `"schema": "stride.ledger-event/v1"`) {
		t.Errorf("event.json = %s", body)
	}
}

func TestVerifyFindsProblems(t *testing.T) {
	repo := gittest.New(t)
	l := open(t, repo.Dir)
	ctx := context.Background()
	blocked := ledger.Event{ID: "e1", Kind: ledger.KindEvaluation, Env: "uat", Build: build(1), Verdict: ledger.VerdictBlocked}
	events := []ledger.Event{
		blocked,
		{ID: "p1", Kind: ledger.KindPromotion, Env: "uat", Build: build(1), Evaluation: "e1"},
		{ID: "p2", Kind: ledger.KindPromotion, Env: "uat", Build: build(2)},
		{ID: "s1", Kind: ledger.KindStep, Env: "uat", Of: "nope", Step: ledger.StepSwitch, Status: ledger.StepDone},
		{ID: "r1", Kind: ledger.KindRollback, Env: "uat", Build: build(3), From: build(2)},
		{ID: "p1", Kind: ledger.KindHold, Env: "uat"},
	}
	if _, err := l.Append(ctx, events...); err != nil {
		t.Fatal(err)
	}
	res, err := l.Verify()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Problems {
		got = append(got, fmt.Sprintf("%d: %s", p.Seq, p.Problem))
	}
	want := []string{
		"1: promotion p1: its evaluation e1 did not pass (blocked) and it is not an override",
		"2: promotion p2: names no evaluation",
		`3: step s1: names "nope", not an earlier promotion or rollback of uat`,
		"4: rollback r1: goes back to build 333333333333, which was never promoted to uat",
		"5: hold p1: the id is also event 1's",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A commit that is not an event breaks the chain's check too.
	tip := repo.Git("rev-parse", ledger.Ref)
	tree := repo.Git("write-tree") // the empty index: an empty tree
	c := repo.Git("commit-tree", tree, "-p", tip, "-m", "not an event")
	repo.Git("update-ref", ledger.Ref, c)
	res, err = l.Verify()
	if err != nil || res.OK() || !strings.Contains(res.Problems[0].Problem, "want exactly one file, event.json") {
		t.Errorf("verify of a foreign commit: %+v %v", res, err)
	}
}

// TestConcurrentAppenders: 50 appenders, each with its own repository
// handle (as separate processes have), append 2 events each at once.
// Every event is in the ledger exactly once and the chain verifies. Then
// 15 appenders without the local lock, so that only the compare-and-swap
// of the ref orders them (as for robots on different machines).
func TestConcurrentAppenders(t *testing.T) {
	t.Run("locked", func(t *testing.T) { concurrentAppenders(t, 50, false) })
	t.Run("compare-and-swap only", func(t *testing.T) { concurrentAppenders(t, 15, true) })
}

func concurrentAppenders(t *testing.T, n int, noLock bool) {
	repo := gittest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ids := make(chan string, 2*n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		l := open(t, repo.Dir)
		l.NoLock = noLock
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			for k := 0; k < 2; k++ {
				id := fmt.Sprintf("appender-%02d-%d", i, k)
				if _, err := l.Append(ctx, ledger.Event{ID: id, Kind: ledger.KindHold, Env: "uat", Actor: id}); err != nil {
					errs <- err
					return
				}
				ids <- id
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	log, err := open(t, repo.Dir).Read()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range log.Events {
		count[e.ID]++
	}
	for id := range ids {
		if count[id] != 1 {
			t.Errorf("event %s is in the ledger %d times", id, count[id])
		}
	}
	if len(log.Events) != 2*n {
		t.Errorf("%d events, want %d", len(log.Events), 2*n)
	}
	res, err := open(t, repo.Dir).Verify()
	if err != nil || !res.OK() {
		t.Errorf("verify: %+v %v", res, err)
	}
}

// TestUpdateDecidesOnce: 30 writers race to promote the same build; the
// decision is made again after each lost race, so exactly one promotes.
func TestUpdateDecidesOnce(t *testing.T) {
	repo := gittest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 30; i++ {
		l := open(t, repo.Dir)
		l.NoLock = i%2 == 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := l.Update(ctx, func(log *ledger.Log) ([]ledger.Event, error) {
				if log.State().Env("uat").Build == build(1) {
					return nil, nil
				}
				return promote("uat", build(1), ""), nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	log, err := open(t, repo.Dir).Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Events) != 2 || log.Events[1].Kind != ledger.KindPromotion {
		t.Errorf("%d events, want one evaluation and one promotion", len(log.Events))
	}
}

func TestStateServing(t *testing.T) {
	var none *ledger.State
	if none.Serving() != nil || none.Keep() != nil {
		t.Fatal("a nil State serves and keeps nothing")
	}
	repo := gittest.New(t)
	l := open(t, repo.Dir)
	ctx := context.Background()
	for _, evs := range [][]ledger.Event{promote("dev", build(1), ""), promote("dev", build(2), build(1)), promote("uat", build(1), "")} {
		if _, err := l.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	log, err := l.Read()
	if err != nil {
		t.Fatal(err)
	}
	got := log.State().Serving()
	if len(got) != 2 || got["dev"] != build(2) || got["uat"] != build(1) {
		t.Errorf("Serving() = %v, want dev %s and uat %s", got, build(2), build(1))
	}
}
