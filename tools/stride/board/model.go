package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/perf"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/status"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Schemas of the JSON twins.
const (
	OverviewSchema = "releaseboard.overview/v1"
	BuildSchema    = "releaseboard.build/v1"
	EnvSchema      = "releaseboard.env/v1"
	ChangeSchema   = "releaseboard.change/v1"
)

// Overview is the board's first page (/ and /api/overview).
type Overview struct {
	Schema string    `json:"schema"`
	Title  string    `json:"title"`
	Time   time.Time `json:"time"`
	// Events is how many events the ledger holds; LedgerTip its commit.
	Events    int    `json:"events"`
	LedgerTip string `json:"ledger_tip,omitempty"`
	// Envs are the environments in order, each with its verdict.
	Envs []EnvSummary `json:"environments"`
	// Services are the packages, each with its cell per environment.
	Services []ServiceRow `json:"services"`
	// Recent are the newest ledger events, newest first.
	Recent []EventView `json:"recent"`
	// Builds are the newest published builds.
	Builds []BuildRef `json:"builds"`
}

// EnvSummary is an environment's verdict and what it serves.
type EnvSummary struct {
	status.EnvVerdict
	// Age is how long it has served its build, in words.
	Age string `json:"age,omitempty"`
	// Health is the last recorded healthy() result for its build:
	// "healthy", "failing", "not checked" or "unknown".
	Health string `json:"health"`
	// Class is the verdict's style: "can" (it can take a build), "wait"
	// (a build waits), "idle" (nothing to take).
	Class string `json:"class"`
	// Running is what the environment runs, when it is a local
	// environment (stride env status --json: instances, versions, states,
	// restarts, the last deploy).
	Running *env.Status `json:"running,omitempty"`
}

func class(v status.EnvVerdict) string {
	switch {
	case v.Can:
		return "can"
	case v.Candidate == "" || v.Candidate == v.Serves:
		return "idle"
	}
	return "wait"
}

// ServiceRow is one service (package) across the environments.
type ServiceRow struct {
	Service string `json:"service"`
	Cells   []Cell `json:"cells"`
}

// Cell is a service in an environment.
type Cell struct {
	Env     string `json:"env"`
	Build   string `json:"build,omitempty"`
	Version string `json:"version,omitempty"`
	Age     string `json:"age,omitempty"`
	Health  string `json:"health"`
	// Instances sums up the service's processes when the environment
	// runs locally: "2/2 running, 1 restart".
	Instances string `json:"instances,omitempty"`
}

// instances sums up service's instances in st, and its health from them:
// "healthy" when all run (and HAProxy has them UP), else their states.
func instances(st *env.Status, service string) (summary, health string) {
	n, running, restarts := 0, 0, 0
	other := ""
	for _, in := range st.Instances {
		if in.Service != service {
			continue
		}
		n++
		restarts += in.Restarts
		if in.State == env.StateRunning && (in.Balancer == "" || in.Balancer == "UP") {
			running++
		} else if other == "" {
			other = in.State
			if in.Balancer != "" && in.Balancer != "UP" {
				other += " (" + in.Balancer + ")"
			}
		}
	}
	if n == 0 {
		return "", ""
	}
	summary = fmt.Sprintf("%d/%d running", running, n)
	if restarts > 0 {
		summary += fmt.Sprintf(", %d restarts", restarts)
	}
	if !st.Up {
		return summary + " (supervisor down)", "down"
	}
	if running == n {
		return summary, "healthy"
	}
	return summary, other
}

// BuildRef names a build.
type BuildRef struct {
	Build  string    `json:"build"`
	Number int       `json:"number"`
	Time   time.Time `json:"time"`
	Status string    `json:"status,omitempty"`
}

// EventView is a ledger event as the pages show it.
type EventView struct {
	Seq      int       `json:"seq"`
	Kind     string    `json:"kind"`
	Time     time.Time `json:"time"`
	Env      string    `json:"env,omitempty"`
	Build    string    `json:"build,omitempty"`
	From     string    `json:"from,omitempty"`
	Actor    string    `json:"actor,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Verdict  string    `json:"verdict,omitempty"`
	Override bool      `json:"override,omitempty"`
	// Line is the event as `stride ledger log` prints it.
	Line string `json:"line"`
}

func eventView(e ledger.Event) EventView {
	return EventView{Seq: e.Seq, Kind: e.Kind, Time: e.Time, Env: e.Env, Build: e.Build, From: e.From, Actor: e.Actor,
		Reason: e.Reason, Verdict: e.Verdict, Override: e.Override, Line: e.Line()}
}

func age(now, since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return ledger.Age(now.Sub(since))
}

// health is the last recorded healthy() result of env's build.
func health(f *status.Facts, env string) string {
	es := f.State.Env(env)
	if es.Build == "" {
		return "unknown"
	}
	ev := f.State.LastEvaluation(env, es.Build)
	if ev == nil {
		return "unknown"
	}
	for _, c := range ev.Criteria {
		if c.Kind == "healthy" {
			switch c.Status {
			case ledger.StatusPass:
				return "healthy"
			case ledger.StatusFail:
				return "failing"
			case ledger.StatusSkipped:
				return "not checked"
			}
			return "unknown"
		}
	}
	return "not checked"
}

// overview computes the overview of facts.
func (b *Board) overview(f *status.Facts, running map[string]*env.Status) *Overview {
	o := &Overview{Schema: OverviewSchema, Title: b.opts.Title, Time: f.Now, Events: len(f.Log.Events),
		Envs: []EnvSummary{}, Services: []ServiceRow{}, Recent: []EventView{}, Builds: []BuildRef{}}
	if !f.Log.Tip.IsZero() {
		o.LedgerTip = f.Log.Tip.String()
	}
	services := map[string]bool{}
	for _, e := range f.Config.Envs {
		v := f.EnvVerdict(e.Name)
		s := EnvSummary{EnvVerdict: v, Health: health(f, e.Name), Class: class(v), Running: running[e.Name]}
		if v.Since != nil {
			s.Age = age(f.Now, *v.Since)
		}
		o.Envs = append(o.Envs, s)
		if m, ok := f.Builds[v.Serves]; ok {
			for _, p := range m.Packages {
				services[p.Name] = true
			}
		}
	}
	var names []string
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		row := ServiceRow{Service: n}
		for _, s := range o.Envs {
			c := Cell{Env: s.Env, Health: s.Health}
			if m, ok := f.Builds[s.Serves]; ok {
				if p, ok := m.Package(n); ok {
					c.Build, c.Version, c.Age = s.Serves, p.Version, s.Age
				}
			}
			if s.Running != nil {
				if sum, h := instances(s.Running, n); sum != "" {
					c.Instances, c.Health = sum, h
				}
			}
			row.Cells = append(row.Cells, c)
		}
		o.Services = append(o.Services, row)
	}
	evs := f.Log.Events
	for i := len(evs) - 1; i >= 0 && len(o.Recent) < 15; i-- {
		o.Recent = append(o.Recent, eventView(evs[i]))
	}
	for _, id := range f.Order {
		if len(o.Builds) == 10 {
			break
		}
		m := f.Builds[id]
		r := BuildRef{Build: id, Number: m.Number, Time: m.Time}
		if m.Run != nil {
			r.Status = m.Run.Status
		}
		o.Builds = append(o.Builds, r)
	}
	return o
}

// BuildPage is a build's page (/builds/ID and /api/builds/ID).
type BuildPage struct {
	Schema  string    `json:"schema"`
	Title   string    `json:"title"`
	Time    time.Time `json:"time"`
	Build   string    `json:"build"`
	Commit  string    `json:"commit"`
	Subject string    `json:"subject,omitempty"`
	Author  string    `json:"author,omitempty"`
	Number  int       `json:"number"`
	// Published is when the build was published.
	Published time.Time       `json:"published"`
	Packages  []store.Package `json:"packages"`
	// Where is the build in every environment, with criteria.
	Where  status.Build  `json:"where"`
	Tests  Tests         `json:"tests"`
	Perf   *Perf         `json:"perf,omitempty"`
	Owners status.Owners `json:"owners"`
	Events []EventView   `json:"events"`
}

// Tests sums up the build's run report.
type Tests struct {
	Status string `json:"status"`
	Total  int    `json:"total"`
	Passed int    `json:"passed"`
	Failed int    `json:"failed"`
	Flaky  int    `json:"flaky"`
	// FailedTests and FlakyTests name them.
	FailedTests []TestRef `json:"failed_tests"`
	FlakyTests  []TestRef `json:"flaky_tests"`
	Error       string    `json:"error,omitempty"`
}

// TestRef is one test.
type TestRef struct {
	Label  string `json:"label"`
	Status string `json:"status"`
}

// Perf is the build's benchmark comparison with the build before it (as
// publish made it) and each benchmark's trend over the last builds.
type Perf struct {
	Comparison *perf.Comparison `json:"comparison,omitempty"`
	Trends     []Chart          `json:"trends"`
}

func (b *Board) buildPage(ctx context.Context, id string) (*BuildPage, error) {
	snap := b.current()
	f := snap.facts
	m, err := f.Find(id)
	if err != nil {
		return nil, errNotFound
	}
	p := &BuildPage{Schema: BuildSchema, Title: b.opts.Title, Time: f.Now, Build: m.Build, Commit: m.Commit, Number: m.Number,
		Published: m.Time, Packages: m.Packages, Events: []EventView{}}
	for _, e := range f.Log.Filter("", m.Build) {
		p.Events = append(p.Events, eventView(e))
	}
	p.Tests = b.tests(ctx, m)
	p.Perf = b.perfOf(ctx, f, m)
	b.mu.Lock()
	defer b.mu.Unlock()
	p.Where = f.BuildStatus(m)
	if c, err := b.repo.CommitObject(plumbing.NewHash(m.Commit)); err == nil {
		p.Subject = strings.SplitN(strings.TrimSpace(c.Message), "\n", 2)[0]
		p.Author = c.Author.Name + " <" + c.Author.Email + ">"
	}
	base := ""
	if m.Run != nil {
		base = m.Run.Base
	}
	if base == "" {
		p.Owners = status.Owners{Error: "the build's run recorded no base", Blocking: []status.Block{}, Suggested: []status.Reviewer{}}
	} else if res, sug, err := f.Owners(base, m.Commit); err != nil {
		p.Owners = status.Owners{Error: err.Error(), Blocking: []status.Block{}, Suggested: []status.Reviewer{}}
	} else {
		p.Owners = status.OwnersOf(res, sug)
	}
	return p, nil
}

func (b *Board) blob(ctx context.Context, m *store.Manifest, name string) ([]byte, error) {
	a, ok := m.Artifact(name)
	if !ok {
		return nil, nil
	}
	return store.ReadBlob(ctx, b.store, a.Digest)
}

func (b *Board) tests(ctx context.Context, m *store.Manifest) Tests {
	t := Tests{FailedTests: []TestRef{}, FlakyTests: []TestRef{}}
	data, err := b.blob(ctx, m, "report.json")
	if err != nil || data == nil {
		t.Error = "no run report in the store"
		if err != nil {
			t.Error = err.Error()
		}
		return t
	}
	rep, err := report.Parse("report.json of "+status.Short(m.Build), data)
	if err != nil {
		t.Error = err.Error()
		return t
	}
	t.Status, t.Total, t.Passed, t.Failed, t.Flaky = string(rep.Status), rep.Tests.Total, rep.Tests.Passed, rep.Tests.Failed, rep.Tests.Flaky
	for _, r := range rep.Tests.Results {
		if !report.Passed(r.Status) {
			t.FailedTests = append(t.FailedTests, TestRef{Label: r.Label, Status: r.Status})
		} else if r.Flaky {
			t.FlakyTests = append(t.FlakyTests, TestRef{Label: r.Label, Status: r.Status})
		}
	}
	return t
}

// perfOf reads the comparison publish stored and draws each benchmark's
// trend (median) over the last Trend builds up to m.
func (b *Board) perfOf(ctx context.Context, f *status.Facts, m *store.Manifest) *Perf {
	p := &Perf{Trends: []Chart{}}
	if data, err := b.blob(ctx, m, "perf/compare.json"); err == nil && data != nil {
		var c perf.Comparison
		if json.Unmarshal(data, &c) == nil {
			p.Comparison = &c
		}
	}
	// Builds up to m, oldest first.
	var ids []string
	seen := false
	for _, id := range f.Order {
		if id == m.Build {
			seen = true
		}
		if seen {
			ids = append(ids, id)
		}
		if len(ids) == b.opts.Trend {
			break
		}
	}
	type key struct{ target, name string }
	series := map[key][]Point{}
	var keys []key
	for i := len(ids) - 1; i >= 0; i-- {
		bm := f.Builds[ids[i]]
		data, err := b.blob(ctx, bm, "perf/perf.json")
		if err != nil || data == nil {
			continue
		}
		bs, err := perf.ParsePerfJSON(bm.Build, data)
		if err != nil {
			continue
		}
		vals := map[key][]float64{}
		for _, x := range bs {
			k := key{x.Target, x.Name}
			vals[k] = append(vals[k], x.NsPerOp)
		}
		for k, vs := range vals {
			if _, ok := series[k]; !ok {
				keys = append(keys, k)
			}
			series[k] = append(series[k], Point{Label: status.Short(bm.Build), Value: median(vs)})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].target+keys[i].name < keys[j].target+keys[j].name
	})
	for _, k := range keys {
		p.Trends = append(p.Trends, lineChart(fmt.Sprintf("%s %s (ns/op, median)", k.target, k.name), series[k]))
	}
	if p.Comparison == nil && len(p.Trends) == 0 {
		return nil
	}
	return p
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else if n > 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return 0
}

// EnvPage is an environment's page (/envs/NAME, /api/envs/NAME).
type EnvPage struct {
	Schema  string     `json:"schema"`
	Title   string     `json:"title"`
	Time    time.Time  `json:"time"`
	Verdict EnvSummary `json:"verdict"`
	// History is every promotion, rollback, hold and unhold, newest
	// first.
	History []EventView `json:"history"`
	// DORA are two of the four DORA measures, from the ledger.
	DORA DORA `json:"dora"`
}

// DORA holds lead time for changes and change failure rate.
type DORA struct {
	// Deployments counts promotions and rollbacks into the environment.
	Deployments int `json:"deployments"`
	// LeadTimeMedian is the median of commit-to-promotion times, in
	// seconds; LeadTime charts each promotion's.
	LeadTimeMedianSeconds float64 `json:"lead_time_median_seconds"`
	LeadTimeMedian        string  `json:"lead_time_median"`
	LeadTime              Chart   `json:"lead_time"`
	// ChangeFailureRate is the share of promotions later rolled back;
	// FailureRate charts it per day.
	ChangeFailureRate float64 `json:"change_failure_rate"`
	FailureRate       Chart   `json:"failure_rate"`
}

func (b *Board) envPage(name string) (*EnvPage, error) {
	snap := b.current()
	f := snap.facts
	if _, ok := f.Config.Env(name); !ok {
		return nil, errNotFound
	}
	p := &EnvPage{Schema: EnvSchema, Title: b.opts.Title, Time: f.Now, History: []EventView{}}
	for _, s := range snap.overview.Envs {
		if s.Env == name {
			p.Verdict = s
		}
	}
	evs := f.Log.Filter(name, "")
	for i := len(evs) - 1; i >= 0; i-- {
		switch evs[i].Kind {
		case ledger.KindPromotion, ledger.KindRollback, ledger.KindHold, ledger.KindUnhold:
			p.History = append(p.History, eventView(evs[i]))
		}
	}
	p.DORA = b.dora(f, name, evs)
	return p, nil
}

// dora computes lead time (the build's commit time to its promotion)
// and change failure rate (promotions later rolled back) from the
// ledger.
func (b *Board) dora(f *status.Facts, env string, evs []ledger.Event) DORA {
	d := DORA{}
	es := f.State.Env(env)
	var lead []Point
	var leads []float64
	type day struct{ n, failed int }
	days := map[string]*day{}
	var order []string
	b.mu.Lock()
	for _, e := range evs {
		if e.Kind != ledger.KindPromotion && e.Kind != ledger.KindRollback {
			continue
		}
		d.Deployments++
		if e.Kind != ledger.KindPromotion {
			continue
		}
		if ct, ok := b.commitTime(e.Build); ok {
			h := e.Time.Sub(ct).Hours()
			lead = append(lead, Point{Label: status.Short(e.Build), Value: h})
			leads = append(leads, h)
		}
		k := e.Time.UTC().Format("2006-01-02")
		if days[k] == nil {
			days[k] = &day{}
			order = append(order, k)
		}
		days[k].n++
		if es.RolledBack[e.Build] != nil {
			days[k].failed++
		}
	}
	b.mu.Unlock()
	var promotions, failed int
	var rate []Point
	for _, k := range order {
		promotions += days[k].n
		failed += days[k].failed
		rate = append(rate, Point{Label: k[5:], Value: 100 * float64(days[k].failed) / float64(days[k].n)})
	}
	if promotions > 0 {
		d.ChangeFailureRate = float64(failed) / float64(promotions)
	}
	if len(leads) > 0 {
		d.LeadTimeMedianSeconds = median(leads) * 3600
		d.LeadTimeMedian = ledger.Age(time.Duration(d.LeadTimeMedianSeconds) * time.Second)
	}
	d.LeadTime = barChart("lead time, commit to "+env+" (hours)", lead)
	d.FailureRate = barChart("change failure rate per day (%)", rate)
	return d
}

// commitTime is a commit's committer time, cached (under b.mu).
func (b *Board) commitTime(id string) (time.Time, bool) {
	if t, ok := b.commitTimes[id]; ok {
		return t, !t.IsZero()
	}
	var t time.Time
	if c, err := b.repo.CommitObject(plumbing.NewHash(id)); err == nil {
		t = c.Committer.When
	}
	b.commitTimes[id] = t
	return t, !t.IsZero()
}

// ChangePage is a change's status (/change?base=&head=), the page of
// `stride status --format md`.
type ChangePage struct {
	Schema string         `json:"schema"`
	Title  string         `json:"title"`
	Status *status.Status `json:"status"`
	// HTML is the Markdown comment rendered (not in the JSON).
	HTML template.HTML `json:"-"`
}

var errBadChange = errors.New("bad change")

func (b *Board) changePage(base, head string) (*ChangePage, error) {
	snap := b.current()
	b.mu.Lock()
	defer b.mu.Unlock()
	ch, err := change.Resolve(b.repo, change.Options{Base: base, Head: head})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadChange, err)
	}
	s, err := snap.facts.Of(ch)
	if err != nil {
		return nil, err
	}
	h, err := renderMarkdown(s.Markdown())
	if err != nil {
		return nil, err
	}
	return &ChangePage{Schema: ChangeSchema, Title: b.opts.Title, Status: s, HTML: h}, nil
}
