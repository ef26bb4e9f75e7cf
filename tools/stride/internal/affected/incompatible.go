package affected

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// Incompatible targets: a target whose target_compatible_with (its own, or
// a dependency's) excludes the target platform is skipped by
// `bazel build //...` and `bazel test //...`, but naming it is an error
// ("is incompatible and cannot be built"), so `stride affected | xargs
// bazel test` would fail. `bazel query` ignores target_compatible_with;
// Bazel (4.0 and later) says it through cquery: the configured target
// carries IncompatiblePlatformProvider. Only affected targets that reach
// a rule setting target_compatible_with in head's graph are asked about,
// in one cquery, so a workspace without the attribute pays nothing.

// compatAttr is the attribute that makes a target possibly incompatible.
const compatAttr = "target_compatible_with"

// incompatibleExpr prints each configured target's label and whether it
// is incompatible with the target platform.
const incompatibleExpr = `str(target.label) + " " + str("IncompatiblePlatformProvider" in providers(target))`

// compatCandidates returns the labels of targets that set
// target_compatible_with or depend (transitively, in head) on one that
// does.
func compatCandidates(head *Snapshot, targets []Target) []string {
	memo := map[string]int8{} // 1: reaches the attribute; -1: does not; 2: on the stack
	var reaches func(string) bool
	reaches = func(name string) bool {
		switch memo[name] {
		case 1:
			return true
		case -1, 2:
			return false
		}
		memo[name] = 2
		n := head.Nodes[name]
		found := false
		if n != nil {
			if _, ok := n.Attrs[compatAttr]; ok {
				found = true
			}
			for _, d := range n.Deps {
				if !found && reaches(d) {
					found = true
				}
			}
		}
		if found {
			memo[name] = 1
		} else {
			memo[name] = -1
		}
		return found
	}
	var out []string
	for _, t := range targets {
		if reaches(t.Label) {
			out = append(out, t.Label)
		}
	}
	return out
}

// parseIncompatible reads incompatibleExpr's output (the labels whose
// line ends in True) and cquery's stderr: an incompatible target named
// explicitly is not analyzed at all, only warned about ("WARNING: Target
// //a:b is incompatible and cannot be built, but was explicitly
// requested.", Bazel 4.2).
func parseIncompatible(out, stderr string) map[string]bool {
	bad := map[string]bool{}
	add := func(l string) {
		l = strings.TrimLeft(l, "@") // @//a:b, @@//a:b (newer Bazel)
		if strings.HasPrefix(l, "//") {
			bad[l] = true
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == "True" {
			add(f[0])
		}
	}
	for _, l := range strings.Split(stderr, "\n") {
		const pre, post = "Target ", " is incompatible and cannot be built"
		i := strings.Index(l, pre)
		j := strings.Index(l, post)
		if i >= 0 && j > i+len(pre) {
			add(l[i+len(pre) : j])
		}
	}
	return bad
}

// filterIncompatible moves the affected targets that are incompatible with
// the target platform from res.Targets to res.Incompatible. It asks Bazel
// in dir (where head is checked out); any failure leaves the targets as
// they are (listing a target too many is safe).
func (c *computation) filterIncompatible(ctx context.Context, res *Result, head *Snapshot, dir string, b *bazel.Bazel) {
	if head == nil || len(res.Targets) == 0 {
		return
	}
	cands := compatCandidates(head, res.Targets)
	if len(cands) == 0 {
		return
	}
	c.logf("asking cquery whether %d targets that set %s (or depend on one) are compatible, in %s", len(cands), compatAttr, dir)
	out, err := b.Run(ctx, bazel.Options{}, "cquery", "--tool_tag=stride", "--keep_going", "--output=starlark",
		"--starlark:expr="+incompatibleExpr, "--", "set("+strings.Join(cands, " ")+")")
	// With --keep_going, a cquery that skipped targets exits non-zero
	// with what it could analyze.
	var be *bazel.Error
	stderr := ""
	if errors.As(err, &be) {
		stderr = be.Stderr
	} else if err != nil {
		c.logf("cquery for incompatible targets failed; keeping them: %v", err)
		return
	}
	bad := parseIncompatible(string(out), stderr)
	if len(bad) == 0 {
		return
	}
	kept := res.Targets[:0]
	for _, t := range res.Targets {
		if bad[t.Label] {
			res.Incompatible = append(res.Incompatible, Removed{Label: t.Label, Kind: t.Kind, Test: t.Test})
			continue
		}
		kept = append(kept, t)
	}
	res.Targets = kept
	sort.Slice(res.Incompatible, func(i, j int) bool { return res.Incompatible[i].Label < res.Incompatible[j].Label })
	res.Stats.Affected = len(res.Targets)
	c.logf("%d affected targets are incompatible with the target platform: %s", len(res.Incompatible), fmt.Sprint(labelsOf(res.Incompatible)))
}

func labelsOf(rs []Removed) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Label)
	}
	return out
}

// filterIncompatibleAtHead is filterIncompatible where head is checked
// out: the work tree, or head's scratch copy.
func (c *computation) filterIncompatibleAtHead(ctx context.Context, res *Result, head *Snapshot) {
	if head == nil || len(compatCandidates(head, res.Targets)) == 0 {
		return
	}
	if c.opts.Uncommitted || c.wt.holdsHead() {
		c.filterIncompatible(ctx, res, head, c.root, c.bazelAt(c.root))
		return
	}
	if c.opts.CacheDir == "" {
		c.logf("no copy of head to ask for incompatible targets (no cache directory); keeping them")
		return
	}
	sc, err := openScratch(c.repo, c.opts.CacheDir, c.head.name(), c.head.hash)
	if err != nil {
		c.logf("%v; keeping incompatible targets", err)
		return
	}
	defer sc.Close()
	c.filterIncompatible(ctx, res, head, sc.Src(), c.bazelAt(sc.Src(), "--output_base="+sc.OutputBase(), fmt.Sprintf("--max_idle_secs=%d", c.opts.ScratchIdleSecs)))
}
