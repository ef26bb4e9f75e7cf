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
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/hook"
	"github.com/strideci/monorepo/tools/stride/internal/progress"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run"
)

func init() {
	c := &Command{
		Name:    "hook",
		Summary: "git hooks that run `stride run` on every push, serialized per branch",
		Help:    "pre-push, post-receive and exec are run by git and by the hooks, not by hand.",
		Subs:    []string{"install", "uninstall", "status", "pre-push", "post-receive", "exec"},
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 {
			return Usagef("missing subcommand (want install, uninstall or status; see 'stride hook -h')")
		}
		switch args[0] {
		case "install", "uninstall":
			return hookInstall(env, args[0], args[1:])
		case "status":
			return hookStatus(env, args[1:])
		case hook.PrePush:
			return hookPrePush(env, args[1:])
		case hook.PostReceive:
			return hookPostReceive(env, args[1:])
		case "exec":
			return hookExec(env, args[1:])
		case "-h", "-help", "--help", "help":
			printSubcommands(env.Stdout, env, c)
			return nil
		}
		return Usagef("unknown subcommand %q (want install, uninstall, status, pre-push or post-receive)", args[0])
	}
	register(c)
}

func hookFlags(env *Env, name, usage string) *flag.FlagSet {
	summaries := map[string]string{
		"install":        "install the pre-push hook (in a clone) or the post-receive hook (in a bare repository)",
		"uninstall":      "remove the hook stride installed",
		"status":         "the hooks' recorded runs, per branch",
		hook.PrePush:     "run by git before a push: runs stride run; the push goes ahead only when it is green",
		hook.PostReceive: "run by git after a push is received: queues a run per pushed branch",
		"exec":           "run by the post-receive hook: one queued run",
	}
	return NewFlagSet(env, &Command{Name: "hook " + name, Usage: usage, Summary: summaries[name]})
}

func hookInstall(env *Env, sub string, args []string) error {
	fs := hookFlags(env, sub, "(--pre-push | --post-receive)")
	prePush := fs.Bool("pre-push", false, "install the pre-push hook (in a clone): the push goes ahead only when the run is green")
	postReceive := fs.Bool("post-receive", false, "install the post-receive hook (in a bare repository): runs in the background")
	// uninstall takes only the hook's kind.
	state, strideBin, force, promoteAfter := new(string), new(string), new(bool), new(bool)
	var runArgs stringList
	if sub == "install" {
		state = fs.String("state", "", "record runs under `DIR` (default: $XDG_DATA_HOME/stride/hooks/<repo>-<hash>)")
		strideBin = fs.String("stride", "", "the stride binary (`PATH`) the hook runs, as is (default: a copy of this one under the git directory)")
		force = fs.Bool("force", false, "replace a hook stride did not install")
		fs.Var(&runArgs, "run-arg", "pass `ARG` to `stride run` (repeatable), e.g. --run-arg=--jobs=4")
		promoteAfter = fs.Bool("promote", false, "post-receive with --run-arg=--publish: after each published build, run the robot (stride promote --auto --confirm) on this repository's ledger")
	}
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if *prePush == *postReceive {
		return Usagef("give exactly one of --pre-push and --post-receive")
	}
	if *promoteAfter && sub == "install" {
		if *prePush {
			return Usagef("--promote goes with --post-receive: a pre-push run happens before the push lands")
		}
		if rf, err := parseRunArgs(runArgs); err == nil && !rf.publish {
			return Usagef("--promote needs --run-arg=--publish: the robot promotes published builds")
		}
	}
	kind := hook.PrePush
	if *postReceive {
		kind = hook.PostReceive
	}
	gitDir, bare, err := gitDirOf(env.Dir, false)
	if err != nil {
		return Exit(ExitUsage, err)
	}
	if sub == "uninstall" {
		if err := hook.Uninstall(gitDir, kind); err != nil {
			return Exit(ExitUsage, err)
		}
		fmt.Fprintf(env.Stdout, "removed the %s hook of %s\n", kind, gitDir)
		return nil
	}
	if kind == hook.PostReceive && !bare {
		fmt.Fprintf(env.Stderr, "stride hook: warning: %s is not a bare repository; post-receive runs only on the receiving side of a push\n", gitDir)
	}
	if _, err := parseRunArgs(runArgs); err != nil {
		return Usagef("--run-arg: %v", err)
	}
	// By default the hook runs a copy of this binary kept under the git
	// directory: the binary itself may be inside Bazel's output base or
	// go run's cache, which a clean or another machine removes.
	bin, copyBin := *strideBin, *strideBin == ""
	if copyBin {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("find the stride binary: %w (pass --stride)", err)
		}
	}
	bin = absPath(env.Dir, bin)
	o := hook.InstallOptions{Kind: kind, GitDir: gitDir, Stride: bin, CopyStride: copyBin, RunArgs: runArgs, Force: *force, Promote: *promoteAfter}
	o.StateDir = hook.DefaultStateDir(gitDir)
	if *state != "" {
		o.StateDir = absPath(env.Dir, *state)
	}
	path, err := hook.Install(o)
	if err != nil {
		if errors.Is(err, hook.ErrForeignHook) {
			return Exit(ExitUsage, err)
		}
		return err
	}
	runs := bin
	if copyBin {
		runs = hook.StableBinary(gitDir)
	}
	fmt.Fprintf(env.Stdout, "installed %s\n  on push it runs: %s hook %s (stride run per pushed branch, newest push wins)\n  runs are recorded under %s\n",
		path, runs, kind, o.StateDir)
	if copyBin {
		fmt.Fprintf(env.Stdout, "  %s is a copy of %s: run stride hook install again after updating stride\n", runs, bin)
	}
	return nil
}

// gitDirOf returns the absolute git directory for dir and whether it is a
// bare repository. inHook keeps git's hook environment (GIT_DIR...).
func gitDirOf(dir string, inHook bool) (string, bool, error) {
	return (&gitrepo.Git{Dir: dir, KeepHookEnv: inHook}).GitDir(context.Background())
}

// parseRunArgs parses `stride run` flags given to a hook.
func parseRunArgs(args []string) (*runFlags, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf runFlags
	rf.add(fs)
	rf.addPublish(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := rf.check(); err != nil {
		return nil, err
	}
	return &rf, nil
}

// hookRunFunc runs the pipeline for a hook job, in process. The change
// is the push's: base is the pushed ref's previous tip when the work
// directory has it (change.Options.Pushed).
//
// robot, when not nil, runs after a run that published its build; its
// failure is logged and does not change the run's status (the build is
// published either way; the next robot run retries). Then it writes the
// branch's status (stride status, against the default branch, from the
// ledger of the repository at gitDir) beside the run's report.
func hookRunFunc(rf *runFlags, gitDir, branch string, robot func(ctx context.Context, workDir, outDir string, log io.Writer) error) hook.RunFunc {
	return func(ctx context.Context, workDir, base, head, outDir string, log io.Writer) (string, int, error) {
		env := &Env{Dir: workDir, Stdout: log, Stderr: log}
		ch, err := change.Open(workDir, change.Options{Pushed: base, Head: head, FirstParent: true})
		if err != nil {
			return string(report.StatusError), exitCodeOf(err), err
		}
		if ch.Note != "" {
			fmt.Fprintf(log, "stride hook: %s\n", ch.Note)
		}
		p, err := rf.pipeline(env, ch)
		if err != nil {
			return string(report.StatusError), exitCodeOf(err), err
		}
		p.OutDir, p.Branch = outDir, branch
		pr := progress.New(log, false)
		p.Progress = pr
		o, err := p.Run(ctx)
		pr.Close()
		if o.Report == nil {
			return string(report.StatusError), runExitCode(o, err), err
		}
		printRun(log, workDir, "stride run", o)
		if robot != nil && o.Published {
			if rerr := robot(ctx, workDir, outDir, log); rerr != nil {
				fmt.Fprintf(log, "stride hook: promote --auto: %v (the build stays published; the next robot run retries)\n", rerr)
			}
		}
		if serr := writeRunStatus(ctx, gitDir, workDir, head, o.Dir, log); serr != nil {
			fmt.Fprintf(log, "stride hook: no status: %v\n", serr)
		}
		status := string(o.Report.Status)
		var pe *run.PublishError
		if errors.As(err, &pe) {
			// A green build that cannot be published is a failure of
			// this push, not a green one.
			status = string(report.StatusError)
		}
		return status, runExitCode(o, err), err
	}
}

type hookCommon struct {
	state   string
	runArgs stringList
	promote bool
}

func (h *hookCommon) add(fs *flag.FlagSet) {
	fs.StringVar(&h.state, "state", "", "state `DIR`")
	fs.Var(&h.runArgs, "run-arg", "`stride run` flag (repeatable)")
	fs.BoolVar(&h.promote, "promote", false, "after a published build, run the promotion robot on the repository")
}

// hookPrePush is git's pre-push hook: run each pushed branch now; a run
// that is not green stops the push.
func hookPrePush(env *Env, args []string) error {
	fs := hookFlags(env, hook.PrePush, "stride hook pre-push [--state DIR] [--run-arg ARG]... REMOTE URL")
	var hc hookCommon
	hc.add(fs)
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	rf, err := parseRunArgs(hc.runArgs)
	if err != nil {
		return Usagef("--run-arg: %v", err)
	}
	updates, err := hook.ParsePrePush(env.Stdin)
	if err != nil {
		return Exit(ExitUsage, err)
	}
	gitDir, _, err := gitDirOf(env.Dir, true)
	if err != nil {
		return Exit(ExitUsage, err)
	}
	state := hc.state
	if state == "" {
		state = hook.DefaultStateDir(gitDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	worst := 0
	for _, u := range updates {
		branch, ok := u.Branch()
		if !ok || u.New == "" {
			continue // tags and deletions are not built
		}
		fmt.Fprintf(env.Stderr, "stride hook: running %s at %s (git push --no-verify skips this)\n", branch, u.New[:12])
		rec, err := hook.Exec(ctx, hook.Job{StateDir: state, GitDir: gitDir, Branch: branch, SHA: u.New, Base: u.Old,
			Run: hookRunFunc(rf, gitDir, branch, nil), Log: env.Stderr})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "stride hook: %s at %s: %s (report: %s)\n", branch, u.New[:12], rec.Status, filepath.Join(rec.ReportDir, report.MarkdownFile))
		if rec.ExitCode > worst {
			worst = rec.ExitCode
		}
	}
	if worst != 0 {
		return Exit(worst, errors.New("push stopped: the run is not green (see the report above; git push --no-verify skips the hook)"))
	}
	return nil
}

// hookPostReceive is git's post-receive hook: queue a background run per
// pushed branch and return at once.
func hookPostReceive(env *Env, args []string) error {
	fs := hookFlags(env, hook.PostReceive, "stride hook post-receive [--state DIR] [--run-arg ARG]...")
	var hc hookCommon
	hc.add(fs)
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	updates, err := hook.ParsePostReceive(env.Stdin)
	if err != nil {
		return Exit(ExitUsage, err)
	}
	gitDir, _, err := gitDirOf(env.Dir, true)
	if err != nil {
		return Exit(ExitUsage, err)
	}
	state := hc.state
	if state == "" {
		state = hook.DefaultStateDir(gitDir)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the stride binary: %w", err)
	}
	// The push's time orders the runs of a branch, whenever they start.
	queued := time.Now()
	for _, u := range updates {
		branch, ok := u.Branch()
		if !ok || u.New == "" {
			continue
		}
		dir := hook.ReportDir(state, branch, u.New)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("hook state: %w", err)
		}
		a := []string{"hook", "exec", "--state", state, "--git-dir", gitDir, "--branch", branch, "--sha", u.New, "--base", u.Old,
			"--queued", strconv.FormatInt(queued.UnixNano(), 10)}
		for _, r := range hc.runArgs {
			a = append(a, "--run-arg="+r)
		}
		if hc.promote {
			a = append(a, "--promote")
		}
		pid, err := hook.Spawn(self, a, filepath.Join(dir, "hook.log"))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "stride: queued a run of %s at %s (pid %d); `stride hook status` shows it\n", branch, u.New[:12], pid)
	}
	return nil
}

// hookExec is the background half of post-receive (not for people).
func hookExec(env *Env, args []string) error {
	fs := hookFlags(env, "exec", "stride hook exec --state DIR --git-dir DIR --branch NAME --sha SHA [--base SHA] [--run-arg ARG]...")
	var hc hookCommon
	hc.add(fs)
	gitDir := fs.String("git-dir", "", "repository")
	branch := fs.String("branch", "", "branch")
	sha := fs.String("sha", "", "pushed commit")
	base := fs.String("base", "", "previous commit of the branch")
	queuedNs := fs.Int64("queued", 0, "when the push arrived (Unix nanoseconds)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	var queued time.Time
	if *queuedNs > 0 {
		queued = time.Unix(0, *queuedNs)
	}
	if hc.state == "" || *gitDir == "" || *branch == "" || *sha == "" {
		return Usagef("--state, --git-dir, --branch and --sha are required")
	}
	rf, err := parseRunArgs(hc.runArgs)
	if err != nil {
		return Usagef("--run-arg: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rec, err := hook.Exec(ctx, hook.Job{StateDir: hc.state, GitDir: *gitDir, Branch: *branch, SHA: *sha, Base: *base,
		Queued: queued, Run: hookRunFunc(rf, *gitDir, *branch, robotAfterPublish(hc.promote, *gitDir)), Log: env.Stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "stride hook: %s at %s: %s\n", *branch, *sha, rec.Status)
	if rec.ExitCode != 0 {
		return Exit(rec.ExitCode, nil)
	}
	return nil
}

// hookStatus prints the latest run of each branch (a read command).
func hookStatus(env *Env, args []string) error {
	fs := hookFlags(env, "status", "stride hook status [--branch NAME] [--state DIR] [--json]")
	state := fs.String("state", "", "state `DIR` (default: this repository's)")
	branch := fs.String("branch", "", "only `NAME`")
	asJSON := fs.Bool("json", false, "print the records (schema stride.hookrun/v1) as a JSON array")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	dir := *state
	if dir == "" {
		gitDir, _, err := gitDirOf(env.Dir, false)
		if err != nil {
			return Exit(ExitUsage, err)
		}
		dir = hook.DefaultStateDir(gitDir)
	} else {
		dir = absPath(env.Dir, dir)
	}
	branches := []string{*branch}
	if *branch == "" {
		var err error
		if branches, err = hook.Branches(dir); err != nil {
			return err
		}
	}
	recs := []*hook.Record{}
	for _, b := range branches {
		r, err := hook.Latest(dir, b)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				if *branch != "" {
					return Exit(ExitUsage, fmt.Errorf("no runs recorded for branch %q under %s", b, dir))
				}
				continue
			}
			return err
		}
		recs = append(recs, r)
	}
	if *asJSON {
		return writeJSON(env, recs)
	}
	if len(recs) == 0 {
		fmt.Fprintf(env.Stdout, "no runs recorded under %s\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BRANCH\tCOMMIT\tSTATUS\tFINISHED\tREPORT")
	for _, r := range recs {
		fin := "-"
		if r.Finished != nil {
			fin = r.Finished.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%.12s\t%s\t%s\t%s\n", r.Branch, r.SHA, r.Status, fin, filepath.Join(r.ReportDir, report.MarkdownFile))
	}
	return tw.Flush()
}
