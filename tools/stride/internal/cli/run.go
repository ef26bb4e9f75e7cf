package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

func init() {
	c := &Command{
		Name:    "run",
		Summary: "the push pipeline: build and test the workspace",
		Usage:   "stride run [--jobs N]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		jobs := fs.Int("jobs", 0, "Bazel --jobs (0: Bazel's default)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		b := &bazel.Bazel{Dir: env.Dir}
		extra := []string{}
		if *jobs > 0 {
			extra = append(extra, fmt.Sprintf("--jobs=%d", *jobs))
		}
		out := bazel.Options{Stdout: env.Stdout, Stderr: env.Stderr}
		fmt.Fprintln(env.Stderr, "stride run: bazel build //...")
		if _, err := b.Run(ctx, out, append([]string{"build"}, append(extra, "//...")...)...); err != nil {
			return runFailure("build", err)
		}
		fmt.Fprintln(env.Stderr, "stride run: bazel test //...")
		if _, err := b.Run(ctx, out, append([]string{"test"}, append(extra, "//...")...)...); err != nil {
			if bazel.IsExit(err, bazel.ExitNoTests) {
				fmt.Fprintln(env.Stderr, "stride run: no tests")
				return nil
			}
			return runFailure("test", err)
		}
		fmt.Fprintln(env.Stderr, "stride run: green")
		return nil
	}
	register(c)
}

// runFailure maps a Bazel failure to stride's exit codes: build or test
// failures are findings (1); anything else (Bazel crashed, was killed, bad
// flags) is an infrastructure error (2), never green.
func runFailure(what string, err error) error {
	if bazel.IsExit(err, bazel.ExitBuildFailed) || bazel.IsExit(err, bazel.ExitTestsFailed) {
		return Exit(ExitFindings, fmt.Errorf("%s failed (see Bazel's output above)", what))
	}
	return Exit(ExitUsage, fmt.Errorf("%s: %w", what, err))
}
