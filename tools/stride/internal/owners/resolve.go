package owners

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// Grant is one OWNERS entry that makes people owners of a path, and where
// it is written.
type Grant struct {
	// Entry is as written in the OWNERS file: "alice@example.com",
	// "@team" or "*".
	Entry string `json:"entry"`
	// Members are the people it names, less those excluded by a closer
	// (or the same) level. Empty for "*".
	Members []string `json:"members,omitempty"`
	// Anyone is set for "*": anybody but Except may approve.
	Anyone bool     `json:"anyone,omitempty"`
	Except []string `json:"except,omitempty"`
	// Source is the line that grants. When the entry came from an included
	// file, Source is in that file and Via lists the file: lines that led
	// there, outermost first.
	Source Pos   `json:"source"`
	Via    []Pos `json:"via,omitempty"`
	// Dir is the directory of the OWNERS file whose rules apply ("." for
	// the root); PerFile its per-file globs when a per-file line grants.
	Dir     string `json:"dir"`
	PerFile string `json:"per_file,omitempty"`
	// Level is the distance from the path: 0 for the closest rules (the
	// per-file lines, then the directory lines, of the closest OWNERS file).
	Level int `json:"level"`
	// LastResort: the line is marked #{LAST_RESORT_SUGGESTION}; suggest
	// names its people only when no one else can approve.
	LastResort bool `json:"last_resort,omitempty"`
}

// Exclusion is a negated entry (!email, !@team) in effect for a path.
type Exclusion struct {
	Entry   string   `json:"entry"`
	Members []string `json:"members"`
	Source  Pos      `json:"source"`
	Via     []Pos    `json:"via,omitempty"`
	Level   int      `json:"level"`
}

// TeamRequirement is a team that must approve under "require all-teams".
type TeamRequirement struct {
	Team    string   `json:"team"`
	Members []string `json:"members"` // its members who may approve the path
}

// Owners is everything OWNERS files say about one path.
type Owners struct {
	Path string `json:"path"`
	// OwnersFile is the closest OWNERS file ("" if there is none).
	OwnersFile string  `json:"owners_file,omitempty"`
	Grants     []Grant `json:"grants"`
	// Excluded lists the exclusions that apply.
	Excluded []Exclusion `json:"excluded,omitempty"`
	// Require is the number of distinct owners who must approve (1 unless
	// a "require N" applies); RequireSource the line that says so.
	Require       int  `json:"require"`
	RequireSource *Pos `json:"require_source,omitempty"`
	// AllTeams is set by "require all-teams": each team in Teams (the teams
	// granted by the closest level that grants anyone) must approve.
	AllTeams       bool              `json:"require_all_teams,omitempty"`
	AllTeamsSource *Pos              `json:"require_all_teams_source,omitempty"`
	Teams          []TeamRequirement `json:"teams,omitempty"`
	// NoParent is the "set noparent" that stopped inheritance, if any.
	NoParent *Pos `json:"noparent,omitempty"`

	// dirs are the OWNERS files consulted (closest first), for relevance of
	// diagnostics.
	consulted []string
}

// IsOwner reports whether email (compared case-insensitively) may approve
// the path.
func (o *Owners) IsOwner(email string) bool { return o.LevelOf(email) >= 0 }

// LevelOf returns the closest level at which email owns the path, or -1.
func (o *Owners) LevelOf(email string) int {
	email = strings.ToLower(email)
	for _, g := range o.Grants {
		if g.Anyone {
			if !containsSorted(g.Except, email) {
				return g.Level
			}
			continue
		}
		if containsSorted(g.Members, email) {
			return g.Level
		}
	}
	return -1
}

// lastResort reports whether every grant that names email is marked
// #{LAST_RESORT_SUGGESTION}.
func (o *Owners) lastResort(email string) bool {
	named := false
	for _, g := range o.Grants {
		if containsSorted(g.Members, email) {
			if !g.LastResort {
				return false
			}
			named = true
		}
	}
	return named
}

// Anyone reports whether a "*" grant lets anybody (not excluded) approve.
func (o *Owners) Anyone() bool {
	for _, g := range o.Grants {
		if g.Anyone {
			return true
		}
	}
	return false
}

// People returns everyone named by a grant (not "*"), closest level first,
// then by email.
func (o *Owners) People() []string {
	level := map[string]int{}
	for _, g := range o.Grants {
		for _, m := range g.Members {
			if l, ok := level[m]; !ok || g.Level < l {
				level[m] = g.Level
			}
		}
	}
	out := make([]string, 0, len(level))
	for m := range level {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if level[out[i]] != level[out[j]] {
			return level[out[i]] < level[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

func containsSorted(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// level is one step of the walk from a path up to the root.
type level struct {
	key     string // identifies the rules: file, and matched per-file lines
	dir     string
	file    string // the OWNERS file
	perFile string // joined globs, for per-file levels
	rules   *ruleSet
}

// OwnersOf returns the grants for p (see Resolve).
func (t *Tree) OwnersOf(p string) []Grant { return t.Resolve(p).Grants }

// Resolve returns the owners of the file at p (slash-separated, relative
// to the repository root). A p ending in "/" (or ".") names a directory:
// the result is what applies to a new file there that no per-file line
// matches.
//
// The walk goes from p's directory up to the root. At each directory with
// an OWNERS file it takes first the per-file lines matching p (one level),
// then the directory lines (the next level); a "set noparent" ends the
// walk after its level. Exclusions (!email, !@team) remove people from
// their own level and all farther ones; a closer explicit grant wins over
// a farther exclusion. "require" and "require all-teams/any-team" come
// from the closest level that says them.
func (t *Tree) Resolve(p string) *Owners { return t.resolve(p, nil) }

// resolve is Resolve with an optional cache (not safe for concurrent
// use): paths whose walk meets the same rules share one answer.
func (t *Tree) resolve(p string, cache map[string]*Owners) *Owners {
	isDir := strings.HasSuffix(p, "/") || p == "." || p == ""
	p = cleanRel(p)
	shown := p
	if isDir && p != "." {
		shown = p + "/"
	}
	levels := t.levels(p, isDir)
	var key string
	if cache != nil {
		var b strings.Builder
		for _, lv := range levels {
			b.WriteString(lv.key)
			b.WriteByte(0)
		}
		key = b.String()
		if o, ok := cache[key]; ok {
			cp := *o
			cp.Path = shown
			return &cp
		}
	}
	o := ownersFromLevels(shown, levels)
	if cache != nil {
		cache[key] = o
	}
	return o
}

func ownersFromLevels(shown string, levels []level) *Owners {
	o := &Owners{Path: shown}
	var excluded, seenNeg map[string]bool
	for i, lv := range levels {
		if o.OwnersFile == "" {
			o.OwnersFile = lv.file
		}
		if len(o.consulted) == 0 || o.consulted[len(o.consulted)-1] != lv.file {
			o.consulted = append(o.consulted, lv.file)
		}
		if len(lv.rules.negs) > 0 && excluded == nil {
			excluded, seenNeg = map[string]bool{}, map[string]bool{}
		}
		for _, n := range lv.rules.negs {
			for _, m := range n.members {
				excluded[m] = true
			}
			key := n.Pos.String() + n.String()
			if !seenNeg[key] {
				seenNeg[key] = true
				o.Excluded = append(o.Excluded, Exclusion{Entry: n.String(), Members: n.members, Source: n.Pos, Via: n.via, Level: i})
			}
		}
		for _, g := range lv.rules.grants {
			gr := Grant{Entry: strings.TrimSuffix(g.String(), " "+lastResortMarker), Source: g.Pos, Via: g.via, Dir: lv.dir, PerFile: lv.perFile, Level: i, LastResort: g.LastResort}
			if g.Kind == KindAnyone {
				gr.Anyone = true
				gr.Except = sortedKeys(excluded)
				if len(gr.Except) == 0 {
					gr.Except = nil
				}
			} else {
				gr.Members = without(g.members, excluded)
				if len(gr.Members) == 0 {
					continue
				}
			}
			o.Grants = append(o.Grants, gr)
		}
		if o.RequireSource == nil && lv.rules.require > 0 {
			pos := lv.rules.requirePos
			o.Require, o.RequireSource = lv.rules.require, &pos
		}
		if o.AllTeamsSource == nil && lv.rules.teams != teamsUnset {
			pos := lv.rules.teamsPos
			o.AllTeams, o.AllTeamsSource = lv.rules.teams == teamsAll, &pos
		}
		if lv.rules.noParent != nil {
			pos := *lv.rules.noParent
			o.NoParent = &pos
		}
	}
	if o.Require == 0 {
		o.Require = 1
	}
	if o.AllTeams && len(o.Grants) > 0 {
		closest := o.Grants[0].Level
		for _, g := range o.Grants {
			if g.Level != closest {
				break
			}
			if strings.HasPrefix(g.Entry, "@") {
				o.Teams = append(o.Teams, TeamRequirement{Team: g.Entry[1:], Members: g.Members})
			}
		}
	}
	return o
}

func without(list []string, excluded map[string]bool) []string {
	if len(excluded) == 0 {
		return list
	}
	out := make([]string, 0, len(list))
	for _, m := range list {
		if !excluded[m] {
			out = append(out, m)
		}
	}
	return out
}

// cleanRel normalizes a repository-relative path: slashes, no leading
// "./" or "/", "." for the root.
func cleanRel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+strings.TrimSpace(p)), "/")
	if p == "" {
		return "."
	}
	return p
}

func parentDir(d string) string {
	if d == "." {
		return ""
	}
	return path.Dir(d)
}

// relTo returns p relative to directory d.
func relTo(p, d string) string {
	if d == "." {
		return p
	}
	return strings.TrimPrefix(p, d+"/")
}

func (t *Tree) levels(p string, isDir bool) []level {
	dir := path.Dir(p)
	if isDir {
		dir = p
	}
	var out []level
	for d := dir; d != ""; d = parentDir(d) {
		dr := t.dirs[d]
		if dr == nil {
			continue
		}
		if !isDir && len(dr.perFile) > 0 {
			rel := relTo(p, d)
			var matched []*perFileRules
			for i := range dr.perFile {
				pr := &dr.perFile[i]
				for _, g := range pr.pf.globs {
					if g.match(rel) {
						matched = append(matched, pr)
						break
					}
				}
			}
			if len(matched) > 0 {
				lv := level{dir: d, file: dr.path, key: dr.path + "#" + perFileKey(dr, matched)}
				var globs []string
				if len(matched) == 1 {
					lv.rules = &matched[0].rules
					globs = matched[0].pf.Globs
				} else {
					merged := mergeRules(matched)
					lv.rules = &merged
					seen := map[string]bool{}
					for _, m := range matched {
						for _, g := range m.pf.Globs {
							if !seen[g] {
								seen[g] = true
								globs = append(globs, g)
							}
						}
					}
				}
				lv.perFile = strings.Join(globs, ",")
				out = append(out, lv)
				if lv.rules.noParent != nil {
					return out
				}
			}
		}
		out = append(out, level{dir: d, file: dr.path, rules: &dr.base, key: dr.path})
		if dr.base.noParent != nil {
			return out
		}
	}
	return out
}

// perFileKey names which per-file lines of dr matched.
func perFileKey(dr *dirRules, matched []*perFileRules) string {
	var b strings.Builder
	for _, m := range matched {
		for i := range dr.perFile {
			if &dr.perFile[i] == m {
				b.WriteString(strconv.Itoa(i))
				b.WriteByte(',')
			}
		}
	}
	return b.String()
}

// mergeRules combines the per-file lines that match one file into a level.
func mergeRules(rules []*perFileRules) ruleSet {
	var rs ruleSet
	for _, r := range rules {
		rs.grants = append(rs.grants, r.rules.grants...)
		rs.negs = append(rs.negs, r.rules.negs...)
		if rs.noParent == nil {
			rs.noParent = r.rules.noParent
		}
		if rs.require == 0 {
			rs.require, rs.requirePos = r.rules.require, r.rules.requirePos
		}
		if rs.teams == teamsUnset {
			rs.teams, rs.teamsPos = r.rules.teams, r.rules.teamsPos
		}
	}
	return rs
}
