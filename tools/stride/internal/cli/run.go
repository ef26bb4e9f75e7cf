package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run"
)

func init() {
	c := &Command{
		Name:    "run",
		Summary: "the push pipeline: build and test what a change affects, write the run report",
		Usage:   "stride [-C DIR] run [--base REV] [--head REV] [--jobs N] [--out DIR] [--json] [--publish]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		var rf runFlags
		rf.add(fs)
		base := fs.String("base", "", "base `revision` (default: the merge base of head and the default branch)")
		head := fs.String("head", "", "head `revision`; must be checked out (default: HEAD)")
		out := fs.String("out", "", "write the report to `DIR` (default: out/runs/<head sha>/)")
		asJSON := fs.Bool("json", false, "print report.json (schema stride.report/v1) to stdout instead of a summary")
		branch := fs.String("branch", "", "branch `name` recorded in the report (default: the checked-out branch)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		opts, err := rf.options(env)
		if err != nil {
			return err
		}
		opts.Base, opts.Head = *base, *head
		opts.Branch = *branch
		if opts.Branch == "" {
			opts.Branch = currentBranch(env.Dir)
		}
		if *out != "" {
			opts.OutDir = runAbsPath(env.Dir, *out)
		}
		pr := newProgress(env)
		opts.Progress = pr
		rep, err := run.Run(ctx, opts)
		pr.Close()
		if err := finishRun(env, rep, err, opts.OutDir, *asJSON); err != nil || !rf.publish {
			return err
		}
		dir := opts.OutDir
		if dir == "" {
			dir = filepath.Join(env.Dir, "out", "runs", rep.Head.SHA)
		}
		if *asJSON {
			// stdout already holds report.json; keep it one document.
			env = &Env{Dir: env.Dir, Stdin: env.Stdin, Stdout: env.Stderr, Stderr: env.Stderr}
		}
		return publishRun(env, dir)
	}
	register(c)
}

// runFlags are the flags `stride run`, `stride watch` and the hooks share.
type runFlags struct {
	jobs       int
	cacheDir   string
	bazelBin   string
	bazelFlags runStringList
	noBench    bool
	publish    bool
	cds        string
}

func (rf *runFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&rf.publish, "publish", false, "after a green run, publish it to the store and the dev APT distribution (stride publish --run DIR; docs/publish.md)")
	fs.IntVar(&rf.jobs, "jobs", 0, "Bazel --jobs `N` (0: Bazel's default)")
	fs.StringVar(&rf.cacheDir, "cache-dir", defaultDigestCache(), "`directory` for the affected computation's digest cache (\"\" disables)")
	fs.StringVar(&rf.bazelBin, "bazel", "", "bazel `binary` (default: bazel from PATH)")
	fs.Var(&rf.bazelFlags, "bazel-flag", "extra Bazel `flag` for build and test (repeatable), e.g. --bazel-flag=--config=ci")
	fs.BoolVar(&rf.noBench, "no-bench", false, "do not run the benchmarks of tests tagged perf")
	fs.StringVar(&rf.cds, "bazel-cds", "auto", "start Bazel's server with a class-data-sharing archive kept under --cache-dir: `on`, off, or auto (on when $CI is set); see docs/run.md")
}

// check reports flag values that parsing alone does not reject.
func (rf *runFlags) check() error {
	switch rf.cds {
	case "on", "off", "auto", "":
		return nil
	}
	return Usagef("--bazel-cds: want on, off or auto, got %q", rf.cds)
}

// options builds run options with the real collaborators.
func (rf *runFlags) options(env *Env) (run.Options, error) {
	plan, err := rf.cdsPlan(env)
	if err != nil {
		return run.Options{}, err
	}
	return run.Options{
		Dir:        env.Dir,
		Jobs:       rf.jobs,
		BazelFlags: rf.bazelFlags,
		NoBench:    rf.noBench,
		Affecter:   &affectedAdapter{cacheDir: rf.cacheDir, bazel: rf.bazelBin, startup: plan.Flags},
		Bazel:      cdsBazel{Bazel: &bazel.Bazel{Binary: rf.bazelBin, Dir: env.Dir, Startup: plan.Flags}, plan: plan},
		Owners:     run.CheckerFunc(ownersCheckForRun),
		Policy:     policyChecker(rf.bazelBin), // cli/policy.go
	}, nil
}

// cdsPlan decides the class-data-sharing startup flags of the run's
// Bazel server (bazel.CDS). Problems with the archive directory only turn
// CDS off; a bad --bazel-cds value is a usage error.
func (rf *runFlags) cdsPlan(env *Env) (*bazel.CDSPlan, error) {
	if err := rf.check(); err != nil {
		return nil, err
	}
	switch rf.cds {
	case "auto":
		if ci := os.Getenv("CI"); ci == "" || ci == "false" || ci == "0" {
			return &bazel.CDSPlan{Note: "off ($CI is not set)"}, nil
		}
	case "off", "":
		return &bazel.CDSPlan{Note: "off"}, nil
	}
	// Asked for: say what became of it, for the CI log.
	plan := rf.requestedCDSPlan(env)
	fmt.Fprintf(env.Stderr, "stride run: Bazel class-data sharing: %s\n", plan.Note)
	return plan, nil
}

func (rf *runFlags) requestedCDSPlan(env *Env) *bazel.CDSPlan {
	if rf.cacheDir == "" {
		return &bazel.CDSPlan{Note: "off (no --cache-dir)"}
	}
	ctx := context.Background()
	b := &bazel.Bazel{Binary: rf.bazelBin, Dir: env.Dir}
	v, err := b.CachedVersionKey(ctx, bazel.VersionCacheFile(rf.cacheDir))
	if err != nil {
		return &bazel.CDSPlan{Note: "off: " + err.Error()}
	}
	key, ok := bazel.CDSKey(v)
	if !ok {
		return &bazel.CDSPlan{Note: "off (no JVM found)"}
	}
	c := &bazel.CDS{Dir: filepath.Join(rf.cacheDir, "bazel-cds"), Workspace: env.Dir, Key: key}
	plan, err := c.Plan(ctx)
	if err != nil {
		return &bazel.CDSPlan{Note: "off: " + err.Error()}
	}
	return plan
}

// cdsBazel is the run's Bazel; once its server is up it records what a
// class-data-sharing archive being written needs for its validation.
type cdsBazel struct {
	*bazel.Bazel
	plan *bazel.CDSPlan
}

func (b cdsBazel) StartServer(ctx context.Context) error {
	err := b.Bazel.StartServer(ctx)
	// Even a failed `bazel version` (Debian's build without a version
	// exits 2) leaves the server up.
	_ = b.plan.ServerStarted()
	return err
}

// finishRun prints the outcome of a run and maps it to an exit code.
func finishRun(env *Env, rep *report.Report, err error, outDir string, asJSON bool) error {
	var ue *run.UsageError
	if errors.As(err, &ue) {
		return Exit(ExitUsage, err)
	}
	if rep == nil {
		if err == nil {
			err = errors.New("no report")
		}
		// Infrastructure errors are exit 2 for `stride run` (see docs/run.md).
		return Exit(ExitUsage, err)
	}
	dir := outDir
	if dir == "" {
		dir = filepath.Join(env.Dir, "out", "runs", rep.Head.SHA)
	}
	if asJSON {
		b, merr := rep.Marshal()
		if merr != nil {
			return Exit(ExitUsage, merr)
		}
		env.Stdout.Write(b)
	} else {
		fmt.Fprintf(env.Stdout, "stride run: %s: %s\n", strings.ToUpper(string(rep.Status)), rep.Summary)
		for _, e := range rep.Errors {
			fmt.Fprintf(env.Stdout, "  error: %s\n", runFirstLine(e))
		}
		fmt.Fprintf(env.Stdout, "report: %s\n", runRelPath(env.Dir, filepath.Join(dir, report.MarkdownFile)))
	}
	if err != nil {
		return Exit(ExitUsage, err)
	}
	if code := rep.Status.ExitCode(); code != 0 {
		return Exit(code, nil)
	}
	return nil
}

// affectedAdapter is run.Affecter over internal/affected.
type affectedAdapter struct {
	cacheDir string
	bazel    string
	startup  []string // the workspace server's startup flags (CDS)
	log      io.Writer
}

func (a *affectedAdapter) Affected(ctx context.Context, q run.Query) (*run.Affected, error) {
	// The changed files (for the report) are listed while the affected
	// set is computed, unless the base is the Affecter's default (the
	// merge base), known only from its result.
	type listing struct {
		changes []report.Change
		err     error
	}
	ch := make(chan listing, 1)
	early := q.Uncommitted || q.Base != ""
	if early {
		go func() {
			c, err := changedFiles(q, q.Base)
			ch <- listing{c, err}
		}()
	}
	res, err := affected.Compute(ctx, affected.Options{
		Dir: q.Dir, Base: q.Base, Head: q.Head, Uncommitted: q.Uncommitted,
		CacheDir: a.cacheDir, Bazel: a.bazel, Log: a.log, DeferWrites: true,
		WorkspaceStartup: a.startup,
	})
	var l listing
	if early {
		l = <-ch
	}
	if err != nil {
		return nil, err
	}
	if !early {
		l.changes, l.err = changedFiles(q, res.Base.Commit)
	}
	out := &run.Affected{
		Base: report.Rev{Rev: res.Base.Rev, SHA: res.Base.Commit},
		Head: report.Rev{Rev: res.Head.Rev, SHA: res.Head.Commit},
		Wait: res.Wait,
	}
	for _, t := range res.Targets {
		rt := report.Target{Label: t.Label, Kind: t.Kind, Test: t.Test}
		for _, r := range t.Reasons {
			rt.Reasons = append(rt.Reasons, r.Text)
		}
		out.Targets = append(out.Targets, rt)
	}
	if l.err != nil {
		res.Wait()
		return nil, l.err
	}
	out.Changes = l.changes
	return out, nil
}

// changedFiles lists the files changed from base to q's head, or the
// work tree's changes for an uncommitted run.
func changedFiles(q run.Query, baseRev string) ([]report.Change, error) {
	repo, err := gitrepo.Open(q.Dir)
	if err != nil {
		return nil, err
	}
	var out []report.Change
	if q.Uncommitted {
		wc, err := repo.WorkTreeChanges()
		if err != nil {
			return nil, err
		}
		for _, c := range wc {
			st := "modified"
			if c.Deleted {
				st = "deleted"
			}
			out = append(out, report.Change{Path: c.Path, Status: st})
		}
		return out, nil
	}
	headRev := q.Head
	if headRev == "" {
		headRev = "HEAD"
	}
	head, err := repo.ResolveRevision(headRev)
	if err != nil {
		return nil, err
	}
	base, err := repo.ResolveRevision(baseRev)
	if err != nil {
		return nil, err
	}
	changes, err := repo.ChangedFiles(base, head)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		out = append(out, report.Change{Path: c.Path, Status: string(c.Status), OldPath: c.OldPath})
	}
	return out, nil
}

// ownersCheckForRun is the owners check of a change, for the run report.
// Approvals come from the commits' trailers (and authors own their files);
// reviews from a code host are `stride owners check --approvals`'s job.
func ownersCheckForRun(ctx context.Context, dir, base, head string) report.Check {
	if base == "" || head == "" {
		return report.Check{Reason: "no base or head commit"}
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return report.Check{Reason: err.Error()}
	}
	res, err := owners.CheckRepo(repo, owners.RepoCheck{Base: base, Head: head})
	if err != nil {
		return report.Check{Reason: "owners check failed: " + runFirstLine(err.Error())}
	}
	c := report.Check{Checked: true, OK: res.OK,
		Reason: fmt.Sprintf("%d of %d changed file(s) approved", res.Summary.Approved, res.Summary.Files)}
	for _, d := range res.Dirs {
		if !d.Approved {
			f := d.Dir
			if d.Needs != "" {
				f += ": needs " + d.Needs
			}
			c.Findings = append(c.Findings, f)
		}
	}
	for _, d := range res.Diagnostics {
		c.Findings = append(c.Findings, d.String())
	}
	return c
}

// newProgress shows progress on stderr: one status line on a terminal,
// plain lines otherwise.
func newProgress(env *Env) *progress.Progress {
	return progress.New(env.Stderr, progress.IsTerminal(env.Stderr))
}

// currentBranch is the checked-out branch's short name, or "".
func currentBranch(dir string) string {
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return ""
	}
	ref, err := repo.Git().Head()
	if err != nil || !ref.Name().IsBranch() {
		return ""
	}
	return ref.Name().Short()
}

type runStringList []string

func (s *runStringList) String() string     { return strings.Join(*s, " ") }
func (s *runStringList) Set(v string) error { *s = append(*s, v); return nil }

func runAbsPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func runRelPath(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func runFirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// publishRun publishes the green run in dir, as `stride publish --run DIR`
// would (used by `stride run --publish` and by hooks given --run-arg=--publish).
func publishRun(env *Env, dir string) error {
	fmt.Fprintf(env.Stderr, "stride run: publishing %s\n", dir)
	return commands["publish"].Run(env, []string{"--run", dir})
}
