package policy

import (
	"fmt"
	"io"
	"strings"
)

// Summary is one line saying which range was checked and what was found.
func (r *Result) Summary() string {
	rng := shortSHA(r.Head)
	if r.Base != "" {
		rng = shortSHA(r.Base) + ".." + rng
	} else {
		rng = "the history of " + rng
	}
	s := fmt.Sprintf("policy: %s checked (%s), %s", plural(r.Commits, "commit"), rng, plural(len(r.Findings), "finding"))
	if len(r.Skipped) > 0 {
		s += fmt.Sprintf(", %s skipped", plural(len(r.Skipped), "rule"))
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Hints says how to fix the kinds of findings r has, one line each: a
// message is reworded, a file is taken out of the commit that added it.
func (r *Result) Hints() []string {
	var msg, file bool
	for _, f := range r.Findings {
		switch ruleScope(f.Rule) {
		case ScopeMessage:
			msg = true
		case ScopeCommit:
			file = true
		}
	}
	base := "BASE"
	if r.Base != "" {
		base = shortSHA(r.Base)
	}
	var out []string
	if msg {
		out = append(out, fmt.Sprintf("fix a message: `git commit --amend` for the newest commit, or `git rebase -i %s` and mark the commit `reword`", base))
	}
	if file {
		out = append(out, fmt.Sprintf("fix a file: `git rebase -i %s`, mark the commit that added it `edit`, change or remove the file, `git commit --amend`, `git rebase --continue`", base))
	}
	return out
}

func ruleScope(id string) Scope {
	for _, rule := range Rules {
		if rule.ID == id {
			return rule.Scope
		}
	}
	return ""
}

// WriteText writes the findings one per line (Finding.String), how to fix
// them, the skipped rules and the summary.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	for _, h := range r.Hints() {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s: %s\n", s.Rule, s.Reason)
	}
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown renders the result as a section for the run report.
func (r *Result) Markdown() string {
	var b strings.Builder
	b.WriteString("## Commit policy\n\n")
	if r.OK() {
		fmt.Fprintf(&b, "All %d commit(s) pass.\n", r.Commits)
	} else {
		fmt.Fprintf(&b, "%d finding(s) in %d commit(s):\n\n", len(r.Findings), r.Commits)
		b.WriteString("| rule | where | message |\n|---|---|---|\n")
		for _, f := range r.Findings {
			where := f.File
			if where != "" && f.Line > 0 {
				where = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			if f.Commit != "" {
				c := "`" + shortSHA(f.Commit) + "`"
				if where == "" {
					where = c
					if f.Line > 0 {
						where += fmt.Sprintf(" message line %d", f.Line)
					}
				} else {
					where = "`" + where + "` in " + c
				}
			} else if where != "" {
				where = "`" + where + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Rule, where, mdEscape(f.Message))
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "\nSkipped %s: %s.\n", s.Rule, mdEscape(s.Reason))
	}
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
