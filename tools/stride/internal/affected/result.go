package affected

import (
	"fmt"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/nearest"
)

// Schema names the --json output format.
const Schema = "stride.affected/v1"

// Result is the answer of Compute: the --json output of `stride affected`.
type Result struct {
	Schema string `json:"schema"`
	Base   Side   `json:"base"`
	Head   Side   `json:"head"`
	// Kind is the filter applied: all, test or build.
	Kind string `json:"kind"`
	// Everything is true when a workspace-wide change affects every
	// target; GlobalReasons says which.
	Everything    bool     `json:"everything"`
	GlobalReasons []Reason `json:"global_reasons"`
	// Targets are the affected rule targets of the main repository at
	// head, sorted by label.
	Targets []Target `json:"targets"`
	// Removed are rule targets of base that head no longer has.
	Removed []Removed `json:"removed"`
	// Incompatible are affected targets left out of Targets because they
	// are incompatible with the target platform (target_compatible_with):
	// Bazel skips them in `bazel test //...` and refuses them by name.
	Incompatible []Removed `json:"incompatible,omitempty"`
	Stats        Stats     `json:"stats"`
	// Shared says what came from the shared digest maps
	// (Options.Shared; docs/scale-out.md), when there is a store.
	Shared *SharedMaps `json:"shared_maps,omitempty"`

	cmp  *comparison
	wait func() // set with Options.DeferWrites
}

// Wait waits for the digest maps Compute writes to its cache (see
// Options.DeferWrites); without DeferWrites they are written already.
func (r *Result) Wait() {
	if r.wait != nil {
		r.wait()
	}
}

// Side describes one side of the comparison.
type Side struct {
	// Rev is the revision as given ("HEAD", "origin/main", a sha).
	Rev string `json:"rev"`
	// Commit is the resolved commit; for --uncommitted head, the HEAD
	// commit the work tree is based on.
	Commit string `json:"commit"`
	// Uncommitted: the work tree was used (head only).
	Uncommitted bool `json:"uncommitted,omitempty"`
	// Source says how the digest map was obtained: "cache" (the local
	// cache directory), "remote-cache" (the shared digest maps), "query" (in
	// the repository's own workspace), "query-scratch" (a copy of the
	// commit under the cache directory), "derived" (the other side's map
	// re-hashed: only file contents changed), "query-incremental" and
	// "query-scratch-incremental" (the other side's map patched with a
	// query of the changed packages), or "failed".
	Source string `json:"source"`
}

// Target is one affected target.
type Target struct {
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // rule class
	Test    bool     `json:"test"`
	Reasons []Reason `json:"reasons"`
}

// Removed is a rule target that exists at base only.
type Removed struct {
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Test  bool   `json:"test"`
}

// Stats are counts and timings; timings vary from run to run.
type Stats struct {
	TargetsAtHead int   `json:"targets_at_head"`
	NodesAtHead   int   `json:"nodes_at_head"`
	Affected      int   `json:"affected"`
	ChangedFiles  int   `json:"changed_files"`
	DurationMS    int64 `json:"duration_ms"`
	HeadMS        int64 `json:"head_ms"`
	BaseMS        int64 `json:"base_ms"`
}

// isTest reports whether a rule class is a test (what `bazel test` runs).
func isTest(class string) bool {
	return strings.HasSuffix(class, "_test") || class == "test_suite"
}

// isOutputTarget reports whether label names a rule of the main
// repository that can be built (not a //external entry).
func isOutputTarget(label string, n *Node) bool {
	return n.Type == typeRule && strings.HasPrefix(label, "//") && !strings.HasPrefix(label, "//external:")
}

func keep(kind, class string) bool {
	switch kind {
	case "test":
		return isTest(class)
	case "build":
		return !isTest(class)
	}
	return true
}

// fill sets the result's targets and removed lists from a comparison.
func (r *Result) fill(c *comparison) {
	r.cmp = c
	r.GlobalReasons = append([]Reason{}, c.global...)
	r.Everything = len(c.global) > 0
	r.Targets = []Target{}
	r.Removed = []Removed{}
	labels := make([]string, 0, len(c.head.Nodes))
	for l, n := range c.head.Nodes {
		if isOutputTarget(l, n) {
			labels = append(labels, l)
		}
	}
	sort.Strings(labels)
	r.Stats.TargetsAtHead = len(labels)
	r.Stats.NodesAtHead = len(c.head.Nodes)
	r.Stats.ChangedFiles = len(c.files.changed)
	for _, l := range labels {
		n := c.head.Nodes[l]
		if !keep(r.Kind, n.Class) {
			continue
		}
		var rs []Reason
		if r.Everything {
			rs = r.GlobalReasons
		} else {
			rs = c.reasons[l]
			if len(rs) == 0 {
				continue
			}
		}
		r.Targets = append(r.Targets, Target{Label: l, Kind: n.Class, Test: isTest(n.Class), Reasons: rs})
	}
	r.Stats.Affected = len(r.Targets)
	if c.base != nil {
		var gone []string
		for l, n := range c.base.Nodes {
			if _, ok := c.head.Nodes[l]; !ok && isOutputTarget(l, n) && keep(r.Kind, n.Class) {
				gone = append(gone, l)
			}
		}
		sort.Strings(gone)
		for _, l := range gone {
			n := c.base.Nodes[l]
			r.Removed = append(r.Removed, Removed{Label: l, Kind: n.Class, Test: isTest(n.Class)})
		}
	}
}

// Labels returns the affected targets' labels.
func (r *Result) Labels() []string {
	out := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		out[i] = t.Label
	}
	return out
}

// Explanation is why one target is affected.
type Explanation struct {
	Label    string `json:"label"`
	Affected bool   `json:"affected"`
	// Chains are paths from the target to a root cause, each a list of
	// steps: the target, then "depends on X" steps, then the cause.
	Chains [][]string `json:"chains"`
}

// maxChains bounds Explain's output for targets with many causes.
const maxChains = 50

// Explain returns the chains of reasons that make label affected. A label
// that is not a target at head is an error.
func (r *Result) Explain(label string) (*Explanation, error) {
	c := r.cmp
	if c == nil {
		return nil, fmt.Errorf("no comparison to explain")
	}
	if strings.HasPrefix(label, "@//") {
		label = label[1:]
	}
	if !strings.Contains(label, ":") && strings.HasPrefix(label, "//") {
		if l, ok := parseLabel(label); ok {
			label = l.String()
		}
	}
	n, ok := c.head.Nodes[label]
	if !ok {
		return nil, fmt.Errorf("%s is not a target at head%s", label, r.didYouMean(label))
	}
	e := &Explanation{Label: label, Chains: [][]string{}}
	if r.Everything && isOutputTarget(label, n) {
		e.Affected = true
		for _, g := range r.GlobalReasons {
			e.Chains = append(e.Chains, []string{label, g.Text})
		}
		return e, nil
	}
	if len(c.reasons[label]) == 0 {
		return e, nil
	}
	e.Affected = true
	seen := map[string]bool{}
	var walk func(l string, prefix []string)
	walk = func(l string, prefix []string) {
		if len(e.Chains) >= maxChains {
			return
		}
		seen[l] = true
		for _, rs := range c.reasons[l] {
			chain := append(append([]string{}, prefix...), rs.Text)
			if rs.Kind == KindDependsOn && !seen[rs.Subject] && len(c.reasons[rs.Subject]) > 0 {
				walk(rs.Subject, chain)
				continue
			}
			if rs.Kind == KindDependsOn {
				// A dependency explained on another chain already (or
				// affected only through an external repository): end
				// this chain in its cause too.
				chain = append(chain, c.causeOf(rs.Subject, map[string]bool{})...)
			}
			if len(e.Chains) < maxChains {
				e.Chains = append(e.Chains, chain)
			}
		}
	}
	walk(label, []string{label})
	return e, nil
}

// causeOf returns the steps from label to one root cause of it (the
// first by reason order): "depends on X" steps, then the cause; nothing
// if label has none.
func (c *comparison) causeOf(label string, onPath map[string]bool) []string {
	if onPath[label] {
		return nil
	}
	onPath[label] = true
	defer delete(onPath, label)
	for _, rs := range c.reasons[label] {
		if rs.Kind != KindDependsOn {
			return []string{rs.Text}
		}
		if rest := c.causeOf(rs.Subject, onPath); len(rest) > 0 {
			return append([]string{rs.Text}, rest...)
		}
	}
	if roots := c.extRoots[label]; len(roots) > 0 {
		if ext := externalReasons(roots); len(ext) > 0 {
			return []string{ext[0].Text}
		}
	}
	return nil
}

// didYouMean suggests labels for one that is not a target: "//" + label
// when it lacks the "//" and that is a target, else targets of that name
// ("artifactd" finds //services/artifactd/cmd/artifactd:artifactd), else
// the closest labels at head.
func (r *Result) didYouMean(label string) string {
	c := r.cmp
	var names []string
	for l, n := range c.head.Nodes {
		if isOutputTarget(l, n) {
			names = append(names, l)
		}
	}
	sort.Strings(names)
	suggest := func(ls []string) string {
		if len(ls) > 3 {
			ls = ls[:3]
		}
		return " (did you mean " + strings.Join(ls, ", ") + "?)"
	}
	if !strings.HasPrefix(label, "//") && !strings.HasPrefix(label, "@") {
		want := "//" + strings.TrimPrefix(label, "/")
		if !strings.Contains(want, ":") {
			if l, ok := parseLabel(want); ok {
				want = l.String()
			}
		}
		if _, ok := c.head.Nodes[want]; ok {
			return suggest([]string{want})
		}
		name := label[strings.LastIndexAny(label, ":/")+1:]
		var same []string
		for _, l := range names {
			if strings.HasSuffix(l, ":"+name) {
				same = append(same, l)
			}
		}
		if len(same) > 0 {
			return suggest(same)
		}
		if close := nearest.Names(want, names, 3); len(close) > 0 {
			return suggest(close)
		}
		return " (labels start with //, e.g. //" + strings.TrimPrefix(label, "/") + ")"
	}
	if close := nearest.Names(label, names, 3); len(close) > 0 {
		return suggest(close)
	}
	return ""
}

// String renders an explanation one chain per line:
// "//app:test <- depends on //lib:lib <- source changed: lib/lib.go".
func (e *Explanation) String() string {
	if !e.Affected {
		return e.Label + " is not affected\n"
	}
	var b strings.Builder
	for _, ch := range e.Chains {
		b.WriteString(strings.Join(ch, " <- "))
		b.WriteByte('\n')
	}
	return b.String()
}
