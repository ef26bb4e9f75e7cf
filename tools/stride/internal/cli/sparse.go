package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/sparse"
)

const sparseUsage = `stride [-C DIR] sparse plan --team NAME [--json]
       stride [-C DIR] sparse apply --team NAME
       stride sparse clone URL DIR --team NAME
       stride [-C DIR] sparse refresh [--team NAME] [--no-fetch]
       stride [-C DIR] sparse publish-map [--push REMOTE] [--json]`

func init() {
	c := &Command{
		Name:    "sparse",
		Summary: "a team's sparse checkout that still builds and tests (plan, apply, clone, refresh, publish-map)",
		Usage:   sparseUsage,
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 {
			return Usagef("missing subcommand\nusage: %s", sparseUsage)
		}
		sub, rest := args[0], args[1:]
		switch sub {
		case "plan", "apply", "clone", "refresh", "publish-map":
		case "-h", "--help", "help":
			fmt.Fprintf(env.Stdout, "usage: %s\n\n%s\n\nRun 'stride sparse SUBCOMMAND -h' for its flags. See docs/sparse.md.\n", sparseUsage, c.Summary)
			return nil
		default:
			return Usagef("unknown subcommand %q\nusage: %s", sub, sparseUsage)
		}
		sc := &Command{Name: "sparse " + sub, Summary: c.Summary, Usage: sparseUsage}
		fs := NewFlagSet(env, sc)
		team := fs.String("team", "", "the OWNERS_ALIASES `team` (with or without @)")
		asJSON := fs.Bool("json", false, "print JSON (plan: schema stride.sparse-plan/v1; publish-map: the map, stride.sparse-pkgmap/v1)")
		bazelBin := fs.String("bazel", "", "bazel `binary` (default: bazel from PATH)")
		startup := fs.String("bazel-startup", "", "space-separated Bazel startup `flags` (e.g. --output_base=DIR)")
		qflags := fs.String("query-flags", "", "space-separated extra `flags` for bazel query (e.g. --repository_cache=DIR)")
		noBazel := fs.Bool("no-bazel", false, "never run Bazel: use only stored package maps")
		noFetch := fs.Bool("no-fetch", false, "refresh: do not fetch the package maps from origin")
		push := fs.String("push", "", "publish-map: also push the map's ref to `REMOTE`")
		verbose := fs.Bool("v", false, "print progress and the git commands run to stderr")
		pos, err := parseInterspersed(fs, rest)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		opts := sparse.Options{Git: &sparse.Git{}, QueryFlags: strings.Fields(*qflags)}
		if *verbose {
			opts.Log = env.Stderr
		}
		if !*noBazel {
			bin, st := *bazelBin, strings.Fields(*startup)
			opts.Bazel = func(dir string) sparse.Querier {
				return &sparse.KeepGoingQuerier{Bazel: &bazel.Bazel{Binary: bin, Dir: dir, Startup: st}, Warn: env.Stderr}
			}
		}
		wantPos := map[string]int{"clone": 2}[sub]
		if len(pos) != wantPos {
			if wantPos == 0 {
				return Usagef("unexpected argument %q", pos[0])
			}
			return Usagef("sparse clone needs URL and DIR\nusage: %s", sparseUsage)
		}
		needTeam := sub == "plan" || sub == "apply" || sub == "clone"
		if needTeam && *team == "" {
			return Usagef("sparse %s needs --team NAME", sub)
		}
		var p *sparse.Plan
		switch sub {
		case "plan":
			p, err = sparse.PlanDir(ctx, env.Dir, *team, opts)
		case "apply":
			p, err = sparse.Apply(ctx, env.Dir, *team, opts)
		case "refresh":
			p, err = sparse.Refresh(ctx, env.Dir, *team, *noFetch, opts)
		case "clone":
			dir := pos[1]
			if !strings.HasPrefix(dir, "/") {
				dir = env.Dir + "/" + dir
			}
			p, err = sparse.Clone(ctx, sparse.CloneOptions{URL: pos[0], Dir: dir, Team: *team}, opts)
		case "publish-map":
			m, ref, err := sparse.Publish(ctx, env.Dir, *push, opts)
			if err != nil {
				return sparseErr(err)
			}
			if *asJSON {
				return writeJSON(env, m)
			}
			fmt.Fprintf(env.Stdout, "stored the package map of %s (%d packages) as %s\n", m.Commit, len(m.Packages), ref)
			if *push != "" {
				fmt.Fprintf(env.Stdout, "pushed %s to %s\n", ref, *push)
			}
			return nil
		}
		if err != nil {
			return sparseErr(err)
		}
		if *asJSON {
			return writeJSON(env, p)
		}
		p.WriteText(env.Stdout)
		return nil
	}
	register(c)
}

// sparseErr makes a Bazel failure of a sparse query the workspace's fault
// (exit 2); exitCodeOf classifies the sparse package's other errors.
func sparseErr(err error) error {
	var be *bazel.Error
	if errors.As(err, &be) {
		return Exit(ExitUsage, err)
	}
	return err
}

// parseInterspersed parses flags that may come after positional arguments
// (`clone URL DIR --team NAME`) and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := ParseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
