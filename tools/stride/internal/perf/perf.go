// Package perf compares a build's benchmark results with the previous
// build's, in the manner of benchstat: for each benchmark and unit, the
// mean and spread of each side, the change of the mean in percent, and
// whether the change is significant (Mann-Whitney U-test from
// golang.org/x/perf/benchmath, alpha 0.05).
//
// A benchmark is identified by its Bazel test target and name; several
// result lines of one benchmark (go test -count N) form its sample. With
// fewer than 4 samples per side no change can be significant, and the
// comparison says so instead of pretending.
package perf

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"

	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Schema is the "schema" of a comparison's JSON form.
const Schema = "stride.perf-compare/v1"

// Alpha is the significance level of the U-test.
const Alpha = 0.05

// Baseline is the previous results of one test target.
type Baseline struct {
	Build      string
	Benchmarks []report.Benchmark
}

// Stat sums up one side of a row.
type Stat struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	StdDev float64 `json:"stddev"`
	// Spread is the largest deviation of a sample from the mean, in
	// percent of the mean (benchstat's "±").
	Spread float64 `json:"spread_pct"`
}

// Row is one benchmark and unit.
type Row struct {
	Target string `json:"target"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	// Baseline is the build the old side comes from ("" when the
	// benchmark is new).
	Baseline string `json:"baseline,omitempty"`
	Old      *Stat  `json:"old,omitempty"`
	New      *Stat  `json:"new,omitempty"`
	// ChangePct is (new mean / old mean - 1) * 100, when both exist.
	ChangePct *float64 `json:"change_pct,omitempty"`
	// P is the U-test's p-value; Significant is P < Alpha.
	P           *float64 `json:"p,omitempty"`
	Significant bool     `json:"significant"`
	// Note explains a missing side or too few samples.
	Note string `json:"note,omitempty"`
}

// Comparison is the whole comparison.
type Comparison struct {
	Schema string `json:"schema"`
	Build  string `json:"build"`
	Rows   []Row  `json:"rows"`
}

type key struct{ target, name, unit string }

// values groups benchmark results by target, name and unit.
func values(bs []report.Benchmark) map[key][]float64 {
	m := map[key][]float64{}
	add := func(b report.Benchmark, unit string, v float64) {
		k := key{b.Target, b.Name, unit}
		m[k] = append(m[k], v)
	}
	for _, b := range bs {
		add(b, "ns/op", b.NsPerOp)
		if b.BytesPerOp != nil {
			add(b, "B/op", *b.BytesPerOp)
		}
		if b.AllocsPerOp != nil {
			add(b, "allocs/op", *b.AllocsPerOp)
		}
		if b.MBPerSec != nil {
			add(b, "MB/s", *b.MBPerSec)
		}
		for u, v := range b.Metrics {
			add(b, u, v)
		}
	}
	return m
}

func stat(vs []float64) *Stat {
	s := &Stat{N: len(vs)}
	for _, v := range vs {
		s.Mean += v
	}
	s.Mean /= float64(len(vs))
	var ss, maxDev float64
	for _, v := range vs {
		ss += (v - s.Mean) * (v - s.Mean)
		if d := math.Abs(v - s.Mean); d > maxDev {
			maxDev = d
		}
	}
	if len(vs) > 1 {
		s.StdDev = math.Sqrt(ss / float64(len(vs)-1))
	}
	if s.Mean != 0 {
		s.Spread = 100 * maxDev / math.Abs(s.Mean)
	}
	sorted := append([]float64{}, vs...)
	sort.Float64s(sorted)
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// Compare compares the current results with each target's baseline.
// Targets without a baseline give rows with only the new side.
func Compare(build string, current []report.Benchmark, baselines map[string]Baseline) *Comparison {
	c := &Comparison{Schema: Schema, Build: build, Rows: []Row{}}
	cur := values(current)
	old := map[key][]float64{}
	for _, bl := range baselines {
		for k, v := range values(bl.Benchmarks) {
			old[k] = v
		}
	}
	keys := map[key]bool{}
	for k := range cur {
		keys[k] = true
	}
	inCurrent := currentTargets(current)
	for k := range old {
		if inCurrent[k.target] { // a benchmark of a target that ran: gone
			keys[k] = true
		}
	}
	for k := range keys {
		r := Row{Target: k.target, Name: k.name, Unit: k.unit}
		if bl, ok := baselines[k.target]; ok {
			r.Baseline = bl.Build
		}
		nv, ov := cur[k], old[k]
		if len(nv) > 0 {
			r.New = stat(nv)
		}
		if len(ov) > 0 {
			r.Old = stat(ov)
		}
		switch {
		case r.Old == nil && r.Baseline == "":
			r.Note = "no earlier build ran this target's benchmarks"
		case r.Old == nil:
			r.Note = "new benchmark"
		case r.New == nil:
			r.Note = "gone"
		default:
			if r.Old.Mean != 0 {
				ch := (r.New.Mean/r.Old.Mean - 1) * 100
				r.ChangePct = &ch
			}
			cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(ov, &benchmath.DefaultThresholds), benchmath.NewSample(nv, &benchmath.DefaultThresholds))
			p := cmp.P
			r.P = &p
			r.Significant = p < Alpha
			if len(cmp.Warnings) > 0 {
				r.Note = cmp.Warnings[0].Error()
			}
		}
		c.Rows = append(c.Rows, r)
	}
	sort.Slice(c.Rows, func(i, j int) bool {
		a, b := c.Rows[i], c.Rows[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.Unit != b.Unit {
			return unitRank(a.Unit) < unitRank(b.Unit)
		}
		return a.Name < b.Name
	})
	return c
}

func currentTargets(bs []report.Benchmark) map[string]bool {
	m := map[string]bool{}
	for _, b := range bs {
		m[b.Target] = true
	}
	return m
}

func unitRank(u string) string {
	switch u {
	case "ns/op":
		return "0"
	case "MB/s":
		return "1"
	case "B/op":
		return "2"
	case "allocs/op":
		return "3"
	}
	return "4" + u
}

// JSON renders the comparison (indented, trailing newline).
func (c *Comparison) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Text renders the comparison as benchstat-like tables, one per target
// and unit:
//
//	//services/artifactd/internal/server/perf:perf_test  (vs build 1a2b3c4)
//	ns/op          old            new            change
//	Serve1MiB      81.2µ ± 3%     79.0µ ± 2%     -2.71% (p=0.002 n=6)
func (c *Comparison) Text() string {
	var b strings.Builder
	if len(c.Rows) == 0 {
		b.WriteString("no benchmarks in this build\n")
		return b.String()
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	lastTarget, lastUnit := "", ""
	for _, r := range c.Rows {
		if r.Target != lastTarget {
			if lastTarget != "" {
				fmt.Fprintln(tw)
			}
			base := "no baseline"
			if r.Baseline != "" {
				base = "vs build " + short(r.Baseline)
			}
			fmt.Fprintf(tw, "%s  (%s)\n", r.Target, base)
			lastTarget, lastUnit = r.Target, ""
		}
		if r.Unit != lastUnit {
			fmt.Fprintf(tw, "%s\told\tnew\tchange\n", r.Unit)
			lastUnit = r.Unit
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, side(r.Old, r.Unit), side(r.New, r.Unit), change(r))
	}
	tw.Flush()
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func side(s *Stat, unit string) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%s ± %.0f%%", format(s.Mean, unit), s.Spread)
}

func change(r Row) string {
	if r.Old == nil || r.New == nil {
		return "(" + r.Note + ")"
	}
	ch := "?"
	if r.ChangePct != nil {
		ch = fmt.Sprintf("%+.2f%%", *r.ChangePct)
	}
	n := fmt.Sprintf("n=%d", r.New.N)
	if r.Old.N != r.New.N {
		n = fmt.Sprintf("n=%d+%d", r.Old.N, r.New.N)
	}
	p := 1.0
	if r.P != nil {
		p = *r.P
	}
	if !r.Significant {
		s := fmt.Sprintf("~ %s (p=%.3f %s)", ch, p, n)
		if r.Note != "" {
			s += " " + r.Note
		}
		return s
	}
	return fmt.Sprintf("%s (p=%.3f %s)", ch, p, n)
}

// format prints a value with an SI prefix; ns/op as a duration.
func format(v float64, unit string) string {
	if unit == "ns/op" {
		switch {
		case v >= 1e9:
			return fmt.Sprintf("%.3gs", v/1e9)
		case v >= 1e6:
			return fmt.Sprintf("%.3gms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.3gµs", v/1e3)
		}
		return fmt.Sprintf("%.3gns", v)
	}
	switch {
	case math.Abs(v) >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case math.Abs(v) >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// ParsePerfJSON reads a run's perf.json (schema stride.perf/v1).
func ParsePerfJSON(name string, b []byte) ([]report.Benchmark, error) {
	var doc struct {
		Schema     string             `json:"schema"`
		Benchmarks []report.Benchmark `json:"benchmarks"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if doc.Schema != "stride.perf/v1" {
		return nil, fmt.Errorf("%s: schema %q, want stride.perf/v1", name, doc.Schema)
	}
	return doc.Benchmarks, nil
}
