// Package promotetest builds promotion scenarios for tests with the real
// writers only: a git repository (gittest), builds published into a store
// by publish.Publish (with .deb packages from apttest and run directories
// from publishtest), and ledger events recorded by the robot
// (promote.Auto), manual promotions, holds and rollbacks. The status
// golden tests and the board's browser tests read what it writes.
package promotetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// Config is the environments of the scenarios: ci/environments.star's
// shape with short soaks.
const Config = `environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green(), soak(minutes = 30)])
environment(name = "preprod", after = "uat", criteria = [tests_green(), soak(hours = 2), perf(max_regression = 0.05)])
environment(name = "prod", after = "preprod", criteria = [owners_approved(), soak(hours = 24), window(days = "mon-fri", hours = "00-23")])
`

// Root is the repository's first commit: OWNERS with teams.
var Root = map[string]string{
	"OWNERS":                 "@platform\n",
	"OWNERS_ALIASES":         "@platform:\n  ana@example.com\n\n@team-payments:\n  pat@example.com\n  paul@example.com\n",
	"services/hello/OWNERS":  "@team-payments\n",
	"services/hello/main.go": "package main\n",
}

// Fixture is a repository, a store and the environments, with a clock
// moved by hand.
type Fixture struct {
	T      testing.TB
	Git    *gittest.Repo
	Store  *store.FS
	Config *promote.Config
	// Clock is the time of the next publish or ledger event.
	Clock time.Time
	n     int
	debs  string
	repo  *gitrepo.Repo
}

// New commits Root (and files) and opens an empty store. The clock starts
// on a Monday, 2026-11-30 10:00 UTC.
func New(t testing.TB, config string, files map[string]string) *Fixture {
	t.Helper()
	g := gittest.New(t)
	root := map[string]string{}
	for k, v := range Root {
		root[k] = v
	}
	for k, v := range files {
		root[k] = v
	}
	g.Commit("root", root)
	s, err := store.OpenFS(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := promote.ParseConfig("environments.star", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{T: t, Git: g, Store: s, Config: cfg, Clock: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC), debs: t.TempDir()}
}

// Build is one build to publish.
type Build struct {
	// Author is "Name <email>" ("" for the default author).
	Author  string
	Subject string
	// Payload changes the hello service (its package's content).
	Payload string
	// Files are more files to commit.
	Files map[string]string
	// NsPerOp is the benchmark's value (0: none).
	NsPerOp float64
	// Tests replace the run's default test results when set.
	Tests []report.TestResult
	// Status is the run's status (default green).
	Status report.Status
}

// Publish commits b and publishes it with publish.Publish (store only; no
// APT), at the clock's time. It returns the build id (the commit).
func (f *Fixture) Publish(b Build) string {
	f.T.Helper()
	parent := f.Git.Git("rev-parse", "HEAD")
	files := map[string]string{"services/hello/main.go": "package main // " + b.Payload + "\n"}
	for k, v := range b.Files {
		files[k] = v
	}
	head := f.Git.CommitAs(b.Author, b.Subject, files)
	f.n++
	if b.Status == "" {
		b.Status = report.StatusGreen
	}
	run := publishtest.WriteRun(f.T, f.T.TempDir(), publishtest.Run{Head: head, Base: parent, Status: b.Status, NsPerOp: b.NsPerOp, Tests: b.Tests})
	dir := filepath.Join(f.debs, fmt.Sprint(f.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.T.Fatal(err)
	}
	deb := apttest.Build(f.T, dir, apttest.Package{Name: "hello", Payload: b.Payload})
	now := f.Clock
	if _, err := publish.Publish(context.Background(), publish.Options{Dir: f.Git.Dir, RunDir: run, Debs: []string{deb}, DocsDir: "-",
		Store: f.Store, Number: 10 + f.n, Now: func() time.Time { return now }}); err != nil {
		f.T.Fatal(err)
	}
	return head
}

// Repo opens the repository once (closed at the end of the test).
func (f *Fixture) Repo() *gitrepo.Repo {
	if f.repo == nil {
		r, err := gitrepo.Open(f.Git.Dir)
		if err != nil {
			f.T.Fatal(err)
		}
		f.T.Cleanup(func() { r.Close() })
		f.repo = r
	}
	return f.repo
}

// Options are the robot's options on the fixture: no APT switch, the
// fixture's clock, actor "test".
func (f *Fixture) Options() promote.Options {
	r := f.Repo()
	return promote.Options{Config: f.Config, Repo: r, Ledger: ledger.Open(r), Store: f.Store, Actor: "test",
		Now: func() time.Time { return f.Clock }}
}

// Auto runs the robot with --confirm.
func (f *Fixture) Auto() *promote.Result {
	f.T.Helper()
	res, err := promote.Auto(context.Background(), f.Options(), true)
	if err != nil {
		f.T.Fatal(err)
	}
	return res
}

// Advance moves the clock.
func (f *Fixture) Advance(d time.Duration) { f.Clock = f.Clock.Add(d) }

// Hold holds (or unholds) env with reason.
func (f *Fixture) Hold(env, reason string, hold bool) {
	f.T.Helper()
	if _, err := promote.Hold(context.Background(), f.Options(), env, reason, hold); err != nil {
		f.T.Fatal(err)
	}
}

// Rollback rolls env back to the build it served before.
func (f *Fixture) Rollback(env, reason string) {
	f.T.Helper()
	if _, err := promote.Rollback(context.Background(), f.Options(), env, "", reason); err != nil {
		f.T.Fatal(err)
	}
}

// Log reads the ledger.
func (f *Fixture) Log() *ledger.Log {
	f.T.Helper()
	log, err := f.Options().Ledger.Read()
	if err != nil {
		f.T.Fatal(err)
	}
	return log
}

// Scenario is the end-to-end promotion scenario of the status and board
// tests, on the clock: build 1 (by an owner) goes through every
// environment to prod; build 2 (2x slower, by an author who owns nothing)
// is held at preprod by the perf regression, overridden into preprod by
// hand, and waits at prod for the OWNERS approval of @team-payments and
// its soak; build 3 (by an owner) is in dev and soaks before uat. It
// returns the three build ids.
func (f *Fixture) Scenario() [3]string {
	f.T.Helper()
	var ids [3]string
	ids[0] = f.Publish(Build{Author: "Pat <pat@example.com>", Subject: "hello: first", Payload: "one", NsPerOp: 1000})
	for i := 0; i < 4; i++ {
		f.Auto()
		f.Advance(25 * time.Hour)
	}
	ids[1] = f.Publish(Build{Author: "Eve <eve@example.com>", Subject: "hello: faster greeting", Payload: "two", NsPerOp: 2000})
	f.Auto() // dev
	f.Advance(time.Hour)
	f.Auto() // uat
	f.Advance(3 * time.Hour)
	f.Auto() // preprod: blocked on perf
	if _, err := promote.Promote(context.Background(), f.Options(), promote.Manual{Build: ids[1], Env: "preprod", Reason: "perf regression accepted", Override: true}); err != nil {
		f.T.Fatal(err)
	}
	f.Advance(2 * time.Hour)
	ids[2] = f.Publish(Build{Author: "Pat <pat@example.com>", Subject: "hello: explain the greeting", Payload: "three", NsPerOp: 1000,
		Files: map[string]string{"docs/hello.md": "# hello\n"}})
	f.Auto() // dev takes 3; prod blocked on owners and soak
	f.Advance(10 * time.Minute)
	f.Auto()
	return ids
}
