package affected

import (
	"fmt"
	"path"
	"sort"
	"strings"

	bzl "github.com/bazelbuild/buildtools/build"
)

// Reason kinds, stable: they are part of the --json output.
const (
	KindGlobal         = "global"                      // a workspace-wide change: every target is affected
	KindNewTarget      = "new_target"                  // the target does not exist at base
	KindRuleClass      = "rule_class_changed"          // subject: "old -> new"
	KindAttribute      = "attribute_changed"           // subject: the attribute
	KindRuleDefinition = "rule_definition_changed"     // subject: the .bzl that defines the rule
	KindMacro          = "macro_changed"               // subject: the macro's .bzl
	KindPackage        = "package_changed"             // subject: the BUILD file whose package() changed
	KindSourceChanged  = "source_changed"              // subject: the file
	KindSourceAdded    = "source_added"                // subject: the file
	KindSourceRemoved  = "source_removed"              // subject: the file
	KindSourceRenamed  = "source_renamed"              // subject: "old -> new"
	KindExternal       = "external_repository_changed" // subject: the repository name
	KindDependsOn      = "depends_on"                  // subject: the affected dependency's label
	KindDefinition     = "definition_changed"          // subject: the target (inputs or outputs changed)
	KindTestFlags      = "test_flags_changed"          // subject: ".bazelrc"; test targets only
)

// Reason says why a target is affected.
type Reason struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

func reason(kind, subject, format string, a ...interface{}) Reason {
	return Reason{Kind: kind, Subject: subject, Text: fmt.Sprintf(format, a...)}
}

// changeSet is what changed in the files between the two sides.
type changeSet struct {
	// changed maps each added, deleted or modified path to its status.
	changed map[string]string // "added", "deleted", "modified"
	// renamed maps a new path to the old path of an exact rename.
	renamed map[string]string
	// testOnlyRC: the changed .bazelrc files change test-only flags and
	// nothing else, which cannot change a query's result (see
	// markTestOnlyRC); testFlags names them.
	testOnlyRC bool
	testFlags  []string
	// outsideRCClean: the rc files git does not version select no
	// toolchain or platform (outsideRCClean); set by the caller that
	// knows the workspace, false (the safe answer) otherwise.
	outsideRCClean bool
}

// markTestOnlyRC sets cs.testOnlyRC when .bazelrc files changed and the
// expanded .bazelrc differs only in test-only flags (testOnlyChange).
func (cs *changeSet) markTestOnlyRC(baseFS, headFS *fileSet) {
	found := false
	for p := range cs.changed {
		if strings.HasSuffix(p, ".bazelrc") {
			found = true
		}
	}
	if !found {
		return
	}
	b := bazelrcText(baseFS, ".bazelrc", map[string]bool{}, 0)
	h := bazelrcText(headFS, ".bazelrc", map[string]bool{}, 0)
	cs.testFlags, cs.testOnlyRC = testOnlyChange(b, h)
}

// settingsOnly reports whether a change to p, a graph file, leaves every
// query result as it was: a .bazelrc whose change is test flags only.
func (cs *changeSet) settingsOnly(p string) bool {
	return cs.testOnlyRC && strings.HasSuffix(p, ".bazelrc")
}

func diffFiles(base, head *fileSet) *changeSet {
	cs := &changeSet{changed: map[string]string{}, renamed: map[string]string{}}
	removedByHash := map[string][]string{}
	for p, e := range base.entries {
		he, ok := head.entries[p]
		switch {
		case !ok:
			cs.changed[p] = "deleted"
			removedByHash[e.Hash.String()] = append(removedByHash[e.Hash.String()], p)
		case he != e:
			cs.changed[p] = "modified"
		}
	}
	for p, e := range head.entries {
		if _, ok := base.entries[p]; !ok {
			cs.changed[p] = "added"
			if olds := removedByHash[e.Hash.String()]; len(olds) > 0 {
				sort.Strings(olds)
				cs.renamed[p] = olds[0]
			}
		}
	}
	return cs
}

// comparison holds the state of one diff.
type comparison struct {
	base, head     *Snapshot
	files          *changeSet
	baseFS, headFS *fileSet
	// reasons of every affected node of head (external ones included).
	reasons map[string][]Reason
	// extRoots: for affected external nodes, the changed repositories
	// that cause it; extOther: also affected for another cause.
	extRoots map[string]map[string]bool
	extOther map[string]bool
	global   []Reason
	// testOnly: a settings change that affects every test target and
	// nothing else (test-only .bazelrc flags).
	testOnly []Reason
}

// compare computes the affected nodes of head against base. A nil base
// means the base could not be loaded: baseErr says why, and everything is
// affected.
func compare(base, head *Snapshot, baseFS, headFS *fileSet, baseErr error) *comparison {
	cs := &changeSet{changed: map[string]string{}, renamed: map[string]string{}}
	if baseFS != nil {
		cs = diffFiles(baseFS, headFS)
		cs.markTestOnlyRC(baseFS, headFS)
	}
	return compareChanges(base, head, baseFS, headFS, cs, baseErr)
}

// compareChanges is compare with the file changes already computed
// (diffFiles, then markTestOnlyRC).
func compareChanges(base, head *Snapshot, baseFS, headFS *fileSet, cs *changeSet, baseErr error) *comparison {
	c := &comparison{
		base: base, head: head, baseFS: baseFS, headFS: headFS, files: cs,
		reasons:  map[string][]Reason{},
		extRoots: map[string]map[string]bool{},
		extOther: map[string]bool{},
	}
	if base == nil {
		msg := "the base could not be loaded"
		if baseErr != nil {
			msg += ": " + firstLine(baseErr.Error())
		}
		c.global = append(c.global, reason(KindGlobal, "base", "%s", msg))
		return c
	}
	c.globals()
	changedRepos := c.repos()
	pkgChanged := c.packages()
	order := topoOrder(head)
	for _, name := range order {
		n := head.Nodes[name]
		var rs []Reason
		bn, inBase := base.Nodes[name]
		// roots (external repositories that make the node affected) is
		// allocated when needed: most nodes are unaffected.
		var roots map[string]bool
		other := false
		switch {
		case !inBase:
			rs = append(rs, c.newNode(name, n))
			other = true
		case bn.Digest != n.Digest:
			if n.Repo != "" && changedRepos[n.Repo] && bn.Type == n.Type && bn.Class == n.Class && n.Path == "" {
				roots = map[string]bool{n.Repo: true}
			} else {
				rs = append(rs, c.changedNode(name, bn, n)...)
				other = true
			}
		}
		if n.Type == typeRule && n.Repo == "" && len(pkgChanged) > 0 {
			l, _ := parseLabel(name)
			if bf, ok := pkgChanged[l.pkg]; ok {
				rs = append(rs, reason(KindPackage, bf, "package() changed: %s", bf))
				other = true
			}
		}
		var depReasons []Reason
		for _, d := range n.Deps {
			if _, affected := c.reasons[d]; !affected {
				if _, ext := c.extRoots[d]; !ext {
					continue
				}
			}
			dn := head.Nodes[d]
			switch {
			case dn == nil:
			case dn.Repo != "" && dn.Path == "":
				for r := range c.extRoots[d] {
					if roots == nil {
						roots = map[string]bool{}
					}
					roots[r] = true
				}
				if c.extOther[d] {
					depReasons = append(depReasons, reason(KindDependsOn, d, "depends on %s", d))
					other = true
				}
			case dn.Type == typeSource:
				depReasons = append(depReasons, c.reasons[d]...)
				other = true
			case dn.Type == typeGenerated && len(dn.Deps) == 1:
				depReasons = append(depReasons, reason(KindDependsOn, dn.Deps[0], "depends on %s", dn.Deps[0]))
				other = true
			default:
				depReasons = append(depReasons, reason(KindDependsOn, d, "depends on %s", d))
				other = true
			}
		}
		if len(roots) > 0 {
			rs = append(rs, externalReasons(roots)...)
		}
		rs = append(rs, depReasons...)
		if len(rs) == 0 && len(roots) == 0 {
			continue
		}
		if n.Repo != "" && n.Path == "" {
			c.extRoots[name] = roots
			c.extOther[name] = other
		}
		c.reasons[name] = dedupe(rs)
	}
	if len(c.testOnly) > 0 {
		for _, name := range order {
			if n := head.Nodes[name]; n.Type == typeRule && isTest(n.Class) {
				c.reasons[name] = dedupe(append(c.reasons[name], c.testOnly...))
			}
		}
	}
	// A changed toolchain or platform changes targets through toolchain
	// resolution, which the query graph does not show.
	var toolchains []string
	for name, n := range head.Nodes {
		if n.Type == typeRule && (n.Class == "toolchain" || n.Class == "platform") && len(c.reasons[name]) > 0 {
			toolchains = append(toolchains, name)
		}
	}
	sort.Strings(toolchains)
	for _, name := range toolchains {
		c.global = append(c.global, reason(KindGlobal, name, "%s %s changed (toolchain resolution is not in the query graph)", head.Nodes[name].Class, name))
	}
	return c
}

func externalReasons(roots map[string]bool) []Reason {
	names := make([]string, 0, len(roots))
	for r := range roots {
		names = append(names, r)
	}
	sort.Strings(names)
	out := make([]Reason, 0, len(names))
	for _, r := range names {
		out = append(out, reason(KindExternal, r, "external repository %s changed", r))
	}
	return out
}

func dedupe(rs []Reason) []Reason {
	seen := map[Reason]bool{}
	out := rs[:0]
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "ERROR:") {
			return strings.TrimSpace(l)
		}
	}
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func (c *comparison) globals() {
	keys := map[string]bool{}
	for k := range c.base.Globals {
		keys[k] = true
	}
	for k := range c.head.Globals {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if c.base.Globals[k] == c.head.Globals[k] {
			continue
		}
		if k == globalBazelrc && c.files.testOnlyRC {
			list := strings.Join(c.files.testFlags, " ")
			c.testOnly = append(c.testOnly, reason(KindTestFlags, k, ".bazelrc changed test-only flags (%s): every test is affected", list))
			continue
		}
		var text string
		switch k {
		case globalWorkspace:
			text = "WORKSPACE changed outside repository definitions"
		case globalBazelVersion:
			text = fmt.Sprintf("Bazel version changed (.bazelversion %q -> %q)", c.base.Globals[k], c.head.Globals[k])
		default:
			text = k + " changed"
		}
		c.global = append(c.global, reason(KindGlobal, k, "%s", text))
	}
	if c.base.Format != c.head.Format {
		c.global = append(c.global, reason(KindGlobal, "format", "digest format changed"))
	}
}

// repos returns the repositories whose definition changed. A changed
// repository that no target of either side is in may still matter through
// toolchain resolution: everything is then affected, except for Gazelle's
// go_repository, which defines no toolchains, and for a repository nothing
// can register a toolchain or platform from (see toolchains.go).
func (c *comparison) repos() map[string]bool {
	used := map[string]bool{}
	for _, s := range []*Snapshot{c.base, c.head} {
		for _, n := range s.Nodes {
			if n.Repo != "" {
				used[n.Repo] = true
			}
		}
	}
	changed := map[string]bool{}
	var names []string
	for name, hr := range c.head.Repos {
		br, ok := c.base.Repos[name]
		if !ok || br.Digest != hr.Digest {
			changed[name] = true
			names = append(names, name)
		}
	}
	for name := range c.base.Repos {
		if _, ok := c.head.Repos[name]; !ok {
			changed[name] = true
		}
	}
	sort.Strings(names)
	for _, name := range names {
		br, inBase := c.base.Repos[name]
		if !inBase || used[name] {
			continue
		}
		if br.Class == "go_repository" && c.head.Repos[name].Class == "go_repository" {
			continue
		}
		if c.base.NoRegistrations && c.head.NoRegistrations && c.files.outsideRCClean && !builtinToolchainRepo(name) {
			continue
		}
		c.global = append(c.global, reason(KindGlobal, "@"+name,
			"external repository %s changed and no target in the query graph uses it (it may provide toolchains)", name))
	}
	return changed
}

// packages returns the packages (by path) whose package() or licenses()
// call changed, mapped to their BUILD file.
func (c *comparison) packages() map[string]string {
	out := map[string]string{}
	var paths []string
	for p := range c.files.changed {
		if b := path.Base(p); b == "BUILD" || b == "BUILD.bazel" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		pkg := path.Dir(p)
		if pkg == "." {
			pkg = ""
		}
		if _, done := out[pkg]; done {
			continue
		}
		if packageCall(c.baseFS, pkg) != packageCall(c.headFS, pkg) {
			out[pkg] = p
		}
	}
	return out
}

// packageCall returns the package-wide calls of a package's BUILD file:
// package(...) and licenses(...), formatted.
func packageCall(fsys *fileSet, pkg string) string {
	for _, name := range []string{"BUILD.bazel", "BUILD"} {
		p := path.Join(pkg, name)
		data, ok := fsys.read(p)
		if !ok {
			continue
		}
		f, err := bzl.ParseBuild(p, data)
		if err != nil {
			return "unparseable:" + string(data)
		}
		var out []string
		for _, st := range f.Stmt {
			if call, ok := st.(*bzl.CallExpr); ok {
				if id, ok := call.X.(*bzl.Ident); ok && (id.Name == "package" || id.Name == "licenses") {
					call.Comments = bzl.Comments{}
					out = append(out, bzl.FormatString(call))
				}
			}
		}
		return strings.Join(out, "\n")
	}
	return ""
}

func (c *comparison) newNode(name string, n *Node) Reason {
	if n.Type == typeSource && n.Path != "" {
		if old, ok := c.files.renamed[n.Path]; ok {
			return reason(KindSourceRenamed, old+" -> "+n.Path, "source renamed: %s -> %s", old, n.Path)
		}
		return reason(KindSourceAdded, n.Path, "source added: %s", n.Path)
	}
	if n.Type == typeRule {
		return reason(KindNewTarget, name, "new target")
	}
	return reason(KindNewTarget, name, "new %s target", n.Type)
}

func (c *comparison) changedNode(name string, bn, n *Node) []Reason {
	if bn.Type != n.Type || bn.Class != n.Class {
		return []Reason{reason(KindRuleClass, describe(bn)+" -> "+describe(n), "kind changed: %s -> %s", describe(bn), describe(n))}
	}
	switch n.Type {
	case typeSource:
		if n.Path == "" {
			break
		}
		if c.headFS != nil && n.Path != "" && c.headFS.digest(n.Path) == missing {
			return []Reason{reason(KindSourceRemoved, n.Path, "source removed: %s", n.Path)}
		}
		if c.baseFS != nil && c.baseFS.digest(n.Path) == missing {
			if old, ok := c.files.renamed[n.Path]; ok {
				return []Reason{reason(KindSourceRenamed, old+" -> "+n.Path, "source renamed: %s -> %s", old, n.Path)}
			}
			return []Reason{reason(KindSourceAdded, n.Path, "source added: %s", n.Path)}
		}
		return []Reason{reason(KindSourceChanged, n.Path, "source changed: %s", n.Path)}
	case typeRule:
		if n.Attrs == nil || bn.Attrs == nil {
			break
		}
		var rs []Reason
		var attrs []string
		for a, d := range n.Attrs {
			if bn.Attrs[a] != d {
				attrs = append(attrs, a)
			}
		}
		for a := range bn.Attrs {
			if _, ok := n.Attrs[a]; !ok {
				attrs = append(attrs, a)
			}
		}
		sort.Strings(attrs)
		for _, a := range attrs {
			if a == "$rule_implementation_hash" {
				def := n.Def
				if def == "" {
					def = n.Class
				}
				rs = append(rs, reason(KindRuleDefinition, c.fileLabel(def), "rule definition changed: %s", c.fileLabel(def)))
				continue
			}
			rs = append(rs, reason(KindAttribute, a, "attribute changed: %s", a))
		}
		if len(attrs) > 0 {
			for _, m := range n.Macros {
				if _, ok := c.files.changed[m]; ok {
					rs = append(rs, reason(KindMacro, c.fileLabel(m), "macro %s changed", c.fileLabel(m)))
				}
			}
		}
		if len(rs) > 0 {
			return rs
		}
	}
	return []Reason{reason(KindDefinition, name, "definition changed")}
}

func describe(n *Node) string {
	if n.Type == typeRule {
		return n.Class
	}
	return n.Type + " file"
}

// fileLabel turns a workspace path (tools/bazel/deb.bzl) into a label
// (//tools/bazel:deb.bzl) using the packages of head's tree.
func (c *comparison) fileLabel(p string) string {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "@") || c.headFS == nil {
		return p
	}
	dir := path.Dir(p)
	for {
		d := dir
		if d == "." {
			d = ""
		}
		if c.headFS.exists(path.Join(d, "BUILD")) || c.headFS.exists(path.Join(d, "BUILD.bazel")) {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, d), "/")
			return "//" + d + ":" + rel
		}
		if d == "" {
			return p
		}
		dir = path.Dir(dir)
	}
}

// topoOrder lists s's nodes with every node after its dependencies. The
// order among independent nodes is arbitrary: a node's reasons depend
// only on its own dependencies'. The walk runs on indices, not names: it
// is on the critical path of every comparison.
func topoOrder(s *Snapshot) []string {
	names := make([]string, 0, len(s.Nodes))
	nodes := make([]*Node, 0, len(s.Nodes))
	index := make(map[string]int32, len(s.Nodes))
	for name, n := range s.Nodes {
		index[name] = int32(len(names))
		names = append(names, name)
		nodes = append(nodes, n)
	}
	state := make([]uint8, len(names))
	out := make([]string, 0, len(names))
	type frame struct {
		node int32
		i    int
	}
	var stack []frame
	for root := range names {
		if state[root] != 0 {
			continue
		}
		stack = append(stack[:0], frame{int32(root), 0})
		state[root] = 1
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			deps := nodes[top.node].Deps
			if top.i < len(deps) {
				d, ok := index[deps[top.i]]
				top.i++
				if ok && state[d] == 0 {
					state[d] = 1
					stack = append(stack, frame{d, 0})
				}
				continue
			}
			state[top.node] = 2
			out = append(out, names[top.node])
			stack = stack[:len(stack)-1]
		}
	}
	return out
}
