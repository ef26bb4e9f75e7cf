package cli

import (
	"context"
	"path/filepath"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

func init() {
	c := &Command{
		Name:    "shutdown",
		Summary: "stop the workspace's Bazel server, with the startup flags stride started it with",
		Usage:   "stride [-C DIR] shutdown [--cache-dir DIR] [--bazel BIN]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		cacheDir := fs.String("cache-dir", defaultDigestCache(), "stride's cache `directory` (as given to stride run)")
		bin := fs.String("bazel", "", "bazel `binary` (default: bazel from PATH)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		// A plain `bazel shutdown` on a server that stride started with a
		// class-data-sharing flag kills it (its startup flags differ), so
		// an archive it was to write at exit is lost; this repeats the flag.
		var flags []string
		if *cacheDir != "" {
			cds := &bazel.CDS{Dir: filepath.Join(*cacheDir, "bazel-cds"), Workspace: env.Dir}
			flags, _ = cds.LiveFlags()
		}
		b := &bazel.Bazel{Binary: *bin, Dir: env.Dir, Startup: flags}
		if _, err := b.Run(context.Background(), bazel.Options{}, "shutdown"); err != nil {
			return Exit(ExitUsage, err)
		}
		return nil
	}
	register(c)
}
