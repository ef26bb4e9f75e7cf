package shard

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Partial is one shard's output directory, read.
type Partial struct {
	Dir    string
	Report *report.Report
	// JUnit is the shard's junit.xml (nil when it wrote none).
	JUnit *report.JUnit
}

// ReadPartial reads a shard's report.json and junit.xml from dir.
func ReadPartial(dir string) (*Partial, error) {
	r, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		return nil, err
	}
	p := &Partial{Dir: dir, Report: r}
	if r.Files.JUnit != "" {
		b, err := os.ReadFile(filepath.Join(dir, r.Files.JUnit))
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", dir, err)
		}
		var j report.JUnit
		if err := xml.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("shard %s: parse %s: %w", dir, r.Files.JUnit, err)
		}
		p.JUnit = &j
	}
	return p, nil
}

// ErrMismatch: the partial reports are not the shards of one run (bad
// input: exit 2), as opposed to a *MergeError (the shards of one run that
// do not add up: exit 1).
var ErrMismatch = errors.New("not the shards of one run")

// MergeError lists what keeps shards from adding up to one run: missing
// shards, a shard given twice, a test run by two shards, shards that
// disagree on the affected set, affected targets no shard ran.
type MergeError struct{ Problems []string }

func (e *MergeError) Error() string {
	return fmt.Sprintf("the shards do not add up to one run: %s", strings.Join(e.Problems, "; "))
}

// Merge combines the partial reports of one sharded run into the run's
// report and junit.xml. The merged report has every shard's tests and
// benchmarks, the summed cache counts, the slowest shard's timings, and
// one line per shard in Shards; its status is the worst of the shards'.
func Merge(parts []*Partial) (*report.Report, *report.JUnit, error) {
	if len(parts) == 0 {
		return nil, nil, fmt.Errorf("%w: no reports given", ErrMismatch)
	}
	first := parts[0].Report
	for _, p := range parts {
		if p.Report.Shard == nil {
			return nil, nil, fmt.Errorf("%w: %s is not a shard's report (no \"shard\"; was it run with --shard i/N?)", ErrMismatch, p.Dir)
		}
		if p.Report.Head.SHA != first.Head.SHA {
			return nil, nil, fmt.Errorf("%w: %s is of head %s, %s of head %s: merge only the shards of one commit",
				ErrMismatch, parts[0].Dir, first.Head.SHA, p.Dir, p.Report.Head.SHA)
		}
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].Report.Shard.Index < parts[j].Report.Shard.Index })
	var problems []string
	n := parts[0].Report.Shard.Count
	byIndex := map[int]string{}
	ranBy := map[string]int{}
	covered := map[string]bool{}
	for _, p := range parts {
		s := p.Report.Shard
		if s.Count != n {
			problems = append(problems, fmt.Sprintf("%s is shard %d/%d, but %s is of %d shards", p.Dir, s.Index, s.Count, parts[0].Dir, n))
		}
		if s.AffectedDigest != parts[0].Report.Shard.AffectedDigest {
			problems = append(problems, fmt.Sprintf("%s and %s disagree on the affected set (digest %.12s vs %.12s)", parts[0].Dir, p.Dir, parts[0].Report.Shard.AffectedDigest, s.AffectedDigest))
		}
		if d, dup := byIndex[s.Index]; dup {
			problems = append(problems, fmt.Sprintf("shard %d/%d given twice: %s and %s", s.Index, s.Count, d, p.Dir))
		} else {
			byIndex[s.Index] = p.Dir
		}
		for _, l := range s.Targets {
			covered[l] = true
		}
		for _, t := range p.Report.Tests.Results {
			if other, ok := ranBy[t.Label]; ok && other != s.Index {
				problems = append(problems, fmt.Sprintf("%s ran in shards %d and %d", t.Label, other, s.Index))
			}
			ranBy[t.Label] = s.Index
		}
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing shard(s) "+strings.Join(missing, ", "))
	} else {
		for _, t := range first.Affected.Targets {
			if !covered[t.Label] {
				problems = append(problems, fmt.Sprintf("affected target %s was in no shard", t.Label))
			}
		}
	}
	if len(problems) > 0 {
		return nil, nil, &MergeError{Problems: problems}
	}
	return merge(parts)
}

// severity orders statuses: the merged status is the worst shard's.
var severity = map[report.Status]int{
	report.StatusGreen: 0, report.StatusFailed: 1, report.StatusIncomplete: 2,
	report.StatusCancelled: 3, report.StatusError: 4,
}

func merge(parts []*Partial) (*report.Report, *report.JUnit, error) {
	first := parts[0].Report
	m := report.New(first.Workspace, first.Started)
	m.Branch, m.Base, m.Head = first.Branch, first.Base, first.Head
	m.Changes = first.Changes
	m.Affected = first.Affected
	m.Owners, m.Policy = first.Owners, first.Policy
	m.Status = report.StatusGreen
	var suites []report.JUnitSuite
	for _, p := range parts {
		r := p.Report
		if severity[r.Status] > severity[m.Status] {
			m.Status = r.Status
		}
		if r.Started.Before(m.Started) {
			m.Started = r.Started
		}
		if r.Finished != nil && (m.Finished == nil || r.Finished.After(*m.Finished)) {
			f := *r.Finished
			m.Finished = &f
		}
		m.Dirty = m.Dirty || r.Dirty
		m.BadInput = m.BadInput || r.BadInput
		for _, e := range r.Errors {
			m.Errors = append(m.Errors, fmt.Sprintf("shard %s: %s", Spec{r.Shard.Index, r.Shard.Count}, e))
		}
		m.Tests.Results = append(m.Tests.Results, r.Tests.Results...)
		m.Benchmarks = append(m.Benchmarks, r.Benchmarks...)
		m.Cache.ActionsCreated += r.Cache.ActionsCreated
		m.Cache.ActionsExecuted += r.Cache.ActionsExecuted
		m.Cache.RemoteCacheHits += r.Cache.RemoteCacheHits
		m.Cache.Processes += r.Cache.Processes
		if r.Cache.Remote != nil && (m.Cache.Remote == nil || !r.Cache.Remote.Used) {
			rc := *r.Cache.Remote
			m.Cache.Remote = &rc
		}
		t := &m.Timing
		t.TotalMS = max64(t.TotalMS, r.Timing.TotalMS)
		t.AffectedMS = max64(t.AffectedMS, r.Timing.AffectedMS)
		t.ChecksMS = max64(t.ChecksMS, r.Timing.ChecksMS)
		t.BuildMS = max64(t.BuildMS, r.Timing.BuildMS)
		t.TestMS = max64(t.TestMS, r.Timing.TestMS)
		t.BenchMS = max64(t.BenchMS, r.Timing.BenchMS)
		t.BazelMS = max64(t.BazelMS, r.Timing.BazelMS)
		s := *r.Shard
		s.Status, s.TotalMS, s.Dir = r.Status, r.Timing.TotalMS, p.Dir
		m.Shards = append(m.Shards, s)
		if p.JUnit != nil {
			suites = append(suites, p.JUnit.Suites...)
		}
	}
	m.Timing.OverheadMS = m.Timing.TotalMS - m.Timing.BazelMS
	m.Build = mergeInvocations(parts, func(r *report.Report) *report.Invocation { return r.Build })
	m.Test = mergeInvocations(parts, func(r *report.Report) *report.Invocation { return r.Test })
	m.Bench = mergeInvocations(parts, func(r *report.Report) *report.Invocation { return r.Bench })
	m.Files.Markdown = report.MarkdownFile
	if len(m.Benchmarks) > 0 {
		m.Files.Perf = report.PerfFile
	}
	var j *report.JUnit
	if len(suites) > 0 {
		j = report.MergeJUnit("stride run "+short(m.Head.SHA)+" (merged from "+fmt.Sprint(len(parts))+" shards)", suites)
		m.Files.JUnit = report.JUnitFile
	}
	m.Tally()
	return m, j, nil
}

// Write writes the merged report into dir: report.json, report.md,
// junit.xml and perf.json (when there is something to put in them).
// report.json is written last, so a reader never sees it before the rest.
func Write(dir string, m *report.Report, j *report.JUnit) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("merged report: %w", err)
	}
	if j != nil {
		b, err := j.Marshal()
		if err == nil {
			err = report.WriteAtomic(filepath.Join(dir, report.JUnitFile), b)
		}
		if err != nil {
			return fmt.Errorf("merged junit: %w", err)
		}
	}
	if m.Files.Perf != "" {
		b, err := report.MarshalPerf(m)
		if err == nil {
			err = report.WriteAtomic(filepath.Join(dir, report.PerfFile), b)
		}
		if err != nil {
			return fmt.Errorf("merged perf: %w", err)
		}
	}
	if err := m.WriteMarkdown(dir); err != nil {
		return fmt.Errorf("merged report: %w", err)
	}
	return m.WriteJSON(dir)
}

// mergeInvocations combines the shards' invocations of one step: targets
// and failures add up, the duration is the slowest shard's, the exit code
// the worst; logs stay in the shards' directories (Log names them).
func mergeInvocations(parts []*Partial, of func(*report.Report) *report.Invocation) *report.Invocation {
	var m *report.Invocation
	var logs []string
	for _, p := range parts {
		inv := of(p.Report)
		if inv == nil {
			continue
		}
		if m == nil {
			m = &report.Invocation{Command: inv.Command, Flags: inv.Flags, Complete: true}
		}
		m.Targets += inv.Targets
		if inv.ExitCode != 0 && (m.ExitCode == 0 || inv.ExitCode > m.ExitCode) {
			m.ExitCode, m.ExitName = inv.ExitCode, inv.ExitName
		} else if m.ExitName == "" {
			m.ExitName = inv.ExitName
		}
		m.Complete = m.Complete && inv.Complete
		m.Interrupted = m.Interrupted || inv.Interrupted
		m.DurationMS = max64(m.DurationMS, inv.DurationMS)
		m.Failed = append(m.Failed, inv.Failed...)
		if m.LogTail == "" {
			m.LogTail = inv.LogTail
		}
		if inv.Error != "" {
			m.Error = strings.TrimPrefix(m.Error+"; "+inv.Error, "; ")
		}
		if inv.Log != "" {
			logs = append(logs, filepath.Join(p.Dir, inv.Log))
		}
	}
	if m != nil {
		m.Log = strings.Join(logs, " ")
	}
	return m
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
