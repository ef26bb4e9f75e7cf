package policy

import (
	"fmt"
	"io"
	"strings"
)

// Summary is one line saying what was checked and found.
func (r *Result) Summary() string {
	s := fmt.Sprintf("policy: %d commit(s) checked, %d finding(s)", r.Commits, len(r.Findings))
	if len(r.Skipped) > 0 {
		s += fmt.Sprintf(", %d rule(s) skipped", len(r.Skipped))
	}
	return s
}

// WriteText writes the findings one per line (Finding.String), then the
// skipped rules and the summary.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
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
