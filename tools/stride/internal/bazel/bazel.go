// Package bazel is the one place stride runs Bazel: it fixes the startup
// flags and working directory, captures stderr into errors, and streams
// output where the caller wants it. Callers that need Bazel only for one
// thing declare a small interface of their own and take a *Bazel.
package bazel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Bazel runs the bazel binary in one workspace.
type Bazel struct {
	// Binary is the bazel executable; "bazel" (from PATH) when empty.
	Binary string
	// Dir is the workspace root.
	Dir string
	// Startup flags go before the command (e.g. --output_base=DIR).
	Startup []string
	// Env, when non-nil, replaces the process environment.
	Env []string
	// Client, when set, is the Bazel client that Binary (a launcher script)
	// execs for this workspace: commands run it directly (client.go).
	Client string
	// LearnClient, when set, is a version cache file (VersionCacheFile)
	// where a query records the client its launcher exec'd, for
	// CachedVersionAndClient.
	LearnClient string
}

// Error is a failed Bazel invocation. Its message names the command, the
// exit code and the end of Bazel's stderr.
type Error struct {
	Args     []string
	ExitCode int
	Stderr   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("bazel %s: exit code %d:\n%s", strings.Join(e.Args, " "), e.ExitCode, tail(e.Stderr, 40))
}

// ErrStart: Bazel could not be started (no binary, a launcher or
// server that fails before it runs any command). An infrastructure
// failure, whatever the workspace holds.
var ErrStart = errors.New("bazel could not start")

// Exit codes of Bazel that callers tell apart.
const (
	ExitBuildFailed = 1 // build failed (or tests failed to build)
	ExitTestsFailed = 3 // build ok, some tests failed
	ExitNoTests     = 4 // `bazel test` found no test targets
)

// IsExit reports whether err is a Bazel failure with the given exit code.
func IsExit(err error, code int) bool {
	var be *Error
	return errors.As(err, &be) && be.ExitCode == code
}

// Options for one invocation.
type Options struct {
	// Stdout and Stderr, when set, receive Bazel's output as it runs
	// (stderr is still captured for errors).
	Stdout, Stderr io.Writer
}

// Run runs `bazel STARTUP... ARGS...` and returns its stdout. A non-zero
// exit gives an *Error with the stderr.
func (b *Bazel) Run(ctx context.Context, opts Options, args ...string) ([]byte, error) {
	full := append(append([]string{}, b.Startup...), args...)
	cmd := b.command(ctx, full)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if opts.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&stdout, opts.Stdout)
	}
	cmd.Stderr = &stderr
	if opts.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, opts.Stderr)
	}
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.Bytes(), &Error{Args: full, ExitCode: ee.ExitCode(), Stderr: stderr.String()}
		}
		return stdout.Bytes(), fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, err)
	}
	return stdout.Bytes(), nil
}

// StartServer starts the workspace's Bazel server (if it is not running)
// by running `bazel version`, which loads no package. A caller that will
// run Bazel soon can start it here while it does other work: a server
// takes about a second to start.
func (b *Bazel) StartServer(ctx context.Context) error {
	_, err := b.Run(ctx, Options{}, "version")
	return err
}

// Info returns `bazel info KEY` (e.g. "bazel-bin", "output_base").
func (b *Bazel) Info(ctx context.Context, key string) (string, error) {
	out, err := b.Run(ctx, Options{}, "info", key)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
