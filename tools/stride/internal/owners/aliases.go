package owners

import (
	"fmt"
	"strings"
)

// AliasesFile is the name of the file, at the repository root only, that
// defines teams.
const AliasesFile = "OWNERS_ALIASES"

// OwnersFile is the name of an OWNERS file.
const OwnersFile = "OWNERS"

// Aliases is a parsed OWNERS_ALIASES file:
//
//	# A line "@name:" starts a team; its members follow, one or more a line.
//	@platform:
//	  alice@strideci.example
//	  bob@strideci.example
//	@release-team: erin@strideci.example, @platform
//	# GitHub logins of people, for review approvals from GitHub's API.
//	login alice-sci = alice@strideci.example
type Aliases struct {
	Path   string
	Teams  []TeamDef
	Logins []Login
}

// TeamDef is one team as written: its members are KindEmail or KindAlias
// entries (a team may contain teams).
type TeamDef struct {
	Name    string
	Members []Entry
	Pos     Pos
}

// Login maps a code-review login (GitHub's user.login) to an email.
type Login struct {
	Login string // lower-cased
	Email string // lower-cased
	Pos   Pos
}

// ParseAliases parses an OWNERS_ALIASES file. Like Parse, it reports every
// bad line and keeps the rest: one bad line never disables the file.
func ParseAliases(filePath string, data []byte) (*Aliases, Diagnostics) {
	p := &parser{path: filePath}
	a := &Aliases{Path: filePath}
	defined := map[string]Pos{}
	logins := map[string]Pos{}
	var cur *TeamDef
	var curMembers map[string]Pos
	skipping := false // after a bad team header
	forEachLine(data, func(ln int, raw string, col0 int) {
		if !p.checkText(ln, raw, col0) {
			return
		}
		text, col := trimmed(raw, col0)
		if text == "" {
			return
		}
		toks := fields(text, col)
		if toks[0].s == "login" || strings.HasPrefix(toks[0].s, "login=") {
			p.login(a, logins, ln, text, col)
			return
		}
		if strings.HasPrefix(text, "@") {
			// "@name:" starts a team; "@name" alone is a member.
			colon := strings.IndexByte(text, ':')
			if colon >= 0 {
				name := text[1:colon]
				if at, msg := checkTeamName(name); msg != "" {
					p.errorf(ln, col+1+at, "invalid team name %q: %s", "@"+name, msg)
					cur, skipping = nil, true
					return
				}
				name = strings.ToLower(name)
				if prev, dup := defined[name]; dup {
					p.errorf(ln, col, "team @%s is already defined at %s", name, prev.FileLine())
					cur, skipping = nil, true
					return
				}
				defined[name] = p.pos(ln, col)
				a.Teams = append(a.Teams, TeamDef{Name: name, Pos: p.pos(ln, col)})
				cur, skipping = &a.Teams[len(a.Teams)-1], false
				curMembers = map[string]Pos{}
				p.members(cur, curMembers, ln, text[colon+1:], col+colon+1)
				return
			}
		}
		if cur == nil {
			if !skipping {
				p.errorf(ln, col, "member %q outside a team: start a team with a line \"@name:\"", toks[0].s)
			}
			// else: the team's header was bad and is reported; skip its
			// members quietly.
			return
		}
		p.members(cur, curMembers, ln, text, col)
	})
	return a, p.diags
}

func (p *parser) members(t *TeamDef, seen map[string]Pos, ln int, text string, col int) {
	for _, tok := range splitMembers(text, col) {
		s := tok.s
		e := Entry{Pos: p.pos(ln, tok.col)}
		switch {
		case strings.HasPrefix(s, "!"):
			p.errorf(ln, tok.col, "%q: exclusions belong in OWNERS files, not in team definitions", s)
			continue
		case strings.HasPrefix(s, "@"):
			name := s[1:]
			if at, msg := checkTeamName(name); msg != "" {
				p.errorf(ln, tok.col+1+at, "invalid team name %q: %s", s, msg)
				continue
			}
			e.Kind, e.Value = KindAlias, strings.ToLower(name)
		case strings.Contains(s, "@"):
			if at, msg := checkEmail(s); msg != "" {
				p.errorf(ln, tok.col+at, "invalid email %q: %s", s, msg)
				continue
			}
			e.Kind, e.Value = KindEmail, strings.ToLower(s)
		default:
			p.errorf(ln, tok.col, "invalid member %q: expected an email or @team", s)
			continue
		}
		key := e.String()
		if prev, dup := seen[key]; dup {
			p.diags = append(p.diags, warnf(e.Pos, CodeDuplicate, "%s is already a member of @%s (%s)", key, t.Name, prev.FileLine()))
			continue
		}
		seen[key] = e.Pos
		t.Members = append(t.Members, e)
	}
}

// splitMembers splits at commas and blanks.
func splitMembers(s string, col int) []token {
	var out []token
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' || isSpace(s[i]) {
			if start >= 0 {
				out = append(out, token{s[start:i], col + start})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

func (p *parser) login(a *Aliases, seen map[string]Pos, ln int, text string, col int) {
	rest := text[len("login"):]
	rcol := col + len("login")
	eq := strings.IndexByte(rest, '=')
	if eq < 0 {
		p.errorf(ln, rcol+len(rest), "login needs '=': login GITHUB_LOGIN = EMAIL")
		return
	}
	name, ncol := trimSpan(rest[:eq], rcol)
	email, ecol := trimSpan(rest[eq+1:], rcol+eq+1)
	if name == "" {
		p.errorf(ln, rcol+eq, "login needs a name before '='")
		return
	}
	if at, msg := checkLogin(name); msg != "" {
		p.errorf(ln, ncol+at, "invalid login %q: %s", name, msg)
		return
	}
	if email == "" {
		p.errorf(ln, rcol+eq+1, "login needs an email after '='")
		return
	}
	if i := strings.IndexAny(email, " \t"); i >= 0 {
		p.errorf(ln, ecol+i, "one email per login")
		return
	}
	if !strings.Contains(email, "@") {
		p.errorf(ln, ecol, "invalid email %q", email)
		return
	}
	if at, msg := checkEmail(email); msg != "" {
		p.errorf(ln, ecol+at, "invalid email %q: %s", email, msg)
		return
	}
	key := strings.ToLower(name)
	if prev, dup := seen[key]; dup {
		p.errorf(ln, ncol, "login %s is already mapped at %s", name, prev.FileLine())
		return
	}
	seen[key] = p.pos(ln, ncol)
	a.Logins = append(a.Logins, Login{Login: key, Email: strings.ToLower(email), Pos: p.pos(ln, col)})
}

// checkLogin accepts GitHub logins: letters, digits and '-', plus the
// "[bot]" suffix of apps.
func checkLogin(s string) (int, string) {
	name := strings.TrimSuffix(s, "[bot]")
	if name == "" {
		return 0, "empty login"
	}
	if len(name) > 39 {
		return 39, "longer than 39 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return i, fmt.Sprintf("unexpected %q", string(c))
		}
	}
	return 0, ""
}
