package shard

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/report"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "1/1", want: "1/1"},
		{in: "2/3", want: "2/3"},
		{in: " 3 / 3 ", want: "3/3"},
		{in: "0/0", err: "N must be at least 1"},
		{in: "4/3", err: "i must be between 1 and 3"},
		{in: "0/3", err: "i must be between 1 and 3 (shards are numbered from 1)"},
		{in: "3", err: "want i/N"},
		{in: "a/b", err: "whole numbers"},
		{in: "-1/2", err: "between 1 and 2"},
	} {
		s, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, %v; want error with %q", tc.in, s, err, tc.err)
			}
			continue
		}
		if err != nil || s.String() != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

func targets(tests, others int) []report.Target {
	var ts []report.Target
	for i := 0; i < tests; i++ {
		ts = append(ts, report.Target{Label: fmt.Sprintf("//t%02d:t_test", i), Test: true})
	}
	for i := 0; i < others; i++ {
		ts = append(ts, report.Target{Label: fmt.Sprintf("//lib%02d:lib", i)})
	}
	return ts
}

func TestPartition(t *testing.T) {
	ts := targets(7, 4)
	t.Run("no history: equal counts", func(t *testing.T) {
		p := Partition(ts, nil, 3)
		if p.Balance != "targets" {
			t.Errorf("balance = %s", p.Balance)
		}
		seen := map[string]int{}
		for i, s := range p.Shards {
			if n := len(s); n < 3 || n > 4 {
				t.Errorf("shard %d has %d targets: %v", i+1, n, s)
			}
			for _, l := range s {
				seen[l]++
			}
		}
		for _, tg := range ts {
			if seen[tg.Label] != 1 {
				t.Errorf("%s is in %d shards", tg.Label, seen[tg.Label])
			}
		}
	})
	t.Run("durations: longest first onto the lightest", func(t *testing.T) {
		d := map[string]int64{"//t00:t_test": 9000, "//t01:t_test": 5000, "//t02:t_test": 4000, "//t03:t_test": 3000,
			"//t04:t_test": 2000, "//t05:t_test": 1000} // //t06 unknown: the median, 4000
		p := Partition(ts, d, 2)
		if p.Balance != "durations" {
			t.Fatalf("balance = %s", p.Balance)
		}
		// LPT: t00 9000 → 1, t01 5000 → 2, t02 4000 → 2, t06 4000 → 1
		// (a tie at 9000: fewer targets), t03 3000 → 2, t04 2000 → 2, t05 1000 → 1.
		want := [][]string{{"//t00:t_test", "//t05:t_test", "//t06:t_test"}, {"//t01:t_test", "//t02:t_test", "//t03:t_test", "//t04:t_test"}}
		for i := range want {
			var tests []string
			for _, l := range p.Shards[i] {
				if strings.HasSuffix(l, "_test") {
					tests = append(tests, l)
				}
			}
			if !reflect.DeepEqual(tests, want[i]) {
				t.Errorf("shard %d tests = %v, want %v", i+1, tests, want[i])
			}
		}
		if want := []int64{14000, 14000}; !reflect.DeepEqual(p.EstimatedMS, want) {
			t.Errorf("estimated = %v, want %v (shards %v)", p.EstimatedMS, want, p.Shards)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		rev := append([]report.Target{}, ts...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		a, b := Partition(ts, map[string]int64{"//t03:t_test": 10}, 4), Partition(rev, map[string]int64{"//t03:t_test": 10}, 4)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("order changed the plan:\n%v\n%v", a, b)
		}
	})
	t.Run("more shards than targets", func(t *testing.T) {
		p := Partition(targets(1, 0), nil, 3)
		if len(p.Shards[0]) != 1 || len(p.Shards[1]) != 0 || len(p.Shards[2]) != 0 {
			t.Errorf("shards = %v", p.Shards)
		}
	})
}

func TestDurations(t *testing.T) {
	old := &report.Report{Started: time.Unix(100, 0), Tests: report.Tests{Results: []report.TestResult{{Label: "//a:t", DurationMS: 10}, {Label: "//b:t", DurationMS: 7}}}}
	newer := &report.Report{Started: time.Unix(200, 0), Tests: report.Tests{Results: []report.TestResult{{Label: "//a:t", DurationMS: 20}, {Label: "//c:t"}}}}
	got := Durations([]*report.Report{newer, old})
	if want := map[string]int64{"//a:t": 20, "//b:t": 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("Durations = %v, want %v", got, want)
	}
}

// partials makes the shards of one run of ts, each with a passing result
// for each of its tests.
func partials(ts []report.Target, n int) []*Partial {
	plan := Partition(ts, nil, n)
	digest := Digest("b", "h", ts)
	var ps []*Partial
	for i, labels := range plan.Shards {
		r := report.New("/ws", time.Unix(int64(1000+i), 0))
		r.Head, r.Base = report.Rev{SHA: "h"}, report.Rev{SHA: "b"}
		r.Affected.Targets = ts
		r.Status = report.StatusGreen
		r.Timing.TotalMS = int64(1000 * (i + 1))
		r.Cache.ActionsCreated, r.Cache.ActionsExecuted = 10, 5
		r.Shard = &report.Shard{Index: i + 1, Count: n, AffectedDigest: digest, Balance: plan.Balance, Targets: labels}
		j := &report.JUnit{}
		for _, l := range labels {
			if strings.HasSuffix(l, "_test") {
				r.Tests.Results = append(r.Tests.Results, report.TestResult{Label: l, Status: "PASSED", DurationMS: 5})
				j.Suites = append(j.Suites, report.JUnitSuite{Name: l, Tests: 1})
			}
		}
		r.Tally()
		ps = append(ps, &Partial{Dir: fmt.Sprintf("/out/shard-%d-of-%d", i+1, n), Report: r, JUnit: j})
	}
	return ps
}

func TestMerge(t *testing.T) {
	ts := targets(7, 4)
	m, j, err := Merge(partials(ts, 3))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != report.StatusGreen || m.Tests.Total != 7 || m.Tests.Passed != 7 || len(m.Shards) != 3 || m.Shard != nil {
		t.Errorf("merged: status %s, tests %+v, shards %d", m.Status, m.Tests, len(m.Shards))
	}
	if m.Timing.TotalMS != 3000 || m.Cache.ActionsCreated != 30 || m.Affected.Count != 11 {
		t.Errorf("merged timing %d, actions %d, affected %d", m.Timing.TotalMS, m.Cache.ActionsCreated, m.Affected.Count)
	}
	if j == nil || len(j.Suites) != 7 || j.Tests != 7 {
		t.Errorf("merged junit: %+v", j)
	}
	if md := m.Markdown(); !strings.Contains(md, "## Shards") || !strings.Contains(md, "| 2/3 | green |") {
		t.Errorf("report.md lacks the shards:\n%s", md)
	}

	failed := partials(ts, 3)
	failed[1].Report.Status = report.StatusFailed
	if m, _, err := Merge(failed); err != nil || m.Status != report.StatusFailed || m.ExitCode != 1 {
		t.Errorf("a failed shard: %v, %v", m, err)
	}

	for _, tc := range []struct {
		name  string
		edit  func([]*Partial) []*Partial
		want  string
		input bool // ErrMismatch (exit 2), not a MergeError
	}{
		{"missing shard", func(p []*Partial) []*Partial { return []*Partial{p[0], p[2]} }, "missing shard(s) 2/3", false},
		{"shard twice", func(p []*Partial) []*Partial { return []*Partial{p[0], p[1], p[1], p[2]} }, "shard 2/3 given twice", false},
		{"a test in two shards", func(p []*Partial) []*Partial {
			p[2].Report.Tests.Results = append(p[2].Report.Tests.Results, p[0].Report.Tests.Results[0])
			return p
		}, "ran in shards 1 and 3", false},
		{"affected sets differ", func(p []*Partial) []*Partial {
			p[1].Report.Shard.AffectedDigest = "0000"
			return p
		}, "disagree on the affected set", false},
		{"counts differ", func(p []*Partial) []*Partial {
			p[2].Report.Shard.Count = 4
			return p
		}, "is of 3 shards", false},
		{"heads differ", func(p []*Partial) []*Partial {
			p[1].Report.Head.SHA = "other"
			return p
		}, "merge only the shards of one commit", true},
		{"not a shard", func(p []*Partial) []*Partial {
			p[0].Report.Shard = nil
			return p
		}, "is not a shard's report", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Merge(tc.edit(partials(ts, 3)))
			var me *MergeError
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Merge = %v, want %q", err, tc.want)
			}
			if tc.input != errors.Is(err, ErrMismatch) || tc.input == errors.As(err, &me) {
				t.Errorf("Merge = %T %v: want ErrMismatch %v", err, err, tc.input)
			}
		})
	}
}
