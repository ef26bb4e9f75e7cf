package owners

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// NoChangedFiles is what check and suggest say when the change has no
// files.
const NoChangedFiles = "no changed files"

// Headline is a one-line summary of the result, e.g. "2 of 5 changed files
// need approval".
func (r *Result) Headline() string {
	switch {
	case r.Summary.Files == 0:
		return NoChangedFiles
	case r.Summary.Missing == 0 && len(r.Diagnostics) == 0:
		return fmt.Sprintf("all %s approved", plural(r.Summary.Files, "changed file", "changed files"))
	case r.Summary.Missing == 0:
		return fmt.Sprintf("all %s approved, but the OWNERS files have %s",
			plural(r.Summary.Files, "changed file", "changed files"), plural(len(r.Diagnostics), "error", "errors"))
	default:
		s := fmt.Sprintf("%d of %s need approval", r.Summary.Missing, plural(r.Summary.Files, "changed file", "changed files"))
		if r.Summary.Missing == 1 {
			s = fmt.Sprintf("1 of %s needs approval", plural(r.Summary.Files, "changed file", "changed files"))
		}
		if len(r.Diagnostics) > 0 {
			s += fmt.Sprintf("; the OWNERS files have %s", plural(len(r.Diagnostics), "error", "errors"))
		}
		return s
	}
}

func candidateText(c Candidate, max int) string {
	if c.Anyone {
		return "* (anyone) " + c.Source
	}
	var b strings.Builder
	b.WriteString(c.Entry)
	if strings.HasPrefix(c.Entry, "@") {
		b.WriteString(" (" + memberList(c.Members, max) + ")")
	}
	b.WriteString(" " + c.Source)
	return b.String()
}

func memberList(ms []string, max int) string {
	if max > 0 && len(ms) > max {
		return strings.Join(ms[:max], ", ") + fmt.Sprintf(", +%d more", len(ms)-max)
	}
	return strings.Join(ms, ", ")
}

// WriteText writes the result for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	rng := ""
	if r.Base != "" {
		rng = " " + shortSHA(r.Base) + ".." + shortSHA(r.Head)
	}
	ew.printf("owners check%s: %s\n", rng, r.Headline())
	if len(r.Approvals) > 0 {
		var parts []string
		for _, a := range r.Approvals {
			parts = append(parts, a.Email+" ("+a.Source+")")
		}
		ew.printf("  approvals: %s\n", strings.Join(parts, ", "))
	}
	if len(r.Authors) > 0 {
		mode := "count as approvers"
		if !r.SelfApproval {
			mode = "do not count as approvers"
		}
		ew.printf("  authors (%s): %s\n", mode, strings.Join(r.Authors, ", "))
	}
	for _, u := range r.Unmatched {
		ew.printf("  ignored approval %q (%s): %s\n", u.Who, u.Source, u.Reason)
	}
	byDir := map[string][]FileResult{}
	for _, f := range r.Files {
		byDir[f.Dir] = append(byDir[f.Dir], f)
	}
	for _, d := range r.Dirs {
		ew.printf("\n%s", dirLabelShort(d.Dir))
		if d.OwnersFile != "" {
			ew.printf("  [%s]", d.OwnersFile)
		}
		if d.Approved {
			ew.printf("  approved by %s\n", strings.Join(d.ApprovedBy, ", "))
		} else {
			ew.printf("  needs %s\n", d.Needs)
		}
		for _, f := range byDir[d.Dir] {
			mark := "ok  "
			if !f.Approved {
				mark = "NEED"
			}
			extra := ""
			switch {
			case f.From != "":
				extra = " (renamed from " + f.From + ")"
			case f.To != "":
				extra = " (renamed to " + f.To + ")"
			case f.Status != "" && f.Status != "modified":
				extra = " (" + string(f.Status) + ")"
			}
			if f.OwnersAt == "base" {
				extra += " [base OWNERS]"
			}
			ew.printf("  %s  %s%s  owners: %s\n", mark, f.Path, extra, grantEntries(f.Grants))
		}
		if !d.Approved && len(d.CanApprove) > 0 {
			var parts []string
			for _, c := range d.CanApprove {
				parts = append(parts, candidateText(c, 0))
			}
			ew.printf("        can approve: %s\n", strings.Join(parts, "; "))
		}
	}
	if len(r.Diagnostics) > 0 {
		ew.printf("\n")
		for _, d := range r.Diagnostics {
			ew.printf("%s\n", d)
		}
	}
	return ew.err
}

// grantEntries lists the distinct entries of grants, closest first.
func grantEntries(gs []Grant) string {
	if len(gs) == 0 {
		return "none"
	}
	seen := map[string]bool{}
	var out []string
	for _, g := range gs {
		if !seen[g.Entry] {
			seen[g.Entry] = true
			out = append(out, g.Entry)
		}
	}
	return strings.Join(out, ", ")
}

func dirLabelShort(dir string) string {
	if dir == "." {
		return "/ (root)"
	}
	return dir + "/"
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteMarkdown writes the result as Markdown for a pull-request comment:
// a table with one row per directory (status, who approved, who can still
// approve), the suggested approvers (if sug is not nil), the files, and the
// OWNERS errors.
func (r *Result) WriteMarkdown(w io.Writer, sug *Suggestion) error {
	ew := &errWriter{w: w}
	icon := "✅"
	if !r.OK {
		icon = "❌"
	}
	ew.printf("### %s OWNERS: %s\n\n", icon, r.Headline())
	if r.Summary.Files == 0 {
		return ew.err
	}
	ew.printf("| Directory | Files | Status | Approved by | Who can still approve |\n")
	ew.printf("|---|---:|---|---|---|\n")
	for _, d := range r.Dirs {
		status := "✅ approved"
		if !d.Approved {
			status = "❌ needs " + d.Needs
		}
		approved := "—"
		if len(d.ApprovedBy) > 0 {
			approved = strings.Join(d.ApprovedBy, ", ")
		}
		can := ""
		if !d.Approved {
			var parts []string
			for _, c := range d.CanApprove {
				parts = append(parts, "`"+c.Entry+"`"+mdMembers(c)+" ("+c.Source+")")
			}
			can = strings.Join(parts, "<br>")
		}
		ew.printf("| `%s` | %d | %s | %s | %s |\n", mdEscape(dirLabelShort(d.Dir)), d.Files, mdEscape(status), mdEscape(approved), strings.ReplaceAll(can, "|", "\\|"))
	}
	if sug != nil && len(sug.Approvers) > 0 {
		var parts []string
		for _, a := range sug.Approvers {
			parts = append(parts, fmt.Sprintf("%s (%s)", a.Email, plural(len(a.Files), "file", "files")))
		}
		ew.printf("\n**Suggested approvers:** %s\n", mdEscape(strings.Join(parts, ", ")))
	}
	if sug != nil {
		for _, u := range sug.Unresolved {
			ew.printf("\n- `%s`: %s", mdEscape(u.Path), mdEscape(u.Reason))
		}
		if len(sug.Unresolved) > 0 {
			ew.printf("\n")
		}
	}
	if len(r.Unmatched) > 0 {
		ew.printf("\n**Approvals not counted:**\n")
		for _, u := range r.Unmatched {
			ew.printf("- %s (%s): %s\n", mdEscape(u.Who), mdEscape(u.Source), mdEscape(u.Reason))
		}
	}
	if len(r.Diagnostics) > 0 {
		ew.printf("\n**Errors in OWNERS files:**\n")
		for _, d := range r.Diagnostics {
			ew.printf("- `%s`: %s\n", d.Pos, mdEscape(d.Msg))
		}
	}
	ew.printf("\n<details><summary>%s</summary>\n\n", plural(len(r.Files), "file", "files"))
	ew.printf("| File | Change | Approved | Approved by | OWNERS |\n|---|---|---|---|---|\n")
	for _, f := range r.Files {
		ok := "✅"
		if !f.Approved {
			ok = "❌"
		}
		change := string(f.Status)
		if f.From != "" {
			change += " from `" + mdEscape(f.From) + "`"
		}
		if f.To != "" {
			change += " to `" + mdEscape(f.To) + "`"
		}
		src := f.OwnersFile
		if f.OwnersAt == "base" {
			src += " (at base)"
		}
		ew.printf("| `%s` | %s | %s | %s | %s |\n", mdEscape(f.Path), change, ok, mdEscape(strings.Join(f.ApprovedBy, ", ")), mdEscape(src))
	}
	ew.printf("\n</details>\n")
	return ew.err
}

func mdMembers(c Candidate) string {
	if c.Anyone {
		return " (anyone)"
	}
	if !strings.HasPrefix(c.Entry, "@") {
		return ""
	}
	return " (" + mdEscape(memberList(c.Members, 6)) + ")"
}

// maxListedFiles is how many files the text of a suggestion lists per
// approver.
const maxListedFiles = 10

// WriteText writes the suggestion for a terminal.
func (s *Suggestion) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	switch {
	case s.changed == 0 && len(s.Approvers) == 0 && len(s.Unresolved) == 0:
		ew.printf("%s\n", NoChangedFiles)
	case len(s.Approvers) == 0 && len(s.Unresolved) == 0:
		ew.printf("nothing to suggest: every changed file is approved\n")
	case len(s.Approvers) > 0:
		ew.printf("ask %s:\n", plural(len(s.Approvers), "approver", "approvers"))
	}
	for _, a := range s.Approvers {
		who := a.Email
		if len(a.AnyOf) > 0 {
			who = "any one of " + strings.Join(a.AnyOf, ", ") + ":"
		}
		ew.printf("  %s  %s via %s\n", who, plural(len(a.Files), "file", "files"), strings.Join(a.Via, ", "))
		for i, f := range a.Files {
			if i == maxListedFiles && len(a.Files) > maxListedFiles+1 {
				ew.printf("      ... and %d more (--json lists them)\n", len(a.Files)-i)
				break
			}
			ew.printf("      %s\n", f)
		}
	}
	for _, u := range s.Unresolved {
		ew.printf("  unresolved: %s: %s\n", u.Path, u.Reason)
	}
	if len(s.OnePerson) > 0 {
		ew.printf("or one approver for everything: any one of %s\n", strings.Join(s.OnePerson, ", "))
	}
	if len(s.Diagnostics) > 0 {
		ew.printf("\nthe OWNERS files have %s; fix them (stride owners lint):\n", plural(len(s.Diagnostics), "error", "errors"))
		for _, d := range s.Diagnostics {
			ew.printf("%s\n", d)
		}
	}
	return ew.err
}

// WhoSchema is the "schema" of `stride owners who --json`.
const WhoSchema = "stride.owners-who/v1"

// WriteWho writes the owners of paths for a terminal: each grant with the
// OWNERS line (and include chain) behind it.
func WriteWho(w io.Writer, list []*Owners) error {
	ew := &errWriter{w: w}
	for i, o := range list {
		if i > 0 {
			ew.printf("\n")
		}
		ew.printf("%s\n", o.Path)
		if len(o.Grants) == 0 {
			ew.printf("  no owner: no OWNERS entry covers this path\n")
		}
		for _, g := range o.Grants {
			who := g.Entry
			switch {
			case g.Anyone:
				who = "* (anyone"
				if len(g.Except) > 0 {
					who += " but " + strings.Join(g.Except, ", ")
				}
				who += ")"
			case strings.HasPrefix(g.Entry, "@"):
				who += " (" + strings.Join(g.Members, ", ") + ")"
			}
			where := g.Source.FileLine()
			for j := len(g.Via) - 1; j >= 0; j-- {
				where += " via " + g.Via[j].FileLine()
			}
			if g.PerFile != "" {
				where += " [per-file " + g.PerFile + "]"
			}
			ew.printf("  %s  %s\n", who, where)
		}
		for _, x := range o.Excluded {
			ew.printf("  excluded %s (%s)  %s\n", x.Entry, strings.Join(x.Members, ", "), x.Source.FileLine())
		}
		var notes []string
		if o.Require > 1 {
			notes = append(notes, fmt.Sprintf("require %d (%s)", o.Require, o.RequireSource.FileLine()))
		}
		if o.AllTeams {
			var teams []string
			for _, t := range o.Teams {
				teams = append(teams, "@"+t.Team)
			}
			sort.Strings(teams)
			notes = append(notes, fmt.Sprintf("require all-teams (%s): %s", o.AllTeamsSource.FileLine(), strings.Join(teams, ", ")))
		}
		if o.NoParent != nil {
			notes = append(notes, "set noparent ("+o.NoParent.FileLine()+")")
		}
		if len(notes) > 0 {
			ew.printf("  %s\n", strings.Join(notes, "; "))
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...interface{}) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}
