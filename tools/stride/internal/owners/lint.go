package owners

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// LintSchema is the "schema" of `stride owners lint --json`.
const LintSchema = "stride.owners-lint/v1"

// Lint returns every problem of the tree at once: the diagnostics of Load
// (syntax errors, unknown teams, include and team cycles, missing include
// targets) plus repository-wide checks:
//
//   - errors: files no owner can approve (no OWNERS above them, a
//     "set noparent" without owners, exclusions that remove everyone), and
//     "require N" where fewer than N people can approve;
//   - warnings: duplicate entries, an entry both granted and excluded in
//     one file, per-file globs that match no file, teams without members,
//     lines of an included file that inclusion ignores, login lines for
//     emails no OWNERS entry or team names.
func Lint(t *Tree) Diagnostics {
	ds := t.Diagnostics()
	ds = append(ds, t.lintReachability()...)
	ds = append(ds, t.lintFiles()...)
	ds = append(ds, t.lintTeams()...)
	return ds.sorted()
}

func (t *Tree) lintReachability() Diagnostics {
	type unowned struct {
		pos     Pos
		dir     string
		n       int
		example string
		why     string
	}
	var order []string
	groups := map[string]*unowned{}
	type short struct {
		pos     Pos
		require int
		people  int
		example string
		n       int
	}
	shorts := map[Pos]*short{}
	var shortOrder []Pos
	cache := map[string]*Owners{}
	for _, f := range t.files {
		o := t.resolve(f, cache)
		if len(o.Grants) == 0 {
			dir := path.Dir(f)
			pos := Pos{File: OwnersFile}
			why := "no OWNERS file at the root or above it"
			switch {
			case o.NoParent != nil:
				pos = *o.NoParent
				why = "set noparent stops inheritance and no entry here grants an owner"
			case o.OwnersFile != "":
				pos = Pos{File: o.OwnersFile}
				why = "the OWNERS files above it grant no one (or exclusions remove everyone)"
			}
			key := pos.String() + "\x00" + dir
			g := groups[key]
			if g == nil {
				g = &unowned{pos: pos, dir: dir, example: f, why: why}
				groups[key] = g
				order = append(order, key)
			}
			g.n++
			continue
		}
		if o.RequireSource != nil && !o.Anyone() {
			if people := len(o.People()); people < o.Require {
				s := shorts[*o.RequireSource]
				if s == nil {
					s = &short{pos: *o.RequireSource, require: o.Require, people: people, example: f}
					shorts[*o.RequireSource] = s
					shortOrder = append(shortOrder, *o.RequireSource)
				}
				s.n++
			}
		}
	}
	var ds Diagnostics
	for _, key := range order {
		g := groups[key]
		where := g.dir + "/"
		if g.dir == "." {
			where = "the repository root"
		}
		ds = append(ds, errorf(g.pos, CodeUnowned, "no owner can approve changes to %s in %s (e.g. %s): %s",
			plural(g.n, "file", "files"), where, g.example, g.why))
	}
	for _, p := range shortOrder {
		s := shorts[p]
		ds = append(ds, errorf(s.pos, CodeUnsatisfiable, "require %d, but only %s can approve %s (e.g. %s)",
			s.require, plural(s.people, "person", "people"), plural(s.n, "file", "files"), s.example))
	}
	return ds
}

func (t *Tree) lintFiles() Diagnostics {
	var ds Diagnostics
	for _, p := range sortedFileKeys(t.parsed) {
		f := t.parsed[p]
		ds = append(ds, duplicates(f.Entries)...)
		for _, pf := range f.PerFile {
			ds = append(ds, duplicates(pf.Entries)...)
		}
		// Included files that are not OWNERS files: inclusion ignores
		// their per-file, set and require lines.
		if t.included[p] && path.Base(p) != OwnersFile {
			for _, e := range f.Entries {
				switch e.Kind {
				case KindNoParent, KindRequire, KindRequireAllTeams, KindRequireAnyTeam:
					ds = append(ds, warnf(e.Pos, CodeIgnored, "%q is ignored: %s is only included (file:), and inclusion takes owner entries only", e.String(), p))
				}
			}
			for _, pf := range f.PerFile {
				ds = append(ds, warnf(pf.Pos, CodeIgnored, "per-file is ignored: %s is only included (file:), and inclusion takes owner entries only", p))
			}
		}
		if dr := t.dirs[path.Dir(p)]; dr != nil && dr.path == p {
			ds = append(ds, t.unusedGlobs(dr)...)
		}
	}
	return ds
}

func sortedFileKeys(m map[string]*File) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// duplicates reports entries written twice, and entries both granted and
// excluded, in one list.
func duplicates(entries []Entry) Diagnostics {
	var ds Diagnostics
	seen := map[string]Pos{}
	for _, e := range entries {
		if e.Kind == KindNoParent || e.Kind == KindRequire || e.Kind == KindRequireAllTeams || e.Kind == KindRequireAnyTeam {
			continue
		}
		key := e.String()
		if prev, ok := seen[key]; ok {
			ds = append(ds, warnf(e.Pos, CodeDuplicate, "%s is already listed at %s", key, prev.FileLine()))
			continue
		}
		seen[key] = e.Pos
	}
	for _, e := range entries {
		if !e.Negate {
			continue
		}
		granted := e
		granted.Negate = false
		if prev, ok := seen[granted.String()]; ok {
			ds = append(ds, warnf(e.Pos, CodeConflict, "%s excludes %s, which %s grants: the exclusion wins at this level", e.String(), granted.String(), prev.FileLine()))
		}
	}
	return ds
}

// unusedGlobs warns about per-file globs that match no file.
func (t *Tree) unusedGlobs(dr *dirRules) Diagnostics {
	var ds Diagnostics
	files := t.filesUnder(dr.dir)
	for _, pr := range dr.perFile {
		for i, g := range pr.pf.globs {
			used := false
			for _, f := range files {
				if g.match(relTo(f, dr.dir)) {
					used = true
					break
				}
			}
			if !used {
				ds = append(ds, warnf(pr.pf.Pos, CodeUnused, "per-file glob %q matches no file in %s", pr.pf.Globs[i], dirLabel(dr.dir)))
			}
		}
	}
	return ds
}

func dirLabel(dir string) string {
	if dir == "." {
		return "the repository root"
	}
	return dir + "/"
}

// filesUnder returns the files below dir (all for ".").
func (t *Tree) filesUnder(dir string) []string {
	if dir == "." {
		return t.files
	}
	prefix := dir + "/"
	i := sort.SearchStrings(t.files, prefix)
	j := i
	for j < len(t.files) && strings.HasPrefix(t.files[j], prefix) {
		j++
	}
	return t.files[i:j]
}

func (t *Tree) lintTeams() Diagnostics {
	var ds Diagnostics
	if t.aliases == nil {
		return nil
	}
	for _, def := range t.aliases.Teams {
		if len(def.Members) == 0 {
			ds = append(ds, warnf(def.Pos, CodeEmptyTeam, "team @%s has no members", def.Name))
		}
	}
	named := map[string]bool{}
	for _, ti := range t.teams {
		for _, m := range ti.members {
			named[m] = true
		}
	}
	for _, f := range t.parsed {
		for _, e := range f.Entries {
			if e.Kind == KindEmail {
				named[e.Value] = true
			}
		}
		for _, pf := range f.PerFile {
			for _, e := range pf.Entries {
				if e.Kind == KindEmail {
					named[e.Value] = true
				}
			}
		}
	}
	for _, l := range t.aliases.Logins {
		if !named[l.Email] {
			ds = append(ds, warnf(l.Pos, CodeUnused, "login %s maps to %s, whom no OWNERS entry or team names", l.Login, l.Email))
		}
	}
	return ds
}

// LintReport is the JSON of `stride owners lint --json`.
type LintReport struct {
	Schema      string      `json:"schema"`
	OK          bool        `json:"ok"`
	Errors      int         `json:"errors"`
	Warnings    int         `json:"warnings"`
	OwnersFiles int         `json:"owners_files"`
	Files       int         `json:"files"`
	Diagnostics Diagnostics `json:"diagnostics"`
}

// NewLintReport summarizes diagnostics; strict makes warnings fail too.
func NewLintReport(t *Tree, ds Diagnostics, strict bool) *LintReport {
	r := &LintReport{Schema: LintSchema, Diagnostics: ds, OwnersFiles: len(t.ownersPaths), Files: len(t.files)}
	if r.Diagnostics == nil {
		r.Diagnostics = Diagnostics{}
	}
	r.Errors = len(ds.Errors())
	r.Warnings = len(ds.Warnings())
	r.OK = r.Errors == 0 && (!strict || r.Warnings == 0)
	return r
}

// String is the one-line summary.
func (r *LintReport) String() string {
	return fmt.Sprintf("%d OWNERS files, %d files: %s, %s", r.OwnersFiles, r.Files,
		plural(r.Errors, "error", "errors"), plural(r.Warnings, "warning", "warnings"))
}
