package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
)

func init() {
	c := &Command{
		Name:    "affected",
		Summary: "list the Bazel targets a git change affects",
		Usage:   "stride [-C DIR] affected [--base REV] [--head REV | --uncommitted] [--kind all|test|build] [--json] [--explain LABEL] [--cache-dir DIR] [--remote-cache URL] [--map-cache URL]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		base := fs.String("base", "", "base `revision` (default: the merge base of head and the default branch)")
		head := fs.String("head", "", "head `revision` (default: HEAD)")
		uncommitted := fs.Bool("uncommitted", false, "use the work tree as head, with its uncommitted changes")
		kind := fs.String("kind", "all", "which targets, `KIND`: all, test or build")
		asJSON := fs.Bool("json", false, "print the result as JSON (schema stride.affected/v1, see docs/affected.md)")
		explain := fs.String("explain", "", "print why `LABEL` is affected, one chain of reasons per line")
		cacheDir := fs.String("cache-dir", defaultDigestCache(), "`directory` for cached digest maps and scratch workspaces (\"\": none, for one-off runs; see docs/affected.md)")
		cacheLimit := fs.Int64("cache-limit-mb", affected.DefaultCacheLimit>>20, "keep the digest maps under `MB` megabytes, deleting the least recently used (-1: no limit)")
		bazelBin := fs.String("bazel", "", "bazel `binary` (default: bazel from PATH)")
		noFast := fs.Bool("no-fast-path", false, "query every side that is not cached in full (no fast path, no incremental maps)")
		verbose := fs.Bool("v", false, "print progress to stderr")
		remote := fs.String("remote-cache", os.Getenv("STRIDE_REMOTE_CACHE"), "the runners' shared remote cache `URL` (env STRIDE_REMOTE_CACHE): with http(s)://, digest maps missing from --cache-dir are looked up there and those computed are uploaded (docs/scale-out.md); grpc:// needs --map-cache")
		readOnly := fs.Bool("remote-cache-read-only", false, "look up shared digest maps without uploading any")
		var mf mapFlags
		mf.add(fs)
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if *remote != "" {
			if _, err := remotecache.Parse(*remote); err != nil {
				return Usagef("--remote-cache: %v", err)
			}
		}
		if err := mf.check(); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		if os.Getenv("GOGC") == "" {
			// A run decodes and digests the whole graph once, then exits:
			// collecting a quarter as often cuts its CPU time by ~10% for
			// a few hundred MB more on a 5,000-target graph.
			debug.SetGCPercent(400)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		opts := affected.Options{
			Dir:         env.Dir,
			Base:        *base,
			Head:        *head,
			Uncommitted: *uncommitted,
			Kind:        *kind,
			CacheDir:    *cacheDir,
			CacheLimit:  *cacheLimit << 20,
			Bazel:       *bazelBin,
			NoFastPath:  *noFast,
			Warn:        env.Stderr,
		}
		if *verbose {
			opts.Log = env.Stderr
		}
		var note string
		opts.Shared, note = mf.store(*remote)
		opts.SharedReadOnly = *readOnly
		if note != "" {
			fmt.Fprintf(env.Stderr, "stride affected: %s\n", note)
		}
		res, err := affected.Compute(ctx, opts)
		if err != nil {
			var be *bazel.Error
			if errors.As(err, &be) {
				// Bazel ran and failed: the workspace at head (exit 2).
				return &affected.InputError{Err: err}
			}
			return err // exitCodeOf: an input error 2, Bazel that cannot start 3
		}
		if *explain != "" {
			e, err := res.Explain(*explain)
			if err != nil {
				return Exit(ExitUsage, err)
			}
			if *asJSON {
				return writeJSON(env, e)
			}
			fmt.Fprint(env.Stdout, e.String())
			return nil
		}
		if *asJSON {
			return writeJSON(env, res)
		}
		for _, l := range res.Labels() {
			fmt.Fprintln(env.Stdout, l)
		}
		return nil
	}
	register(c)
}

// writeJSON is every command's --json writer: indented, with <, > and &
// as they are (no HTML escaping), one document.
func writeJSON(env *Env, v interface{}) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// defaultDigestCache is $XDG_CACHE_HOME/stride/digests (~/.cache/...).
func defaultDigestCache() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "stride", "digests")
}
