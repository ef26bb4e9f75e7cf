package owners

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/nearest"
)

// Errors of DirsOwnedBy; test with errors.Is.
var (
	ErrUnknownTeam = errors.New("unknown team")
	ErrNoOwnedDirs = errors.New("team owns no directory")
)

// TeamsSchema is the "schema" of `stride owners teams --json`.
const TeamsSchema = "stride.owners-teams/v1"

// Team is a team of OWNERS_ALIASES with what it owns.
type Team struct {
	Name string `json:"name"`
	// Members are the people in the team, teams it contains expanded.
	Members []string `json:"members"`
	// Direct are the members as written (emails and @teams).
	Direct []string `json:"direct"`
	// Dirs are the directories whose OWNERS file lists the team (not
	// through a per-file line); see DirsOwnedBy.
	Dirs   []string `json:"dirs"`
	Source Pos      `json:"source"`
}

// Teams returns every team of OWNERS_ALIASES, sorted by name.
func (t *Tree) Teams() []Team {
	owned := t.ownedDirs()
	var out []Team
	for _, name := range sortedTeamNames(t.teams) {
		ti := t.teams[name]
		tm := Team{Name: name, Members: append([]string{}, ti.members...), Source: ti.def.Pos, Dirs: owned[name]}
		for _, m := range ti.def.Members {
			tm.Direct = append(tm.Direct, m.String())
		}
		if tm.Dirs == nil {
			tm.Dirs = []string{}
		}
		if tm.Direct == nil {
			tm.Direct = []string{}
		}
		out = append(out, tm)
	}
	return out
}

// DirsOwnedBy returns the directories team (with or without '@') owns:
// those whose OWNERS file lists the team at directory level (a per-file
// grant owns files, not a directory; entries pulled in by file: count),
// sorted. A directory below another directory of the list is dropped (a
// sparse checkout of the parent includes it), except below the root: "."
// means the root OWNERS file lists the team (it may approve anything no
// "set noparent" keeps from it, including the top-level files), and the
// directories listed with it are those whose own OWNERS files name the
// team. Errors: ErrUnknownTeam for a team OWNERS_ALIASES does not define
// (UnknownTeamError),
// ErrNoOwnedDirs for a team no OWNERS file lists.
func (t *Tree) DirsOwnedBy(team string) ([]string, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(team), "@"))
	if _, ok := t.teams[name]; !ok {
		return nil, UnknownTeamError(name, sortedTeamNames(t.teams))
	}
	dirs := t.ownedDirs()[name]
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no OWNERS file lists @%s", ErrNoOwnedDirs, name)
	}
	return dirs, nil
}

// ownedDirs maps each team to its top-most directly owned directories.
func (t *Tree) ownedDirs() map[string][]string {
	all := map[string][]string{}
	for dir, dr := range t.dirs {
		seen := map[string]bool{}
		for _, g := range dr.base.grants {
			if g.Kind == KindAlias && !seen[g.Value] {
				seen[g.Value] = true
				all[g.Value] = append(all[g.Value], dir)
			}
		}
	}
	for team, dirs := range all {
		sort.Strings(dirs)
		var top []string
		for _, d := range dirs {
			covered := false
			for _, p := range top {
				if p != "." && strings.HasPrefix(d, p+"/") {
					covered = true
					break
				}
			}
			if !covered {
				top = append(top, d)
			}
		}
		all[team] = top
	}
	return all
}

// maxListedTeams is how many teams an unknown-team error lists in full.
const maxListedTeams = 12

// UnknownTeamError is the error for a team that known (the defined teams'
// names, without @) lacks: it wraps ErrUnknownTeam and names the closest
// teams, and all of them when there are few:
// "unknown team @alpah: did you mean @alpha? (teams: @alpha, @beta)".
func UnknownTeamError(name string, known []string) error {
	sorted := append([]string{}, known...)
	sort.Strings(sorted)
	at := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = "@" + n
		}
		return out
	}
	hint := ""
	if close := nearest.Names(name, sorted, 3); len(close) > 0 {
		hint = ": did you mean " + strings.Join(at(close), " or ") + "?"
	}
	list := "none defined"
	switch {
	case len(sorted) > maxListedTeams:
		list = fmt.Sprintf("%d defined; stride owners teams lists them", len(sorted))
	case len(sorted) > 0:
		list = strings.Join(at(sorted), ", ")
	}
	return fmt.Errorf("%w @%s%s (teams: %s)", ErrUnknownTeam, name, hint, list)
}
