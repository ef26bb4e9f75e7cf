// Package policy checks what a push may commit: the commit messages, the
// files each commit adds, and the tree at the head of the change. It is the
// engine of `stride policy check` and of the policy step of `stride run` and
// the git hooks.
//
// The rules are data (Rules): each has a stable id, used in findings, in
// --disable and in the JSON output:
//
//	subject-length      the subject (first line) is at most MaxSubject characters
//	subject-imperative  the subject reads as an imperative summary ("Add x", not
//	                    "Added x"/"Adds x"/"Adding x") and does not end with a period
//	body-wrap           the second line is blank and body lines are at most
//	                    MaxBodyLine characters (URLs, code, quotes and trailers exempt)
//	file-size           no commit adds or changes a file larger than MaxFileSize
//	secrets             no added line holds a private key, an AWS access key, a
//	                    GitHub or Slack token, or a high-entropy password literal
//	generated-drift     BUILD files equal what Gazelle generates (Gazelle's
//	                    -mode=diff, run in the work tree)
//	owners-lint         OWNERS files changed by the push pass `stride owners lint`
//
// Message, file-size and secrets rules run on each commit of the change
// (base..head, as `git log base..head`), so a secret added in one commit and
// deleted in the next is still found: it would still be pushed. Merge
// commits are skipped (the commits they merge are checked). The tree rules
// run once, at head.
//
// Findings name the file and line (file rules), or the commit and the line
// of its message (message rules). A line that contains "stride:allow-secret"
// is not checked for secrets.
package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Schema is the "schema" field of a Result's JSON.
const Schema = "stride.policy/v1"

// The rule ids.
const (
	RuleSubjectLength     = "subject-length"
	RuleSubjectImperative = "subject-imperative"
	RuleBodyWrap          = "body-wrap"
	RuleFileSize          = "file-size"
	RuleSecrets           = "secrets"
	RuleGeneratedDrift    = "generated-drift"
	RuleOwnersLint        = "owners-lint"
)

// Scope says what a rule looks at.
type Scope string

// The scopes of rules.
const (
	ScopeMessage Scope = "message" // each commit's message
	ScopeCommit  Scope = "commit"  // the files each commit adds or changes
	ScopeTree    Scope = "tree"    // the tree at head
)

// Rule describes one rule.
type Rule struct {
	ID      string `json:"id"`
	Scope   Scope  `json:"scope"`
	Summary string `json:"summary"`
}

// Rules are the rules, in the order their findings are reported.
var Rules = []Rule{
	{RuleSubjectLength, ScopeMessage, "the subject line is at most 72 characters (--max-subject)"},
	{RuleSubjectImperative, ScopeMessage, "the subject is an imperative summary (\"Add x\", not \"Added x\") and does not end with a period; case is not checked"},
	{RuleBodyWrap, ScopeMessage, "a blank line follows the subject; body lines are at most 72 characters (URLs, code, quotes, trailers exempt)"},
	{RuleFileSize, ScopeCommit, "no file over the size limit (--max-file-size, default 1 MiB)"},
	{RuleSecrets, ScopeCommit, "no private keys, AWS keys, GitHub or Slack tokens, or high-entropy password literals in added lines"},
	{RuleGeneratedDrift, ScopeTree, "BUILD files equal what Gazelle generates (bazel run //:gazelle -- -mode=diff)"},
	{RuleOwnersLint, ScopeTree, "changed OWNERS files pass stride owners lint"},
}

func ruleKnown(id string) bool { return ruleScope(id) != "" }

// ErrBadInput marks errors in what the caller asked for (an unknown rule
// id, a bad option); revisions that do not resolve wrap
// gitrepo.ErrUnknownRevision instead.
var ErrBadInput = errors.New("bad input")

// Defaults.
const (
	DefaultMaxSubject  = 72
	DefaultMaxBodyLine = 72
	DefaultMaxFileSize = 1 << 20
)

// DefaultGazelleCommand is how generated-drift asks Gazelle for a diff.
var DefaultGazelleCommand = []string{"bazel", "run", "//:gazelle", "--", "-mode=diff"}

// Options tune Check. The zero value checks every rule with the defaults.
type Options struct {
	// MaxSubject is the longest subject line in characters (runes); 0 means
	// DefaultMaxSubject.
	MaxSubject int
	// MaxBodyLine is the longest body line; 0 means DefaultMaxBodyLine.
	MaxBodyLine int
	// MaxFileSize is the largest file a commit may add or change, in bytes;
	// 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// AllowLarge lists path patterns exempt from file-size: path.Match
	// patterns, or a directory prefix ending in "/**" ("third_party/**").
	AllowLarge []string
	// Disable lists rule ids not to check.
	Disable []string
	// NoGazelle skips generated-drift (as if it were in Disable).
	NoGazelle bool
	// GazelleCommand is the command generated-drift runs in the work tree;
	// it prints a unified diff of the BUILD files Gazelle would change and
	// exits non-zero when there is one. Nil means DefaultGazelleCommand.
	GazelleCommand []string
}

// Validate checks o and fills in defaults.
func (o *Options) Validate() error {
	if o.MaxSubject == 0 {
		o.MaxSubject = DefaultMaxSubject
	}
	if o.MaxBodyLine == 0 {
		o.MaxBodyLine = DefaultMaxBodyLine
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxSubject < 0 || o.MaxBodyLine < 0 || o.MaxFileSize < 0 {
		return fmt.Errorf("%w: limits must be positive", ErrBadInput)
	}
	for _, id := range o.Disable {
		if !ruleKnown(id) {
			return fmt.Errorf("%w: unknown rule %q (rules: %s)", ErrBadInput, id, strings.Join(RuleIDs(), ", "))
		}
	}
	for _, p := range o.AllowLarge {
		if _, err := matchPath(p, ""); err != nil {
			return fmt.Errorf("%w: bad pattern %q: %v", ErrBadInput, p, err)
		}
	}
	if len(o.GazelleCommand) == 0 {
		o.GazelleCommand = DefaultGazelleCommand
	}
	return nil
}

func (o *Options) enabled(id string) bool {
	if id == RuleGeneratedDrift && o.NoGazelle {
		return false
	}
	for _, d := range o.Disable {
		if d == id {
			return false
		}
	}
	return true
}

// RuleIDs returns the ids of Rules in order.
func RuleIDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}

// Finding is one violation. Message rules set Commit and Line (the line of
// the commit message, 1 being the subject); commit rules set Commit, File
// and Line (0 when the whole file is meant); tree rules set File and Line.
type Finding struct {
	Rule    string `json:"rule"`
	Commit  string `json:"commit,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// String formats f as one line: "file:line: rule: message (commit abc)" or
// "commit abc, message line N: rule: message".
func (f Finding) String() string {
	var b strings.Builder
	switch {
	case f.File != "":
		b.WriteString(f.File)
		if f.Line > 0 {
			fmt.Fprintf(&b, ":%d", f.Line)
		}
	case f.Commit != "":
		fmt.Fprintf(&b, "commit %s", shortSHA(f.Commit))
		if f.Line > 0 {
			fmt.Fprintf(&b, ", message line %d", f.Line)
		}
	}
	fmt.Fprintf(&b, ": %s: %s", f.Rule, f.Message)
	if f.File != "" && f.Commit != "" {
		fmt.Fprintf(&b, " (commit %s)", shortSHA(f.Commit))
	}
	return b.String()
}

// Skip records a rule that did not run, and why.
type Skip struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Result is the outcome of Check.
type Result struct {
	Schema string `json:"schema"`
	// Base and Head are the resolved commits (full shas; Base is "" when the
	// whole history of Head was checked).
	Base string `json:"base"`
	Head string `json:"head"`
	// Commits is how many commits were checked (merges excluded).
	Commits int `json:"commits"`
	// Rules are the ids of the rules that were enabled.
	Rules    []string  `json:"rules"`
	Findings []Finding `json:"findings"`
	Skipped  []Skip    `json:"skipped,omitempty"`
}

// OK reports whether there are no findings.
func (r *Result) OK() bool { return len(r.Findings) == 0 }

// sortFindings orders findings by rule (in Rules order), then commit
// order as found, then file and line.
func (r *Result) sortFindings() {
	rank := map[string]int{}
	for i, rule := range Rules {
		rank[rule.ID] = i
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if rank[a.Rule] != rank[b.Rule] {
			return rank[a.Rule] < rank[b.Rule]
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
