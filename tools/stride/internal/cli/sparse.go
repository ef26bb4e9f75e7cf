package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/sparse"
)

func init() {
	c := &Command{
		Name:    "sparse",
		Summary: "a team's sparse checkout that still builds and tests (plan, apply, clone, refresh, publish-map)",
		Help:    "See docs/sparse.md.",
		Subs:    []string{"plan", "apply", "clone", "refresh", "publish-map"},
		// clone makes a repository; the others work in one.
		NoRepoSubs: []string{"clone"},
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 {
			return Usagef("missing subcommand (want plan, apply, clone, refresh or publish-map; see 'stride sparse -h')")
		}
		sub, rest := args[0], args[1:]
		switch sub {
		case "plan", "apply", "clone", "refresh", "publish-map":
		case "-h", "--help", "help":
			printSubcommands(env.Stdout, env, c)
			return nil
		default:
			return Usagef("unknown subcommand %q (want plan, apply, clone, refresh or publish-map)", sub)
		}
		sc := &Command{Name: "sparse " + sub, Summary: c.Summary, Usage: map[string]string{"plan": "--team TEAM", "apply": "--team TEAM", "clone": "--team TEAM URL DIR"}[sub]}
		fs := NewFlagSet(env, sc)
		// Each subcommand has only the flags it reads.
		team, noFetch, push := new(string), new(bool), new(string)
		if sub != "publish-map" {
			team = fs.String("team", "", "the OWNERS_ALIASES `team` (with or without @)")
		}
		asJSON := fs.Bool("json", false, "print JSON (plan: schema stride.sparse-plan/v1; publish-map: the map, stride.sparse-pkgmap/v1)")
		bazelBin := fs.String("bazel", "", "bazel `binary` (default: bazel from PATH)")
		startup := fs.String("bazel-startup", "", "space-separated Bazel startup `flags` (e.g. --output_base=DIR)")
		qflags := fs.String("query-flags", "", "space-separated extra `flags` for bazel query (e.g. --repository_cache=DIR)")
		noBazel := fs.Bool("no-bazel", false, "never run Bazel: use only stored package maps")
		switch sub {
		case "refresh":
			noFetch = fs.Bool("no-fetch", false, "do not fetch the package maps from origin")
		case "publish-map":
			push = fs.String("push", "", "also push the map's ref to `REMOTE`")
		}
		verbose := fs.Bool("v", false, "print progress and the git commands run to stderr")
		if err := ParseFlags(fs, rest); err != nil {
			return err
		}
		pos := fs.Args()
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
			return Usagef("sparse clone needs URL and DIR (see 'stride sparse clone -h')")
		}
		needTeam := sub == "plan" || sub == "apply" || sub == "clone"
		if needTeam && *team == "" {
			return Usagef("sparse %s needs --team NAME", sub)
		}
		var p *sparse.Plan
		var err error
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
