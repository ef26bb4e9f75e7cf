// Package status answers "where is my change?" and "can this environment
// take a build?" from the promotion ledger, the build store, the
// environments (ci/environments.star) and OWNERS: for a change, which
// published builds contain it and, for each, where it is in every
// environment (waiting, promoted, replaced, rolled back, held), each
// criterion with its evidence and time, what it waits for, and whose
// OWNERS approval is missing with the suggested reviewers.
//
// Facts is what both readers share: `stride status` (a pull-request
// comment in Markdown, JSON stride.status/v1, and a GitHub Checks API
// payload) and the releaseboard, whose verdicts per environment come from
// EnvVerdict. Nothing here writes: the ledger is read without its cache.
package status

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Sources are where Load reads from.
type Sources struct {
	Config *promote.Config
	// Repo is the repository of the ledger and of the commits (OWNERS).
	Repo *gitrepo.Repo
	// Ledger is Repo's ledger; nil opens one that reads without the
	// cache (so that nothing is written).
	Ledger *ledger.Ledger
	// Store holds the published builds; nil means none are published.
	Store store.Store
	// Now is the time of the answer; zero is time.Now.
	Now time.Time
	// NoLive skips the robot's dry run (promote.Auto without --confirm),
	// so criteria come only from recorded evaluations.
	NoLive bool
}

// Facts are the ledger, the builds and the robot's dry run at one time.
type Facts struct {
	Config *promote.Config
	Repo   *gitrepo.Repo
	Log    *ledger.Log
	State  *ledger.State
	// Builds are the published builds by id; Order their ids, newest
	// first (by commit count, then time).
	Builds map[string]*store.Manifest
	Order  []string
	// Live is the robot's dry run per environment (nil with NoLive).
	Live map[string]promote.Decision
	Now  time.Time

	owners map[[2]string]*ownersCheck
}

type ownersCheck struct {
	res *owners.Result
	sug *owners.Suggestion
	err error
}

// Load reads the sources once.
func Load(ctx context.Context, src Sources) (*Facts, error) {
	if src.Now.IsZero() {
		src.Now = time.Now()
	}
	f := &Facts{Config: src.Config, Repo: src.Repo, Builds: map[string]*store.Manifest{}, Now: src.Now.UTC(), owners: map[[2]string]*ownersCheck{}}
	l := src.Ledger
	if l == nil {
		l = ledger.Open(src.Repo)
		l.NoCache = true
	}
	log, err := l.Read()
	if err != nil {
		return nil, fmt.Errorf("read the ledger: %w", err)
	}
	f.Log, f.State = log, log.State()
	if src.Store != nil {
		ids, err := src.Store.Builds(ctx)
		if err != nil {
			return nil, fmt.Errorf("list builds: %w", err)
		}
		for _, id := range ids {
			m, err := src.Store.Manifest(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read build %s: %w", id, err)
			}
			f.Builds[id] = m
			f.Order = append(f.Order, id)
		}
		sort.Slice(f.Order, func(i, j int) bool {
			a, b := f.Builds[f.Order[i]], f.Builds[f.Order[j]]
			if a.Number != b.Number {
				return a.Number > b.Number
			}
			return a.Time.After(b.Time)
		})
		if !src.NoLive {
			now := f.Now
			res, err := promote.Auto(ctx, promote.Options{Config: src.Config, Repo: src.Repo, Ledger: l, Store: src.Store,
				Now: func() time.Time { return now }, Actor: "stride status"}, false)
			if err != nil {
				return nil, fmt.Errorf("dry run of the robot: %w", err)
			}
			f.Live = map[string]promote.Decision{}
			for _, d := range res.Decisions {
				f.Live[d.Env] = d
			}
		}
	}
	return f, nil
}

// ErrNoBuild: Find found no published build, or more than one, for an
// id.
var ErrNoBuild = errors.New("no such published build")

// Find returns the published build with id, or the one build whose id
// starts with it (4 characters or more).
func (f *Facts) Find(id string) (*store.Manifest, error) {
	if m, ok := f.Builds[id]; ok {
		return m, nil
	}
	var found []string
	for _, b := range f.Order {
		if len(id) >= 4 && strings.HasPrefix(b, id) {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("build %q is not published (stride store ls lists the published builds): %w", id, ErrNoBuild)
	case 1:
		return f.Builds[found[0]], nil
	}
	return nil, fmt.Errorf("build %q is ambiguous: %d published builds start with it: %w", id, len(found), ErrNoBuild)
}

// Owners checks the change base..head as `stride owners check` does, with
// the suggested reviewers; results are kept per pair.
func (f *Facts) Owners(base, head string) (*owners.Result, *owners.Suggestion, error) {
	k := [2]string{base, head}
	if c, ok := f.owners[k]; ok {
		return c.res, c.sug, c.err
	}
	c := &ownersCheck{}
	if f.Repo == nil {
		c.err = errors.New("no repository")
	} else if c.res, c.err = owners.CheckRepo(f.Repo, owners.RepoCheck{Base: base, Head: head}); c.err == nil {
		c.sug = owners.Suggest(c.res)
	}
	f.owners[k] = c
	return c.res, c.sug, c.err
}

// Contains reports whether build's commit has head in its history.
func (f *Facts) Contains(build *store.Manifest, head string) bool {
	if build.Commit == head {
		return true
	}
	if f.Repo == nil {
		return false
	}
	h, err := f.Repo.CommitObject(plumbing.NewHash(head))
	if err != nil {
		return false
	}
	b, err := f.Repo.CommitObject(plumbing.NewHash(build.Commit))
	if err != nil {
		return false
	}
	ok, err := h.IsAncestor(b)
	return err == nil && ok
}

// EnvVerdict is an environment in one line: what it serves and whether it
// can take its next build, or what that waits for.
type EnvVerdict struct {
	Env string `json:"env"`
	// Serves is the build the environment serves ("" for none) and Since
	// when it got it.
	Serves string     `json:"serves,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	// Candidate is the next build the robot would take there.
	Candidate string `json:"candidate,omitempty"`
	// Can: the candidate's criteria hold now.
	Can bool `json:"can"`
	// Text is the verdict in words: "prod can take build 1a2b3c4d5e6f",
	// "waiting for: soak 1h12m, approval from @team-payments", "up to
	// date", "held by ...".
	Text     string   `json:"text"`
	WaitsFor []string `json:"waits_for,omitempty"`
	Held     *Hold    `json:"held,omitempty"`
	// Evaluation is the candidate's evaluation (the dry run's).
	Evaluation *Evaluation `json:"evaluation,omitempty"`
}

// Hold is a hold in force.
type Hold struct {
	Env    string    `json:"env"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

func holdOf(e *ledger.Event) *Hold {
	if e == nil {
		return nil
	}
	return &Hold{Env: e.Env, Actor: e.Actor, Reason: e.Reason, Time: e.Time}
}

// EnvVerdict answers "can env take a build?" from the robot's dry run.
func (f *Facts) EnvVerdict(env string) EnvVerdict {
	es := f.State.Env(env)
	v := EnvVerdict{Env: env, Serves: es.Build, Held: holdOf(f.State.Held(env))}
	if es.Build != "" {
		t := es.Since
		v.Since = &t
	}
	d, ok := f.Live[env]
	if !ok {
		v.Text = "no dry run (no store)"
		return v
	}
	v.Candidate = d.Candidate
	switch d.Action {
	case promote.ActionWouldPromote, promote.ActionPromoted:
		v.Can, v.Text = true, fmt.Sprintf("%s can take build %s", env, Short(d.Candidate))
	case promote.ActionUpToDate:
		v.Text = "up to date: " + d.Why
	case promote.ActionNoCandidate:
		v.Text = "nothing to take: " + d.Why
	default:
		if d.Evaluation == nil {
			v.Text = "blocked: " + d.Why
			v.WaitsFor = []string{d.Why}
		} else {
			v.WaitsFor = f.waitsFor(env, d.Evaluation)
			v.Text = "waiting for: " + strings.Join(v.WaitsFor, ", ")
		}
	}
	if d.Evaluation != nil {
		v.Evaluation = evaluationOf(d.Evaluation, false)
		v.Evaluation.Time = f.Now
	}
	return v
}

// waitsFor names what each blocking criterion of ev waits for, in a few
// words: "soak 1h12m", "approval from @team-payments", "unhold of prod".
func (f *Facts) waitsFor(env string, ev *ledger.Event) []string {
	var out []string
	e, _ := f.Config.Env(env)
	for _, c := range ev.Criteria {
		if !c.Blocks() {
			continue
		}
		if c.Status == ledger.StatusUnknown {
			out = append(out, c.Criterion+" (unknown)")
			continue
		}
		switch c.Kind {
		case "hold":
			out = append(out, "unhold of "+env)
		case promote.Soak:
			out = append(out, f.soakLeft(e, ev.Build))
		case promote.OwnersApproved:
			out = append(out, f.approvalFrom(env, ev.Build))
		case promote.TestsGreen:
			out = append(out, "green tests")
		case promote.Perf:
			out = append(out, "no perf regression")
		case promote.Healthy:
			out = append(out, "healthy services")
		case promote.Window:
			out = append(out, "the promotion window")
		default:
			out = append(out, c.Criterion)
		}
	}
	return out
}

// soakLeft is "soak 1h12m": what remains of env's soak for build.
func (f *Facts) soakLeft(e *promote.Env, build string) string {
	if e == nil {
		return "soak"
	}
	cr, _ := e.Has(promote.Soak)
	var in time.Time
	if e.After == "" {
		if m, ok := f.Builds[build]; ok {
			in = m.Time
		}
	} else {
		var out time.Time
		var ok bool
		in, out, ok = f.State.Entered(e.After, build)
		if !ok || !out.IsZero() {
			return "soak in " + e.After
		}
	}
	left := cr.Soak - f.Now.Sub(in)
	if left < time.Second {
		left = time.Second
	}
	return "soak " + ledger.Age(left)
}

// approvalFrom is "approval from @team-payments" for build in env: the
// entries that can approve the files changed since env's build.
func (f *Facts) approvalFrom(env, build string) string {
	cur, ok := f.Builds[f.State.Env(env).Build]
	m, ok2 := f.Builds[build]
	if !ok || !ok2 {
		return "OWNERS approval"
	}
	res, _, err := f.Owners(cur.Commit, m.Commit)
	if err != nil {
		return "OWNERS approval"
	}
	who := approvers(res)
	if len(who) == 0 {
		return "OWNERS approval"
	}
	return "approval from " + strings.Join(who, ", ")
}

// approvers are the closest entries that can still approve each
// unapproved directory, each once.
func approvers(res *owners.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range res.Dirs {
		if d.Approved || len(d.CanApprove) == 0 {
			continue
		}
		lvl := d.CanApprove[0].Level
		for _, c := range d.CanApprove {
			if c.Level != lvl || seen[c.Entry] {
				continue
			}
			seen[c.Entry] = true
			out = append(out, c.Entry)
		}
	}
	return out
}

// Short is a build id's first 12 characters.
func Short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
