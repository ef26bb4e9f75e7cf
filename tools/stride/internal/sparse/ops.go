package sparse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// TeamConfig is the git config key where apply, clone and refresh record
// the team a sparse checkout is for.
const TeamConfig = "stride.sparse.team"

// Options are what the operations share.
type Options struct {
	// Git runs git; its Dir is ignored. Nil means git from PATH.
	Git *Git
	// Bazel returns the querier for a full work tree at dir; nil when
	// Bazel must not be run (then a stored map is required).
	Bazel func(dir string) Querier
	// QueryFlags are extra flags for `bazel query`.
	QueryFlags []string
	// Log, when set, receives progress lines.
	Log io.Writer
}

func (o *Options) git(dir string) *Git {
	g := o.Git
	if g == nil {
		g = &Git{}
	}
	g = g.In(dir)
	if g.Log == nil {
		g.Log = o.Log
	}
	return g
}

func (o *Options) logf(format string, a ...interface{}) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "sparse: "+format+"\n", a...)
	}
}

// MapFor returns the package map for HEAD of the work tree at dir: the one
// stored for HEAD; else, on a full tree with Bazel available, a freshly
// computed one (stored under MapRefPrefix as a local cache); else the
// nearest ancestor's stored map. exact is false in the last case: the
// caller widens the plan with Widen.
func MapFor(ctx context.Context, dir string, opts Options) (m *Map, exact bool, err error) {
	g := opts.git(dir)
	root, err := g.TopLevel(ctx)
	if err != nil {
		return nil, false, err
	}
	g = g.In(root)
	head, err := g.Output(ctx, "rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return nil, false, fmt.Errorf("resolve HEAD in %s: %w", root, err)
	}
	if m, err := LoadMap(ctx, g, head); err == nil {
		return m, true, nil
	} else if !errors.Is(err, ErrNoMap) {
		return nil, false, err
	}
	if opts.Bazel != nil && !isSparse(ctx, g) {
		m, err := BuildMap(ctx, BuildOptions{Dir: root, Bazel: opts.Bazel(root), QueryFlags: opts.QueryFlags, Git: g, Log: opts.Log})
		if err != nil {
			return nil, false, err
		}
		if _, err := StoreMap(ctx, g, m); err != nil {
			return nil, false, err
		}
		return m, true, nil
	}
	m, err = FindMap(ctx, g, head)
	if err != nil {
		return nil, false, err
	}
	return m, m.Commit == head, nil
}

// Publish computes the map of dir's HEAD (a full tree) and stores it; with
// a remote, it also pushes the ref there. It returns the map and its ref.
func Publish(ctx context.Context, dir, remote string, opts Options) (*Map, string, error) {
	if opts.Bazel == nil {
		return nil, "", errors.New("publishing a package map needs Bazel")
	}
	g := opts.git(dir)
	root, err := g.TopLevel(ctx)
	if err != nil {
		return nil, "", err
	}
	g = g.In(root)
	m, err := BuildMap(ctx, BuildOptions{Dir: root, Bazel: opts.Bazel(root), QueryFlags: opts.QueryFlags, Git: g, Log: opts.Log})
	if err != nil {
		return nil, "", err
	}
	ref, err := StoreMap(ctx, g, m)
	if err != nil {
		return nil, "", err
	}
	if remote != "" {
		if _, err := g.Run(ctx, nil, "push", remote, "+"+ref+":"+ref); err != nil {
			return nil, "", fmt.Errorf("could not push %s to %s: %w", ref, remote, err)
		}
	}
	return m, ref, nil
}

// PlanDir computes team's plan for the work tree at dir (see MapFor).
func PlanDir(ctx context.Context, dir, team string, opts Options) (*Plan, error) {
	m, exact, err := MapFor(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	var extra []string
	if !exact {
		g := opts.git(dir)
		root, err := g.TopLevel(ctx)
		if err != nil {
			return nil, err
		}
		if extra, err = Widen(ctx, g.In(root), m); err != nil {
			return nil, err
		}
	}
	return PlanFor(m, team, extra)
}

// Apply sets the work tree at dir to team's cone and records the team.
func Apply(ctx context.Context, dir, team string, opts Options) (*Plan, error) {
	return converge(ctx, dir, team, false, opts)
}

// Refresh recomputes the cone of the sparse checkout at dir after a pull
// and widens it: it fetches the package maps from origin (unless noFetch),
// takes the map of HEAD or its nearest ancestor, widens it with what the
// BUILD and .bzl files changed since name, and sets the union of that plan
// and the current cone. team "" means the recorded team.
func Refresh(ctx context.Context, dir, team string, noFetch bool, opts Options) (*Plan, error) {
	g := opts.git(dir)
	root, err := g.TopLevel(ctx)
	if err != nil {
		return nil, err
	}
	g = g.In(root)
	if team == "" {
		team, _ = g.Output(ctx, "config", "--get", TeamConfig)
		if team == "" {
			return nil, fmt.Errorf("%w: %s records no team (git config %s); pass --team", ErrNoTeam, root, TeamConfig)
		}
	}
	if !noFetch {
		if err := FetchMaps(ctx, g, "origin"); err != nil {
			return nil, err
		}
	}
	return converge(ctx, root, team, true, opts)
}

// FetchMaps fetches remote's package maps into the repository of g.
func FetchMaps(ctx context.Context, g *Git, remote string) error {
	spec := "+" + MapRefPrefix + "*:" + MapRefPrefix + "*"
	if _, err := g.Run(ctx, nil, "fetch", "--quiet", "--no-tags", remote, spec); err != nil {
		return fmt.Errorf("could not fetch the package maps from %s: %w", remote, err)
	}
	return nil
}

// CloneOptions are Clone's inputs.
type CloneOptions struct {
	URL, Dir, Team string
	// Args are more `git clone` arguments (e.g. --branch NAME).
	Args []string
}

// Clone makes a partial (blob:none), sparse clone of URL in Dir with
// team's cone, ready to build.
func Clone(ctx context.Context, co CloneOptions, opts Options) (*Plan, error) {
	g := opts.git(".")
	if err := CheckVersion(ctx, g); err != nil {
		return nil, err
	}
	args := append([]string{"clone", "--quiet", "--filter=blob:none", "--sparse"}, co.Args...)
	args = append(args, "--", co.URL, co.Dir)
	if _, err := g.Run(ctx, nil, args...); err != nil {
		return nil, fmt.Errorf("could not clone %s: %w", co.URL, err)
	}
	cg := g.In(co.Dir)
	if err := FetchMaps(ctx, cg, "origin"); err != nil {
		return nil, err
	}
	return converge(ctx, co.Dir, co.Team, true, opts)
}

// converge computes the plan, sets the cone and, when the map is not
// HEAD's own, widens from the changed BUILD and .bzl files (now checked
// out) until nothing new is found. union keeps the current cone's
// directories.
func converge(ctx context.Context, dir, team string, union bool, opts Options) (*Plan, error) {
	g := opts.git(dir)
	root, err := g.TopLevel(ctx)
	if err != nil {
		return nil, err
	}
	g = g.In(root)
	if err := CheckVersion(ctx, g); err != nil {
		return nil, err
	}
	m, exact, err := MapFor(ctx, root, opts)
	if err != nil {
		return nil, err
	}
	if _, err := m.TeamDirs(team); err != nil {
		return nil, err
	}
	var keep []string
	if union {
		if keep, err = coneDirs(ctx, g); err != nil {
			return nil, err
		}
	}
	var extra []string
	for round := 0; ; round++ {
		p, err := PlanFor(m, team, extra)
		if err != nil {
			return nil, err
		}
		cone := topMost(sortedKeys(toSet(append(append([]string{}, p.Cone...), keep...))))
		opts.logf("cone of @%s: %d directories (map of %s)", p.Team, len(cone), short(m.Commit))
		if err := setCone(ctx, g, cone); err != nil {
			return nil, err
		}
		p.Cone = cone
		p.Checkout, p.Full = m.count(cone)
		if exact || round >= 10 {
			_, err = g.Run(ctx, nil, "config", TeamConfig, p.Team)
			return p, err
		}
		more, err := Widen(ctx, g, m)
		if err != nil {
			return nil, err
		}
		if len(more) == len(extra) {
			_, err = g.Run(ctx, nil, "config", TeamConfig, p.Team)
			return p, err
		}
		extra = more
	}
}

func toSet(l []string) map[string]bool {
	s := map[string]bool{}
	for _, x := range l {
		s[x] = true
	}
	return s
}

// Widen returns the package directories named by the BUILD and .bzl files
// changed between m.Commit and HEAD that are present in the work tree of
// g (loads and every string that is a main-repository label), and that
// exist at HEAD. It is the conservative stand-in for HEAD's own map when
// the push pipeline has not published it yet.
func Widen(ctx context.Context, g *Git, m *Map) ([]string, error) {
	out, err := g.Output(ctx, "diff", "--name-only", "--no-renames", m.Commit, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("could not list the changes since %s: %w", short(m.Commit), err)
	}
	set := map[string]bool{}
	for _, f := range strings.Fields(out) {
		base := path.Base(f)
		if base != "BUILD" && base != "BUILD.bazel" && !strings.HasSuffix(base, ".bzl") &&
			base != "WORKSPACE" && base != "WORKSPACE.bazel" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(g.Dir, filepath.FromSlash(f)))
		if err != nil {
			continue // deleted, or outside the cone: nothing there can be built
		}
		bf, err := build.Parse(f, data)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		for _, s := range append(fileStrings(bf), fileLoads(bf)...) {
			if p, ok := labelPkg(s, m.Workspace); ok && p != "." {
				set[p] = true
			}
		}
	}
	var dirs []string
	for _, d := range sortedKeys(set) {
		if _, err := g.Run(ctx, nil, "cat-file", "-e", "HEAD:"+d); err == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}
