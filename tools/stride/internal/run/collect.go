package run

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"github.com/strideci/monorepo/tools/internal/buildevent"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// attempt is the latest attempt of one run and shard of a test.
type attempt struct {
	n int
	r *buildevent.TestResult
}

// collector gathers what the report needs from one invocation's build
// events.
type collector struct {
	mu      sync.Mutex
	pr      *progress.Progress
	tags    map[string][]string
	kinds   map[string]string
	failed  map[string]string // label -> reason ("" until known)
	output  map[string]string // label -> failed action's output
	order   []string
	attempt map[string]map[[2]int]attempt // label -> (run, shard) -> last attempt
	tries   map[string]int                // label -> highest attempt number
	summary map[string]*buildevent.TestSummary
	metrics buildevent.BuildMetrics
}

func newCollector(pr *progress.Progress) *collector {
	return &collector{
		pr:      pr,
		tags:    map[string][]string{},
		kinds:   map[string]string{},
		failed:  map[string]string{},
		output:  map[string]string{},
		attempt: map[string]map[[2]int]attempt{},
		tries:   map[string]int{},
		summary: map[string]*buildevent.TestSummary{},
	}
}

func (c *collector) event(ev *buildevent.BuildEvent) {
	c.pr.Event(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	label := ev.ID.Label()
	switch {
	case ev.Configured != nil:
		c.tags[label] = ev.Configured.Tag
		c.kinds[label] = ev.Configured.TargetKind
	case ev.Completed != nil:
		if !ev.Completed.Success {
			reason := ""
			if fd := ev.Completed.FailureDetail; fd != nil {
				reason = firstLine(fd.Message)
			}
			c.fail(label, reason)
		}
	case ev.Aborted != nil && label != "":
		// A target that could not load or analyze, or a test that did not
		// run because its build failed.
		reason := ev.Aborted.Description
		if reason == "" {
			reason = strings.ToLower(ev.Aborted.Reason)
		}
		c.fail(label, reason)
	case ev.Action != nil && !ev.Action.Success && label != "":
		reason := ev.Action.Type + " failed"
		if ev.Action.ExitCode != 0 {
			reason += " (exit " + itoa(ev.Action.ExitCode) + ")"
		}
		if fd := ev.Action.FailureDetail; fd != nil && fd.Message != "" {
			reason += ": " + firstLine(fd.Message)
		}
		c.fail(label, reason)
		if ev.Action.Stderr != nil && c.output[label] == "" {
			c.output[label] = logTail(ev.Action.Stderr.Path(), 30)
		}
	case ev.TestResult != nil && ev.ID.TestResult != nil:
		id := ev.ID.TestResult
		m := c.attempt[label]
		if m == nil {
			m = map[[2]int]attempt{}
			c.attempt[label] = m
		}
		key := [2]int{id.Run, id.Shard}
		if prev, ok := m[key]; !ok || id.Attempt >= prev.n {
			m[key] = attempt{id.Attempt, ev.TestResult}
		}
		if id.Attempt > c.tries[label] {
			c.tries[label] = id.Attempt
		}
	case ev.TestSummary != nil:
		c.summary[label] = ev.TestSummary
	case ev.BuildMetrics != nil:
		c.metrics = *ev.BuildMetrics
	}
}

// fail records a failed target; call with mu held.
func (c *collector) fail(label, reason string) {
	if label == "" {
		return
	}
	prev, ok := c.failed[label]
	if !ok {
		c.order = append(c.order, label)
	}
	if prev == "" {
		c.failed[label] = reason
	}
}

// tagsOf returns a target's tags from its configured event.
func (c *collector) tagsOf(label string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tags[label]
}

// kindOf returns a target's kind from its configured event ("sh_test
// rule").
func (c *collector) kindOf(label string) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kinds[label]
}

// summaryLabels are the tests Bazel reported a summary for, sorted.
func (c *collector) summaryLabels() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.summary))
	for l := range c.summary {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// failedTargets are the targets that did not build, in event order.
func (c *collector) failedTargets() []report.TargetFailure {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []report.TargetFailure
	for _, l := range c.order {
		if _, isTest := c.summary[l]; isTest && c.summary[l].OverallStatus != "FAILED_TO_BUILD" {
			continue // a test that built and ran (failing) is not a build failure
		}
		out = append(out, report.TargetFailure{Label: l, Reason: c.failed[l], Output: c.output[l]})
	}
	return out
}

// testResult is the report's view of one test target.
func (c *collector) testResult(label string) report.TestResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	tr := report.TestResult{Label: label, Status: "NO_STATUS", Tags: c.tags[label]}
	s := c.summary[label]
	atts := c.attempt[label]
	if s != nil {
		tr.Status = s.OverallStatus
		if tr.Status == "" {
			tr.Status = "NO_STATUS"
		}
		tr.DurationMS = int64(s.TotalRunDurationMillis)
		tr.Cached = s.TotalRunCount > 0 && s.TotalNumCached >= s.TotalRunCount
	}
	tr.Flaky = tr.Status == "FLAKY"
	tr.Attempts = c.tries[label]
	keys := sortedKeys(atts)
	allCached := len(keys) > 0
	logFailed := false
	var dur int64
	for _, k := range keys {
		a := atts[k].r
		if !a.CachedLocally && (a.ExecutionInfo == nil || !a.ExecutionInfo.CachedRemote) {
			allCached = false
		}
		dur += int64(a.DurationMillis)
		// The log to show: the first failed shard's, else the first.
		if p := a.Output("test.log"); p != "" && (tr.Log == "" || (!report.Passed(a.Status) && !logFailed)) {
			tr.Log = p
			logFailed = !report.Passed(a.Status)
		}
		if p := a.Output("test.xml"); p != "" && tr.XML == "" {
			tr.XML = p
		}
	}
	if s == nil {
		tr.Cached = allCached
		tr.DurationMS = dur
	}
	return tr
}

// xmlFiles are the test.xml files of a target's final attempts (one per
// run and shard).
func (c *collector) xmlFiles(label string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	atts := c.attempt[label]
	for _, k := range sortedKeys(atts) {
		if p := atts[k].r.Output("test.xml"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys(m map[[2]int]attempt) [][2]int {
	keys := make([][2]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	return keys
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
