// Package shard splits one run's affected set over N runners (`stride run
// --shard i/N`) and merges their partial reports into the run's report
// (`stride report merge`).
//
// The split is deterministic: every shard computes the same affected set
// (the same base, head and workspace) and the same partition of it, with
// no coordination. Tests are balanced by the durations recorded in
// earlier reports, longest first onto the least-loaded shard (LPT); a test
// with no recorded duration counts as the median of the known ones; with
// no history at all, every test counts 1, so shards get equal counts.
// Non-test targets are dealt round-robin after the tests. Each partial
// report carries its shard's identity and the digest of the whole
// affected set, so a merge can check that the shards agree.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Spec is one shard of N: Index in 1..Count.
type Spec struct {
	Index, Count int
}

// Parse reads "i/N" (1 ≤ i ≤ N).
func Parse(s string) (Spec, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Spec{}, fmt.Errorf("shard %q: want i/N, e.g. 2/3 (the second of three shards)", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case err1 != nil || err2 != nil:
		return Spec{}, fmt.Errorf("shard %q: want i/N with whole numbers, e.g. 2/3", s)
	case cnt < 1:
		return Spec{}, fmt.Errorf("shard %q: N must be at least 1", s)
	case idx < 1 || idx > cnt:
		return Spec{}, fmt.Errorf("shard %q: i must be between 1 and %d (shards are numbered from 1)", s, cnt)
	}
	return Spec{Index: idx, Count: cnt}, nil
}

func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Digest identifies an affected set: base, head and the sorted labels.
func Digest(base, head string, targets []report.Target) string {
	labels := make([]string, len(targets))
	for i, t := range targets {
		labels[i] = t.Label
	}
	sort.Strings(labels)
	h := sha256.New()
	fmt.Fprintf(h, "stride.affected/v1\nbase %s\nhead %s\n", base, head)
	for _, l := range labels {
		fmt.Fprintf(h, "%s\n", l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Plan is the partition of an affected set.
type Plan struct {
	// Shards[i] are the labels of shard i+1, sorted.
	Shards [][]string
	// EstimatedMS[i] is shard i+1's share of the recorded durations.
	EstimatedMS []int64
	// Balance is "durations" or "targets".
	Balance string
}

// Partition splits targets over n shards; durations are recorded test
// times in milliseconds by label (nil or empty: balance by counts).
func Partition(targets []report.Target, durations map[string]int64, n int) Plan {
	if n < 1 {
		n = 1
	}
	var tests, others []string
	for _, t := range targets {
		if t.Test {
			tests = append(tests, t.Label)
		} else {
			others = append(others, t.Label)
		}
	}
	sort.Strings(tests)
	sort.Strings(others)
	p := Plan{Shards: make([][]string, n), EstimatedMS: make([]int64, n), Balance: "targets"}
	weight := map[string]int64{}
	var known []int64
	for _, l := range tests {
		if d, ok := durations[l]; ok && d > 0 {
			known = append(known, d)
		}
	}
	def := int64(1)
	if len(known) > 0 {
		p.Balance = "durations"
		sort.Slice(known, func(i, j int) bool { return known[i] < known[j] })
		def = known[len(known)/2]
	}
	for _, l := range tests {
		w := def
		if d := durations[l]; d > 0 {
			w = d
		}
		weight[l] = w
	}
	// Longest first; ties by label, so every shard computes the same plan.
	order := append([]string{}, tests...)
	sort.SliceStable(order, func(i, j int) bool { return weight[order[i]] > weight[order[j]] })
	load := make([]int64, n)
	count := make([]int, n)
	lightest := func() int {
		best := 0
		for i := 1; i < n; i++ {
			if load[i] < load[best] || (load[i] == load[best] && count[i] < count[best]) {
				best = i
			}
		}
		return best
	}
	for _, l := range order {
		i := lightest()
		p.Shards[i] = append(p.Shards[i], l)
		load[i] += weight[l]
		count[i]++
	}
	// Non-test targets: the fewest targets first (ties: lowest index).
	for _, l := range others {
		best := 0
		for i := 1; i < n; i++ {
			if count[i] < count[best] {
				best = i
			}
		}
		p.Shards[best] = append(p.Shards[best], l)
		count[best]++
	}
	for i := range p.Shards {
		sort.Strings(p.Shards[i])
		if p.Balance == "durations" {
			p.EstimatedMS[i] = load[i]
		}
	}
	return p
}

// Durations are the newest recorded duration of each test in reports
// (later reports win). A cached result counts with the duration Bazel
// recorded when it ran.
func Durations(reports []*report.Report) map[string]int64 {
	d := map[string]int64{}
	byTime := append([]*report.Report{}, reports...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].Started.Before(byTime[j].Started) })
	for _, r := range byTime {
		for _, t := range r.Tests.Results {
			if t.DurationMS > 0 {
				d[t.Label] = t.DurationMS
			}
		}
	}
	return d
}
