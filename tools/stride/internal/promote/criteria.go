package promote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/perf"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// HoldCriterion is the pseudo-criterion every evaluation starts with: no
// hold or freeze is in force on the environment.
const HoldCriterion = "not held"

// candidate is what an evaluation looks at.
type candidate struct {
	env     *Env
	build   *store.Manifest
	current *store.Manifest // what env serves now (nil: nothing yet)
	state   *ledger.State
	// changed are the services (packages) whose version differs from
	// current's: the build's affected services in this environment.
	changed []string
}

// changedServices lists the packages of m whose version is not the one
// cur serves (every package when cur is nil), sorted. publish keeps a
// service's version (and bytes) when its package content did not change,
// so this is the set of services the build's Bazel-affected targets
// changed.
func changedServices(m, cur *store.Manifest) []string {
	var out []string
	for _, p := range m.Packages {
		if cur != nil {
			if cp, ok := cur.Package(p.Name); ok && cp.Version == p.Version {
				continue
			}
		}
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// evaluate evaluates every criterion of c.env for c.build. Nothing is
// recorded here.
func (r *robot) evaluate(ctx context.Context, c *candidate) ledger.Event {
	ev := ledger.Event{Kind: ledger.KindEvaluation, Env: c.env.Name, Build: c.build.Build, Actor: r.o.Actor, Verdict: ledger.VerdictPass}
	hold := ledger.CriterionResult{Criterion: HoldCriterion, Kind: "hold", Status: ledger.StatusPass, Evidence: "no hold or freeze on " + c.env.Name}
	if h := c.state.Held(c.env.Name); h != nil {
		what := c.env.Name + " is held"
		if h.Env == ledger.HoldAll {
			what = "every environment is frozen"
		}
		hold.Status, hold.Evidence = ledger.StatusFail, fmt.Sprintf("%s by %s since %s: %q (stride promote unhold %s --reason ...)", what, h.Actor, h.Time.UTC().Format(time.RFC3339), h.Reason, h.Env)
	}
	ev.Criteria = append(ev.Criteria, hold)
	for _, cr := range c.env.Criteria {
		res := r.criterion(ctx, c, cr)
		res.Criterion, res.Kind = cr.Text, cr.Kind
		ev.Criteria = append(ev.Criteria, res)
	}
	for _, cr := range ev.Criteria {
		if cr.Blocks() {
			ev.Verdict = ledger.VerdictBlocked
		}
	}
	return ev
}

func result(status, format string, a ...interface{}) ledger.CriterionResult {
	return ledger.CriterionResult{Status: status, Evidence: fmt.Sprintf(format, a...)}
}

// noServiceChanged is the evidence of criteria skipped because the build
// changes no service in the environment.
func noServiceChanged(c *candidate) ledger.CriterionResult {
	return result(ledger.StatusSkipped, "not relevant: the build changes no service in %s (every package has the version build %s has there)", c.env.Name, short(c.current.Build))
}

func (r *robot) criterion(ctx context.Context, c *candidate, cr Criterion) ledger.CriterionResult {
	switch cr.Kind {
	case TestsGreen:
		return r.testsGreen(ctx, c)
	case Soak:
		if len(c.changed) == 0 && c.current != nil {
			return noServiceChanged(c)
		}
		return r.soak(c, cr)
	case Perf:
		if len(c.changed) == 0 && c.current != nil {
			return noServiceChanged(c)
		}
		return r.perf(ctx, c, cr)
	case OwnersApproved:
		return r.ownersApproved(c)
	case Healthy:
		if len(c.changed) == 0 && c.current != nil {
			return noServiceChanged(c)
		}
		return r.healthy(ctx, c, cr)
	case Window:
		now := r.now()
		if cr.InWindow(now) {
			return result(ledger.StatusPass, "now (%s) is inside the window", now.In(cr.Location).Format("Mon 15:04 MST"))
		}
		return result(ledger.StatusFail, "now (%s) is outside the window: promotions wait for it", now.In(cr.Location).Format("Mon 15:04 MST"))
	}
	return result(ledger.StatusUnknown, "stride does not know criterion %s", cr.Kind)
}

// readReport reads a build's report.json from the store.
func readReport(ctx context.Context, s store.Store, m *store.Manifest) (*report.Report, error) {
	a, ok := m.Artifact("report.json")
	if !ok {
		return nil, fmt.Errorf("build %s has no report.json in the store", short(m.Build))
	}
	b, err := store.ReadBlob(ctx, s, a.Digest)
	if err != nil {
		return nil, err
	}
	return report.Parse("report.json of build "+short(m.Build), b)
}

func (r *robot) testsGreen(ctx context.Context, c *candidate) ledger.CriterionResult {
	rep, err := readReport(ctx, r.o.Store, c.build)
	if err != nil {
		return result(ledger.StatusUnknown, "cannot read the run report: %v", err)
	}
	t := rep.Tests
	if rep.Status != report.StatusGreen || t.Failed > 0 {
		return result(ledger.StatusFail, "run report of %s: status %s, %d of %d tests failed", short(c.build.Build), rep.Status, t.Failed, t.Total)
	}
	if t.Total == 0 {
		return result(ledger.StatusPass, "run report of %s: green; the build affected no tests", short(c.build.Build))
	}
	flaky := ""
	if t.Flaky > 0 {
		flaky = fmt.Sprintf(" (%d flaky)", t.Flaky)
	}
	return result(ledger.StatusPass, "run report of %s: green, %d of %d tests passed%s", short(c.build.Build), t.Passed, t.Total, flaky)
}

func (r *robot) soak(c *candidate, cr Criterion) ledger.CriterionResult {
	now := r.now()
	prev := c.env.After
	var in, out time.Time
	if prev == "" {
		prev, in = "the store", c.build.Time
	} else {
		var ok bool
		if in, out, ok = c.state.Entered(prev, c.build.Build); !ok {
			return result(ledger.StatusFail, "build %s was never in %s", short(c.build.Build), prev)
		}
	}
	end, still := out, ""
	if end.IsZero() {
		end, still = now, " and is still there"
	}
	d := end.Sub(in)
	ev := fmt.Sprintf("in %s for %s since %s%s; needs %s", prev, ledger.Age(d), in.UTC().Format(time.RFC3339), still, ledger.Age(cr.Soak))
	if d >= cr.Soak {
		return result(ledger.StatusPass, "%s", ev)
	}
	if !out.IsZero() {
		return result(ledger.StatusFail, "%s; it left %s at %s", ev, prev, out.UTC().Format(time.RFC3339))
	}
	return result(ledger.StatusFail, "%s: %s to go", ev, ledger.Age(cr.Soak-d))
}

// readPerf reads a build's perf.json (nil, nil when it has none).
func readPerf(ctx context.Context, s store.Store, m *store.Manifest) ([]report.Benchmark, error) {
	a, ok := m.Artifact("perf/perf.json")
	if !ok {
		return nil, nil
	}
	b, err := store.ReadBlob(ctx, s, a.Digest)
	if err != nil {
		return nil, err
	}
	return perf.ParsePerfJSON(m.Build+":perf/perf.json", b)
}

// higherIsWorse reports whether a larger value of unit is a regression.
func higherIsWorse(unit string) bool { return !strings.HasSuffix(unit, "/s") }

func (r *robot) perf(ctx context.Context, c *candidate, cr Criterion) ledger.CriterionResult {
	now, err := readPerf(ctx, r.o.Store, c.build)
	if err != nil {
		return result(ledger.StatusUnknown, "cannot read the build's benchmark results: %v", err)
	}
	if len(now) == 0 {
		return result(ledger.StatusSkipped, "not relevant: the build ran no benchmarks (none of its affected targets is a perf test)")
	}
	if c.current == nil {
		return result(ledger.StatusPass, "%s serves no build yet: nothing to compare with", c.env.Name)
	}
	old, err := readPerf(ctx, r.o.Store, c.current)
	if err != nil {
		return result(ledger.StatusUnknown, "cannot read the benchmark results of %s's build %s: %v", c.env.Name, short(c.current.Build), err)
	}
	// The comparison publish makes (U-test, Alpha), against what the
	// environment serves: for each target, that build's results, or the
	// build's own baseline when that build did not run the target.
	baselines := map[string]perf.Baseline{}
	for _, b := range old {
		bl := baselines[b.Target]
		bl.Build = c.current.Build
		bl.Benchmarks = append(bl.Benchmarks, b)
		baselines[b.Target] = bl
	}
	cmp := perf.Compare(c.build.Build, now, baselines)
	compared, worst := 0, ""
	var worstPct float64
	for _, row := range cmp.Rows {
		if row.ChangePct == nil {
			continue
		}
		compared++
		pct := *row.ChangePct
		if !higherIsWorse(row.Unit) {
			pct = -pct
		}
		if row.Significant && pct > cr.MaxRegression*100 && pct > worstPct {
			p := 0.0
			if row.P != nil {
				p = *row.P
			}
			worstPct, worst = pct, fmt.Sprintf("%s %s %s: %+.1f%% worse (p=%.3f)", row.Target, row.Name, row.Unit, pct, p)
		}
	}
	if compared == 0 {
		return result(ledger.StatusPass, "no benchmark in common with %s's build %s (%d new)", c.env.Name, short(c.current.Build), len(cmp.Rows))
	}
	if worst != "" {
		return result(ledger.StatusFail, "against %s's build %s: %s, beyond the bound of %.0f%%", c.env.Name, short(c.current.Build), worst, cr.MaxRegression*100)
	}
	return result(ledger.StatusPass, "against %s's build %s: %d benchmarks, no significant regression beyond %.0f%%", c.env.Name, short(c.current.Build), compared, cr.MaxRegression*100)
}

func (r *robot) ownersApproved(c *candidate) ledger.CriterionResult {
	if r.o.Repo == nil {
		return result(ledger.StatusUnknown, "no repository to read OWNERS from")
	}
	base, since := "", ""
	if c.current != nil {
		base, since = c.current.Commit, fmt.Sprintf("%s's build %s", c.env.Name, short(c.current.Build))
	} else if c.build.Run != nil && c.build.Run.Base != "" {
		base, since = c.build.Run.Base, fmt.Sprintf("the run's base %s (%s serves no build yet)", short(c.build.Run.Base), c.env.Name)
	}
	if base == "" {
		return result(ledger.StatusUnknown, "no base to compare with: %s serves no build and the run recorded no base", c.env.Name)
	}
	// Exactly what `stride owners check --base BASE --head BUILD` decides.
	res, err := owners.CheckRepo(r.o.Repo, owners.RepoCheck{Base: base, Head: c.build.Commit})
	if err != nil {
		return result(ledger.StatusUnknown, "stride owners check --base %s --head %s: %v", short(base), short(c.build.Commit), err)
	}
	if res.OK {
		var by []string
		for _, a := range res.Approvals {
			by = append(by, a.Email)
		}
		who := "by their authors"
		if len(by) > 0 {
			who = "by " + strings.Join(uniq(by), ", ")
		}
		return result(ledger.StatusPass, "%d files changed since %s, all approved %s", res.Summary.Files, since, who)
	}
	var needs []string
	for _, d := range res.Dirs {
		if !d.Approved {
			needs = append(needs, fmt.Sprintf("%s needs %s", dirName(d.Dir), d.Needs))
		}
	}
	if len(res.Diagnostics) > 0 {
		needs = append(needs, fmt.Sprintf("%d errors in OWNERS files", len(res.Diagnostics)))
	}
	return result(ledger.StatusFail, "%d of %d files changed since %s lack their owners' approval: %s (stride owners suggest --base %s --head %s)",
		res.Summary.Missing, res.Summary.Files, since, strings.Join(needs, "; "), short(base), short(c.build.Commit))
}

func dirName(d string) string {
	if d == "" || d == "." {
		return "/"
	}
	return d + "/"
}

func uniq(ss []string) []string {
	sort.Strings(ss)
	var out []string
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// healthy: the previous environment's services answer their health
// URLs, and, where that environment runs behind a local balancer, their
// failed requests over the soak (since the build entered it) stay under
// cr.MaxErrorRate.
func (r *robot) healthy(ctx context.Context, c *candidate, cr Criterion) ledger.CriterionResult {
	prev := c.env
	if c.env.After != "" {
		prev, _ = r.o.Config.Env(c.env.After)
	}
	var ok, bad, unknown []string
	traffic, balanced, err := r.traffic(prev.Name, c)
	if err != nil {
		unknown = append(unknown, fmt.Sprintf("%s's balancer: %v", prev.Name, err))
	}
	if !balanced && len(prev.Health) == 0 {
		return result(ledger.StatusSkipped, "not checked: %s names no health URLs (environment(health = {...})) and runs no services stride watches", prev.Name)
	}
	for _, svc := range c.changed {
		if balanced {
			t, has := traffic[svc]
			switch {
			case !has:
				unknown = append(unknown, fmt.Sprintf("%s: %s's balancer has no backend for it", svc, prev.Name))
			case t.Requests == 0:
				ok = append(ok, fmt.Sprintf("%s (no requests since %s)", svc, t.From.UTC().Format(time.RFC3339)))
			default:
				rate := float64(t.Errors) / float64(t.Requests)
				line := fmt.Sprintf("%s: %d of %d requests failed (%.2f%%) through the balancer since %s", svc, t.Errors, t.Requests, 100*rate, t.From.UTC().Format(time.RFC3339))
				if rate > cr.MaxErrorRate {
					bad = append(bad, fmt.Sprintf("%s; the bound is %.2f%%", line, 100*cr.MaxErrorRate))
				} else {
					ok = append(ok, line)
				}
			}
		}
		url, has := prev.Health[svc]
		if !has {
			if !balanced {
				unknown = append(unknown, fmt.Sprintf("%s: %s names no health URL for it", svc, prev.Name))
			}
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, r.o.HealthTimeout)
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
		var resp *http.Response
		if err == nil {
			resp, err = r.o.HTTP.Do(req)
		}
		cancel()
		switch {
		case err != nil:
			unknown = append(unknown, fmt.Sprintf("%s: %s unreachable: %v", svc, url, errors.Unwrap(err)))
		case resp.StatusCode/100 != 2:
			resp.Body.Close()
			bad = append(bad, fmt.Sprintf("%s: %s answered %s", svc, url, resp.Status))
		default:
			resp.Body.Close()
			ok = append(ok, svc+" answered "+url)
		}
	}
	switch {
	case len(bad) > 0:
		return result(ledger.StatusFail, "in %s: %s", prev.Name, strings.Join(append(bad, unknown...), "; "))
	case len(unknown) > 0:
		return result(ledger.StatusUnknown, "in %s: %s", prev.Name, strings.Join(unknown, "; "))
	case len(ok) == 0:
		return result(ledger.StatusSkipped, "not relevant: the build changes no service in %s", c.env.Name)
	}
	return result(ledger.StatusPass, "in %s: %s", prev.Name, strings.Join(ok, "; "))
}

// traffic reads the previous environment's balancer since the build
// entered it (for the first environment, since the build was stored).
func (r *robot) traffic(prev string, c *candidate) (map[string]Traffic, bool, error) {
	if r.o.Traffic == nil {
		return nil, false, nil
	}
	since := c.build.Time
	if in, _, ok := c.state.Entered(prev, c.build.Build); ok {
		since = in
	}
	return r.o.Traffic.Traffic(prev, since)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
