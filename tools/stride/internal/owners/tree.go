package owners

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/strideci/monorepo/tools/stride/internal/nearest"
)

// Tree is every OWNERS file of a repository (at a commit or in a work
// tree), resolved: includes expanded, teams expanded. It is read-only after
// Load and safe for concurrent use.
type Tree struct {
	dirs        map[string]*dirRules // by directory, "." for the root
	files       []string             // every file Load saw, sorted
	ownersPaths []string             // OWNERS files, sorted
	parsed      map[string]*File     // OWNERS files and include targets
	includes    map[string][]string  // OWNERS path -> files it includes, transitively
	included    map[string]bool      // every include target
	aliases     *Aliases
	teams       map[string]*teamInfo
	logins      map[string]string
	diags       Diagnostics
}

// resolvedEntry is an owner entry (email, @team or *) with the include
// lines that brought it in and the people it names.
type resolvedEntry struct {
	Entry
	via     []Pos
	members []string // sorted; nil for *
}

// ruleSet is the resolved content of one OWNERS level: a directory's
// lines, or the per-file lines matching a file.
type ruleSet struct {
	grants     []resolvedEntry
	negs       []resolvedEntry
	noParent   *Pos
	require    int
	requirePos Pos
	teams      teamMode
	teamsPos   Pos
}

type teamMode int

const (
	teamsUnset teamMode = iota
	teamsAll
	teamsAny
)

type dirRules struct {
	dir     string // "." for the root
	path    string // its OWNERS file
	file    *File
	base    ruleSet
	perFile []perFileRules
}

type perFileRules struct {
	pf    PerFile
	rules ruleSet
}

type teamInfo struct {
	def     *TeamDef
	members []string // expanded, sorted
}

// LoadOptions tune LoadFS.
type LoadOptions struct {
	// Gitignore skips what .gitignore files (and .git/info/exclude) of the
	// file system ignore, as git does for untracked files. Use it for work
	// trees; a commit's tree has nothing to ignore.
	Gitignore bool
	// Ignore, if set, skips more paths (slash-separated; directories too).
	Ignore func(path string, isDir bool) bool
}

// Load reads every OWNERS file of fsys (a work tree via os.DirFS, or a
// commit via gitrepo's FS) and OWNERS_ALIASES at its root. It skips .git,
// directories named testdata (their OWNERS files are test fixtures) and
// does not follow symbolic links.
//
// It returns the tree even when files have errors: bad lines are left out
// and everything else applies. The error is then a Diagnostics with every
// problem found (file:line:col); use errors.As to get it. Other errors
// (reading fsys) come with a nil tree.
func Load(fsys fs.FS) (*Tree, error) { return LoadFS(fsys, LoadOptions{}) }

// LoadDir is Load of a work tree at dir, honoring .gitignore.
func LoadDir(dir string) (*Tree, error) {
	return LoadFS(os.DirFS(dir), LoadOptions{Gitignore: true})
}

// LoadFS is Load with options.
func LoadFS(fsys fs.FS, opts LoadOptions) (*Tree, error) {
	b := &builder{
		fsys: fsys,
		t: &Tree{
			dirs:     map[string]*dirRules{},
			parsed:   map[string]*File{},
			includes: map[string][]string{},
			included: map[string]bool{},
			teams:    map[string]*teamInfo{},
			logins:   map[string]string{},
		},
	}
	if err := b.walk(opts); err != nil {
		return nil, err
	}
	if err := b.loadAliases(); err != nil {
		return nil, err
	}
	for _, p := range b.t.ownersPaths {
		if err := b.loadOwners(p); err != nil {
			return nil, err
		}
	}
	b.t.diags = b.t.diags.sorted()
	if b.t.diags.HasErrors() {
		return b.t, b.t.diags
	}
	return b.t, nil
}

type builder struct {
	fsys fs.FS
	t    *Tree
	// aliasesFound is whether the root has an OWNERS_ALIASES file.
	aliasesFound bool
}

func (b *builder) diag(d Diagnostic) { b.t.diags = append(b.t.diags, d) }

func (b *builder) walk(opts LoadOptions) error {
	var patterns []gitignore.Pattern
	var matcher gitignore.Matcher
	addIgnoreFile := func(file string, domain []string) {
		data, err := fs.ReadFile(b.fsys, file)
		if err != nil {
			return
		}
		added := false
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			patterns = append(patterns, gitignore.ParsePattern(line, domain))
			added = true
		}
		if added {
			matcher = gitignore.NewMatcher(patterns)
		}
	}
	if opts.Gitignore {
		addIgnoreFile(".git/info/exclude", nil)
	}
	err := fs.WalkDir(b.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != "." && errors.Is(err, fs.ErrPermission) {
				// Reported with every other problem; its files are unknown.
				b.diag(errorf(Pos{File: p}, CodeUnreadable, "cannot read directory %s: %v", p, err))
				return fs.SkipDir
			}
			return fmt.Errorf("load OWNERS: %w", err)
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." {
				if name == ".git" || name == "testdata" {
					return fs.SkipDir
				}
				if matcher != nil && matcher.Match(strings.Split(p, "/"), true) {
					return fs.SkipDir
				}
				if opts.Ignore != nil && opts.Ignore(p, true) {
					return fs.SkipDir
				}
			}
			if opts.Gitignore {
				var domain []string
				if p != "." {
					domain = strings.Split(p, "/")
				}
				addIgnoreFile(path.Join(p, ".gitignore"), domain)
			}
			return nil
		}
		if matcher != nil && matcher.Match(strings.Split(p, "/"), false) {
			return nil
		}
		if opts.Ignore != nil && opts.Ignore(p, false) {
			return nil
		}
		b.t.files = append(b.t.files, p)
		switch name {
		case OwnersFile:
			if !d.Type().IsRegular() {
				b.diag(warnf(Pos{File: p}, CodeIgnored, "%s is not a regular file (a symbolic link?) and is ignored; to share owners write file:PATH", p))
				return nil
			}
			b.t.ownersPaths = append(b.t.ownersPaths, p)
		case AliasesFile:
			if p != AliasesFile {
				b.diag(warnf(Pos{File: p}, CodeIgnored, "%s is ignored: only the repository root's %s defines teams", p, AliasesFile))
			} else {
				b.aliasesFound = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(b.t.files)
	sort.Strings(b.t.ownersPaths)
	return nil
}

func (b *builder) loadAliases() error {
	if !b.aliasesFound {
		return nil
	}
	data, err := fs.ReadFile(b.fsys, AliasesFile)
	if err != nil {
		b.diag(errorf(Pos{File: AliasesFile}, CodeUnreadable, "cannot read %s: %v", AliasesFile, err))
		return nil
	}
	a, diags := ParseAliases(AliasesFile, data)
	b.t.diags = append(b.t.diags, diags...)
	b.t.aliases = a
	for i := range a.Teams {
		def := &a.Teams[i]
		b.t.teams[def.Name] = &teamInfo{def: def}
	}
	for _, name := range sortedTeamNames(b.t.teams) {
		b.expandTeam(name, nil)
	}
	for _, l := range a.Logins {
		b.t.logins[l.Login] = l.Email
	}
	return nil
}

func sortedTeamNames(m map[string]*teamInfo) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// expandTeam computes the members of team name; stack holds the teams
// being expanded (for cycles).
func (b *builder) expandTeam(name string, stack []string) []string {
	ti := b.t.teams[name]
	if ti.members != nil {
		return ti.members
	}
	set := map[string]bool{}
	stack = append(stack, name)
	for _, m := range ti.def.Members {
		switch m.Kind {
		case KindEmail:
			set[m.Value] = true
		case KindAlias:
			if _, ok := b.t.teams[m.Value]; !ok {
				b.diag(errorf(m.Pos, CodeUnknownAlias, "unknown team @%s in @%s%s", m.Value, name, b.didYouMean(m.Value)))
				continue
			}
			if i := indexOf(stack, m.Value); i >= 0 {
				cycle := append(append([]string(nil), stack[i:]...), m.Value)
				b.diag(errorf(m.Pos, CodeAliasCycle, "team cycle: @%s", strings.Join(cycle, " → @")))
				continue
			}
			for _, e := range b.expandTeam(m.Value, stack) {
				set[e] = true
			}
		}
	}
	ti.members = sortedKeys(set)
	return ti.members
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// didYouMean suggests the closest team name, if one is close.
func (b *builder) didYouMean(name string) string {
	best, bestD := "", 4
	for _, n := range sortedTeamNames(b.t.teams) {
		if d := nearest.Distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		if !b.aliasesFound {
			return " (there is no " + AliasesFile + " file at the repository root)"
		}
		return ""
	}
	return " (did you mean @" + best + "?)"
}

// parseFile parses an OWNERS-syntax file once.
func (b *builder) parseFile(p string) (*File, error) {
	if f, ok := b.t.parsed[p]; ok {
		return f, nil
	}
	data, err := fs.ReadFile(b.fsys, p)
	if err != nil {
		return nil, err
	}
	f, diags := Parse(p, data)
	b.t.diags = append(b.t.diags, diags...)
	b.t.parsed[p] = f
	return f, nil
}

func (b *builder) loadOwners(p string) error {
	f, err := b.parseFile(p)
	if err != nil {
		// One unreadable file (permissions, a dangling link) is one
		// problem among the others lint reports, not the end of the run;
		// a check that depends on it fails on the error.
		b.diag(errorf(Pos{File: p}, CodeUnreadable, "cannot read %s: %v", p, err))
		return nil
	}
	dr := &dirRules{dir: path.Dir(p), path: p, file: f}
	inc := map[string]bool{}
	dr.base = b.ruleSet(f.Entries, p, inc)
	for _, pf := range f.PerFile {
		dr.perFile = append(dr.perFile, perFileRules{pf: pf, rules: b.ruleSet(pf.Entries, p, inc)})
	}
	b.t.includes[p] = sortedKeys(inc)
	b.t.dirs[dr.dir] = dr
	return nil
}

// ruleSet resolves entries of the OWNERS file at owner; inc collects the
// files it includes.
func (b *builder) ruleSet(entries []Entry, owner string, inc map[string]bool) ruleSet {
	var rs ruleSet
	for _, e := range entries {
		switch e.Kind {
		case KindEmail, KindAlias, KindAnyone:
			if re, ok := b.resolveEntry(e, nil); ok {
				rs.add(re)
			}
		case KindInclude:
			for _, re := range b.include(e, []string{owner}, inc) {
				rs.add(re)
			}
		case KindNoParent:
			if rs.noParent == nil {
				pos := e.Pos
				rs.noParent = &pos
			}
		case KindRequire:
			if rs.require == 0 {
				rs.require, rs.requirePos = e.N, e.Pos
			} else {
				b.diag(warnf(e.Pos, CodeDuplicate, "second require; %s (%s) applies", "require "+fmt.Sprint(rs.require), rs.requirePos.FileLine()))
			}
		case KindRequireAllTeams, KindRequireAnyTeam:
			mode := teamsAll
			if e.Kind == KindRequireAnyTeam {
				mode = teamsAny
			}
			if rs.teams == teamsUnset {
				rs.teams, rs.teamsPos = mode, e.Pos
			} else {
				b.diag(warnf(e.Pos, CodeDuplicate, "second require all-teams/any-team; the one at %s applies", rs.teamsPos.FileLine()))
			}
		}
	}
	return rs
}

func (rs *ruleSet) add(re resolvedEntry) {
	if re.Negate {
		rs.negs = append(rs.negs, re)
	} else {
		rs.grants = append(rs.grants, re)
	}
}

// resolveEntry expands an owner entry's members.
func (b *builder) resolveEntry(e Entry, via []Pos) (resolvedEntry, bool) {
	re := resolvedEntry{Entry: e, via: via}
	switch e.Kind {
	case KindEmail:
		re.members = []string{e.Value}
	case KindAlias:
		ti, ok := b.t.teams[e.Value]
		if !ok {
			b.diag(errorf(e.Pos, CodeUnknownAlias, "unknown team @%s%s", e.Value, b.didYouMean(e.Value)))
			return re, false
		}
		re.members = ti.members
	}
	return re, true
}

// include expands a file: entry into the owner entries of its target
// (recursively). As in Chromium and Gerrit, the target's per-file lines,
// set noparent and require lines are not included. stack is the chain of
// files being included, for cycles.
func (b *builder) include(e Entry, stack []string, inc map[string]bool) []resolvedEntry {
	target := e.Value
	if i := indexOf(stack, target); i >= 0 {
		chain := append(append([]string(nil), stack[i:]...), target)
		b.diag(errorf(e.Pos, CodeIncludeCycle, "include cycle: %s", strings.Join(chain, " → ")))
		return nil
	}
	f, err := b.parseFile(target)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			b.diag(errorf(e.Pos, CodeMissingInclude, "included file %s does not exist", target))
		default:
			if st, serr := fs.Stat(b.fsys, target); serr == nil && st.IsDir() {
				b.diag(errorf(e.Pos, CodeMissingInclude, "included path %s is a directory; name a file such as %s/OWNERS", target, target))
			} else {
				b.diag(errorf(e.Pos, CodeMissingInclude, "cannot read included file %s: %v", target, err))
			}
		}
		return nil
	}
	inc[target] = true
	b.t.included[target] = true
	stack = append(stack, target)
	var out []resolvedEntry
	for _, sub := range f.Entries {
		via := []Pos{e.Pos}
		switch sub.Kind {
		case KindEmail, KindAlias, KindAnyone:
			if re, ok := b.resolveEntry(sub, via); ok {
				out = append(out, re)
			}
		case KindInclude:
			for _, re := range b.include(sub, stack, inc) {
				re.via = append(append([]Pos(nil), via...), re.via...)
				out = append(out, re)
			}
		}
	}
	return out
}

// Diagnostics returns every problem found while loading (parse errors,
// unknown teams, include cycles and missing includes, team cycles), errors
// and warnings, sorted by position. Lint adds repository-wide checks.
func (t *Tree) Diagnostics() Diagnostics { return append(Diagnostics(nil), t.diags...) }

// Files returns every file Load saw (slash-separated, sorted).
func (t *Tree) Files() []string { return append([]string(nil), t.files...) }

// OwnersFiles returns the paths of the OWNERS files, sorted.
func (t *Tree) OwnersFiles() []string { return append([]string(nil), t.ownersPaths...) }

// File returns the parsed OWNERS (or included) file at p, if loaded.
func (t *Tree) File(p string) (*File, bool) {
	f, ok := t.parsed[p]
	return f, ok
}

// DefinesOwners reports whether the file at p decides ownership: an OWNERS
// file, the root OWNERS_ALIASES, or a file some OWNERS file includes.
// Changes to these are approved according to the base revision's OWNERS
// (see Check).
func (t *Tree) DefinesOwners(p string) bool {
	return path.Base(p) == OwnersFile || p == AliasesFile || t.included[p]
}

// EmailForLogin maps a review login (lower-cased) to an email with the
// login lines of OWNERS_ALIASES.
func (t *Tree) EmailForLogin(login string) (string, bool) {
	e, ok := t.logins[strings.ToLower(login)]
	return e, ok
}
