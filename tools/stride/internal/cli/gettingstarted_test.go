package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docCommand is one "$ command" of a console block and the output lines
// the doc shows for it.
type docCommand struct {
	line     int
	args     []string
	want     []string
	wantCode int
}

// consoleCommands reads the ```console blocks of a Markdown file.
func consoleCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docCommand
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case !in:
		case strings.HasPrefix(line, "$ "):
			args, err := shellWords(line[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			out = append(out, docCommand{line: n, args: args})
		case len(out) == 0:
			t.Fatalf("%s:%d: output before any $ command", path, n)
		case strings.HasPrefix(line, "[exit ") && strings.HasSuffix(line, "]"):
			code, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "[exit "), "]"))
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			out[len(out)-1].wantCode = code
		case strings.TrimSpace(line) != "":
			out[len(out)-1].want = append(out[len(out)-1].want, line)
		}
	}
	return out
}

// shellWords splits a command line as sh would for plain words and
// '...' or "..." quotes (no expansions).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c in %q", c, s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// linePattern turns a doc output line into a regexp: "…" matches
// anything.
func linePattern(want string) *regexp.Regexp {
	parts := strings.Split(strings.TrimRight(want, " "), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// matchOutput reports whether got's lines contain want's in order (other
// lines may come between; a line that is only "…" says so to readers).
func matchOutput(want []string, got string) bool {
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	g := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "…" {
			continue
		}
		re := linePattern(w)
		for g < len(lines) && !re.MatchString(strings.TrimRight(lines[g], " ")) {
			g++
		}
		if g == len(lines) {
			return false
		}
		g++
	}
	return true
}

// TestGettingStarted runs the console blocks of docs/getting-started.md
// on a scratch clone of this repository: `stride ...` in process, `git
// ...` as a command. Each command's output must show the doc's lines
// (in order, "…" for what varies) and exit as the doc says.
func TestGettingStarted(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(root, "docs", "getting-started.md")
	if _, err := os.Stat(doc); err != nil {
		t.Skip("not in the monorepo's source tree (bazel test)")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	clone := filepath.Join(t.TempDir(), "monorepo")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "New Dev", "GIT_AUTHOR_EMAIL": "new.dev@strideci.example",
		"GIT_COMMITTER_NAME": "New Dev", "GIT_COMMITTER_EMAIL": "new.dev@strideci.example", "GIT_CONFIG_NOSYSTEM": "1",
		"XDG_DATA_HOME": t.TempDir(), "XDG_CACHE_HOME": t.TempDir()} {
		t.Setenv(k, v)
	}
	if out, err := exec.Command("git", "clone", "-q", root, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	cmds := consoleCommands(t, doc)
	if len(cmds) < 10 {
		t.Fatalf("only %d commands in %s", len(cmds), doc)
	}
	for _, c := range cmds {
		var code int
		var out bytes.Buffer
		switch c.args[0] {
		case "stride":
			var stdout, stderr bytes.Buffer
			code = Main(append([]string{"-C", clone}, c.args[1:]...), strings.NewReader(""), &stdout, &stderr)
			out.Write(stdout.Bytes())
			out.Write(stderr.Bytes())
		case "git":
			cmd := exec.Command("git", c.args[1:]...)
			cmd.Dir, cmd.Stdout, cmd.Stderr = clone, &out, &out
			if err := cmd.Run(); err != nil {
				code = -1
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
			}
		default:
			t.Fatalf("getting-started.md:%d: the test runs only stride and git commands, not %q", c.line, c.args[0])
		}
		if code != c.wantCode || !matchOutput(c.want, out.String()) {
			t.Errorf("getting-started.md:%d: $ %s\nexit %d (want %d); output:\n%s\nwant lines:\n%s",
				c.line, strings.Join(c.args, " "), code, c.wantCode, out.String(), strings.Join(c.want, "\n"))
		}
	}
}

func TestMatchOutput(t *testing.T) {
	got := "a 1\nb\nc 3\nd\n"
	for _, tc := range []struct {
		want []string
		ok   bool
	}{
		{[]string{"a …", "b"}, true},
		{[]string{"a …", "…", "d"}, true},
		{[]string{"a …", "d"}, true},
		{[]string{"d", "b"}, false},
		{[]string{"e"}, false},
		{[]string{"…", "c …"}, true},
		{nil, true},
	} {
		if got := matchOutput(tc.want, got); got != tc.ok {
			t.Errorf("matchOutput(%q) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}
