package promote_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// testConfig is the example with short soaks.
const testConfig = `
environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green(), soak(minutes = 30), healthy()])
environment(name = "preprod", after = "uat", criteria = [tests_green(), soak(hours = 2), perf(max_regression = 0.05), healthy()])
environment(name = "prod", after = "preprod", criteria = [owners_approved(), soak(hours = 24), healthy(), window(days = "mon-thu", hours = "09-16")], instances = 2)
`

// fileSwitcher records switches in a file, one "ENV BUILD" line each (it
// survives the process, for the kill test), and what each environment
// serves.
type fileSwitcher struct {
	path string
	mu   sync.Mutex
}

func (s *fileSwitcher) Switch(ctx context.Context, env, build string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s %s\n", env, build)
	return err
}

// serving is what each environment serves after the recorded switches.
func (s *fileSwitcher) serving(t testing.TB) (map[string]string, []string) {
	b, _ := os.ReadFile(s.path)
	m := map[string]string{}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			m[f[0]] = f[1]
			lines = append(lines, l)
		}
	}
	return m, lines
}

type fixture struct {
	t     testing.TB
	git   *gittest.Repo
	s     *store.FS
	sw    *fileSwitcher
	cfg   *promote.Config
	clock time.Time
	n     int
	debs  string
}

func newFixture(t testing.TB, config string) *fixture {
	g := gittest.New(t)
	g.Commit("root", map[string]string{"OWNERS": "alice@example.com\n", "services/hello/main.go": "package main\n"})
	s, err := store.OpenFS(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := promote.ParseConfig("environments.star", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, git: g, s: s, sw: &fileSwitcher{path: filepath.Join(t.TempDir(), "switches")}, cfg: cfg,
		clock: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC), // a Monday, inside prod's window
		debs:  t.TempDir()}
}

// build commits a change to the hello service as author and publishes it
// (a real publish, store only) with a benchmark around ns.
func (f *fixture) build(author, payload string, ns float64) string {
	f.t.Helper()
	parent := f.git.Git("rev-parse", "HEAD")
	head := f.git.CommitAs(author, "hello: "+payload, map[string]string{"services/hello/main.go": "package main // " + payload + "\n"})
	f.n++
	run := publishtest.WriteRun(f.t, f.t.TempDir(), publishtest.Run{Head: head, Base: parent, Status: report.StatusGreen, NsPerOp: ns})
	dir := filepath.Join(f.debs, fmt.Sprint(f.n))
	os.MkdirAll(dir, 0o755)
	deb := apttest.Build(f.t, dir, apttest.Package{Name: "hello", Payload: payload})
	now := f.clock
	if _, err := publish.Publish(context.Background(), publish.Options{Dir: f.git.Dir, RunDir: run, Debs: []string{deb}, DocsDir: "-",
		Store: f.s, Number: 10 + f.n, Now: func() time.Time { return now }}); err != nil {
		f.t.Fatal(err)
	}
	return head
}

func (f *fixture) options() promote.Options {
	r, err := gitrepo.Open(f.git.Dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { r.Close() })
	return promote.Options{Config: f.cfg, Repo: r, Ledger: ledger.Open(r), Store: f.s, Switcher: f.sw, Actor: "test",
		Now: func() time.Time { return f.clock }}
}

func (f *fixture) auto(confirm bool) *promote.Result {
	f.t.Helper()
	res, err := promote.Auto(context.Background(), f.options(), confirm)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) log() *ledger.Log {
	f.t.Helper()
	log, err := f.options().Ledger.Read()
	if err != nil {
		f.t.Fatal(err)
	}
	return log
}

func decision(res *promote.Result, env string) promote.Decision {
	for _, d := range res.Decisions {
		if d.Env == env {
			return d
		}
	}
	return promote.Decision{}
}

func criterion(d promote.Decision, kind string) ledger.CriterionResult {
	if d.Evaluation != nil {
		for _, c := range d.Evaluation.Criteria {
			if c.Kind == kind {
				return c
			}
		}
	}
	return ledger.CriterionResult{}
}

// TestAutoThroughEveryEnvironment follows one build from dev to prod as
// time passes, then a second one that regresses perf and lacks the
// OWNERS approval, and a rollback.
func TestAutoThroughEveryEnvironment(t *testing.T) {
	f := newFixture(t, testConfig)
	b1 := f.build("Alice <alice@example.com>", "one", 1000)

	// A dry run records nothing.
	res := f.auto(false)
	if d := decision(res, "dev"); d.Action != promote.ActionWouldPromote || d.Candidate != b1 {
		t.Fatalf("dry run, dev: %+v", d)
	}
	if n := len(f.log().Events); n != 0 {
		t.Fatalf("a dry run recorded %d events", n)
	}

	res = f.auto(true)
	if d := decision(res, "dev"); d.Action != promote.ActionPromoted {
		t.Fatalf("dev: %+v", d)
	}
	uat := decision(res, "uat")
	if uat.Action != promote.ActionBlocked || criterion(uat, "soak").Status != ledger.StatusFail ||
		!strings.Contains(criterion(uat, "soak").Evidence, "in dev for 0s") || criterion(uat, "tests_green").Status != ledger.StatusPass {
		t.Fatalf("uat right after dev: %+v", uat.Evaluation)
	}
	if h := criterion(uat, "healthy"); h.Status != ledger.StatusSkipped {
		t.Errorf("healthy without URLs: %+v", h)
	}
	// Run again at once: the same blocked outcome is not recorded twice.
	before := len(f.log().Events)
	f.auto(true)
	if after := len(f.log().Events); after != before {
		t.Errorf("an unchanged evaluation was recorded again: %d -> %d events", before, after)
	}

	f.clock = f.clock.Add(31 * time.Minute)
	if d := decision(f.auto(true), "uat"); d.Action != promote.ActionPromoted {
		t.Fatalf("uat after 31m: %+v", d)
	}
	f.clock = f.clock.Add(2*time.Hour + time.Minute)
	res = f.auto(true)
	if d := decision(res, "preprod"); d.Action != promote.ActionPromoted || criterion(d, "perf").Status != ledger.StatusPass {
		t.Fatalf("preprod: %+v %+v", d, d.Evaluation)
	}
	if d := decision(res, "prod"); d.Action != promote.ActionBlocked || criterion(d, "soak").Status != ledger.StatusFail {
		t.Fatalf("prod before its soak: %+v", d)
	}
	f.clock = f.clock.Add(24*time.Hour + time.Minute) // Tuesday 12:33
	res = f.auto(true)
	prod := decision(res, "prod")
	if prod.Action != promote.ActionPromoted || criterion(prod, "owners_approved").Status != ledger.StatusPass {
		t.Fatalf("prod: %+v %+v", prod, prod.Evaluation)
	}
	serving, _ := f.sw.serving(t)
	for _, env := range []string{"dev", "uat", "preprod", "prod"} {
		if serving[env] != b1 {
			t.Errorf("%s serves %q, want build 1", env, serving[env])
		}
	}

	// Build 2: twice as slow, by someone who owns nothing.
	b2 := f.build("Bob <bob@example.com>", "two", 2000)
	f.auto(true)
	f.clock = f.clock.Add(31 * time.Minute)
	f.auto(true)
	f.clock = f.clock.Add(2*time.Hour + time.Minute)
	res = f.auto(true)
	pp := decision(res, "preprod")
	if pp.Action != promote.ActionBlocked || criterion(pp, "perf").Status != ledger.StatusFail ||
		!strings.Contains(criterion(pp, "perf").Evidence, "Hello ns/op: +") {
		t.Fatalf("preprod with a perf regression: %+v %+v", pp, pp.Evaluation)
	}
	if st := f.log().State(); st.Env("uat").Build != b2 || st.Env("preprod").Build != b1 {
		t.Fatalf("uat %s preprod %s", st.Env("uat").Build, st.Env("preprod").Build)
	}

	// By hand, with an override: preprod takes it; prod refuses it without
	// the OWNERS approval, even with --override.
	o := f.options()
	out, err := promote.Promote(context.Background(), o, promote.Manual{Build: b2[:10], Env: "preprod", Reason: "the slowdown is expected", Override: true})
	if err != nil || !out.Done {
		t.Fatalf("override to preprod: %+v %v", out, err)
	}
	f.clock = f.clock.Add(25 * time.Hour)
	prod = decision(f.auto(true), "prod")
	if prod.Action != promote.ActionBlocked || criterion(prod, "owners_approved").Status != ledger.StatusFail ||
		!strings.Contains(criterion(prod, "owners_approved").Evidence, "1 of 1 files changed since prod's build") {
		t.Fatalf("prod without approval: %+v %+v", prod, prod.Evaluation)
	}
	_, err = promote.Promote(context.Background(), o, promote.Manual{Build: b2, Env: "prod", Reason: "please", Override: true})
	if !errors.Is(err, promote.ErrBlocked) || !strings.Contains(err.Error(), "still needs the OWNERS approval") {
		t.Fatalf("override to prod without approval: %v", err)
	}

	// An approval in a later commit's trailer is what owners check counts.
	b3 := f.build("Bob <bob@example.com>", "three\n\nApproved-by: alice@example.com", 1000)
	for i := 0; i < 6; i++ {
		f.clock = f.clock.Add(25 * time.Hour)
		for f.clock.Weekday() < time.Monday || f.clock.Weekday() > time.Thursday || f.clock.Hour() < 9 || f.clock.Hour() >= 16 {
			f.clock = f.clock.Add(time.Hour)
		}
		f.auto(true)
	}
	if got := f.log().State().Env("prod").Build; got != b3 {
		t.Errorf("prod serves %.12s, want build 3 (approved)", got)
	}

	// A rollback of prod goes back to build 1 (what it served before); the
	// robot does not promote build 3 there again.
	out, err = promote.Rollback(context.Background(), o, "prod", "", "500s on checkout")
	if err != nil || !strings.Contains(out.Message, "to "+b1[:12]) {
		t.Fatalf("rollback: %+v %v", out, err)
	}
	prod = decision(f.auto(true), "prod")
	if prod.Action != promote.ActionBlocked || !strings.Contains(prod.Why, "was rolled back from prod") {
		t.Errorf("prod after the rollback: %+v", prod)
	}
	if serving, _ := f.sw.serving(t); serving["prod"] != b1 {
		t.Errorf("prod's distribution serves %.12s after the rollback", serving["prod"])
	}
	res2, err := o.Ledger.Verify()
	if err != nil || !res2.OK() {
		t.Errorf("verify: %+v %v", res2, err)
	}
}

func TestManualBadInput(t *testing.T) {
	f := newFixture(t, testConfig)
	b1 := f.build("Alice <alice@example.com>", "one", 0)
	f.auto(true)
	o := f.options()
	ctx := context.Background()
	for _, tc := range []struct {
		req  promote.Manual
		want string
	}{
		{promote.Manual{Build: b1, Env: "qa", Reason: "x"}, `unknown environment "qa"`},
		{promote.Manual{Build: strings.Repeat("0", 40), Env: "uat", Reason: "x"}, "is not published"},
		{promote.Manual{Build: b1, Env: "preprod", Reason: "x"}, "was never in uat: promoting it to preprod would skip uat"},
		{promote.Manual{Build: b1, Env: "uat"}, "needs --reason"},
	} {
		_, err := promote.Promote(ctx, o, tc.req)
		if !errors.Is(err, promote.ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want bad input with %q", tc.req, err, tc.want)
		}
	}
	n := len(f.log().Events)
	// Criteria that fail: exit 1, the evaluation recorded.
	_, err := promote.Promote(ctx, o, promote.Manual{Build: b1, Env: "uat", Reason: "try"})
	if !errors.Is(err, promote.ErrBlocked) || !strings.Contains(err.Error(), "soak(minutes = 30)") {
		t.Errorf("blocked promotion: %v", err)
	}
	if got := len(f.log().Events); got != n+1 {
		t.Errorf("%d events recorded, want the evaluation", got-n)
	}
	if _, err := promote.Rollback(ctx, o, "uat", "", "x"); !errors.Is(err, promote.ErrInput) {
		t.Errorf("rollback of an empty environment: %v", err)
	}
	if _, err := promote.Rollback(ctx, o, "dev", "", "x"); !errors.Is(err, promote.ErrInput) || !strings.Contains(err.Error(), "no earlier good build") {
		t.Errorf("rollback without an earlier build: %v", err)
	}
	if got := len(f.log().Events); got != n+1 {
		t.Errorf("bad input wrote %d events", got-n-1)
	}
}

func TestHoldAndFreeze(t *testing.T) {
	f := newFixture(t, testConfig)
	f.build("Alice <alice@example.com>", "one", 0)
	o := f.options()
	ctx := context.Background()
	if _, err := promote.Hold(ctx, o, "all", "release freeze", true); err != nil {
		t.Fatal(err)
	}
	d := decision(f.auto(true), "dev")
	if d.Action != promote.ActionBlocked || !strings.Contains(criterion(d, "hold").Evidence, `every environment is frozen by test`) {
		t.Fatalf("dev under a freeze: %+v %+v", d, d.Evaluation)
	}
	if out, err := promote.Hold(ctx, o, "all", "again", true); err != nil || out.Done {
		t.Errorf("a second hold: %+v %v", out, err)
	}
	if _, err := promote.Hold(ctx, o, "all", "over", false); err != nil {
		t.Fatal(err)
	}
	if d := decision(f.auto(true), "dev"); d.Action != promote.ActionPromoted {
		t.Errorf("dev after the freeze: %+v", d)
	}
	if _, err := promote.Hold(ctx, o, "nope", "x", true); !errors.Is(err, promote.ErrInput) {
		t.Errorf("hold of an unknown environment: %v", err)
	}
}

// TestConcurrentRobots: 50 robots run promote --auto --confirm at once on
// one ledger, each with its own repository handle; then 20 more without
// the local lock (robots on different machines). Every promotion is
// recorded once, no build is promoted twice, and the ledger verifies.
func TestConcurrentRobots(t *testing.T) {
	cfg := `
environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green()])
environment(name = "preprod", after = "uat", criteria = [tests_green(), perf()])
environment(name = "prod", after = "preprod", criteria = [owners_approved()])
`
	f := newFixture(t, cfg)
	b1 := f.build("Alice <alice@example.com>", "one", 1000)
	run := func(n int, noLock bool) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			o := f.options()
			o.Ledger.NoLock = noLock
			o.Actor = fmt.Sprintf("robot-%d", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := promote.Auto(context.Background(), o, true); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	run(50, false)
	b2 := f.build("Alice <alice@example.com>", "two", 1000)
	run(20, true)
	log := f.log()
	promotions := map[string]int{}
	for _, e := range log.Events {
		if e.Kind == ledger.KindPromotion {
			promotions[e.Env+" "+e.Build[:12]]++
		}
	}
	want := map[string]int{}
	for _, env := range []string{"dev", "uat", "preprod", "prod"} {
		want[env+" "+b1[:12]] = 1
		want[env+" "+b2[:12]] = 1
	}
	if fmt.Sprint(promotions) != fmt.Sprint(want) {
		t.Errorf("promotions %v, want %v", promotions, want)
	}
	res, err := f.options().Ledger.Verify()
	if err != nil || !res.OK() {
		t.Errorf("verify: %+v %v", res, err)
	}
	_, switches := f.sw.serving(t)
	t.Logf("%d events, %d switches (%d promotions); switches: %v", len(log.Events), len(switches), 8, switches)
	if serving, _ := f.sw.serving(t); serving["prod"] != b2 {
		t.Errorf("prod serves %.12s", serving["prod"])
	}
}
