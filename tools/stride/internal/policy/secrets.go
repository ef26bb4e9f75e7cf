package policy

import (
	"math"
	"regexp"
	"strings"
)

// AllowSecretMarker on a line exempts it from the secrets rule (for
// documented examples and test fixtures that must look like secrets).
const AllowSecretMarker = "stride:allow-secret"

// SecretPattern is one kind of secret the secrets rule looks for.
type SecretPattern struct {
	ID   string // e.g. "aws-access-key"
	Desc string // what was found, for the message
	re   *regexp.Regexp
	// group is the submatch that holds the secret itself (0: the match).
	group int
	// minEntropy, when > 0, is the Shannon entropy (bits per character) the
	// secret must reach: it tells random strings from words and
	// placeholders.
	minEntropy float64
}

// SecretPatterns are what the secrets rule looks for.
var SecretPatterns = []SecretPattern{
	{
		ID: "private-key", Desc: "a private key (PEM block)",
		re: regexp.MustCompile(`-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----`),
	},
	{
		ID: "aws-access-key", Desc: "an AWS access key id",
		re: regexp.MustCompile(`\b((AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`), group: 1,
	},
	{
		ID: "aws-secret-key", Desc: "an AWS secret access key",
		re:    regexp.MustCompile(`(?i)aws_?secret_?(access_?)?key["']?\s*[:=]+\s*["']?([A-Za-z0-9/+]{40})\b`),
		group: 2, minEntropy: 4,
	},
	{
		ID: "github-token", Desc: "a GitHub token",
		re: regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b`), group: 1,
	},
	{
		ID: "slack-token", Desc: "a Slack token",
		re: regexp.MustCompile(`\b(xox[abposr]-[0-9A-Za-z]{8,}-[0-9A-Za-z-]{8,})\b`), group: 1,
	},
	{
		ID: "slack-webhook", Desc: "a Slack webhook URL",
		re: regexp.MustCompile(`https://hooks\.slack\.com/services/T[A-Za-z0-9_]{6,}/B[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{16,}`),
	},
	{
		ID: "password-literal", Desc: "a password or secret assigned a high-entropy literal",
		re:    regexp.MustCompile(`(?i)[A-Za-z0-9_.-]*(password|passwd|secret|token|api_?key|access_?key|auth_?key|private_?key|credentials?)[A-Za-z0-9_.-]*["']?\s*(:=|=|:)\s*["']([^"'\s]{12,})["']`),
		group: 3, minEntropy: 3.5,
	},
	{
		ID: "password-env", Desc: "a password or secret assigned a high-entropy value",
		re:    regexp.MustCompile(`^\s*(export\s+)?[A-Z0-9_]*(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|ACCESS_KEY)[A-Z0-9_]*=([^\s"'$#]{12,})\s*(#.*)?$`),
		group: 3, minEntropy: 3.5,
	},
}

// placeholders are values that look like secrets' stand-ins.
var placeholders = []string{"example", "placeholder", "changeme", "change-me", "your", "xxxx", "****", "<", "${", "{{", "%s", "dummy", "redacted", "fake", "sample"}

// SecretFinding is one secret found in a line.
type SecretFinding struct {
	Pattern *SecretPattern
	Line    int // 1-based
}

// ScanSecrets looks for secrets in the lines of content numbered in lines
// (1-based; nil means every line).
func ScanSecrets(content string, lines map[int]bool) []SecretFinding {
	var out []SecretFinding
	for i, line := range strings.Split(content, "\n") {
		n := i + 1
		if lines != nil && !lines[n] {
			continue
		}
		if len(line) > 4096 || strings.Contains(line, AllowSecretMarker) {
			continue // minified or generated data, or exempted
		}
		for pi := range SecretPatterns {
			p := &SecretPatterns[pi]
			if secretIn(p, line) {
				out = append(out, SecretFinding{Pattern: p, Line: n})
				break
			}
		}
	}
	return out
}

func secretIn(p *SecretPattern, line string) bool {
	for _, m := range p.re.FindAllStringSubmatch(line, -1) {
		secret := m[p.group]
		if p.minEntropy > 0 {
			if isPlaceholder(secret) || entropy(secret) < p.minEntropy {
				continue
			}
		}
		return true
	}
	return false
}

// wordsRE matches lower-case words joined by - _ . (names such as
// "db-credentials", not secrets).
var wordsRE = regexp.MustCompile(`^[a-z]+([-_.][a-z]+)*$`)

// isPlaceholder reports whether a value assigned to a password-like name
// is not a secret: a placeholder, a URL without credentials, a path, or a
// name made of lower-case words.
func isPlaceholder(s string) bool {
	l := strings.ToLower(s)
	for _, p := range placeholders {
		if strings.Contains(l, p) {
			return true
		}
	}
	if strings.Contains(s, "://") && !strings.Contains(s, "@") {
		return true
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "~/") {
		return true
	}
	return wordsRE.MatchString(s)
}

// entropy returns the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}
