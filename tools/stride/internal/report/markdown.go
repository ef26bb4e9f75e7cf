package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits that keep report.md readable on a large change; report.json
// always has everything.
const (
	maxChangeRows = 100
	maxTargetRows = 200
	slowestTests  = 10
)

// Markdown renders report.md: the outcome, failures first with their log
// tails, then what changed, the affected targets with reasons, the tests
// (slowest first), perf numbers, cache hit rates, the owners and policy
// checks and the timing.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# stride run: %s\n\n", strings.ToUpper(string(r.Status)))
	fmt.Fprintf(&b, "%s\n\n", r.Summary)
	fmt.Fprintf(&b, "- head: `%s`", shortSHA(r.Head.SHA))
	if r.Head.Rev != "" && r.Head.Rev != r.Head.SHA {
		fmt.Fprintf(&b, " (%s)", r.Head.Rev)
	}
	if r.Branch != "" {
		fmt.Fprintf(&b, " on branch `%s`", r.Branch)
	}
	if r.Dirty {
		b.WriteString(", plus uncommitted changes")
	}
	b.WriteString("\n")
	if r.Base.SHA != "" {
		fmt.Fprintf(&b, "- base: `%s`", shortSHA(r.Base.SHA))
		if r.Base.Rev != "" && r.Base.Rev != r.Base.SHA {
			fmt.Fprintf(&b, " (%s)", r.Base.Rev)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "- started %s, took %s\n", r.Started.UTC().Format(time.RFC3339), ms(r.Timing.TotalMS))
	b.WriteString("\n")

	r.mdErrors(&b)
	r.mdFailures(&b)
	r.mdChanges(&b)
	r.mdAffected(&b)
	r.mdTests(&b)
	r.mdPerf(&b)
	r.mdChecks(&b)
	r.mdCacheTiming(&b)
	r.mdShards(&b)
	return b.String()
}

// mdShards says which part of the run a shard's report is, or, for a
// merged report, how each shard went.
func (r *Report) mdShards(b *strings.Builder) {
	if s := r.Shard; s != nil {
		b.WriteString("\n## Shard\n\n")
		fmt.Fprintf(b, "This is shard %d of %d: %d of the %d affected target(s), balanced by %s (affected set `%.12s`). `stride report merge` combines the shards' reports.\n",
			s.Index, s.Count, len(s.Targets), r.Affected.Count, s.Balance, s.AffectedDigest)
	}
	if len(r.Shards) == 0 {
		return
	}
	b.WriteString("\n## Shards\n\n| shard | status | targets | took | report |\n|---|---|---|---|---|\n")
	for _, s := range r.Shards {
		fmt.Fprintf(b, "| %d/%d | %s | %d | %s | `%s` |\n", s.Index, s.Count, s.Status, len(s.Targets), ms(s.TotalMS), cell(s.Dir))
	}
}

func (r *Report) mdErrors(b *strings.Builder) {
	if len(r.Errors) == 0 {
		return
	}
	b.WriteString("## Errors\n\n")
	b.WriteString("The run could not finish its job; the outcome of the change is unknown.\n\n")
	for _, e := range r.Errors {
		fmt.Fprintf(b, "- %s\n", oneLine(e))
	}
	b.WriteString("\n")
}

func (r *Report) mdFailures(b *strings.Builder) {
	var buildFailed []TargetFailure
	var buildTail string
	for _, inv := range []*Invocation{r.Build, r.Test, r.Bench} {
		if inv == nil {
			continue
		}
		buildFailed = append(buildFailed, inv.Failed...)
		if len(inv.Failed) > 0 && buildTail == "" {
			buildTail = inv.LogTail
		}
	}
	var failedTests []TestResult
	for _, t := range r.Tests.Results {
		if !Passed(t.Status) {
			failedTests = append(failedTests, t)
		}
	}
	if len(buildFailed) == 0 && len(failedTests) == 0 {
		return
	}
	b.WriteString("## Failures\n\n")
	if len(buildFailed) > 0 {
		fmt.Fprintf(b, "### Build: %d target(s) failed\n\n", len(buildFailed))
		seen := map[string]bool{}
		outputs := false
		for _, f := range buildFailed {
			if seen[f.Label] {
				continue
			}
			seen[f.Label] = true
			if f.Reason != "" {
				fmt.Fprintf(b, "- `%s`: %s\n", f.Label, oneLine(f.Reason))
			} else {
				fmt.Fprintf(b, "- `%s`\n", f.Label)
			}
			if f.Output != "" {
				outputs = true
			}
		}
		b.WriteString("\n")
		seen = map[string]bool{}
		for _, f := range buildFailed {
			if f.Output != "" && !seen[f.Label] {
				seen[f.Label] = true
				fmt.Fprintf(b, "Output of `%s`:\n\n", f.Label)
				fence(b, f.Output)
			}
		}
		if buildTail != "" && !outputs {
			fence(b, buildTail)
		}
	}
	for _, t := range failedTests {
		fmt.Fprintf(b, "### `%s`: %s\n\n", t.Label, t.Status)
		if len(t.FailedCases) > 0 {
			fmt.Fprintf(b, "Failed cases: %s\n\n", strings.Join(quoteAll(t.FailedCases), ", "))
		}
		if t.Log != "" {
			fmt.Fprintf(b, "Log: `%s`\n\n", t.Log)
		}
		if t.LogTail != "" {
			fence(b, t.LogTail)
		}
	}
}

func (r *Report) mdChanges(b *strings.Builder) {
	fmt.Fprintf(b, "## What changed (%d file(s))\n\n", len(r.Changes))
	if len(r.Changes) == 0 {
		b.WriteString("No files changed.\n\n")
		return
	}
	b.WriteString("| change | path |\n|---|---|\n")
	for i, c := range r.Changes {
		if i == maxChangeRows {
			fmt.Fprintf(b, "| | … and %d more (see report.json) |\n", len(r.Changes)-maxChangeRows)
			break
		}
		p := "`" + cell(c.Path) + "`"
		if c.OldPath != "" {
			p = "`" + cell(c.OldPath) + "` → " + p
		}
		fmt.Fprintf(b, "| %s | %s |\n", c.Status, p)
	}
	b.WriteString("\n")
}

func (r *Report) mdAffected(b *strings.Builder) {
	fmt.Fprintf(b, "## Affected targets (%d, %d test(s))\n\n", r.Affected.Count, r.Affected.Tests)
	if len(r.Affected.Targets) == 0 {
		b.WriteString("Nothing affected: nothing to build or test.\n\n")
		return
	}
	b.WriteString("| target | kind | why |\n|---|---|---|\n")
	for i, t := range r.Affected.Targets {
		if i == maxTargetRows {
			fmt.Fprintf(b, "| … and %d more (see report.json) | | |\n", len(r.Affected.Targets)-maxTargetRows)
			break
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", cell(t.Label), cell(t.Kind), cell(strings.Join(t.Reasons, "; ")))
	}
	b.WriteString("\n")
}

func (r *Report) mdTests(b *strings.Builder) {
	ts := r.Tests
	if ts.Total == 0 {
		return
	}
	fmt.Fprintf(b, "## Tests\n\n%d test target(s): %d passed, %d failed, %d flaky; %d cached, %d executed.\n\n",
		ts.Total, ts.Passed, ts.Failed, ts.Flaky, ts.Cached, ts.Executed)
	var flaky []string
	for _, t := range ts.Results {
		if t.Flaky {
			flaky = append(flaky, "`"+t.Label+"`")
		}
	}
	if len(flaky) > 0 {
		fmt.Fprintf(b, "Flaky (passed on retry): %s\n\n", strings.Join(flaky, ", "))
	}
	slow := append([]TestResult{}, ts.Results...)
	sort.SliceStable(slow, func(i, j int) bool {
		if slow[i].DurationMS != slow[j].DurationMS {
			return slow[i].DurationMS > slow[j].DurationMS
		}
		return slow[i].Label < slow[j].Label
	})
	if len(slow) > slowestTests {
		slow = slow[:slowestTests]
	}
	b.WriteString("### Slowest tests\n\n| test | status | time | cached |\n|---|---|---|---|\n")
	for _, t := range slow {
		cached := ""
		if t.Cached {
			cached = "yes"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", cell(t.Label), t.Status, ms(t.DurationMS), cached)
	}
	b.WriteString("\n")
}

func (r *Report) mdPerf(b *strings.Builder) {
	if len(r.Benchmarks) == 0 {
		return
	}
	b.WriteString("## Perf\n\n| target | benchmark | iterations | ns/op | B/op | allocs/op |\n|---|---|---|---|---|---|\n")
	for _, p := range r.Benchmarks {
		name := p.Name
		if p.Procs > 0 {
			name += "-" + strconv.Itoa(p.Procs)
		}
		if p.Cached {
			name += " (cached)"
		}
		fmt.Fprintf(b, "| `%s` | %s | %d | %s | %s | %s |\n", cell(p.Target), cell(name), p.Iterations,
			num(&p.NsPerOp), num(p.BytesPerOp), num(p.AllocsPerOp))
	}
	b.WriteString("\n")
}

func (r *Report) mdChecks(b *strings.Builder) {
	b.WriteString("## Checks\n\n")
	for _, c := range []struct {
		name string
		c    Check
	}{{"owners", r.Owners}, {"policy", r.Policy}} {
		switch {
		case !c.c.Checked:
			fmt.Fprintf(b, "- %s: not checked (%s)\n", c.name, c.c.Reason)
		case c.c.OK:
			fmt.Fprintf(b, "- %s: ok", c.name)
			if c.c.Reason != "" {
				fmt.Fprintf(b, " (%s)", c.c.Reason)
			}
			b.WriteString("\n")
		default:
			fmt.Fprintf(b, "- %s: %s\n", c.name, orDefault(c.c.Reason, "problems found"))
		}
		for _, f := range c.c.Findings {
			fmt.Fprintf(b, "  - %s\n", oneLine(f))
		}
	}
	b.WriteString("\n")
}

func (r *Report) mdCacheTiming(b *strings.Builder) {
	b.WriteString("## Cache and timing\n\n")
	c := r.Cache
	if c.ActionHitRate != nil {
		fmt.Fprintf(b, "- actions: %d executed of %d (cache hit rate %s)\n", c.ActionsExecuted, c.ActionsCreated, pct(*c.ActionHitRate))
	} else {
		fmt.Fprintf(b, "- actions: %d executed\n", c.ActionsExecuted)
	}
	if c.TestHitRate != nil {
		fmt.Fprintf(b, "- tests: %d cached of %d (cache hit rate %s)\n", r.Tests.Cached, r.Tests.Total, pct(*c.TestHitRate))
	}
	if rc := c.Remote; rc != nil {
		switch {
		case !rc.Used:
			fmt.Fprintf(b, "- remote cache `%s`: not used: %s\n", rc.URL, rc.Note)
		case rc.HitRate != nil:
			fmt.Fprintf(b, "- remote cache `%s`: %d hits of %d processes (hit rate %s)\n", rc.URL, c.RemoteCacheHits, c.Processes, pct(*rc.HitRate))
		default:
			fmt.Fprintf(b, "- remote cache `%s`: no processes ran\n", rc.URL)
		}
	}
	t := r.Timing
	fmt.Fprintf(b, "- time: %s total = affected %s, checks %s, build %s, test %s, bench %s; Bazel (build, test, bench) %s, the rest %s\n",
		ms(t.TotalMS), ms(t.AffectedMS), ms(t.ChecksMS), ms(t.BuildMS), ms(t.TestMS), ms(t.BenchMS), ms(t.BazelMS), ms(t.OverheadMS))
	var logs []string
	for _, inv := range []*Invocation{r.Build, r.Test, r.Bench} {
		if inv != nil && inv.Log != "" {
			logs = append(logs, "`"+inv.Log+"`")
		}
	}
	if len(logs) > 0 {
		fmt.Fprintf(b, "- Bazel logs: %s\n", strings.Join(logs, ", "))
	}
}

func fence(b *strings.Builder, text string) {
	text = strings.TrimRight(text, "\n")
	f := "```"
	for strings.Contains(text, f) {
		f += "`"
	}
	fmt.Fprintf(b, "%stext\n%s\n%s\n\n", f, text, f)
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	if s == "" {
		return "(none)"
	}
	return s
}

func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ms formats milliseconds for people: 850ms, 12.3s, 2m05s.
func ms(v int64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%dms", v)
	case v < 60000:
		return fmt.Sprintf("%.1fs", float64(v)/1000)
	}
	s := (v + 500) / 1000
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

func num(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
