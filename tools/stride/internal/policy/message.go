package policy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// checkMessage applies the message rules to one commit's message.
func checkMessage(sha, msg string, o *Options) []Finding {
	var out []Finding
	add := func(rule string, line int, format string, a ...interface{}) {
		if o.enabled(rule) {
			out = append(out, Finding{Rule: rule, Commit: sha, Line: line, Message: fmt.Sprintf(format, a...)})
		}
	}
	msg = strings.TrimRight(strings.ReplaceAll(msg, "\r\n", "\n"), "\n")
	lines := strings.Split(msg, "\n")
	subject := strings.TrimSpace(lines[0])
	if subject == "" {
		add(RuleSubjectLength, 1, "the commit message has no subject line")
		return out
	}
	if n := utf8.RuneCountInString(subject); n > o.MaxSubject {
		add(RuleSubjectLength, 1, "subject is %d characters, over the limit of %d: %q", n, o.MaxSubject, subject)
	}
	if problem := imperativeProblem(subject); problem != "" {
		add(RuleSubjectImperative, 1, "%s: %q", problem, subject)
	}
	if len(lines) > 1 && strings.TrimSpace(lines[1]) != "" {
		add(RuleBodyWrap, 2, "the second line must be blank, separating the subject from the body")
	}
	inFence := false
	trailers := trailerBlock(lines)
	for i := 1; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		n := utf8.RuneCountInString(line)
		if n <= o.MaxBodyLine || inFence || trailers[i] || wrapExempt(line) {
			continue
		}
		add(RuleBodyWrap, i+1, "body line is %d characters, over the limit of %d: wrap it", n, o.MaxBodyLine)
	}
	return out
}

// wrapExempt reports whether a long body line may stay long: it holds a
// URL, is a single word (a path, a hash), is indented code, or is quoted.
func wrapExempt(line string) bool {
	t := strings.TrimSpace(line)
	return strings.Contains(line, "://") ||
		!strings.ContainsAny(t, " \t") ||
		strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") ||
		strings.HasPrefix(t, ">")
}

var trailerRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*: \S`)

// trailerBlock marks the lines of the message's last paragraph when every
// line of it is a "Key: value" trailer (Signed-off-by, Co-authored-by...).
func trailerBlock(lines []string) map[int]bool {
	end := len(lines)
	start := end
	for start > 1 && strings.TrimSpace(lines[start-1]) != "" {
		start--
	}
	out := map[int]bool{}
	if start <= 1 || start == end { // no body paragraph, or the subject's
		return out
	}
	for i := start; i < end; i++ {
		if !trailerRE.MatchString(lines[i]) {
			return map[int]bool{}
		}
		out[i] = true
	}
	return out
}

// areaPrefix matches a leading "area: " or "type(scope): " of a subject
// ("tools/stride: ", "deb_test: ", "fix(ci): ").
var areaPrefix = regexp.MustCompile(`^[A-Za-z0-9_./+*-]+(\([^)]*\))?!?:( +|$)`)

// imperativeProblem returns what is wrong with subject as an imperative
// summary, or "".
func imperativeProblem(subject string) string {
	subject = strings.TrimSpace(subject)
	for _, p := range []string{"Merge ", "Revert \"", "fixup! ", "squash! ", "amend! "} {
		if strings.HasPrefix(subject, p) {
			return ""
		}
	}
	problem := moodProblem(subject)
	if strings.HasSuffix(subject, ".") && !strings.HasSuffix(subject, "...") {
		if problem != "" {
			return problem + "; also drop the final period"
		}
		return "subject ends with a period: drop it"
	}
	return problem
}

// moodProblem returns what is wrong with the first word of subject (after
// an "area: " prefix), or "".
func moodProblem(subject string) string {
	s := areaPrefix.ReplaceAllString(subject, "")
	word := strings.Fields(s)
	if len(word) == 0 {
		return "subject has no summary after its prefix"
	}
	w := strings.ToLower(strings.Trim(word[0], "\"'`*_.,:;"))
	if base, ok := nonImperative[w]; ok {
		return fmt.Sprintf("subject should be an imperative summary (%q, not %q)", capitalize(base, word[0]), strings.TrimRight(word[0], ".,:;"))
	}
	if len(w) > 4 && strings.HasSuffix(w, "ed") && !edWords[w] && isLetters(w) {
		return fmt.Sprintf("subject should be an imperative summary (%q reads as past tense; say what the commit does: \"Add\", \"Fix\"...)", word[0])
	}
	if len(w) > 5 && strings.HasSuffix(w, "ing") && !ingWords[w] && isLetters(w) {
		return fmt.Sprintf("subject should be an imperative summary (%q is a gerund; say what the commit does: \"Add\", \"Fix\"...)", word[0])
	}
	return ""
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// capitalize returns base with the case of the first letter of like.
func capitalize(base, like string) string {
	if like != "" && like[0] >= 'A' && like[0] <= 'Z' {
		return strings.ToUpper(base[:1]) + base[1:]
	}
	return base
}

// edWords and ingWords end like past tenses and gerunds but are not.
var (
	edWords  = wordSet("need embed speed feed seed proceed exceed succeed bleed breed shed shred bed red bred")
	ingWords = wordSet("bring string thing spring sting swing sling wring fling cling")
)

// commitVerbs are verbs that start commit subjects; their third-person,
// past and gerund forms are reported with the imperative as the fix.
var commitVerbs = strings.Fields(`
	add allow apply avoid bump build change check clean clarify close
	convert copy correct create delete deprecate describe disable document
	drop enable ensure expose extract fix format generate handle hide
	implement import improve include inline install introduce keep let
	limit load log make mark merge migrate move name normalize note
	optimize parse pass pin polish prefer prepare prevent print reduce
	refactor register reject release remove rename reorder replace report
	require reset resolve restore restrict return reuse revert rewrite run
	scan set show simplify skip sort split start stop support switch sync
	test tidy track trim tweak unify update upgrade use validate verify
	wire wrap write`)

// irregular past tenses of commitVerbs.
var irregular = map[string]string{
	"built": "build", "made": "make", "kept": "keep", "ran": "run", "wrote": "write",
	"rewrote": "rewrite", "split": "", "set": "", "let": "", "reset": "",
}

var nonImperative = buildForms()

func buildForms() map[string]string {
	m := map[string]string{}
	for _, v := range commitVerbs {
		for _, f := range forms(v) {
			if f != v {
				m[f] = v
			}
		}
	}
	for past, base := range irregular {
		if base != "" {
			m[past] = base
		}
	}
	return m
}

// forms returns the third-person, past and gerund forms of verb v.
func forms(v string) []string {
	var out []string
	last := v[len(v)-1]
	switch {
	case strings.HasSuffix(v, "s") || strings.HasSuffix(v, "sh") || strings.HasSuffix(v, "ch") || strings.HasSuffix(v, "x") || strings.HasSuffix(v, "z"):
		out = append(out, v+"es")
	case last == 'y' && !isVowel(v[len(v)-2]):
		out = append(out, v[:len(v)-1]+"ies")
	default:
		out = append(out, v+"s")
	}
	switch {
	case last == 'e':
		out = append(out, v+"d", v[:len(v)-1]+"ing")
	case last == 'y' && !isVowel(v[len(v)-2]):
		out = append(out, v[:len(v)-1]+"ied", v+"ing")
	case doubles(v):
		d := v + string(last)
		out = append(out, d+"ed", d+"ing")
	default:
		out = append(out, v+"ed", v+"ing")
	}
	return out
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

// doubles reports whether v doubles its last consonant (stop → stopped):
// one syllable ending consonant-vowel-consonant, as in the verbs above.
func doubles(v string) bool {
	switch v {
	case "drop", "stop", "pin", "skip", "trim", "wrap", "run", "set", "let", "log":
		return true
	}
	return false
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
