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
	// bazel: the command is in a "```console bazel" block: it runs Bazel.
	bazel bool
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
	in, bazel := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			in, bazel = true, strings.Contains(line, "bazel")
		case strings.HasPrefix(line, "```"):
			in = false
		case !in:
		case strings.HasPrefix(line, "$ "):
			args, err := shellWords(line[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			out = append(out, docCommand{line: n, args: args, bazel: bazel})
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
// ...` as a command, `echo TEXT >> FILE` as sh would. Each command's
// output must show the doc's lines (in order, "…" for what varies) and
// exit as the doc says. The "```console bazel" blocks run real Bazel on
// the clone (output bases in a temporary directory, removed after):
// skipped with -short or without bazel on PATH.
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
	withBazel := !testing.Short()
	if _, err := exec.LookPath("bazel"); err != nil {
		withBazel = false
	}
	if withBazel {
		bazelOutputBases(t)
	}
	for _, c := range cmds {
		if c.bazel && !withBazel {
			t.Logf("getting-started.md:%d: skipped (needs bazel; -short or no bazel on PATH)", c.line)
			continue
		}
		var code int
		var out bytes.Buffer
		switch c.args[0] {
		case "echo":
			if len(c.args) != 4 || c.args[2] != ">>" {
				t.Fatalf("getting-started.md:%d: the test runs only `echo TEXT >> FILE`", c.line)
			}
			f, err := os.OpenFile(filepath.Join(clone, c.args[3]), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatalf("getting-started.md:%d: %v", c.line, err)
			}
			_, err = fmt.Fprintln(f, c.args[1])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("getting-started.md:%d: %v", c.line, err)
			}
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

// bazelOutputBases puts every Bazel server the test starts (stride's
// own scratch workspaces choose theirs) in an output base under a
// temporary directory, through a bazel wrapper first on PATH, and shuts
// them down and removes them when the test ends.
func bazelOutputBases(t *testing.T) {
	t.Helper()
	real, err := exec.LookPath("bazel")
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "stride-getting-started-")
	if err != nil {
		t.Fatal(err)
	}
	bin, obs := filepath.Join(tmp, "bin"), filepath.Join(tmp, "ob")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// Startup flags stride passes come after the wrapper's and win.
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s --output_base=%s/$(pwd | cksum | cut -d' ' -f1) --max_idle_secs=60 \"$@\"\n", real, obs)
	if err := os.WriteFile(filepath.Join(bin, "bazel"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Cleanup(func() {
		bases, _ := filepath.Glob(filepath.Join(obs, "*"))
		more, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "stride", "*", "workspaces", "*", "*", "output_base"))
		for _, ob := range append(bases, more...) {
			_ = exec.Command(real, "--output_base="+ob, "shutdown").Run()
		}
		_ = exec.Command("chmod", "-R", "u+w", tmp).Run()
		_ = os.RemoveAll(tmp)
		if len(more) > 0 {
			_ = exec.Command("chmod", "-R", "u+w", os.Getenv("XDG_CACHE_HOME")).Run()
		}
	})
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
