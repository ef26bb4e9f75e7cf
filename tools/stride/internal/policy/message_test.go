package policy

import (
	"strings"
	"testing"
)

func TestImperative(t *testing.T) {
	for _, tc := range []struct {
		subject string
		want    string // substring of the problem; "" for none
	}{
		{"Add the policy check", ""},
		{"tools/stride: add the policy check", ""},
		{"fix(ci): run buildifier lint", ""},
		{"deb_test: verify units against the extracted binary", ""},
		{"Bazel 4 offline workspace: rules_go via the proxy", ""},
		{"Merge branch 'feature' into main", ""},
		{"Revert \"Add x\"", ""},
		{"Embed the docs", ""},
		{"Bring back the cache", ""},
		{"Speed up the build", ""},
		{"Process events in order", ""},
		{"Added the policy check", `("Add", not "Added")`},
		{"Adds the policy check", `("Add", not "Adds")`},
		{"adding the policy check", `("add", not "adding")`},
		{"stride: fixed a crash", `("fix", not "fixed")`},
		{"Fixes a crash", `("Fix", not "Fixes")`},
		{"Updated deps", `("Update", not "Updated")`},
		{"Copied the files", `("Copy", not "Copied")`},
		{"Dropped support for Go 1.18", `("Drop", not "Dropped")`},
		{"Made it faster", `("Make", not "Made")`},
		{"Refactored everything", `("Refactor", not "Refactored")`},
		{"Reworked the parser", "reads as past tense"},
		{"Reworking the parser", "is a gerund"},
		{"Add the policy check.", "ends with a period: drop it"},
		{"Wait for it...", ""},
		{"wip: ", "no summary"},
		{"wip:", "no summary"},
	} {
		got := imperativeProblem(tc.subject)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("imperativeProblem(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestCheckMessage(t *testing.T) {
	long := strings.Repeat("word ", 16) // 80 characters
	for _, tc := range []struct {
		name string
		msg  string
		want []string // "rule line"
	}{
		{"clean", "Add x\n\nA body that is wrapped\nat a sensible width.\n", nil},
		{"subject only", "Add x", nil},
		{"empty", "\n", []string{"subject-length 1"}},
		{"long subject", "Add " + long, []string{"subject-length 1"}},
		{"73 characters", "Add " + strings.Repeat("x", 69), []string{"subject-length 1"}},
		{"72 characters", "Add " + strings.Repeat("x", 68), nil},
		{"72 runes, more bytes", "Add " + strings.Repeat("é", 68), nil},
		{"not imperative", "Added x", []string{"subject-imperative 1"}},
		{"no blank line", "Add x\nmore text\n", []string{"body-wrap 2"}},
		{"long body line", "Add x\n\nshort\n" + long + "\nshort\n", []string{"body-wrap 4"}},
		{"exempt lines", "Add x\n\nSee https://example.com/" + strings.Repeat("a", 80) + "\n" +
			"    indented code that is very long " + long + "\n" +
			"> quoted " + long + "\n" +
			strings.Repeat("a", 90) + "\n", nil},
		{"fenced block", "Add x\n\n```\n" + long + "\n```\n" + long + "\n", []string{"body-wrap 6"}},
		{"trailers", "Add x\n\nBody.\n\nCo-authored-by: A Person With A Very Long Name Indeed <a.person.with.a.long.name@example.com>\n", nil},
		{"not all trailers", "Add x\n\nBody.\n\nCo-authored-by: a <a@example.com>\n" + long + "\n", []string{"body-wrap 6"}},
		{"several", "Fixed " + long + "\nbody\n", []string{"subject-length 1", "subject-imperative 1", "body-wrap 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range checkMessage("abc", tc.msg, &o) {
				got = append(got, f.Rule+" "+itoa(f.Line))
				if f.Commit != "abc" || f.Message == "" {
					t.Errorf("finding %+v lacks its commit or message", f)
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckMessageDisabled(t *testing.T) {
	o := Options{Disable: []string{RuleSubjectLength, RuleSubjectImperative}}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := checkMessage("abc", "Fixed "+strings.Repeat("x", 100), &o); len(got) != 0 {
		t.Errorf("disabled rules reported: %v", got)
	}
}

func itoa(n int) string {
	s := ""
	if n == 0 {
		return "0"
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func TestImperativeBothProblems(t *testing.T) {
	got := imperativeProblem("Fixed it.")
	if !strings.Contains(got, `("Fix", not "Fixed")`) || !strings.Contains(got, "drop the final period") {
		t.Errorf("got %q", got)
	}
}

func TestSummaryAndHints(t *testing.T) {
	for _, tc := range []struct {
		name      string
		res       Result
		summary   string
		wantHints []string
	}{
		{
			name:    "clean range",
			res:     Result{Base: "1111111111111111", Head: "2222222222222222", Commits: 3},
			summary: "policy: 3 commits checked (111111111111..222222222222), 0 findings",
		},
		{
			name: "a message and a file",
			res: Result{Base: "1111111111111111", Head: "2222222222222222", Commits: 1,
				Findings: []Finding{{Rule: RuleSubjectLength}, {Rule: RuleSecrets}, {Rule: RuleSecrets}},
				Skipped:  []Skip{{Rule: RuleGeneratedDrift}}},
			summary:   "policy: 1 commit checked (111111111111..222222222222), 3 findings, 1 rule skipped",
			wantHints: []string{"git commit --amend", "git rebase -i 111111111111"},
		},
		{
			name:    "whole history, tree rule",
			res:     Result{Head: "2222222222222222", Commits: 1, Findings: []Finding{{Rule: RuleOwnersLint}}},
			summary: "policy: 1 commit checked (the history of 222222222222), 1 finding",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.res.Summary(); got != tc.summary {
				t.Errorf("Summary() = %q, want %q", got, tc.summary)
			}
			hints := strings.Join(tc.res.Hints(), "\n")
			if len(tc.wantHints) == 0 && hints != "" {
				t.Errorf("Hints() = %q, want none", hints)
			}
			for _, w := range tc.wantHints {
				if !strings.Contains(hints, w) {
					t.Errorf("Hints() = %q, want %q in it", hints, w)
				}
			}
		})
	}
}
