package ledger

import (
	"fmt"
	"strings"
	"time"
)

// Line renders an event as one line of `stride ledger log`, e.g.
//
//	#12  2026-12-03 12:00:05Z  promotion  prod  1a2b3c4d5e6f  from 9f8e7d6c5b4a  by robot (ci@build1)
func (e Event) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%-4d %s  %-10s", e.Seq, e.Time.UTC().Format("2006-01-02 15:04:05Z"), e.Kind)
	if e.Env != "" {
		fmt.Fprintf(&b, " %-8s", e.Env)
	}
	if e.Build != "" {
		fmt.Fprintf(&b, " %s", short(e.Build))
	}
	switch e.Kind {
	case KindPromotion, KindRollback:
		if e.From != "" {
			fmt.Fprintf(&b, "  from %s", short(e.From))
		}
		if e.Override {
			b.WriteString("  OVERRIDE")
		}
	case KindStep:
		fmt.Fprintf(&b, "  %s %s", e.Step, e.Status)
		if e.Repaired {
			b.WriteString(" (repaired)")
		}
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
	case KindEvaluation:
		fmt.Fprintf(&b, "  %s:", e.Verdict)
		for _, c := range e.Criteria {
			fmt.Fprintf(&b, " %s %s", c.Mark(), c.Criterion)
		}
	}
	if e.Actor != "" {
		fmt.Fprintf(&b, "  by %s", e.Actor)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, "  %q", e.Reason)
	}
	return b.String()
}

// Excuses renders an evaluation's criteria one per line, with their
// evidence, as the excuses of `stride promote`:
//
//	✓ tests_green()      report.json: 132 tests passed
//	✗ soak(hours = 2)    in uat for 40m (since 11:20Z); needs 2h: 1h20m to go
func (e Event) Excuses(indent string) string {
	w := 0
	for _, c := range e.Criteria {
		if n := len([]rune(c.Criterion)); n > w {
			w = n
		}
	}
	var b strings.Builder
	for _, c := range e.Criteria {
		fmt.Fprintf(&b, "%s%s %-*s  %s\n", indent, c.Mark(), w, c.Criterion, c.Evidence)
	}
	return b.String()
}

// Age renders a duration in words: "2h13m", "40m", "12s", "3d4h".
func Age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h := int(d / time.Hour)
		if m := int(d%time.Hour) / int(time.Minute); m > 0 {
			return fmt.Sprintf("%dh%dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	}
	days := int(d / (24 * time.Hour))
	if h := int(d%(24*time.Hour)) / int(time.Hour); h > 0 {
		return fmt.Sprintf("%dd%dh", days, h)
	}
	return fmt.Sprintf("%dd", days)
}
