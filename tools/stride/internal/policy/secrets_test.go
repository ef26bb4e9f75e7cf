package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var wantRE = regexp.MustCompile(`WANT\W{0,4}([a-z-]+)`)

// TestSecretsCorpus scans testdata/secrets (see its README): positive
// files' WANT lines must be found with their pattern, nothing else may be.
func TestSecretsCorpus(t *testing.T) {
	for _, kind := range []string{"positive", "negative"} {
		files, err := filepath.Glob(filepath.Join("testdata", "secrets", kind, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no %s cases in testdata/secrets", kind)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			raw := string(b)
			if got := ScanSecrets(raw, nil); len(got) > 0 {
				t.Errorf("%s:%d: the stored file must not match (%s): split the secret with @@", f, got[0].Line, got[0].Pattern.ID)
			}
			content := strings.ReplaceAll(raw, "@@", "")
			want := map[int]string{}
			for i, line := range strings.Split(content, "\n") {
				if m := wantRE.FindStringSubmatch(line); m != nil {
					if kind == "negative" {
						t.Fatalf("%s:%d: WANT in a negative case", f, i+1)
					}
					want[i+1] = m[1]
				}
			}
			if kind == "positive" && len(want) == 0 {
				t.Errorf("%s: no WANT lines", f)
			}
			got := map[int]string{}
			for _, s := range ScanSecrets(content, nil) {
				got[s.Line] = s.Pattern.ID
			}
			for line, id := range want {
				if got[line] != id {
					t.Errorf("%s:%d: found %q, want %q", f, line, got[line], id)
				}
			}
			for line, id := range got {
				if _, ok := want[line]; !ok {
					t.Errorf("%s:%d: unexpected %s", f, line, id)
				}
			}
		}
	}
}

// TestSecretsBuilt checks each pattern on secrets built at run time, so
// that no source file holds one.
func TestSecretsBuilt(t *testing.T) {
	alnum := "Zk4Rt9Wq2Lm7Xv3Np8Bs6Hd1Fg5Jc0Ty2Ua9Qe7Wr3"
	cases := []struct {
		line string
		want string // pattern id, "" for none
	}{
		{"key: " + "gh" + "p_" + alnum[:36], "github-token"},
		{"key: " + "gh" + "s_" + alnum[:36], "github-token"},
		{"key: " + "gh" + "p_" + alnum[:20], ""}, // too short
		{"url = " + "github" + "_pat_" + alnum[:22] + "_" + strings.Repeat(alnum[:20], 3)[:59], "github-token"},
		{"id=" + "AK" + "IA" + "Q4XJ2M7TZP3LW9RB", "aws-access-key"},
		{"id=" + "AK" + "IA" + "q4xj2m7tzp3lw9rb", ""}, // lower case: not a key id
		{"token = " + "xo" + "xp-" + "1234567890-" + alnum[:24], "slack-token"},
		{"-----BEGIN " + "OPENSSH PRIVATE" + " KEY-----", "private-key"},
		{"-----BEGIN " + "PUBLIC" + " KEY-----", ""},
		{`password := "` + "Q7$mZ2!vK9@pL4#x" + `"`, "password-literal"},
		{`password := "` + "aaaaaaaaaaaaaaaa" + `"`, ""}, // no entropy
		{`password := "` + "Q7$mZ2!vK9@pL4#x" + `" // ` + AllowSecretMarker, ""},
		{"  " + "PASS" + "WORD=" + "Q7mZ2vK9pL4xT8wR", "password-env"},
	}
	for _, tc := range cases {
		got := ScanSecrets(tc.line, nil)
		var id string
		if len(got) > 0 {
			id = got[0].Pattern.ID
		}
		if id != tc.want {
			t.Errorf("ScanSecrets(%q) = %q, want %q", tc.line, id, tc.want)
		}
	}
}

func TestScanSecretsOnlyGivenLines(t *testing.T) {
	key := "-----BEGIN " + "RSA PRIVATE" + " KEY-----"
	content := "a\n" + key + "\nb\n" + key + "\n"
	got := ScanSecrets(content, map[int]bool{4: true})
	if len(got) != 1 || got[0].Line != 4 {
		t.Fatalf("got %+v, want line 4 only", got)
	}
}

func TestAddedLines(t *testing.T) {
	for _, tc := range []struct {
		old, new string
		want     []int
	}{
		{"a\nb\nc\n", "a\nb\nc\n", nil},
		{"a\nb\nc\n", "a\nX\nb\nc\n", []int{2}},
		{"a\nb\nc\n", "a\nb\nc\nd\ne\n", []int{4, 5}},
		{"a\nb\nc\n", "a\nY\nc\n", []int{2}},
		{"a\nb", "a\nb\nc", []int{2, 3}}, // the last line changed: it gained a newline
		{"", "x\ny\n", []int{1, 2}},
	} {
		got := addedLines(tc.old, tc.new)
		var lines []int
		for l := range got {
			lines = append(lines, l)
		}
		sort.Ints(lines)
		if fmt.Sprint(lines) != fmt.Sprint(tc.want) && !(len(lines) == 0 && len(tc.want) == 0) {
			t.Errorf("addedLines(%q, %q) = %v, want %v", tc.old, tc.new, lines, tc.want)
		}
	}
}

func TestEntropy(t *testing.T) {
	if e := entropy("aaaa"); e != 0 {
		t.Errorf("entropy(aaaa) = %v, want 0", e)
	}
	if e := entropy("abcd"); e != 2 {
		t.Errorf("entropy(abcd) = %v, want 2", e)
	}
}
