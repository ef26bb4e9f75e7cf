package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/watch"
)

func init() {
	c := &Command{
		Name:    "watch",
		Summary: "on each save, build and test what the work tree's changes affect",
		Usage:   "stride [-C DIR] watch [--debounce DURATION] [--jobs N] [--out DIR]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		var rf runFlags
		rf.add(fs)
		debounce := fs.Duration("debounce", 300*time.Millisecond, "wait until files have been quiet for `DURATION`")
		out := fs.String("out", "out/watch", "write each run's report to `DIR`")
		maxRuns := fs.Int("max-runs", 0, "stop after `N` runs (0: never; for tests and scripts)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		if err := rf.check(); err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		outDir := absPath(env.Dir, *out)
		// Reports written inside the workspace must not trigger runs.
		outRel, err := filepath.Rel(env.Dir, outDir)
		if err != nil || strings.HasPrefix(outRel, "..") {
			outRel = ""
		}
		outRel = filepath.ToSlash(outRel)
		ignore := func(rel string, isDir bool) bool {
			if outRel != "" && outRel != "." && (rel == outRel || strings.HasPrefix(rel, outRel+"/")) {
				return true
			}
			return watch.DefaultIgnore(rel, isDir)
		}
		runs := 0
		err = watch.Watch(ctx, watch.Options{
			Root:     env.Dir,
			Debounce: *debounce,
			Ignore:   ignore,
			Log:      env.Stderr,
			Ready: func(dirs int) {
				fmt.Fprintf(env.Stderr, "stride watch: watching %d directories under %s (Ctrl-C stops)\n", dirs, env.Dir)
			},
			OnChange: func(ctx context.Context, paths []string) {
				fmt.Fprintf(env.Stdout, "stride watch: changed: %s\n", summarizePaths(paths))
				ch, err := change.Open(env.Dir, change.Options{Base: "HEAD", Uncommitted: true})
				if err != nil {
					fmt.Fprintf(env.Stdout, "stride watch: %v\n", err)
					return
				}
				p, err := rf.pipeline(env, ch)
				if err != nil {
					fmt.Fprintf(env.Stderr, "stride watch: %v\n", err)
					return
				}
				p.Publish = nil // the work tree is not a build to publish
				p.OutDir = outDir
				p.Branch = currentBranch(ch.Repo)
				p.Owners, p.OwnersReason = nil, "watch mode: the work tree is not a change to approve"
				p.Policy, p.PolicyReason = nil, "watch mode: the work tree has no commits to check"
				pr := newProgress(env)
				p.Progress = pr
				o, err := p.Run(ctx)
				pr.Close()
				if o.Report != nil {
					printRun(env.Stdout, env.Dir, "stride watch", o)
				}
				if err != nil {
					fmt.Fprintf(env.Stdout, "stride watch: %v\n", err)
				}
				runs++
				if *maxRuns > 0 && runs >= *maxRuns {
					cancel()
				}
			},
		})
		return err
	}
	register(c)
}

func summarizePaths(paths []string) string {
	const max = 5
	if len(paths) <= max {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:max], ", "), len(paths)-max)
}
