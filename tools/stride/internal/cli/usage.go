package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// The usage lines that -h, `stride help CMD` and the subcommand overviews
// print are generated from the flag sets the commands parse with, so a
// flag is listed exactly when it is accepted. Only the positional part of
// a synopsis is written by hand (Command.Usage).

// usageWidth is where generated usage lines wrap.
const usageWidth = 100

// usageLine is the synopsis of c: "stride NAME", the required flags and
// alternatives c.Usage spells out, the other flags of fs, and the
// positional arguments of c.Usage.
func usageLine(c *Command, fs *flag.FlagSet) string {
	words := []string{"stride", c.Name}
	shapes, shaped, _, pos := synopsisParts(c.Name, c.Usage, fs)
	words = append(words, shapes...)
	if fs != nil {
		words = append(words, flagSynopsis(fs, shaped)...)
	}
	if pos != "" {
		words = append(words, pos)
	}
	return wrapWords(words, len("usage: stride "+c.Name+" "))
}

// flagSynopsis lists fs's flags but those in skip as "[--name]"
// (booleans), "[--name VALUE]" or "[--name VALUE]..." (repeatable), in
// name order.
func flagSynopsis(fs *flag.FlagSet, skip map[string]bool) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if skip[f.Name] {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			out = append(out, "[--"+f.Name+"]")
			return
		}
		name, _ := flag.UnquoteUsage(f)
		switch name {
		case "", "value", "string":
			name = "VALUE"
		case "directory":
			name = "DIR"
		case "revision":
			name = "REV"
		case "binary":
			name = "BIN"
		case "environment":
			name = "ENV"
		case "int", "uint":
			name = "N"
		}
		s := "[--" + f.Name + " " + strings.ToUpper(name) + "]"
		switch f.Value.(type) {
		case *stringList, *listFlag:
			s += "..."
		}
		out = append(out, s)
	})
	return out
}

// synopsisParts reads a hand-written synopsis: usage is either just the
// positional arguments and shapes ("--team TEAM URL DIR") or a whole line
// ("stride [-C DIR] owners who [--rev REV] PATH..."), from which the
// program and the command's name are dropped. It returns the groups that
// say what a flag set cannot, as written: a required flag ("--team
// TEAM", not in brackets), alternatives ("(--pre-push |
// --post-receive)", "[--head REV | --uncommitted]") and a flag's values
// ("[--kind all|test|build]"), each kept only when
// fs has every flag it names (shaped lists them; unknown those it lacks:
// a test keeps it empty); the positional
// arguments (groups without flags). Plain optional flags ("[--rev REV]")
// are dropped: the flag set lists them.
func synopsisParts(name, usage string, fs *flag.FlagSet) (shapes []string, shaped map[string]bool, unknown []string, positional string) {
	line := strings.TrimSpace(usage)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	toks := strings.Fields(line)
	if len(toks) > 0 && toks[0] == "stride" {
		toks = toks[1:]
		if len(toks) > 1 && toks[0] == "[-C" && toks[1] == "DIR]" {
			toks = toks[2:]
		}
		for _, w := range strings.Fields(name) {
			if len(toks) > 0 && toks[0] == w {
				toks = toks[1:]
			}
		}
	}
	shaped = map[string]bool{}
	var keep []string
	for i := 0; i < len(toks); {
		j, depth := i, 0
		var names []string
		for ; j < len(toks); j++ {
			t := toks[j]
			depth += strings.Count(t, "[") + strings.Count(t, "(")
			depth -= strings.Count(t, "]") + strings.Count(t, ")")
			if n := strings.TrimLeft(t, "[(|"); strings.HasPrefix(n, "-") {
				n = strings.TrimLeft(n, "-")
				if k := strings.IndexAny(n, "=])."); k >= 0 {
					n = n[:k]
				}
				names = append(names, n)
			}
			if depth <= 0 {
				break
			}
		}
		if j >= len(toks) {
			j = len(toks) - 1
		}
		group := toks[i : j+1]
		i = j + 1
		if len(names) == 0 {
			keep = append(keep, group...)
			continue
		}
		required := !strings.HasPrefix(group[0], "[")
		// A bare required flag ("--reason TEXT") takes its value along.
		if required && len(group) == 1 && fs != nil && i < len(toks) && !strings.ContainsAny(toks[i], "[(") {
			if f := fs.Lookup(names[0]); f != nil {
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
					group = toks[i-1 : i+1]
					i++
				}
			}
		}
		if fs == nil || (!required && len(names) < 2 && !strings.Contains(strings.Join(group, " "), "|")) {
			continue
		}
		known := true
		for _, n := range names {
			if fs.Lookup(n) == nil {
				known = false
				unknown = append(unknown, n)
			}
		}
		if !known {
			continue
		}
		shapes = append(shapes, strings.Join(group, " "))
		for _, n := range names {
			shaped[n] = true
		}
	}
	return shapes, shaped, unknown, strings.Join(keep, " ")
}

// wrapWords joins words with spaces, wrapping before usageWidth and
// indenting continuation lines by indent.
func wrapWords(words []string, indent int) string {
	var b strings.Builder
	col := len("usage: ")
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > usageWidth && col > indent {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// printFlags prints fs's flags as flag.PrintDefaults does, spelled with
// two dashes as the docs spell them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if strings.HasPrefix(line, "  -") {
			line = "  --" + line[3:]
		}
		io.WriteString(w, line)
	}
}

// printUsage prints c's usage (generated from fs), its subcommands' usage
// lines if it has any, its summary and its flags.
func printUsage(w io.Writer, env *Env, c *Command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n", usageLine(c, fs))
	for _, l := range subUsageLines(env, c) {
		fmt.Fprintf(w, "       %s\n", l)
	}
	fmt.Fprintf(w, "\n%s\n", c.Summary)
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", c.Help)
	}
	var any bool
	fs.VisitAll(func(*flag.Flag) { any = true })
	if any {
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, fs)
	}
}

// printSubcommands prints the overview of a command whose work is done by
// subcommands: each one's generated usage line, the summary and help.
func printSubcommands(w io.Writer, env *Env, c *Command) {
	for i, l := range subUsageLines(env, c) {
		prefix := "       "
		if i == 0 {
			prefix = "usage: "
		}
		fmt.Fprintf(w, "%s%s\n", prefix, l)
	}
	fmt.Fprintf(w, "\n%s\n", c.Summary)
	if c.Help != "" {
		fmt.Fprintf(w, "\n%s\n", c.Help)
	}
	fmt.Fprintf(w, "\nRun 'stride %s SUBCOMMAND -h' for a subcommand's flags.\n", c.Name)
}

// subUsageLines generates the usage line of each of c's subcommands by
// asking it for its help (`stride c.Name SUB -h` parses no further than
// its flags) and reading the flag set it made.
func subUsageLines(env *Env, c *Command) []string {
	var lines []string
	for _, sub := range c.Subs {
		sc, fs := subFlagSet(env, c, sub)
		if sc == nil {
			lines = append(lines, "stride "+c.Name+" "+sub)
			continue
		}
		lines = append(lines, usageLine(sc, fs))
	}
	return lines
}

// subFlagSet returns the command and flag set subcommand sub of c parses
// with (nil if it made none).
func subFlagSet(env *Env, c *Command, sub string) (*Command, *flag.FlagSet) {
	probe := &Env{Dir: env.Dir, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, probe: true}
	_ = c.Run(probe, []string{sub, "-h"})
	return probe.lastCmd, probe.lastFlags
}

// commandFlags returns the flags of `stride NAME [SUB]`, for tests and
// `stride help`: the flag set the command makes when asked for -h.
func commandFlags(env *Env, c *Command, sub string) *flag.FlagSet {
	_, fs := commandFlagSet(env, c, sub)
	return fs
}

// commandFlagSet returns the command and flag set `stride NAME [SUB] -h`
// makes (nil if it made none).
func commandFlagSet(env *Env, c *Command, sub string) (*Command, *flag.FlagSet) {
	if sub != "" {
		return subFlagSet(env, c, sub)
	}
	probe := &Env{Dir: env.Dir, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, probe: true}
	_ = c.Run(probe, []string{"-h"})
	return probe.lastCmd, probe.lastFlags
}

// commandNames returns the registered commands' names, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
