// Package boardtest seeds a repository's ledger and a build store for
// the board's tests, outside tools/stride too (the releaseboard's browser
// tests), with stride's real writers only: publish, the promotion robot,
// manual promotion and hold (internal/promote/promotetest).
package boardtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/promote/promotetest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Config is the scenario's environments without the promotion window, so
// that the verdicts do not depend on the day the test runs.
var Config = strings.Replace(promotetest.Config, `, window(days = "mon-fri", hours = "00-23")`, "", 1)

// Scenario is a seeded repository and store.
type Scenario struct {
	// Repo is the repository (with refs/stride/ledger), Store the store's
	// directory, Config the environments file.
	Repo, Store, Config string
	// Builds are the scenario's three builds (promotetest.Fixture.Scenario).
	Builds [3]string
	f      *promotetest.Fixture
}

// New runs the promotion scenario so that it ends now: build 1 in prod;
// build 2 in preprod, waiting at prod for @team-payments' approval and its
// soak; build 3 in dev, soaking before uat.
func New(t testing.TB) *Scenario {
	t.Helper()
	f := promotetest.New(t, Config, nil)
	f.Clock = time.Now().UTC().Truncate(time.Second).Add(-(4*25*time.Hour + 6*time.Hour + 10*time.Minute))
	s := &Scenario{Repo: f.Git.Dir, Store: f.Store.Root(), Config: filepath.Join(t.TempDir(), "environments.star"), f: f}
	if err := os.WriteFile(s.Config, []byte(Config), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Builds = f.Scenario()
	return s
}

// Hold appends a hold (or unhold) of env to the ledger, now.
func (s *Scenario) Hold(env, reason string, hold bool) {
	s.f.Clock = time.Now().UTC()
	s.f.Hold(env, reason, hold)
}

// Events is how many events the ledger holds.
func (s *Scenario) Events() int { return len(s.f.Log().Events) }

// Evil publishes a build whose commit subject and test name carry markup
// and holds uat with it as the reason; it returns the build.
func (s *Scenario) Evil(markup string) string {
	s.f.Clock = time.Now().UTC()
	id := s.f.Publish(promotetest.Build{Subject: "hello: " + markup, Payload: "evil", NsPerOp: 1000,
		Tests: []report.TestResult{{Label: "//services/hello:" + markup, Status: "FLAKY", Flaky: true}}})
	s.f.Auto()
	s.f.Hold("uat", markup, true)
	return id
}
