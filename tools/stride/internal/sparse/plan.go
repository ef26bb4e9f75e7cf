package sparse

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/owners"
)

// PlanSchema is the "schema" of `stride sparse plan --json`.
const PlanSchema = "stride.sparse-plan/v1"

// Plan is a team's sparse checkout.
type Plan struct {
	Schema string `json:"schema"`
	Team   string `json:"team"`
	// Commit is the commit whose package map the plan comes from.
	Commit string `json:"commit"`
	// Owned are the directories the team owns.
	Owned []string `json:"owned"`
	// Packages are the packages the team's targets need (its own
	// included), and every package the cone holds, sorted.
	Packages []string `json:"packages"`
	// Cone are the directories given to `git sparse-checkout set`: the
	// top-most of Owned, the packages' directories and the map's Always.
	// Git adds the files of the root and of every parent directory.
	Cone []string `json:"cone"`
	// Extra are directories added beyond the map (refresh's widening).
	Extra []string `json:"extra,omitempty"`
	// Checkout and Full count what the cone checks out and the full tree.
	Checkout Count `json:"checkout"`
	Full     Count `json:"full"`
}

// Count sizes a set of files.
type Count struct {
	Dirs  int   `json:"dirs"`
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// TeamDirs returns the directories team owns according to m, with the
// errors of owners.Tree.DirsOwnedBy (ErrUnknownTeam listing the known
// teams, ErrNoOwnedDirs).
func (m *Map) TeamDirs(team string) ([]string, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(team), "@"))
	dirs, ok := m.Teams[name]
	if !ok {
		known := make([]string, 0, len(m.Teams))
		for t := range m.Teams {
			known = append(known, t)
		}
		return nil, owners.UnknownTeamError(name, known)
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no OWNERS file lists @%s", owners.ErrNoOwnedDirs, name)
	}
	return dirs, nil
}

// under reports whether d is dir or below it ("." holds only itself:
// owning the root means the root package, not the whole tree).
func under(d, dir string) bool {
	if dir == "." {
		return d == "."
	}
	return d == dir || strings.HasPrefix(d, dir+"/")
}

// PlanFor computes team's plan from m, with extra directories added to the
// cone (nil for none).
func PlanFor(m *Map, team string, extra []string) (*Plan, error) {
	if len(extra) > 0 {
		// Extra keeps only what the map alone does not already give.
		base, err := PlanFor(m, team, nil)
		if err != nil {
			return nil, err
		}
		var more []string
		for _, d := range extra {
			covered := false
			for _, c := range base.Cone {
				if under(d, c) {
					covered = true
					break
				}
			}
			if !covered {
				more = append(more, d)
			}
		}
		extra = more
	}
	owned, err := m.TeamDirs(team)
	if err != nil {
		return nil, err
	}
	p := &Plan{Schema: PlanSchema, Team: strings.ToLower(strings.TrimPrefix(strings.TrimSpace(team), "@")),
		Commit: m.Commit, Owned: owned, Extra: extra}
	need := map[string]bool{} // directories checked out recursively
	pkgs := map[string]bool{}
	var queue []string
	visit := func(pkg string) {
		if !pkgs[pkg] {
			pkgs[pkg] = true
			queue = append(queue, pkg)
		}
	}
	addDir := func(d string) {
		if need[d] {
			return
		}
		need[d] = true
		// Everything below a cone directory is checked out: its packages
		// must build too (so `bazel build //...` works in the checkout).
		for q := range m.Packages {
			if under(q, d) {
				visit(q)
			}
		}
	}
	for _, d := range owned {
		addDir(d)
	}
	for _, d := range m.Always {
		addDir(d)
	}
	for _, d := range extra {
		addDir(d)
	}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		addDir(q)
		for _, d := range m.Packages[q] {
			visit(d)
		}
	}
	p.Packages = sortedKeys(pkgs)
	delete(need, ".")
	p.Cone = topMost(sortedKeys(need))
	p.Checkout, p.Full = m.count(p.Cone)
	return p, nil
}

// topMost drops directories below another of the sorted list.
func topMost(dirs []string) []string {
	out := []string{}
	for _, d := range dirs {
		if len(out) > 0 && under(d, out[len(out)-1]) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// count sizes what a cone checks out: the root's files, every directory
// below a cone directory, and the files of the cone directories' parents.
func (m *Map) count(cone []string) (in, full Count) {
	parents := map[string]bool{".": true}
	for _, c := range cone {
		for d := c; d != "."; {
			d = parentDir(d)
			parents[d] = true
		}
	}
	for d, s := range m.Dirs {
		full.Dirs++
		full.Files += s.Files
		full.Bytes += s.Bytes
		inCone := parents[d]
		for _, c := range cone {
			if under(d, c) {
				inCone = true
				break
			}
		}
		if inCone {
			in.Dirs++
			in.Files += s.Files
			in.Bytes += s.Bytes
		}
	}
	return in, full
}

func parentDir(d string) string {
	i := strings.LastIndexByte(d, '/')
	if i < 0 {
		return "."
	}
	return d[:i]
}

// WriteText prints the plan for people.
func (p *Plan) WriteText(w io.Writer) {
	fmt.Fprintf(w, "team @%s at %s: owns %s\n", p.Team, short(p.Commit), strings.Join(p.Owned, ", "))
	fmt.Fprintf(w, "cone (%d directories, plus the root's files):\n", len(p.Cone))
	for _, d := range p.Cone {
		fmt.Fprintf(w, "  %s/\n", d)
	}
	fmt.Fprintf(w, "packages needed: %d\n", len(p.Packages))
	pct := func(a, b int64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	}
	fmt.Fprintf(w, "directories: %d of %d (%s)\n", p.Checkout.Dirs, p.Full.Dirs, pct(int64(p.Checkout.Dirs), int64(p.Full.Dirs)))
	fmt.Fprintf(w, "files:       %d of %d (%s)\n", p.Checkout.Files, p.Full.Files, pct(int64(p.Checkout.Files), int64(p.Full.Files)))
	fmt.Fprintf(w, "bytes:       %d of %d (%s)\n", p.Checkout.Bytes, p.Full.Bytes, pct(p.Checkout.Bytes, p.Full.Bytes))
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// IsTeamError reports whether err is an unknown-team or no-directories
// error (a usage error for the CLI).
func IsTeamError(err error) bool {
	return errors.Is(err, owners.ErrUnknownTeam) || errors.Is(err, owners.ErrNoOwnedDirs)
}
