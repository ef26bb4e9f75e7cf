package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/policy"
)

func policyMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPolicyCheckCLI(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("Add the base", map[string]string{"README.md": "hi\n"})
	clean := r.Commit("Add docs", map[string]string{"docs/a.md": "a\n"})
	r.Commit("Added a key", map[string]string{"keys/id_ed25519": "comment\n-----BEGIN " + "OPENSSH PRIVATE" + " KEY-----\n"})

	code, out, errs := policyMain(t, "-C", r.Dir, "policy", "check", "--base", base, "--head", clean, "--no-gazelle")
	if code != ExitOK {
		t.Errorf("clean change: exit %d, want 0\n%s%s", code, out, errs)
	}

	code, out, errs = policyMain(t, "-C", r.Dir, "policy", "check", "--base", base, "--no-gazelle")
	if code != ExitFindings {
		t.Errorf("bad change: exit %d, want 1\n%s%s", code, out, errs)
	}
	for _, want := range []string{"keys/id_ed25519:2: secrets: a private key", "message line 1: subject-imperative:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = policyMain(t, "-C", r.Dir, "policy", "check", "--base", base, "--no-gazelle", "--json")
	var res policy.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if code != ExitFindings || res.Schema != policy.Schema || len(res.Findings) != 2 {
		t.Errorf("--json: exit %d, result %+v", code, res)
	}

	code, out, _ = policyMain(t, "-C", r.Dir, "policy", "check", "--base", base, "--no-gazelle", "--disable", "secrets,subject-imperative")
	if code != ExitOK {
		t.Errorf("--disable: exit %d, want 0\n%s", code, out)
	}
}

func TestPolicyCheckCLIBadInput(t *testing.T) {
	r := gittest.New(t)
	r.Commit("Add the base", map[string]string{"README.md": "hi\n"})
	for _, args := range [][]string{
		{"policy", "check", "--base", "no-such-rev"},
		{"policy", "check", "--base", "HEAD", "--head", "nope"},
		{"policy", "check", "--base", "HEAD", "--disable", "spelling"},
		{"policy", "check", "--base", "HEAD", "--max-file-size", "big"},
		{"policy", "check", "extra"},
		{"policy", "nonsense"},
		{"policy"},
	} {
		code, out, errs := policyMain(t, append([]string{"-C", r.Dir}, args...)...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, out, errs)
		}
	}
	if code, _, errs := policyMain(t, "-C", t.TempDir(), "policy", "check"); code != ExitUsage || !strings.Contains(errs, "not a git repository") {
		t.Errorf("outside a repository: exit %d, stderr %q", code, errs)
	}
}

func TestPolicyRulesCLI(t *testing.T) {
	code, out, _ := policyMain(t, "policy", "rules", "--json")
	var rules []policy.Rule
	if err := json.Unmarshal([]byte(out), &rules); err != nil || code != 0 || len(rules) != len(policy.Rules) {
		t.Fatalf("exit %d, err %v, output:\n%s", code, err, out)
	}
	code, out, _ = policyMain(t, "policy", "rules")
	for _, id := range policy.RuleIDs() {
		if !strings.Contains(out, id) {
			t.Errorf("rules output lacks %s", id)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestPolicyParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "512K": 512 << 10, "2M": 2 << 20, "1MiB": 1 << 20, "1g": 1 << 30, "10B": 10} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "big", "-1", "0", "1T"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

func TestPolicyCheckerForRun(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("Add the base", map[string]string{"README.md": "hi\n"})
	head := r.Commit("Added notes", map[string]string{"notes.md": "n\n"})
	ch, err := change.Open(r.Dir, change.Options{Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	c := policyChecker("")(context.Background(), ch)
	if !c.Checked || c.OK || len(c.Findings) == 0 || !strings.Contains(c.Findings[0], "subject-imperative") {
		t.Errorf("check = %+v", c)
	}
}
