package cli

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// runByGit are subcommands git and the hooks run, not users; the command
// table of docs/stride.md need not list them.
var runByGit = map[string]bool{"hook pre-push": true, "hook post-receive": true, "hook exec": true}

func TestParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantX   string
		wantB   bool
	}{
		{args: []string{"a", "b"}, wantPos: []string{"a", "b"}},
		{args: []string{"--x", "1", "a"}, wantPos: []string{"a"}, wantX: "1"},
		{args: []string{"a", "--x", "1"}, wantPos: []string{"a"}, wantX: "1"},
		{args: []string{"a", "--b", "c", "--x=2"}, wantPos: []string{"a", "c"}, wantX: "2", wantB: true},
		{args: []string{"a", "--", "--x", "3"}, wantPos: []string{"a", "--x", "3"}},
		{args: []string{"-", "--b"}, wantPos: []string{"-"}, wantB: true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			env := &Env{Stdout: &strings.Builder{}}
			fs := NewFlagSet(env, &Command{Name: "t"})
			x := fs.String("x", "", "")
			b := fs.Bool("b", false, "")
			if err := ParseFlags(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			if strings.Join(fs.Args(), "|") != strings.Join(tc.wantPos, "|") || *x != tc.wantX || *b != tc.wantB {
				t.Errorf("got args %q x=%q b=%v, want %q x=%q b=%v", fs.Args(), *x, *b, tc.wantPos, tc.wantX, tc.wantB)
			}
		})
	}
}

// TestFlagsAfterArguments runs real commands with their flags after the
// positional arguments.
func TestFlagsAfterArguments(t *testing.T) {
	r := gittest.New(t)
	r.Commit("init", map[string]string{"OWNERS": "ann@example.com\n", "a/x.go": "package a\n"})
	code, out, errs := runMain(t, "-C", r.Dir, "owners", "who", "a/x.go", "--json")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("owners who PATH --json = %d\n%s%s", code, out, errs)
	}
	code, _, errs = runMain(t, "-C", r.Dir, "store", "show", "abc", "--store", filepath.Join(t.TempDir(), "none"))
	if code != ExitUsage || strings.Contains(errs, "want one BUILD") || !strings.Contains(errs, "none") {
		t.Errorf("store show BUILD --store DIR = %d %s", code, errs)
	}
}

// TestNotARepository: every command but those marked NoRepo refuses a
// directory outside git with one line and exit 2, before it reads anything.
func TestNotARepository(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "OWNERS"), []byte("ben\n"), 0o644)
	for _, name := range commandNames() {
		c := commands[name]
		args := []string{"-C", dir, name}
		if len(c.Subs) > 0 {
			args = append(args, c.Subs[0])
		}
		code, out, errs := runMain(t, args...)
		if c.NoRepo || len(c.Subs) > 0 && inList(c.NoRepoSubs, c.Subs[0]) {
			continue
		}
		want := "stride " + name + ": not a git repository: " + dir + " (run stride inside a clone, or give -C DIR)\n"
		if code != ExitUsage || errs != want || out != "" {
			t.Errorf("%q = %d, stdout %q, stderr %q; want 2 and %q", args, code, out, errs, want)
		}
	}
	for _, sub := range []string{"who", "lint", "teams"} {
		if code, _, _ := runMain(t, "-C", dir, "owners", sub, "."); code != ExitUsage {
			t.Errorf("owners %s outside a repository = %d, want 2", sub, code)
		}
	}
	// Help works anywhere.
	if code, out, _ := runMain(t, "-C", dir, "owners", "who", "-h"); code != 0 || !strings.Contains(out, "usage: stride owners who") {
		t.Errorf("owners who -h outside a repository = %d %q", code, out)
	}
}

// TestUsageFromFlags: the usage line of every command and subcommand lists
// exactly the flags its flag set has, and `stride help CMD [SUB]` prints
// what `stride CMD [SUB] -h` prints.
func TestUsageFromFlags(t *testing.T) {
	env := &Env{Dir: t.TempDir()}
	for _, name := range commandNames() {
		c := commands[name]
		subs := append([]string{""}, c.Subs...)
		for _, sub := range subs {
			fs := commandFlags(env, c, sub)
			full := strings.TrimSpace(name + " " + sub)
			if fs == nil {
				if sub != "" || len(c.Subs) == 0 && name != "help" {
					t.Errorf("stride %s -h made no flag set", full)
				}
				continue
			}
			args := append(strings.Fields(full), "-h")
			code, out, errs := runMain(t, args...)
			if code != 0 {
				t.Errorf("stride %s -h = %d %s", full, code, errs)
				continue
			}
			hcode, hout, _ := runMain(t, append([]string{"help"}, strings.Fields(full)...)...)
			if hcode != 0 || hout != out {
				t.Errorf("stride help %s differs from stride %s -h:\n%s\n---\n%s", full, full, hout, out)
			}
			usage := out[:strings.Index(out+"\n\n", "\n\n")]
			fs.VisitAll(func(f *flag.Flag) {
				if !regexp.MustCompile(`[\s\[(]--` + regexp.QuoteMeta(f.Name) + `[\s\])=]`).MatchString(usage + "\n") {
					t.Errorf("usage of stride %s lacks --%s:\n%s", full, f.Name, usage)
				}
			})
			if sc, _ := subFlagSet(env, c, sub); sc != nil || sub == "" {
				if sc == nil {
					sc = c
				}
				if _, _, unknown, _ := synopsisParts(sc.Name, sc.Usage, fs); len(unknown) > 0 {
					t.Errorf("the synopsis of stride %s (%q) names flags it does not have: %v", full, sc.Usage, unknown)
				}
			}
		}
	}
	if code, _, errs := runMain(t, "-C", gittest.New(t).Dir, "watch", "--publish"); code != ExitUsage || !strings.Contains(errs, "-publish") {
		t.Errorf("watch --publish = %d %s; want an unknown flag", code, errs)
	}
}

// strideInDoc finds a stride command line in the docs: the command, the
// next word and the rest of the line (the flags).
var strideInDoc = regexp.MustCompile(`stride(?: \[?-C \S+?\]?)? ([a-z][a-z-]*)((?: [a-z][a-z-]*)?)([^` + "`" + `|;#()&]*)`)

var docFlag = regexp.MustCompile(`(?:^|\s|\[|\()--([a-z][a-z0-9-]*)`)

// TestDocumentedFlagsExist: every --flag the docs give a stride command
// (on the same line, in the same code span) is a flag of that command.
func TestDocumentedFlagsExist(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"))
	if len(files) < 2 {
		t.Skip("not in the monorepo's source tree (bazel test)")
	}
	env := &Env{Dir: t.TempDir()}
	flagsOf := map[string]map[string]bool{}
	known := func(c *Command, sub string) map[string]bool {
		key := c.Name + " " + sub
		if m, ok := flagsOf[key]; ok {
			return m
		}
		m := map[string]bool{"help": true, "h": true}
		for _, s := range append([]string{sub}, subsIfUnknown(c, sub)...) {
			if fs := commandFlags(env, c, s); fs != nil {
				fs.VisitAll(func(f *flag.Flag) { m[f.Name] = true })
			}
		}
		flagsOf[key] = m
		return m
	}
	checked := 0
	// A synopsis in a code block ("stride run [--base REV] ...", continued
	// on indented lines) lists every flag of its command: paste what
	// `stride CMD -h` prints.
	var synFile string
	var synLine int
	var synFlags map[string]bool
	var synCmd *Command
	var synSub string
	var synText []string
	endSynopsis := func() {
		if synCmd == nil {
			return
		}
		sc, fs := commandFlagSet(env, synCmd, synSub)
		if sc != nil && fs != nil {
			want := strings.Join(strings.Fields(strings.TrimPrefix(usageLine(sc, fs), "stride ")), " ")
			if got := strings.Join(strings.Fields(strings.Join(synText, " ")), " "); got != "stride "+want {
				t.Errorf("%s:%d: the synopsis differs from `stride %s -h`'s (paste it):\n%s\nwant:\nstride %s",
					synFile, synLine, strings.TrimSpace(synCmd.Name+" "+synSub), got, want)
			}
		}
		if fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				if !synFlags[f.Name] {
					t.Errorf("%s:%d: the synopsis of stride %s lacks --%s (stride %s -h prints the synopsis)",
						synFile, synLine, strings.TrimSpace(synCmd.Name+" "+synSub), f.Name, strings.TrimSpace(synCmd.Name+" "+synSub))
				}
			})
		}
		synCmd = nil
	}
	for _, file := range files {
		inBlock := false
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasPrefix(line, "```") {
				inBlock = !inBlock
			}
			if synCmd != nil && !(inBlock && strings.HasPrefix(line, " ")) {
				endSynopsis()
			}
			if synCmd != nil {
				synText = append(synText, line)
				for _, fm := range docFlag.FindAllStringSubmatch(line, -1) {
					synFlags[fm[1]] = true
				}
			}
			if m := strideInDoc.FindStringSubmatch(line); inBlock && m != nil && strings.HasPrefix(line, "stride ") && (strings.Contains(line, "[--") || strings.Contains(line, "(--")) &&
				!strings.Contains(line, "  ") { // a synopsis, not a summary ("stride x [--y]   does z")
				if c, ok := commands[m[1]]; ok {
					synCmd, synSub, synFile, synLine = c, "", filepath.Base(file), n
					if sub := strings.TrimSpace(m[2]); inList(c.Subs, sub) {
						synSub = sub
					}
					synFlags, synText = map[string]bool{}, []string{line}
					for _, fm := range docFlag.FindAllStringSubmatch(line, -1) {
						synFlags[fm[1]] = true
					}
				}
			}
			for _, m := range strideInDoc.FindAllStringSubmatch(line, -1) {
				c, ok := commands[m[1]]
				if !ok {
					continue
				}
				sub, rest := strings.TrimSpace(m[2]), m[3]
				if !inList(c.Subs, sub) {
					rest, sub = m[2]+rest, ""
				}
				have := known(c, sub)
				for _, fm := range docFlag.FindAllStringSubmatch(rest, -1) {
					checked++
					if !have[fm[1]] {
						t.Errorf("%s:%d: stride %s has no flag --%s", filepath.Base(file), n, strings.TrimSpace(c.Name+" "+sub), fm[1])
					}
				}
			}
		}
		endSynopsis()
		f.Close()
	}
	if checked < 50 {
		t.Errorf("checked only %d documented flags; the pattern no longer finds the docs' command lines", checked)
	}
}

// subsIfUnknown: when the docs name no subcommand, a flag of any of them
// counts.
func subsIfUnknown(c *Command, sub string) []string {
	if sub != "" {
		return nil
	}
	return c.Subs
}

// TestStrideDocListsEveryCommand: docs/stride.md's command table names
// every command and subcommand a user runs.
func TestStrideDocListsEveryCommand(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs", "stride.md"))
	if os.IsNotExist(err) {
		t.Skip("not in the monorepo's source tree (bazel test)")
	} else if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `stride ") {
			cell := strings.TrimPrefix(line, "| `stride ")
			cell = cell[:strings.Index(cell, "`")]
			f := strings.Fields(cell)
			rows[f[0]] = cell
		}
	}
	var missing []string
	for _, name := range commandNames() {
		if name == "help" {
			continue
		}
		row, ok := rows[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		words := strings.FieldsFunc(row, func(r rune) bool { return r == ' ' || r == '/' })
		for _, sub := range commands[name].Subs {
			if !runByGit[name+" "+sub] && !inList(words, sub) {
				missing = append(missing, name+" "+sub)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/stride.md's command table lacks: %s", strings.Join(missing, ", "))
	}
}

// TestNotARepositoryOrder: outside a repository, a command that needs no
// repository runs, and an unknown subcommand is reported as such.
func TestNotARepositoryOrder(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runMain(t, "-C", dir, "policy", "rules"); code != 0 || !strings.Contains(out, "subject-length") {
		t.Errorf("policy rules outside a repository = %d %q %q", code, out, errs)
	}
	if code, _, errs := runMain(t, "-C", dir, "sparse", "frob"); code != ExitUsage || !strings.Contains(errs, `unknown subcommand "frob"`) {
		t.Errorf("sparse frob outside a repository = %d %q", code, errs)
	}
	if code, _, errs := runMain(t, "-C", dir, "promote", "abc123", "--to", "dev"); code != ExitUsage || !strings.Contains(errs, "not a git repository") {
		t.Errorf("promote BUILD outside a repository = %d %q", code, errs)
	}
}

// TestSynopsisParts: what a hand-written synopsis keeps (required flags,
// alternatives, values, positional arguments) and what the flag set lists.
func TestSynopsisParts(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	for _, n := range []string{"team", "rev", "head", "kind", "reason"} {
		fs.String(n, "", "")
	}
	for _, n := range []string{"pre-push", "post-receive", "uncommitted", "json"} {
		fs.Bool(n, false, "")
	}
	for _, tc := range []struct {
		usage, shapes, pos string
		unknown            []string
	}{
		{"PATH...", "", "PATH...", nil},
		{"stride [-C DIR] x [--rev REV] PATH...", "", "PATH...", nil},
		{"--team TEAM URL DIR", "--team TEAM", "URL DIR", nil},
		{"(--pre-push | --post-receive)", "(--pre-push | --post-receive)", "", nil},
		{"stride x [--head REV | --uncommitted] [--kind all|test|build] [--json]", "[--head REV | --uncommitted]/[--kind all|test|build]", "", nil},
		{"stride x ENV --reason TEXT", "--reason TEXT", "ENV", nil},
		{"[--head REV | --nosuch]", "", "", []string{"nosuch"}},
	} {
		shapes, _, unknown, pos := synopsisParts("x", tc.usage, fs)
		if got := strings.Join(shapes, "/"); got != tc.shapes || pos != tc.pos || strings.Join(unknown, ",") != strings.Join(tc.unknown, ",") {
			t.Errorf("synopsisParts(%q) = %q, %v, %q; want %q, %v, %q", tc.usage, got, unknown, pos, tc.shapes, tc.unknown, tc.pos)
		}
	}
}
