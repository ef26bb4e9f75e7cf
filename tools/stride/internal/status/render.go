package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MaxComment is GitHub's limit on a comment's body and on a check run's
// summary and text, in characters.
const MaxComment = 65536

// detail is how much a Markdown rendering shows; Markdown tries each in
// turn until the text fits.
type detail struct {
	builds   int // rows of the builds table
	blocking int // rows of the OWNERS table
	evidence int // characters of a criterion's evidence
	criteria bool
}

var details = []detail{
	{builds: 1 << 30, blocking: 1 << 30, evidence: 1 << 30, criteria: true},
	{builds: 10, blocking: 50, evidence: 400, criteria: true},
	{builds: 5, blocking: 20, evidence: 160, criteria: true},
	{builds: 3, blocking: 10, evidence: 80, criteria: false},
}

// Markdown renders the status as a pull-request comment that fits in
// MaxComment characters: when the whole does not, it summarizes (fewer
// rows, with a line saying how many more there are, and shorter
// evidence), never cutting a table.
func (s *Status) Markdown() string {
	var out string
	for _, d := range details {
		out = s.markdown(d)
		if len([]rune(out)) <= MaxComment {
			return out
		}
	}
	return out
}

// cell escapes text for a Markdown table cell: no line breaks, pipes
// escaped, and no HTML (< > & as entities), cut to max characters.
func cell(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return mdEscape(s)
}

var mdReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "`", "'", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")

func mdEscape(s string) string { return mdReplacer.Replace(s) }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

// StateMark is a state's symbol in tables.
func StateMark(state string) string {
	switch state {
	case StatePromoted:
		return "✓"
	case StateReplaced:
		return "↻"
	case StateRolledBack:
		return "↩"
	case StateHeld:
		return "⏸"
	}
	return "…"
}

// StateText is one environment's cell: "✓ promoted 2026-11-30 10:00Z",
// "⏳ waiting: soak 1h12m".
func (e EnvStatus) StateText() string {
	s := StateMark(e.State) + " " + e.State
	if e.Since != nil && e.State != StateHeld {
		s += " " + stamp(*e.Since)
	}
	if (e.State == StateWaiting || e.State == StateHeld) && len(e.WaitsFor) > 0 {
		s += ": " + strings.Join(e.WaitsFor, ", ")
	}
	return s
}

func (s *Status) markdown(d detail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## stride status: %s\n\n", cell(s.Verdict, 300))
	fmt.Fprintf(&b, "Change `%s..%s` (%d files)", Short(s.Base), Short(s.Head), s.Files)
	if s.Subject != "" {
		fmt.Fprintf(&b, ": %s", cell(s.Subject, 200))
	}
	fmt.Fprintf(&b, ", as of %s.\n\n", stamp(s.Time))

	if len(s.Builds) == 0 {
		b.WriteString("No published build contains this change yet (a green `stride run --publish` of it, or of a commit after it, publishes one).\n\n")
	} else {
		b.WriteString("| build |")
		for _, e := range s.Environments {
			fmt.Fprintf(&b, " %s |", e)
		}
		b.WriteString("\n|---|")
		b.WriteString(strings.Repeat("---|", len(s.Environments)))
		b.WriteString("\n")
		for i, bu := range s.Builds {
			if i == d.builds {
				fmt.Fprintf(&b, "\nand %d older builds (stride status --format json lists them).\n", len(s.Builds)-i)
				break
			}
			fmt.Fprintf(&b, "| `%s` #%d, %s |", Short(bu.Build), bu.Number, stamp(bu.Time))
			for _, e := range bu.Envs {
				fmt.Fprintf(&b, " %s |", cell(e.StateText(), d.evidence))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
		if d.criteria {
			s.criteriaMarkdown(&b, d)
		}
	}
	s.ownersMarkdown(&b, d)
	b.WriteString("\n<sub>✓ pass · ✗ fail · ? unknown · - skipped. Written by `stride status`; criteria from ci/environments.star, events from refs/stride/ledger.</sub>\n")
	return b.String()
}

// criteriaMarkdown lists, for the newest builds, the criteria of the
// first environment each has not reached.
func (s *Status) criteriaMarkdown(b *strings.Builder, d detail) {
	for i, bu := range s.Builds {
		if i == 3 || i == d.builds {
			break
		}
		for _, e := range bu.Envs {
			if e.State != StateWaiting && e.State != StateHeld {
				continue
			}
			if e.Evaluation != nil {
				criteriaTable(b, d, bu, e)
			}
			break
		}
	}
}

func criteriaTable(b *strings.Builder, d detail, bu Build, e EnvStatus) {
	ev := e.Evaluation
	how := "recorded by " + cell(ev.Actor, 80)
	if !ev.Recorded {
		how = "the robot's dry run"
	}
	fmt.Fprintf(b, "#### `%s` for %s: %s (%s, %s)\n\n", Short(bu.Build), e.Env, ev.Verdict, how, stamp(ev.Time))
	if e.Detail != "" {
		fmt.Fprintf(b, "%s\n\n", cell(e.Detail, d.evidence))
	}
	b.WriteString("| | criterion | evidence |\n|---|---|---|\n")
	for _, c := range ev.Criteria {
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.Mark, cell(c.Criterion, 80), cell(c.Evidence, d.evidence))
	}
	b.WriteString("\n")
}

func (s *Status) ownersMarkdown(b *strings.Builder, d detail) {
	o := s.Owners
	b.WriteString("### OWNERS\n\n")
	switch {
	case o.Error != "":
		fmt.Fprintf(b, "? cannot check: %s\n", cell(o.Error, d.evidence))
		return
	case o.OK:
		fmt.Fprintf(b, "✓ all %d changed files are approved by their owners.\n", o.Files)
		return
	}
	fmt.Fprintf(b, "✗ %d of %d changed files lack their owners' approval.\n\n", o.Missing, o.Files)
	b.WriteString("| OWNERS file | files | needs | can approve |\n|---|---|---|---|\n")
	for i, bl := range o.Blocking {
		if i == d.blocking {
			fmt.Fprintf(b, "\nand %d more OWNERS files (`%s`).\n", len(o.Blocking)-i, o.Command)
			break
		}
		can := bl.CanApprove
		more := ""
		if len(can) > 5 {
			can, more = can[:5], fmt.Sprintf(" and %d more", len(bl.CanApprove)-5)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s%s |\n", cell(bl.OwnersFile, 200), bl.Missing, cell(bl.Needs, 200), cell(strings.Join(can, ", "), 300), more)
	}
	if len(o.Suggested) > 0 {
		b.WriteString("\nSuggested reviewers (the fewest found who complete the approval):")
		for i, r := range o.Suggested {
			if i == d.blocking {
				fmt.Fprintf(b, " and %d more", len(o.Suggested)-i)
				break
			}
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(b, "%s %s (%d files)", sep, cell(r.Email, 100), r.Files)
		}
		b.WriteString(".\n")
	}
	fmt.Fprintf(b, "\n`%s` says more.\n", o.Command)
}

// JSON is the status as indented JSON (schema stride.status/v1).
func (s *Status) JSON() ([]byte, error) {
	return marshal(s)
}

func marshal(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return buf.Bytes(), nil
}

// CheckRun is a GitHub Checks API check run (POST
// /repos/{owner}/{repo}/check-runs).
type CheckRun struct {
	Name       string      `json:"name"`
	HeadSHA    string      `json:"head_sha"`
	Status     string      `json:"status"`
	Conclusion string      `json:"conclusion,omitempty"`
	Output     CheckOutput `json:"output"`
}

// CheckOutput is a check run's output.
type CheckOutput struct {
	Title       string       `json:"title"`
	Summary     string       `json:"summary"`
	Text        string       `json:"text"`
	Annotations []Annotation `json:"annotations"`
}

// Annotation marks an OWNERS file whose owners have not approved.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	AnnotationLevel string `json:"annotation_level"`
	Title           string `json:"title"`
	Message         string `json:"message"`
}

// MaxAnnotations is how many annotations one Checks API request takes.
const MaxAnnotations = 50

// CheckRun is the status as a check run: completed with a conclusion
// when it has one, else in progress.
func (s *Status) CheckRun() CheckRun {
	cr := CheckRun{Name: "stride status", HeadSHA: s.Head, Status: "in_progress", Conclusion: s.Conclusion}
	if s.Conclusion != "" {
		cr.Status = "completed"
	}
	title := s.Verdict
	if r := []rune(title); len(r) > 250 {
		title = string(r[:250]) + "…"
	}
	text := s.Markdown()
	summary := text
	if i := strings.Index(text, "\n### OWNERS"); i > 0 && len(s.Builds) > 0 {
		summary = text[:i]
	}
	cr.Output = CheckOutput{Title: title, Summary: summary, Text: text, Annotations: []Annotation{}}
	for _, bl := range s.Owners.Blocking {
		if len(cr.Output.Annotations) == MaxAnnotations || bl.OwnersFile == "" {
			break
		}
		msg := fmt.Sprintf("%d changed files under %s need %s", bl.Missing, bl.Dir, bl.Needs)
		if len(bl.CanApprove) > 0 {
			msg += "; can approve: " + strings.Join(bl.CanApprove, ", ")
		}
		cr.Output.Annotations = append(cr.Output.Annotations, Annotation{Path: bl.OwnersFile, StartLine: 1, EndLine: 1,
			AnnotationLevel: "failure", Title: "OWNERS approval missing", Message: msg})
	}
	return cr
}

// ChecksJSON is CheckRun as indented JSON.
func (s *Status) ChecksJSON() ([]byte, error) { return marshal(s.CheckRun()) }

// Formats are the formats of Render.
var Formats = []string{"md", "json", "checks-json"}

// Render renders s in format (md, json or checks-json).
func (s *Status) Render(format string) ([]byte, error) {
	switch format {
	case "md", "markdown":
		return []byte(s.Markdown()), nil
	case "json":
		return s.JSON()
	case "checks-json":
		return s.ChecksJSON()
	}
	return nil, fmt.Errorf("unknown format %q (want md, json or checks-json)", format)
}
