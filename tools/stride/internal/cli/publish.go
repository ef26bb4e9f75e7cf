package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/run"
)

const publishHelp = `Publishes a finished, green 'stride run' (docs/publish.md): the services' .deb
packages (versioned 0.<commit count>.0+g<sha>; unchanged services keep their
version) into the store and the aptly repository, a snapshot build-<sha>, and
the --dist distribution (dev) switched to it; the docs rendered to HTML; the
run's perf results with a comparison to the previous build; report.json,
junit.xml and the logs of tests that did not pass at once. Publishing a build
again is a no-op; a publish that was interrupted is completed by running it
again.

The run is --run DIR, else out/runs/<HEAD sha>/. The packages are the --deb
files, else every deb_package target, built with Bazel.

Exit codes: 0 published (or already), 2 the run is missing or not green, bad
flags; 3 a tool failed (aptly, gpg, Bazel).`

func init() {
	c := &Command{
		Name:    "publish",
		NoRepo:  true, // it publishes a run directory
		Summary: "publish a green run: .deb packages into the signed APT repository, docs, perf and test results into the store",
		Usage:   "stride [-C DIR] publish [--run DIR] [--deb FILE]... [--store DIR] [--gnupg DIR] [--dist ENV] [--no-apt] [--number N] [--json]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		usage := fs.Usage
		fs.Usage = func() { usage(); fmt.Fprintf(env.Stdout, "\n%s\n", publishHelp) }
		var pf publishFlags
		pf.add(fs)
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return publishBuild(ctx, env, &pf)
	}
	register(c)
}

// publishFlags are `stride publish`'s flags.
type publishFlags struct {
	sf         storeFlags
	runDir     string
	debs       stringList
	dist       string
	noApt      bool
	number     int
	allowDirty bool
	docs       string
	bazelBin   string
	asJSON     bool
}

func (pf *publishFlags) add(fs *flag.FlagSet) {
	pf.sf.add(fs)
	fs.StringVar(&pf.runDir, "run", "", "the run's output `directory` (default: out/runs/<HEAD sha>/)")
	fs.Var(&pf.debs, "deb", "a .deb `file` to publish (repeatable; default: build every deb_package target with Bazel)")
	fs.StringVar(&pf.dist, "dist", "dev", "the `environment` (published distribution) a new build goes to")
	fs.BoolVar(&pf.noApt, "no-apt", false, "store the build but leave the APT repository alone")
	fs.IntVar(&pf.number, "number", 0, "the build's commit count `N` (default: counted from the repository; needed in shallow clones)")
	fs.BoolVar(&pf.allowDirty, "allow-dirty", false, "publish a run of a working tree with uncommitted changes")
	fs.StringVar(&pf.docs, "docs", "", "Markdown `directory` to render (default: docs/; \"-\" for none)")
	fs.StringVar(&pf.bazelBin, "bazel", "", "bazel `binary` (default: bazel from PATH)")
	fs.BoolVar(&pf.asJSON, "json", false, "print the result as JSON")
}

// publishRun publishes the green run in dir with publish's defaults, as
// `stride publish --run DIR` would (for `stride run --publish` and hooks
// given --run-arg=--publish).
func publishRun(ctx context.Context, env *Env, dir string) error {
	fmt.Fprintf(env.Stderr, "stride run: publishing %s\n", dir)
	var pf publishFlags
	pf.add(flag.NewFlagSet("publish", flag.ContinueOnError)) // the defaults
	pf.runDir = dir
	return publishBuild(ctx, env, &pf)
}

// publishBuild is `stride publish`.
func publishBuild(ctx context.Context, env *Env, pf *publishFlags) error {
	// Bad input is refused before anything is written.
	if err := apt.ValidateDistribution(pf.dist); err != nil {
		return Usagef("--dist: %v", err)
	}
	dir := pf.runDir
	if dir == "" {
		repo, err := gitrepo.Open(env.Dir)
		if err != nil {
			return Usagef("%v (or give --run DIR)", err)
		}
		head, err := repo.ResolveRevision("HEAD")
		if err != nil {
			return Usagef("%v (or give --run DIR)", err)
		}
		dir = run.RunDir(env.Dir, head.String())
	}
	s, err := pf.sf.create(env)
	if err != nil {
		return err
	}
	opts := publish.Options{
		Dir: env.Dir, RunDir: absPath(env.Dir, dir), Store: s, Distribution: pf.dist,
		Number: pf.number, AllowDirty: pf.allowDirty, Log: env.Stderr,
	}
	if pf.docs != "" && pf.docs != "-" {
		opts.DocsDir = absPath(env.Dir, pf.docs)
	} else {
		opts.DocsDir = pf.docs
	}
	for _, d := range pf.debs {
		opts.Debs = append(opts.Debs, absPath(env.Dir, d))
	}
	if len(opts.Debs) == 0 {
		b := &bazel.Bazel{Binary: pf.bazelBin, Dir: env.Dir}
		opts.FindDebs = func(ctx context.Context) ([]string, error) {
			return publish.BazelDebs(ctx, b, bazel.Options{Stderr: env.Stderr})
		}
	}
	if !pf.noApt {
		if opts.Aptly, err = pf.sf.aptly(env, s, true); err != nil {
			return err
		}
	}
	res, err := publish.Publish(ctx, opts)
	if err != nil {
		return err // exitCodeOf: not green, no run, bad input, invalid store: 2; not reproducible: 1
	}
	if pf.asJSON {
		return writeJSON(env, res)
	}
	printPublish(env, res)
	return nil
}

func printPublish(env *Env, r *publish.Result) {
	w := env.Stdout
	state := "published"
	if r.Already {
		state = "already published"
	}
	fmt.Fprintf(w, "build %s %s", r.Build, state)
	if r.Manifest != nil {
		fmt.Fprintf(w, " (%d artifacts, %s)", len(r.Manifest.Artifacts), storeBytes(r.Manifest.Size()))
	}
	fmt.Fprintln(w)
	for _, p := range r.Packages {
		note := ""
		if p.Since != "" {
			note = "  unchanged since " + storeShortID(p.Since)
		}
		fmt.Fprintf(w, "  %-16s %s%s\n", p.Name, p.Version, note)
	}
	if r.Distribution != "" {
		if r.Switched {
			fmt.Fprintf(w, "%s now serves snapshot %s\n", r.Distribution, r.Snapshot)
		} else {
			fmt.Fprintf(w, "%s unchanged\n", r.Distribution)
		}
	}
	if r.Perf != nil && len(r.Perf.Rows) > 0 {
		fmt.Fprintf(w, "\nperf:\n%s", r.Perf.Text())
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", warn)
	}
	fmt.Fprintf(w, "took %dms\n", r.Steps["total"])
}
