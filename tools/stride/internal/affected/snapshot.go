package affected

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"path"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

// FormatVersion changes whenever digests change meaning. It is part of
// the cache key, so maps written by an older stride are never compared
// with new ones.
const FormatVersion = 6 // 6: submodules' files are digested

// Snapshot is the digest map of one commit (or of the work tree): every
// target of `deps(//...)` with the digest of what defines it, every
// external repository with the digest of its definition, and the digests
// of the workspace-wide settings.
type Snapshot struct {
	Format int `json:"format"`
	// Commit is the commit the snapshot describes; "" for a work tree.
	Commit string `json:"commit,omitempty"`
	// Workspace is the main repository's name (workspace(name = ...)).
	Workspace string           `json:"workspace,omitempty"`
	Nodes     map[string]*Node `json:"nodes"`
	Repos     map[string]*Repo `json:"repos"`
	// Globals are settings that can change any target: .bazelrc,
	// .bazelversion, the WORKSPACE outside repository definitions...
	Globals map[string]string `json:"globals"`
	// NoRegistrations: the WORKSPACE (with the workspace .bzl files it
	// loads) and the .bazelrc register no toolchain or platform and load
	// no macro of another repository (see toolchains.go). False when
	// unknown (maps cached before it existed).
	NoRegistrations bool `json:"noreg,omitempty"`
}

// Node types.
const (
	typeRule      = "rule"
	typeSource    = "source"
	typeGenerated = "generated"
	typeOther     = "other"
)

// Node is one target in a snapshot.
type Node struct {
	Type  string `json:"t"`
	Class string `json:"c,omitempty"` // rule class
	// Digest covers everything that defines the target itself (rule
	// class, attributes, rule definition, file content, repository
	// definition), not its dependencies.
	Digest string `json:"d"`
	// Attrs are the digests of each attribute (rules of the main
	// repository only), to say which attribute changed.
	Attrs map[string]string `json:"a,omitempty"`
	Deps  []string          `json:"deps,omitempty"`
	// Path is the file's path in the workspace (source files whose content
	// is hashed).
	Path string `json:"p,omitempty"`
	// Vis is the digest of a hashed source file's visibility: with the
	// file's content digest it makes the node's Digest (sourceDigest), so
	// a snapshot can be re-hashed for other file contents (rehash).
	Vis string `json:"v,omitempty"`
	// Repo is the external repository ("" for the main one).
	Repo string `json:"r,omitempty"`
	// Macros are the files of the macros that instantiated the rule
	// (workspace-relative paths), outermost first.
	Macros []string `json:"m,omitempty"`
	// Def is the file that defined the rule class.
	Def string `json:"def,omitempty"`
}

// Repo is an external repository's definition.
type Repo struct {
	Class  string `json:"c"`
	Digest string `json:"d"`
	// Dir is set for local_repository/new_local_repository inside the
	// workspace: its directory, whose files are hashed one by one.
	Dir string `json:"dir,omitempty"`
	// Files are the workspace files whose content the digest covers
	// (build_file, patches...).
	Files []string `json:"f,omitempty"`
}

// label is a parsed Bazel label.
type label struct {
	repo, pkg, name string
}

// parseLabel splits "@repo//pkg:name", "//pkg:name", "//pkg" (name = last
// component). The main repository is repo "".
func parseLabel(s string) (label, bool) {
	var l label
	if strings.HasPrefix(s, "@") {
		i := strings.Index(s, "//")
		if i < 0 {
			return l, false
		}
		l.repo = s[1:i]
		s = s[i:]
	}
	if !strings.HasPrefix(s, "//") {
		return l, false
	}
	s = s[2:]
	if i := strings.Index(s, ":"); i >= 0 {
		l.pkg, l.name = s[:i], s[i+1:]
	} else {
		l.pkg, l.name = s, path.Base(s)
	}
	return l, true
}

// filePath is the label's file path relative to its repository root.
func (l label) filePath() string {
	if l.pkg == "" {
		return l.name
	}
	return l.pkg + "/" + l.name
}

func (l label) String() string {
	s := "//" + l.pkg + ":" + l.name
	if l.repo != "" {
		s = "@" + l.repo + s
	}
	return s
}

// builder turns a query result into a snapshot.
type builder struct {
	files *fileSet
	// root is the absolute directory the query ran in; it is replaced by
	// a placeholder wherever it appears, so checkouts in different
	// directories give the same digests.
	root      string
	snap      *Snapshot
	repoRules map[string]*buildpb.Rule
	repoState map[string]int // 0 new, 1 in progress, 2 done
	// untracked lists source files that the tree lacks but the disk has
	// (set only when checkDisk is on).
	checkDisk string
	untracked []string
	// ext gives the content of go_repository files (nil: none); extFiles
	// are the content digests read for this query, by repository.
	ext      extSource
	extFiles map[string]map[string]string
}

// buildSnapshot computes the snapshot of a `deps(//...) + //external:*`
// query result whose source files are files, for commit ("" for a work
// tree). root is the directory the query ran in. When checkDisk is set (a
// directory), source files missing from files but present there are
// reported in untracked: the query saw files the commit does not have.
//
// ext (nil: none) gives the content of go_repository files (see
// extContent).
func buildSnapshot(res *buildpb.QueryResult, files *fileSet, commit, root, checkDisk string, ext extSource) (*Snapshot, []string, error) {
	b := newBuilder(files, commit, root, checkDisk, len(res.Target))
	b.ext = ext
	b.addRepos(res.Target)
	b.prepareExternal(res.Target)
	if err := b.addTargets(res.Target); err != nil {
		return nil, nil, err
	}
	b.snap.Globals = computeGlobals(files, b.snap)
	return b.snap, b.untracked, nil
}

func newBuilder(files *fileSet, commit, root, checkDisk string, size int) *builder {
	return &builder{
		files:     files,
		root:      root,
		checkDisk: checkDisk,
		snap: &Snapshot{
			Format:  FormatVersion,
			Commit:  commit,
			Nodes:   make(map[string]*Node, size),
			Repos:   map[string]*Repo{},
			Globals: map[string]string{},
		},
		repoRules: map[string]*buildpb.Rule{},
		repoState: map[string]int{},
	}
}

// addRepos digests the repository definitions among targets (//external
// rules) and sets the workspace name. It comes first: node digests of
// external targets include their repository's.
func (b *builder) addRepos(targets []*buildpb.Target) {
	b.snap.Workspace = ""
	for _, t := range targets {
		r := t.GetRule()
		if r == nil || !strings.HasPrefix(r.GetName(), "//external:") || r.GetRuleClass() == "bind" {
			continue
		}
		name := strings.TrimPrefix(r.GetName(), "//external:")
		b.repoRules[name] = r
		if r.GetRuleClass() == "local_repository" && attrString(r, "path") == "." {
			b.snap.Workspace = name
		}
	}
	for name := range b.repoRules {
		b.repoDigest(name)
	}
	// The main repository's own entry names the checkout directory.
	if b.snap.Workspace != "" {
		delete(b.snap.Repos, b.snap.Workspace)
	}
}

// addTargets adds the targets, on two goroutines for large graphs (the
// digests are independent; repositories are already digested).
func (b *builder) addTargets(targets []*buildpb.Target) error {
	if len(targets) < 4000 {
		for _, t := range targets {
			if err := b.addTarget(t); err != nil {
				return err
			}
		}
		return nil
	}
	b.files.index() // built lazily otherwise, which would race
	half := len(targets) / 2
	other := &builder{files: b.files, root: b.root, checkDisk: b.checkDisk, extFiles: b.extFiles,
		snap: &Snapshot{Workspace: b.snap.Workspace, Repos: b.snap.Repos, Nodes: make(map[string]*Node, half+1)}}
	errc := make(chan error, 1)
	go func() {
		for _, t := range targets[half:] {
			if err := other.addTarget(t); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	var err error
	for _, t := range targets[:half] {
		if err = b.addTarget(t); err != nil {
			break
		}
	}
	if oerr := <-errc; err == nil {
		err = oerr
	}
	if err != nil {
		return err
	}
	for k, n := range other.snap.Nodes {
		b.snap.Nodes[k] = n
	}
	b.untracked = append(b.untracked, other.untracked...)
	return nil
}

// canonical maps a label string to the form nodes are keyed by: the main
// repository as "//", including "@//" and "@<workspace name>//".
func (b *builder) canonical(s string) string {
	if strings.HasPrefix(s, "@//") {
		return s[1:]
	}
	if b.snap.Workspace != "" && strings.HasPrefix(s, "@"+b.snap.Workspace+"//") {
		return s[len(b.snap.Workspace)+1:]
	}
	return s
}

func (b *builder) addTarget(t *buildpb.Target) error {
	switch t.GetType() {
	case buildpb.Target_RULE:
		r := t.GetRule()
		name := b.canonical(r.GetName())
		if strings.HasPrefix(name, "//external:") && r.GetRuleClass() != "bind" {
			return nil // a repository definition
		}
		b.snap.Nodes[name] = b.ruleNode(name, r)
	case buildpb.Target_SOURCE_FILE:
		sf := t.GetSourceFile()
		name := b.canonical(sf.GetName())
		if strings.HasPrefix(name, "//external:") {
			return nil
		}
		b.snap.Nodes[name] = b.sourceNode(name, sf)
	case buildpb.Target_GENERATED_FILE:
		g := t.GetGeneratedFile()
		name := b.canonical(g.GetName())
		l, _ := parseLabel(name)
		gen := b.canonical(g.GetGeneratingRule())
		h := newHash("generated")
		h.str(gen)
		h.str(b.ownerDigest(l))
		b.snap.Nodes[name] = &Node{Type: typeGenerated, Digest: h.sum(), Deps: []string{gen}, Repo: l.repo}
	default:
		// Package and environment groups: their whole definition.
		var name string
		var m proto.Message
		switch t.GetType() {
		case buildpb.Target_PACKAGE_GROUP:
			name, m = t.GetPackageGroup().GetName(), t.GetPackageGroup()
		case buildpb.Target_ENVIRONMENT_GROUP:
			name, m = t.GetEnvironmentGroup().GetName(), t.GetEnvironmentGroup()
		default:
			return fmt.Errorf("query result: unknown target type %v", t.GetType())
		}
		name = b.canonical(name)
		l, _ := parseLabel(name)
		h := newHash("other")
		h.bytes(b.marshal(m))
		h.str(b.ownerDigest(l))
		b.snap.Nodes[name] = &Node{Type: typeOther, Digest: h.sum(), Repo: l.repo}
	}
	return nil
}

// Attributes left out of digests: where a macro was called (a line number).
var skipAttrs = map[string]bool{"generator_location": true}

func (b *builder) ruleNode(name string, r *buildpb.Rule) *Node {
	l, _ := parseLabel(name)
	n := &Node{Type: typeRule, Class: r.GetRuleClass(), Repo: l.repo}
	h := newHash("rule")
	h.str(r.GetRuleClass())
	attrs := make(map[string]string, len(r.Attribute))
	names := make([]string, 0, len(r.Attribute))
	for _, a := range r.Attribute {
		if skipAttrs[a.GetName()] {
			continue
		}
		attrs[a.GetName()] = b.attrDigest(a)
		names = append(names, a.GetName())
	}
	sort.Strings(names)
	for _, a := range names {
		h.str(a)
		h.str(attrs[a])
	}
	deps := make([]string, 0, len(r.RuleInput))
	seen := map[string]bool{}
	for _, in := range r.RuleInput {
		in = b.canonical(in)
		if !seen[in] {
			seen[in] = true
			deps = append(deps, in)
		}
	}
	sort.Strings(deps)
	h.str("inputs")
	for _, d := range deps {
		h.str(d)
	}
	outs := append([]string(nil), r.RuleOutput...)
	sort.Strings(outs)
	h.str("outputs")
	for _, o := range outs {
		h.str(b.canonical(o))
	}
	h.str(b.ownerDigest(l))
	n.Digest = h.sum()
	n.Deps = deps
	if l.repo == "" {
		n.Attrs = attrs
		n.Macros = stackFiles(r.InstantiationStack, true)
		if d := stackFiles(r.DefinitionStack, false); len(d) > 0 {
			n.Def = d[0]
		}
	}
	return n
}

// stackFiles returns the files of a definition or instantiation stack
// ("tools/macros.bzl:3:12: my_macro"), without duplicates; with bzlOnly,
// only .bzl files (not the BUILD file at the bottom).
func stackFiles(stack []string, bzlOnly bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range stack {
		i := strings.Index(s, ":")
		if i <= 0 {
			continue
		}
		f := s[:i]
		if bzlOnly && !strings.HasSuffix(f, ".bzl") {
			continue
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func (b *builder) sourceNode(name string, sf *buildpb.SourceFile) *Node {
	l, _ := parseLabel(name)
	n := &Node{Type: typeSource, Repo: l.repo}
	vis := append([]string(nil), sf.VisibilityLabel...)
	sort.Strings(vis)
	vh := newHash("visibility")
	for _, v := range vis {
		vh.str(v)
	}
	var p string
	switch {
	case l.repo == "":
		p = l.filePath()
	case b.snap.Repos[l.repo] != nil && b.snap.Repos[l.repo].Dir != "":
		p = path.Join(b.snap.Repos[l.repo].Dir, l.filePath())
	}
	if p != "" {
		n.Path = p
		n.Vis = vh.sum()
		d := b.files.digest(p)
		if d == missing && b.checkDisk != "" {
			if _, ok, _ := diskEntry(b.checkDisk + "/" + p); ok {
				b.untracked = append(b.untracked, p)
			}
		}
		n.Digest = sourceDigest(n.Vis, d)
		return n
	}
	// A file of an external repository: its content where it is
	// digested by content, else the repository's definition.
	h := newHash("source")
	h.str(vh.sum())
	h.str(name)
	if d, ok := b.extFileDigest(l); ok {
		h.str("content:" + d)
	} else {
		h.str(b.repoDigestOf(l.repo))
	}
	n.Digest = h.sum()
	return n
}

// sourceDigest is the digest of a workspace source file: its visibility's
// digest and its content's.
func sourceDigest(vis, content string) string {
	h := newHash("source")
	h.str(vis)
	h.str(content)
	return h.sum()
}

func (b *builder) repoDigestOf(repo string) string {
	if repo == "" {
		return ""
	}
	if r, ok := b.snap.Repos[repo]; ok {
		return r.Digest
	}
	// A repository without a //external entry (bazel_tools and other
	// built-ins): its name is all we know.
	return "builtin:" + repo
}

// attrDigest hashes one attribute, leaving out whether it was set
// explicitly (a default spelled out changes nothing).
func (b *builder) attrDigest(a *buildpb.Attribute) string {
	// The query result is ours: clear the field for marshalling instead
	// of cloning every attribute.
	saved := a.ExplicitlySpecified
	a.ExplicitlySpecified = nil
	sum := sha256.Sum256(b.marshal(a))
	a.ExplicitlySpecified = saved
	return hex.EncodeToString(sum[:8])
}

func (b *builder) marshal(m proto.Message) []byte {
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		// Marshalling a message we just decoded cannot fail; hash its
		// text instead of dropping it.
		out = []byte(fmt.Sprint(m))
	}
	if b.root != "" {
		out = bytes.ReplaceAll(out, []byte(b.root), []byte("%workspace%"))
	}
	return out
}

// repoDigest computes the digest of repository name's definition: its rule
// class and attributes, the content of workspace files its attributes name
// (patches, build files), and the digests of other repositories they name.
func (b *builder) repoDigest(name string) string {
	if r, ok := b.snap.Repos[name]; ok {
		return r.Digest
	}
	rule, ok := b.repoRules[name]
	if !ok {
		return "builtin:" + name
	}
	if b.repoState[name] == 1 {
		return "cycle:" + name
	}
	b.repoState[name] = 1
	h := newHash("repo")
	h.str(rule.GetRuleClass())
	repo := &Repo{Class: rule.GetRuleClass()}
	attrs := append([]*buildpb.Attribute(nil), rule.Attribute...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].GetName() < attrs[j].GetName() })
	for _, a := range attrs {
		if skipAttrs[a.GetName()] {
			continue
		}
		h.str(a.GetName())
		h.str(b.attrDigest(a))
		if rule.GetRuleClass() == "go_repository_config" {
			continue // see goRepositoryConfig
		}
		for _, v := range attrStrings(a) {
			b.hashReferenced(h, repo, name, v)
		}
	}
	switch rule.GetRuleClass() {
	case "local_repository", "new_local_repository":
		if dir, ok := b.workspacePath(attrString(rule, "path")); ok {
			repo.Dir = dir
		}
	case "go_repository_config":
		b.goRepositoryConfig(h)
	}
	repo.Digest = h.sum()
	b.snap.Repos[name] = repo
	b.repoState[name] = 2
	return repo.Digest
}

// hashReferenced adds what an attribute value of repository self names: a
// workspace file's content, or another repository's digest.
func (b *builder) hashReferenced(h *hasher, repo *Repo, self, v string) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "//") && !strings.HasPrefix(v, "@") {
		return
	}
	l, ok := parseLabel(v)
	if !ok {
		return
	}
	if l.repo == "" || l.repo == b.snap.Workspace {
		p := l.filePath()
		h.str(p)
		h.str(b.files.digest(p))
		repo.Files = append(repo.Files, p)
		return
	}
	if l.repo != self {
		h.str(l.repo)
		h.str(b.repoDigest(l.repo))
	}
}

// goRepositoryConfig digests Gazelle's go_repository_config by what it
// holds instead of by its `config` file (the whole WORKSPACE, which would
// make every WORKSPACE edit change every go_repository): the names and
// import paths of all go_repository rules and the WORKSPACE's
// `# gazelle:` directives.
func (b *builder) goRepositoryConfig(h *hasher) {
	var lines []string
	for n, r := range b.repoRules {
		if r.GetRuleClass() == "go_repository" {
			lines = append(lines, n+" "+attrString(r, "importpath")+" "+attrString(r, "build_naming_convention")+" "+attrString(r, "build_file_name"))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		h.str(l)
	}
	for _, ws := range []string{"WORKSPACE", "WORKSPACE.bazel"} {
		data, _ := b.files.read(ws)
		for _, l := range strings.Split(string(data), "\n") {
			if t := strings.TrimSpace(l); strings.HasPrefix(t, "# gazelle:") {
				h.str(t)
			}
		}
	}
}

// workspacePath turns a local repository's path into a workspace-relative
// directory, if it is inside the workspace.
func (b *builder) workspacePath(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	if path.IsAbs(p) {
		if b.root == "" || !strings.HasPrefix(p+"/", b.root+"/") {
			return "", false
		}
		p = strings.TrimPrefix(strings.TrimPrefix(p, b.root), "/")
	}
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

func attrString(r *buildpb.Rule, name string) string {
	for _, a := range r.Attribute {
		if a.GetName() == name {
			return a.GetStringValue()
		}
	}
	return ""
}

// attrStrings lists every string in an attribute's value.
func attrStrings(a *buildpb.Attribute) []string {
	var out []string
	if a.StringValue != nil {
		out = append(out, a.GetStringValue())
	}
	out = append(out, a.StringListValue...)
	for _, e := range a.StringDictValue {
		out = append(out, e.GetKey(), e.GetValue())
	}
	for _, e := range a.LabelDictUnaryValue {
		out = append(out, e.GetKey(), e.GetValue())
	}
	for _, e := range a.LabelListDictValue {
		out = append(out, e.GetKey())
		out = append(out, e.Value...)
	}
	for _, e := range a.LabelKeyedStringDictValue {
		out = append(out, e.GetKey(), e.GetValue())
	}
	for _, e := range a.StringListDictValue {
		out = append(out, e.GetKey())
		out = append(out, e.Value...)
	}
	for _, sel := range a.GetSelectorList().GetElements() {
		for _, e := range sel.Entries {
			out = append(out, e.GetLabel())
			if e.StringValue != nil {
				out = append(out, e.GetStringValue())
			}
			out = append(out, e.StringListValue...)
		}
	}
	return out
}

// hasher builds a digest from length-prefixed strings.
// hasher digests a sequence of strings, each written as "<len>:<s>" (so
// that no two sequences write the same bytes).
type hasher struct {
	h   hash.Hash
	buf []byte
}

func newHash(kind string) *hasher {
	h := &hasher{h: sha256.New(), buf: make([]byte, 0, 128)}
	h.str(kind)
	return h
}

// str writes "<len>:<s>" (by hand: fmt.Fprintf was a fifth of the time
// to digest a query result).
func (h *hasher) str(s string) {
	h.buf = strconv.AppendInt(h.buf[:0], int64(len(s)), 10)
	h.buf = append(h.buf, ':')
	h.buf = append(h.buf, s...)
	h.h.Write(h.buf)
}

func (h *hasher) bytes(b []byte) {
	h.buf = strconv.AppendInt(h.buf[:0], int64(len(b)), 10)
	h.buf = append(h.buf, ':')
	h.h.Write(h.buf)
	h.h.Write(b)
}

func (h *hasher) sum() string { return hex.EncodeToString(h.h.Sum(nil)[:16]) }
