package owners

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of an OWNERS entry.
type Kind int

// The kinds of entries.
const (
	KindEmail           Kind = iota + 1 // alice@example.com (or !alice@... with Negate)
	KindAnyone                          // *
	KindAlias                           // @team (or !@team with Negate)
	KindInclude                         // file://path or file:relative/path
	KindNoParent                        // set noparent
	KindRequire                         // require N
	KindRequireAllTeams                 // require all-teams
	KindRequireAnyTeam                  // require any-team
)

var kindNames = map[Kind]string{
	KindEmail: "email", KindAnyone: "anyone", KindAlias: "alias", KindInclude: "include",
	KindNoParent: "noparent", KindRequire: "require", KindRequireAllTeams: "require-all-teams",
	KindRequireAnyTeam: "require-any-team",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Entry is one parsed entry: a whole line, or one comma-separated item on
// the right of a per-file line.
type Entry struct {
	Kind Kind
	// Value is the email (lower-cased) for KindEmail, the team name
	// (lower-cased, without '@') for KindAlias, and the included file's
	// path relative to the repository root for KindInclude.
	Value  string
	Negate bool // !email or !@team: exclude instead of grant
	N      int  // KindRequire: the number of approvals
	Pos    Pos  // where the entry starts
	// LastResort: the line ends in Chromium's "#{LAST_RESORT_SUGGESTION}"
	// comment: the owner approves as any other, but suggest names them only
	// when no one else can approve.
	LastResort bool
}

// lastResortMarker is Chromium's comment for an owner to suggest only when
// no one else can approve.
const lastResortMarker = "#{LAST_RESORT_SUGGESTION}"

// String formats the entry in canonical OWNERS syntax; Parse of the result
// gives the entry back.
func (e Entry) String() string {
	neg := ""
	if e.Negate {
		neg = "!"
	}
	mark := ""
	if e.LastResort {
		mark = " " + lastResortMarker
	}
	switch e.Kind {
	case KindEmail:
		return neg + e.Value + mark
	case KindAlias:
		return neg + "@" + e.Value + mark
	case KindAnyone:
		return "*"
	case KindInclude:
		return "file://" + e.Value
	case KindNoParent:
		return "set noparent"
	case KindRequire:
		return "require " + strconv.Itoa(e.N)
	case KindRequireAllTeams:
		return "require all-teams"
	case KindRequireAnyTeam:
		return "require any-team"
	}
	return "?"
}

// grants reports whether the entry names owners (as opposed to a setting).
func (e Entry) grants() bool {
	return e.Kind == KindEmail || e.Kind == KindAlias || e.Kind == KindAnyone
}

// PerFile is a "per-file GLOB[,GLOB]=ENTRY[,ENTRY]" line.
type PerFile struct {
	Globs   []string
	Entries []Entry
	Pos     Pos
	globs   []glob
}

// File is a parsed OWNERS file. Lines that do not parse are left out and
// reported as diagnostics; every other line is kept.
type File struct {
	Path    string    // slash-separated, relative to the repository root
	Entries []Entry   // the directory-wide lines, in order
	PerFile []PerFile // the per-file lines, in order
}

// Dir returns the directory the file governs ("." for the root).
func (f *File) Dir() string { return path.Dir(f.Path) }

// MaxRequire is the largest N accepted by "require N".
const MaxRequire = 99

// Parse parses an OWNERS file. path (slash-separated, relative to the
// repository root) names the file in diagnostics and anchors relative
// includes. It never fails as a whole: each bad line is reported (with
// file:line:col) and skipped, and the rest is returned.
func Parse(filePath string, data []byte) (*File, Diagnostics) {
	p := &parser{path: filePath, dir: path.Dir(filePath)}
	f := &File{Path: filePath}
	forEachLine(data, func(ln int, line string, col0 int) {
		p.line(f, ln, line, col0)
	})
	return f, p.diags
}

// forEachLine calls fn for each line of data without its line ending; col0
// is the byte offset of the line's first byte as a column (1 unless a BOM
// was removed).
func forEachLine(data []byte, fn func(ln int, line string, col0 int)) {
	s := string(data)
	col0 := 1
	if strings.HasPrefix(s, "\ufeff") {
		s = s[3:]
		col0 = 4
	}
	ln := 0
	for len(s) > 0 {
		ln++
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = strings.TrimSuffix(line, "\r")
		fn(ln, line, col0)
		col0 = 1
	}
}

type parser struct {
	path  string
	dir   string
	diags Diagnostics
}

func (p *parser) pos(ln, col int) Pos { return Pos{File: p.path, Line: ln, Col: col} }

func (p *parser) errorf(ln, col int, format string, args ...interface{}) {
	p.diags = append(p.diags, errorf(p.pos(ln, col), CodeSyntax, format, args...))
}

// token is a word of a line and its column.
type token struct {
	s   string
	col int
}

// fields splits s at spaces and tabs; col is the column of s[0].
func fields(s string, col int) []token {
	var out []token
	i := 0
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		if i > start {
			out = append(out, token{s[start:i], col + start})
		}
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimmed returns s without its comment and surrounding blanks, and the
// column where the result starts (col is the column of s[0]).
func trimmed(s string, col int) (string, int) {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || isSpace(s[i-1])) {
			s = s[:i]
			break
		}
	}
	start := 0
	for start < len(s) && isSpace(s[start]) {
		start++
	}
	end := len(s)
	for end > start && isSpace(s[end-1]) {
		end--
	}
	return s[start:end], col + start
}

// trimSpan trims blanks around s, returning the column of the result.
func trimSpan(s string, col int) (string, int) {
	start := 0
	for start < len(s) && isSpace(s[start]) {
		start++
	}
	end := len(s)
	for end > start && isSpace(s[end-1]) {
		end--
	}
	return s[start:end], col + start
}

// checkText reports an invalid UTF-8 byte or a control character; it
// returns false if the line must be skipped.
func (p *parser) checkText(ln int, line string, col0 int) bool {
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == utf8.RuneError && size == 1 {
			p.errorf(ln, col0+i, "invalid UTF-8 byte 0x%02x", line[i])
			return false
		}
		if r < 0x20 && r != '\t' || r == 0x7f {
			p.errorf(ln, col0+i, "control character %U", r)
			return false
		}
		i += size
	}
	return true
}

func (p *parser) line(f *File, ln int, raw string, col0 int) {
	if !p.checkText(ln, raw, col0) {
		return
	}
	text, col := trimmed(raw, col0)
	if text == "" {
		return
	}
	toks := fields(text, col)
	if toks[0].s == "per-file" {
		p.perFile(f, ln, text, col)
		return
	}
	if strings.HasPrefix(text, "per-file") && !strings.HasPrefix(text, "per-file ") && !strings.HasPrefix(text, "per-file\t") {
		p.errorf(ln, col+len("per-file"), "expected a space after per-file")
		return
	}
	e, ok := p.entry(ln, text, col, true)
	if ok {
		if strings.HasSuffix(strings.TrimSpace(raw), lastResortMarker) {
			if e.Kind != KindEmail && e.Kind != KindAlias || e.Negate {
				p.errorf(ln, col, "%s goes after an email or @team", lastResortMarker)
				return
			}
			e.LastResort = true
		}
		f.Entries = append(f.Entries, e)
	}
}

func (p *parser) perFile(f *File, ln int, text string, col int) {
	rest := text[len("per-file"):]
	rcol := col + len("per-file")
	eq := strings.IndexByte(rest, '=')
	if eq < 0 {
		p.errorf(ln, rcol+len(rest), "per-file needs '=': per-file GLOB[,GLOB]=ENTRY")
		return
	}
	pf := PerFile{Pos: p.pos(ln, col)}
	ok := true
	globsText := rest[:eq]
	gcol := rcol
	if strings.TrimSpace(globsText) == "" {
		p.errorf(ln, rcol+eq, "per-file needs a glob before '='")
		return
	}
	for _, piece := range splitComma(globsText, gcol) {
		g, c := trimSpan(piece.s, piece.col)
		if g == "" {
			p.errorf(ln, piece.col, "empty glob")
			ok = false
			continue
		}
		if i := strings.IndexAny(g, " \t"); i >= 0 {
			p.errorf(ln, c+i, "space in glob %q (separate globs with ',')", g)
			ok = false
			continue
		}
		compiled, err := compileGlob(g)
		if err != nil {
			p.errorf(ln, c, "bad glob %q: %v", g, err)
			ok = false
			continue
		}
		pf.Globs = append(pf.Globs, g)
		pf.globs = append(pf.globs, compiled)
	}
	entriesText := rest[eq+1:]
	ecol := rcol + eq + 1
	if strings.TrimSpace(entriesText) == "" {
		p.errorf(ln, ecol, "per-file needs an entry after '='")
		return
	}
	for _, piece := range splitComma(entriesText, ecol) {
		s, c := trimSpan(piece.s, piece.col)
		if s == "" {
			p.errorf(ln, piece.col, "empty entry")
			ok = false
			continue
		}
		if strings.HasPrefix(s, "per-file") {
			p.errorf(ln, c, "per-file cannot be nested")
			ok = false
			continue
		}
		e, eok := p.entry(ln, s, c, false)
		if !eok {
			ok = false
			continue
		}
		pf.Entries = append(pf.Entries, e)
	}
	if ok {
		f.PerFile = append(f.PerFile, pf)
	}
}

func splitComma(s string, col int) []token {
	var out []token
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, token{s[start:i], col + start})
			start = i + 1
		}
	}
	return out
}

// entry parses one entry or directive (text is trimmed and non-empty).
func (p *parser) entry(ln int, text string, col int, wholeLine bool) (Entry, bool) {
	toks := fields(text, col)
	e := Entry{Pos: p.pos(ln, col)}
	switch toks[0].s {
	case "set":
		if len(toks) == 2 && toks[1].s == "noparent" {
			e.Kind = KindNoParent
			return e, true
		}
		if len(toks) < 2 {
			p.errorf(ln, col+len(text), "set needs a setting: set noparent")
		} else if len(toks) > 2 && toks[1].s == "noparent" {
			p.errorf(ln, toks[2].col, "unexpected %q after set noparent", toks[2].s)
		} else {
			p.errorf(ln, toks[1].col, "unknown setting %q (known: set noparent)", toks[1].s)
		}
		return e, false
	case "require":
		if len(toks) != 2 {
			if len(toks) < 2 {
				p.errorf(ln, col+len(text), "require needs a value: require N, require all-teams or require any-team")
			} else {
				p.errorf(ln, toks[2].col, "unexpected %q after require %s", toks[2].s, toks[1].s)
			}
			return e, false
		}
		switch v := toks[1].s; v {
		case "all-teams":
			e.Kind = KindRequireAllTeams
		case "any-team":
			e.Kind = KindRequireAnyTeam
		default:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxRequire || v[0] == '+' || v[0] == '0' {
				p.errorf(ln, toks[1].col, "require wants a number from 1 to %d, all-teams or any-team; got %q", MaxRequire, v)
				return e, false
			}
			e.Kind, e.N = KindRequire, n
		}
		return e, true
	case "include":
		p.errorf(ln, col, "unknown directive include (to include another OWNERS file write file:PATH or file://PATH)")
		return e, false
	}
	if len(toks) > 1 {
		switch {
		case strings.HasSuffix(toks[0].s, ":") && !strings.HasPrefix(toks[0].s, "file:"):
			p.errorf(ln, col, "%q looks like YAML (Prow's OWNERS format); stride's OWNERS files have one entry per line, see docs/owners.md", toks[0].s)
		case toks[0].s == "-":
			p.errorf(ln, col, "'- NAME' looks like YAML (Prow's OWNERS format); stride's OWNERS files have one entry per line, see docs/owners.md")
		case wholeLine:
			p.errorf(ln, toks[1].col, "unexpected %q: one entry per line (for file patterns write per-file GLOB=ENTRY)", toks[1].s)
		default:
			p.errorf(ln, toks[1].col, "unexpected %q: separate per-file entries with ','", toks[1].s)
		}
		return e, false
	}
	s := toks[0].s
	if s == "*" {
		e.Kind = KindAnyone
		return e, true
	}
	if strings.HasPrefix(s, "file:") {
		target, msg, at := includeTarget(p.dir, s[len("file:"):])
		if msg != "" {
			p.errorf(ln, col+len("file:")+at, "%s", msg)
			return e, false
		}
		e.Kind, e.Value = KindInclude, target
		return e, true
	}
	if strings.HasSuffix(s, ":") {
		p.errorf(ln, col, "%q looks like YAML (Prow's OWNERS format); stride's OWNERS files have one entry per line, see docs/owners.md", s)
		return e, false
	}
	body, bcol := s, col
	if strings.HasPrefix(s, "!") {
		e.Negate = true
		body, bcol = s[1:], col+1
		switch {
		case body == "":
			p.errorf(ln, bcol, "'!' needs an email or @team to exclude")
			return e, false
		case body == "*":
			p.errorf(ln, col, "!* is not allowed: to stop inheriting owners write set noparent")
			return e, false
		case strings.HasPrefix(body, "!"):
			p.errorf(ln, bcol, "double negation")
			return e, false
		}
	}
	if strings.HasPrefix(body, "@") {
		name := body[1:]
		if at, msg := checkTeamName(name); msg != "" {
			p.errorf(ln, bcol+1+at, "invalid team name %q: %s", body, msg)
			return e, false
		}
		e.Kind, e.Value = KindAlias, strings.ToLower(name)
		return e, true
	}
	if strings.Contains(body, "@") {
		if at, msg := checkEmail(body); msg != "" {
			p.errorf(ln, bcol+at, "invalid email %q: %s", clip(body), msg)
			return e, false
		}
		e.Kind, e.Value = KindEmail, strings.ToLower(body)
		return e, true
	}
	p.errorf(ln, col, "invalid entry %q: expected an email, *, @team, !email, !@team, file:PATH, "+
		"set noparent, require N, require all-teams or per-file GLOB=ENTRY", s)
	return e, false
}

// includeTarget resolves the text after "file:" against dir. It returns
// the root-relative path, or a message and the byte offset of the problem.
func includeTarget(dir, s string) (target, msg string, at int) {
	var p string
	switch {
	case strings.HasPrefix(s, "//"):
		p = s[2:]
		at = 2
	case strings.HasPrefix(s, "/"):
		p = s[1:]
		at = 1
	default:
		p = path.Join(dir, s)
	}
	if s == "" || strings.TrimLeft(s, "/") == "" {
		return "", "file: needs a path, e.g. file://tools/OWNERS", 0
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return "", fmt.Sprintf("file:%s includes from another project (Gerrit's file:PROJECT:PATH): "+
			"stride reads the OWNERS files of this repository only; copy the entries here, or include a file of this repository (file://PATH)", s), 0
	}
	if strings.Contains(s, "\\") {
		return "", "use '/' in include paths", strings.IndexByte(s, '\\')
	}
	p = strings.TrimLeft(path.Clean(p), "/")
	if p == "" {
		p = "."
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Sprintf("include path %q leaves the repository", s), at
	}
	if p == "." || strings.HasSuffix(s, "/") {
		return "", fmt.Sprintf("include path %q names a directory, not a file", s), at
	}
	return p, "", 0
}

// checkTeamName returns the offset and a message for an invalid team name.
func checkTeamName(name string) (int, string) {
	if name == "" {
		return 0, "empty name"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return i, "must start with a letter or digit"
		}
		if !alnum && c != '-' && c != '_' && c != '.' {
			return i, fmt.Sprintf("unexpected %q (letters, digits, '-', '_' and '.' only)", string(name[i]))
		}
	}
	if len(name) > 100 {
		return 100, "longer than 100 characters"
	}
	return 0, ""
}

// clip shortens what a message quotes of a long entry.
func clip(s string) string {
	if len(s) > 80 {
		return s[:60] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// maxEmail is the longest address SMTP carries (RFC 5321: a 256-octet
// path, with its angle brackets).
const maxEmail = 254

// ValidateEmail returns an error unless s is an e-mail address of the
// form OWNERS files accept (local@domain.tld), e.g. for --approved-by.
func ValidateEmail(s string) error {
	if !strings.Contains(s, "@") {
		return fmt.Errorf("%q is not an e-mail address (want NAME@DOMAIN)", s)
	}
	if _, msg := checkEmail(s); msg != "" {
		return fmt.Errorf("%q is not an e-mail address: %s", s, msg)
	}
	return nil
}

// checkEmail returns the offset and a message for an invalid address. It
// accepts the common form local@domain.tld, which catches typos without
// rejecting real addresses.
func checkEmail(s string) (int, string) {
	if len(s) > maxEmail {
		return maxEmail, fmt.Sprintf("longer than %d characters", maxEmail)
	}
	at := strings.IndexByte(s, '@')
	if at == 0 {
		return 0, "missing the name before '@'"
	}
	if j := strings.IndexByte(s[at+1:], '@'); j >= 0 {
		return at + 1 + j, "more than one '@'"
	}
	for i := 0; i < at; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._%+-", c) >= 0) {
			return i, fmt.Sprintf("unexpected %q in the name", string(c))
		}
	}
	domain := s[at+1:]
	if domain == "" {
		return len(s), "missing the domain after '@'"
	}
	off := at + 1
	labels := 0
	for {
		j := strings.IndexByte(domain, '.')
		label := domain
		if j >= 0 {
			label = domain[:j]
		}
		if label == "" {
			return off, "empty part in the domain"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return off + i, fmt.Sprintf("unexpected %q in the domain", string(c))
			}
		}
		labels++
		if j < 0 {
			break
		}
		domain = domain[j+1:]
		off += j + 1
	}
	if labels < 2 {
		return at + 1, "the domain has no '.'"
	}
	return 0, ""
}
