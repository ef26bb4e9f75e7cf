package sparse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bazelbuild/buildtools/build"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
)

// MapSchema is the "schema" of a package map.
const MapSchema = "stride.sparse-pkgmap/v1"

// MapRefPrefix is where package maps are stored: MapRefPrefix+<commit sha>
// names a blob holding the map's JSON.
const MapRefPrefix = "refs/stride/pkgmap/"

// MapQuery is the query BuildMap runs: every target of the main
// repository and everything they depend on, external repositories
// included (edges through them, such as rules_go's nogo toolchain, lead
// back into the main repository).
const MapQuery = "deps(//...)"

// DefaultExtra are directories every plan includes when they exist: the
// third-party trees and Bazel helpers the WORKSPACE and .bazelrc use.
// Most are also derived from WORKSPACE (see Map.Always); these stay as a
// floor for what the derivation cannot see.
var DefaultExtra = []string{"third_party", "tools/bazel"}

// Map is a package map: the dependency graph of one commit, by package.
type Map struct {
	Schema string `json:"schema"`
	Commit string `json:"commit"`
	// Workspace is the workspace name (WORKSPACE's workspace(name=...)).
	Workspace string `json:"workspace,omitempty"`
	// Packages maps every package of the main repository (its directory,
	// "." for the root) to the packages it needs directly: those of its
	// targets' dependencies, reached directly or through external
	// repositories, and those holding the .bzl files it loads. Apply the
	// map transitively (Closure).
	Packages map[string][]string `json:"packages"`
	// Always are the directories every build needs: those named by
	// WORKSPACE and the .bzl files it loads (loads, main-repository labels
	// such as go_register_toolchains(nogo = ...), local_repository paths),
	// paths named in .bazelrc, and DefaultExtra.
	Always []string `json:"always"`
	// Teams maps each OWNERS_ALIASES team to the directories it owns
	// (owners.Tree.DirsOwnedBy); a team that owns none maps to [].
	Teams map[string][]string `json:"teams"`
	// Dirs counts each directory's own files (not its subdirectories').
	Dirs map[string]DirStat `json:"dirs"`
}

// DirStat counts the files directly in a directory.
type DirStat struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// Querier runs a Bazel query and decodes its proto output; *bazel.Bazel
// implements it.
type Querier interface {
	QueryProto(ctx context.Context, expr string, extra ...string) (*buildpb.QueryResult, error)
}

// BuildOptions say where and how BuildMap computes a map.
type BuildOptions struct {
	// Dir is the root of a full (not sparse) work tree whose files are
	// those of HEAD.
	Dir string
	// Bazel runs the query in Dir.
	Bazel Querier
	// QueryFlags are extra flags for `bazel query`.
	QueryFlags []string
	// Git runs git (Dir is set by BuildMap).
	Git *Git
	// Log, when set, receives progress lines.
	Log io.Writer
}

// BuildMap computes the package map of the work tree at opts.Dir (its
// HEAD). It needs the full tree: it fails on a sparse checkout.
func BuildMap(ctx context.Context, opts BuildOptions) (*Map, error) {
	g := opts.Git.In(opts.Dir)
	root, err := g.TopLevel(ctx)
	if err != nil {
		return nil, err
	}
	g = g.In(root)
	if isSparse(ctx, g) {
		return nil, fmt.Errorf("%s is a sparse checkout: computing a package map needs the full tree (fetch the maps with `git fetch origin '+%s*:%s*'`)", root, MapRefPrefix, MapRefPrefix)
	}
	head, err := g.Output(ctx, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return nil, fmt.Errorf("resolve HEAD in %s: %w", root, err)
	}
	m := &Map{Schema: MapSchema, Commit: head, Packages: map[string][]string{}, Teams: map[string][]string{}}
	if m.Dirs, err = treeStats(ctx, g, head); err != nil {
		return nil, err
	}
	if err := m.addTeams(root, head); err != nil {
		return nil, err
	}
	rd := &reader{root: root, ws: workspaceName(root), seen: map[string][]string{}}
	m.Workspace = rd.ws
	pkgs := map[string]bool{}
	for d := range m.Dirs {
		for _, b := range []string{"BUILD.bazel", "BUILD"} {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(joinPkg(d, b)))); err == nil {
				pkgs[d] = true
			}
		}
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "sparse: bazel query %s in %s (%d packages)\n", MapQuery, root, len(pkgs))
	}
	res, err := opts.Bazel.QueryProto(ctx, MapQuery, opts.QueryFlags...)
	if err != nil {
		return nil, fmt.Errorf("could not query the dependency graph: %w", err)
	}
	deps := packageDeps(res, rd.ws)
	for p := range pkgs {
		set := map[string]bool{}
		for _, d := range deps[p] {
			set[d] = true
		}
		for _, b := range []string{"BUILD.bazel", "BUILD"} {
			f := joinPkg(p, b)
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err != nil {
				continue
			}
			loaded, err := rd.loads(f, p)
			if err != nil {
				return nil, err
			}
			for _, l := range loaded {
				set[l] = true
			}
			break
		}
		delete(set, p)
		m.Packages[p] = sortedKeys(set)
	}
	always, err := rd.always(m.Dirs, pkgs)
	if err != nil {
		return nil, err
	}
	m.Always = always
	return m, nil
}

func (m *Map) addTeams(root, head string) error {
	repo, err := gitrepo.Open(root)
	if err != nil {
		return err
	}
	defer repo.Close()
	h, err := repo.ResolveRevision(head)
	if err != nil {
		return err
	}
	t, err := owners.LoadAt(repo, h)
	var ds owners.Diagnostics
	if err != nil && !(errors.As(err, &ds) && t != nil) {
		return fmt.Errorf("load OWNERS at %s: %w", head[:12], err)
	}
	for _, tm := range t.Teams() {
		m.Teams[tm.Name] = append([]string{}, tm.Dirs...)
	}
	return nil
}

// treeStats counts the files of commit per directory (`git ls-tree -l`).
func treeStats(ctx context.Context, g *Git, commit string) (map[string]DirStat, error) {
	out, err := g.Run(ctx, nil, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
	if err != nil {
		return nil, fmt.Errorf("could not list the files of %s: %w", commit, err)
	}
	stats := map[string]DirStat{".": {}}
	for _, rec := range bytes.Split(out, []byte{0}) {
		tab := bytes.IndexByte(rec, '\t')
		if tab < 0 {
			continue
		}
		f := strings.Fields(string(rec[:tab]))
		if len(f) != 4 {
			continue
		}
		p := string(rec[tab+1:])
		d := path.Dir(p)
		size, _ := strconv.ParseInt(f[3], 10, 64) // "-" for submodules
		s := stats[d]
		s.Files++
		s.Bytes += size
		stats[d] = s
		for d != "." { // parents exist too, even without files of their own
			d = path.Dir(d)
			if _, ok := stats[d]; !ok {
				stats[d] = DirStat{}
			}
		}
	}
	return stats, nil
}

// packageDeps maps each main-repository package to the other main packages
// its targets reach, directly or through external repositories only.
func packageDeps(res *buildpb.QueryResult, ws string) map[string][]string {
	edges := map[string][]string{}
	var labels []string
	for _, t := range res.GetTarget() {
		var name string
		var out []string
		switch {
		case t.GetRule() != nil:
			name = t.GetRule().GetName()
			out = t.GetRule().GetRuleInput()
		case t.GetGeneratedFile() != nil:
			name = t.GetGeneratedFile().GetName()
			out = []string{t.GetGeneratedFile().GetGeneratingRule()}
		case t.GetSourceFile() != nil:
			name = t.GetSourceFile().GetName()
		case t.GetPackageGroup() != nil:
			name = t.GetPackageGroup().GetName()
		case t.GetEnvironmentGroup() != nil:
			name = t.GetEnvironmentGroup().GetName()
		default:
			continue
		}
		edges[name] = out
		labels = append(labels, name)
	}
	// ext[l]: main packages reachable from external target l through
	// external targets only.
	ext := map[string]map[string]bool{}
	var viaExt func(l string) map[string]bool
	viaExt = func(l string) map[string]bool {
		if s, ok := ext[l]; ok {
			return s
		}
		s := map[string]bool{}
		ext[l] = s // cycle guard: a cycle contributes what is known so far
		for _, e := range edges[l] {
			if p, ok := labelPkg(e, ws); ok {
				s[p] = true
				continue
			}
			for p := range viaExt(e) {
				s[p] = true
			}
		}
		return s
	}
	deps := map[string]map[string]bool{}
	for _, l := range labels {
		p, ok := labelPkg(l, ws)
		if !ok {
			continue
		}
		set := deps[p]
		if set == nil {
			set = map[string]bool{}
			deps[p] = set
		}
		for _, e := range edges[l] {
			if q, ok := labelPkg(e, ws); ok {
				set[q] = true
				continue
			}
			for q := range viaExt(e) {
				set[q] = true
			}
		}
	}
	out := map[string][]string{}
	for p, set := range deps {
		delete(set, p)
		out[p] = sortedKeys(set)
	}
	return out
}

// reader reads BUILD, WORKSPACE and .bzl files of a work tree.
type reader struct {
	root string
	ws   string
	seen map[string][]string // .bzl file -> packages it needs (transitively)
}

func (rd *reader) parse(rel string) (*build.File, error) {
	data, err := os.ReadFile(filepath.Join(rd.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	f, err := build.Parse(rel, data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", rel, err)
	}
	return f, nil
}

// loads returns the packages holding the .bzl files file loads,
// transitively (file is in package pkg).
func (rd *reader) loads(file, pkg string) ([]string, error) {
	f, err := rd.parse(file)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, mod := range fileLoads(f) {
		bzl, ok := bzlFile(mod, pkg, rd.ws)
		if !ok {
			continue
		}
		bpkg := pkgOfLoad(mod, pkg, rd.ws)
		set[bpkg] = true
		sub, err := rd.bzl(bzl, bpkg)
		if err != nil {
			return nil, err
		}
		for _, s := range sub {
			set[s] = true
		}
	}
	return sortedKeys(set), nil
}

func (rd *reader) bzl(file, pkg string) ([]string, error) {
	if s, ok := rd.seen[file]; ok {
		return s, nil
	}
	rd.seen[file] = nil // cycle guard
	s, err := rd.loads(file, pkg)
	if err != nil {
		return nil, err
	}
	rd.seen[file] = s
	return s, nil
}

func pkgOfLoad(mod, from, ws string) string {
	if strings.HasPrefix(mod, ":") {
		return from
	}
	p, _ := labelPkg(mod, ws)
	return p
}

// always derives the directories every build needs from WORKSPACE (and
// the main .bzl files it loads) and .bazelrc.
func (rd *reader) always(dirs map[string]DirStat, pkgs map[string]bool) ([]string, error) {
	set := map[string]bool{}
	for _, d := range DefaultExtra {
		if _, ok := dirs[d]; ok {
			set[d] = true
		}
	}
	for _, w := range []string{"WORKSPACE", "WORKSPACE.bazel"} {
		if _, err := os.Stat(filepath.Join(rd.root, w)); err != nil {
			continue
		}
		files := []string{w}
		done := map[string]bool{}
		for len(files) > 0 {
			file := files[0]
			files = files[1:]
			if done[file] {
				continue
			}
			done[file] = true
			f, err := rd.parse(file)
			if err != nil {
				return nil, err
			}
			pkg := path.Dir(file)
			for _, mod := range fileLoads(f) {
				if bzl, ok := bzlFile(mod, pkg, rd.ws); ok {
					set[pkgOfLoad(mod, pkg, rd.ws)] = true
					files = append(files, bzl)
				}
			}
			for _, s := range fileStrings(f) {
				if p, ok := labelPkg(s, rd.ws); ok && pkgs[p] {
					set[p] = true
				}
			}
			for _, fn := range []string{"local_repository", "new_local_repository"} {
				for _, p := range callArgs(f, fn, "path") {
					if !filepath.IsAbs(p) {
						if _, ok := dirs[path.Clean(p)]; ok {
							set[path.Clean(p)] = true
						}
					}
				}
			}
		}
	}
	if rc, err := os.Open(filepath.Join(rd.root, ".bazelrc")); err == nil {
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "#") {
				continue
			}
			for _, tok := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '=' || r == '\t' }) {
				tok = path.Clean(strings.TrimPrefix(tok, "%workspace%/"))
				if tok == "." || strings.HasPrefix(tok, "/") || strings.HasPrefix(tok, "-") {
					continue
				}
				if _, ok := dirs[tok]; ok {
					set[tok] = true
				} else if _, ok := dirs[path.Dir(tok)]; ok && path.Dir(tok) != "." {
					if _, err := os.Stat(filepath.Join(rd.root, filepath.FromSlash(tok))); err == nil {
						set[path.Dir(tok)] = true
					}
				}
			}
		}
		rc.Close()
	}
	delete(set, ".")
	return sortedKeys(set), nil
}

// workspaceName returns WORKSPACE's workspace(name = ...), or "".
func workspaceName(root string) string {
	for _, w := range []string{"WORKSPACE", "WORKSPACE.bazel"} {
		data, err := os.ReadFile(filepath.Join(root, w))
		if err != nil {
			continue
		}
		f, err := build.Parse(w, data)
		if err != nil {
			continue
		}
		if n := callArgs(f, "workspace", "name"); len(n) > 0 {
			return n[0]
		}
	}
	return ""
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StoreMap writes m as a blob and points MapRefPrefix+m.Commit at it in
// the repository of g.Dir; it returns the ref's name.
func StoreMap(ctx context.Context, g *Git, m *Map) (string, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode package map: %w", err)
	}
	blob, err := g.Run(ctx, append(data, '\n'), "hash-object", "-w", "--stdin")
	if err != nil {
		return "", fmt.Errorf("could not store the package map: %w", err)
	}
	ref := MapRefPrefix + m.Commit
	if _, err := g.Run(ctx, nil, "update-ref", ref, strings.TrimSpace(string(blob))); err != nil {
		return "", fmt.Errorf("could not update %s: %w", ref, err)
	}
	return ref, nil
}

// LoadMap reads the map stored for commit (a full sha).
func LoadMap(ctx context.Context, g *Git, commit string) (*Map, error) {
	ref := MapRefPrefix + commit
	data, err := g.Run(ctx, nil, "cat-file", "blob", ref)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %v", ErrNoMap, commit, err)
	}
	m := &Map{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ref, err)
	}
	if m.Schema != MapSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", ref, m.Schema, MapSchema)
	}
	return m, nil
}

// FindMap returns the map of rev or of its nearest ancestor that has one
// (searching at most 1000 commits), with that ancestor's sha.
func FindMap(ctx context.Context, g *Git, rev string) (*Map, error) {
	refs, err := g.Output(ctx, "for-each-ref", "--format=%(refname)", MapRefPrefix)
	if err != nil {
		return nil, fmt.Errorf("could not list %s*: %w", MapRefPrefix, err)
	}
	have := map[string]bool{}
	for _, r := range strings.Fields(refs) {
		have[strings.TrimPrefix(r, MapRefPrefix)] = true
	}
	if len(have) > 0 {
		revs, err := g.Output(ctx, "rev-list", "--max-count=1000", rev)
		if err != nil {
			return nil, fmt.Errorf("could not list the history of %s: %w", rev, err)
		}
		for _, c := range strings.Fields(revs) {
			if have[c] {
				return LoadMap(ctx, g, c)
			}
		}
	}
	return nil, fmt.Errorf("%w for %s or its last 1000 ancestors under %s (run `stride sparse publish-map` in a full clone and push %s*, or `git fetch origin '+%s*:%s*'`)",
		ErrNoMap, rev, MapRefPrefix, MapRefPrefix, MapRefPrefix, MapRefPrefix)
}
