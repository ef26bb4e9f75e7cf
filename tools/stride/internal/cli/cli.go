// Package cli is stride's command-line front end: the subcommand table, the
// global flags (-C DIR), exit codes and help text. Each subcommand lives in
// its own file and registers itself with register in an init function; the
// logic it runs lives in a feature package (internal/owners, ...).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Env is what a subcommand runs against.
type Env struct {
	// Dir is the repository directory: -C DIR, else BUILD_WORKSPACE_DIRECTORY
	// (set by `bazel run`), else the current directory. Absolute.
	Dir    string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// probe is set when stride asks a command for its flag set (help
	// overviews, tests); NewFlagSet records the last one made here.
	probe     bool
	lastCmd   *Command
	lastFlags *flag.FlagSet
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for `stride help`
	// Usage is the synopsis of the positional arguments, e.g. "PATH...",
	// and of what a flag set cannot say: required flags ("--team TEAM")
	// and alternatives ("(--pre-push | --post-receive)"). The usage line
	// -h and `stride help` print is generated: "stride NAME", those, the
	// other flags of the command's flag set, then the arguments. A whole
	// hand-written line ("stride owners who [--rev REV] PATH...") is
	// accepted too: its plain optional flags are ignored (see
	// synopsisParts).
	Usage string
	// Help is more text for -h, after the summary (optional).
	Help string
	// Subs names the subcommands, in the order help lists them; their
	// usage lines are generated from their flag sets (printSubcommands).
	Subs []string
	// NoRepo marks a command that works outside a git repository. Every
	// other command refuses one, in Main, with one line and exit 2.
	NoRepo bool
	// NoRepoSubs are subcommands that work outside a repository.
	NoRepoSubs []string
	// Run executes the subcommand with the arguments after its name. It
	// returns nil, or an error carrying an exit code (see Exit), or any other
	// error (exit 3).
	Run func(env *Env, args []string) error
}

var commands = map[string]*Command{}

// register adds a subcommand; called from init functions.
func register(c *Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

// ExitError carries an exit code and an optional message. A nil Err with a
// non-zero code means "the output already said what is wrong".
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit returns an error that makes stride exit with code and print err.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// Usagef returns a usage error (exit 2).
func Usagef(format string, a ...interface{}) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// Main runs stride with args (without the program name) and returns the
// process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stride", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("C", "", "run as if stride was started in `DIR`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return ExitOK
		}
		fmt.Fprintf(stderr, "stride: %v (see 'stride -h')\n", err)
		return ExitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		printHelp(stderr)
		return ExitUsage
	}
	wd, err := workDir(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "stride: %v\n", err)
		return ExitUsage
	}
	env := &Env{Dir: wd, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "stride: unknown command %q (see 'stride help')\n", name)
		return ExitUsage
	}
	if needsRepository(cmd, args[1:]) {
		if err := requireRepository(wd); err != nil {
			fmt.Fprintf(stderr, "stride %s: %v\n", name, err)
			return ExitUsage
		}
	}
	return exitCode(stderr, name, cmd.Run(env, args[1:]))
}

// needsRepository reports whether cmd run with args must be in a git
// repository: not for NoRepo commands and subcommands, not for help, and
// not for an unknown subcommand of a command that is only subcommands
// (its usage error says more).
func needsRepository(cmd *Command, args []string) bool {
	if cmd.NoRepo || asksHelp(args) {
		return false
	}
	if len(cmd.Subs) > 0 && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if inList(cmd.NoRepoSubs, args[0]) || cmd.Usage == "" && !inList(cmd.Subs, args[0]) {
			return false
		}
	}
	return true
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// asksHelp reports whether args ask for help (-h, --help or a help
// subcommand before any "--"), which works outside a repository.
func asksHelp(args []string) bool {
	for i, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		case "help":
			if i == 0 {
				return true
			}
		}
	}
	return false
}

// requireRepository returns an error unless dir is in a git repository: a
// work tree (a .git in dir or above), a bare repository, or $GIT_DIR (set
// by git for hooks).
func requireRepository(dir string) error {
	if os.Getenv("GIT_DIR") != "" {
		return nil
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return nil
		}
		if isBareRepository(d) {
			return nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return fmt.Errorf("not a git repository: %s (run stride inside a clone, or give -C DIR)", dir)
}

func isBareRepository(d string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(d, p)); err != nil {
			return false
		}
	}
	return true
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return ExitOK
	}
	msg := err
	var ee *ExitError
	if errors.As(err, &ee) {
		msg = ee.Err
	}
	if msg != nil && !errors.Is(msg, flag.ErrHelp) {
		fmt.Fprintf(stderr, "stride %s: %v\n", name, msg)
	}
	return exitCodeOf(err)
}

func workDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("BUILD_WORKSPACE_DIRECTORY")
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("current directory: %w", err)
		}
		return wd, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("-C %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("-C %s: %w", dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("-C %s: not a directory", dir)
	}
	return abs, nil
}

// NewFlagSet returns a flag set for subcommand c whose -h prints the
// usage generated from it (usage.go) to env.Stdout. Parse errors come back
// from ParseFlags as usage errors of one line that point at -h, without
// the usage text.
func NewFlagSet(env *Env, c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { printUsage(env.Stdout, env, c, fs) }
	env.lastCmd, env.lastFlags = c, fs
	return fs
}

// ParseFlags parses args with fs, flags before, between or after the
// positional arguments (fs.Args() are the positional ones; "--" ends the
// flags). -h prints the usage and is a clean exit 0; any other error is a
// usage error (exit 2) of one line that says to run -h.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return &ExitError{Code: ExitOK, Err: flag.ErrHelp}
			}
			return Usagef("%v (see 'stride %s -h')", err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	// Leave the positional arguments in fs.Args().
	return fs.Parse(append([]string{"--"}, pos...))
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `stride: the monorepo's graph-aware CI orchestrator

usage: stride [-C DIR] COMMAND [ARGS]

  -C DIR   operate on the repository at DIR (default: $BUILD_WORKSPACE_DIRECTORY
           under 'bazel run', else the current directory)

commands:
`)
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
	fmt.Fprint(w, `
Run 'stride help COMMAND' or 'stride COMMAND -h' for a command's usage.

exit codes:
  0  success (an empty result is success)
  1  findings: failed tests, missing approvals, lint errors
  2  bad usage or bad input
  3  internal or infrastructure error
`)
}

func init() {
	register(&Command{
		Name:    "help",
		Summary: "show help for stride or one command",
		Usage:   "[COMMAND [SUBCOMMAND]]",
		NoRepo:  true,
		Run: func(env *Env, args []string) error {
			if len(args) == 0 {
				printHelp(env.Stdout)
				return nil
			}
			c, ok := commands[args[0]]
			if !ok {
				return Usagef("unknown command %q (see 'stride help')", args[0])
			}
			// The same text as `stride CMD [SUB] -h`: generated from the
			// command's flag set.
			err := c.Run(env, append(append([]string{}, args[1:]...), "-h"))
			if code := exitCodeOf(err); err != nil && code != ExitOK {
				return err
			}
			return nil
		},
	})
}
