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
	"sort"
)

// Env is what a subcommand runs against.
type Env struct {
	// Dir is the repository directory: -C DIR, else BUILD_WORKSPACE_DIRECTORY
	// (set by `bazel run`), else the current directory. Absolute.
	Dir    string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for `stride help`
	Usage   string // the synopsis, e.g. "stride owners who PATH..."
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
	return exitCode(stderr, name, cmd.Run(env, args[1:]))
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

// NewFlagSet returns a flag set for subcommand name whose -h prints usage
// and the flags to env.Stdout. Parse errors come back from ParseFlags as
// usage errors of one line that point at -h, without the usage text.
func NewFlagSet(env *Env, c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "usage: %s\n\n%s\n", c.Usage, c.Summary)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(w, "\nflags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// ParseFlags parses args with fs: -h prints the usage and is a clean exit
// 0; any other error is a usage error (exit 2) of one line that says to
// run -h.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return &ExitError{Code: ExitOK, Err: flag.ErrHelp}
		}
		return Usagef("%v (see 'stride %s -h')", err, fs.Name())
	}
	return nil
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `stride: the monorepo's graph-aware CI orchestrator

usage: stride [-C DIR] COMMAND [ARGS]

  -C DIR   operate on the repository at DIR (default: $BUILD_WORKSPACE_DIRECTORY
           under 'bazel run', else the current directory)

commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
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
		Usage:   "stride help [COMMAND]",
		Run: func(env *Env, args []string) error {
			if len(args) == 0 {
				printHelp(env.Stdout)
				return nil
			}
			c, ok := commands[args[0]]
			if !ok {
				return Usagef("unknown command %q", args[0])
			}
			fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n\nRun 'stride %s -h' for its flags.\n", c.Usage, c.Summary, c.Name)
			return nil
		},
	})
}
