package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	localenv "github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

const promoteHelp = `Moves published builds through the environments of ci/environments.star
(docs/promote.md), recording every decision in the ledger (refs/stride/ledger;
see 'stride ledger').

  --auto   evaluate each environment's next build against its criteria and print
           the excuses; with --confirm, promote where every criterion holds: record
           the evaluation and the promotion, switch the environment's APT
           distribution to the build's snapshot, record the switch. Idempotent, safe
           to run from many machines at once; also repairs a promotion whose switch
           was interrupted.
  BUILD --to ENV
           promote one build by hand; the criteria still apply unless --override
           (recorded; an environment with owners_approved() still needs it).
  hold / unhold
           stop (or allow again) promotions into ENV; "all" holds every environment
           (a freeze).
  lint     check ci/environments.star; errors name file:line:col, exit 2.

Exit codes: 0 done (or nothing to do), 1 a manual promotion's criteria do not
hold, 2 bad input (unknown environment or build, a build never published, a
promotion that skips an environment, a bad environments file), 3 a tool failed.`

func init() {
	c := &Command{
		Name:    "promote",
		Summary: "promote builds through the environments when their criteria hold (the robot), hold, lint",
		Usage:   "[BUILD]",
		Help:    promoteHelp,
		Subs:    []string{"hold", "unhold", "lint"},
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) > 0 {
			switch args[0] {
			case "lint":
				return promoteLint(env, args[1:])
			case "hold", "unhold":
				return promoteHold(env, c, args[0], args[1:])
			}
		}
		return promoteRun(env, c, args)
	}
	register(c)
}

// configFlag is the --config flag of the promote and ledger commands.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", promote.ConfigFile, "the environments `file`, relative to the repository root")
}

// loadConfig reads the environments file; its errors are bad input.
func loadConfig(env *Env, path string) (*promote.Config, error) {
	abs := absPath(env.Dir, path)
	name := path
	if rel, err := filepath.Rel(env.Dir, abs); err == nil {
		name = rel
	}
	cfg, err := promote.LoadConfig(abs, name)
	if err != nil {
		if errors.Is(err, promote.ErrConfig) {
			return nil, Usagef("%v", err)
		}
		return nil, err
	}
	return cfg, nil
}

func promoteLint(env *Env, args []string) error {
	c := &Command{Name: "promote lint", Usage: "stride promote lint [--config FILE] [--json]",
		Summary: "check the environments file; errors name file:line:col (exit 2)"}
	fs := NewFlagSet(env, c)
	config := configFlag(fs)
	asJSON := fs.Bool("json", false, "print the parsed environments as JSON")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(env, *config)
	if err != nil {
		return err
	}
	if err := cfg.CheckDeploy(env.Dir); err != nil {
		return Usagef("%v", err)
	}
	if *asJSON {
		return writeJSON(env, cfg)
	}
	for _, e := range cfg.Envs {
		after := " (first)"
		if e.After != "" {
			after = " (after " + e.After + ")"
		}
		fmt.Fprintf(env.Stdout, "%s%s:", e.Name, after)
		if len(e.Criteria) == 0 {
			fmt.Fprint(env.Stdout, " no criteria")
		}
		for _, c := range e.Criteria {
			fmt.Fprintf(env.Stdout, " %s", c.Text)
		}
		if e.Deploy != "" {
			fmt.Fprintf(env.Stdout, "; deployed by %s", e.Deploy)
		}
		fmt.Fprintln(env.Stdout)
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d environments)\n", cfg.Path, len(cfg.Envs))
	return nil
}

// promoteFlags are the flags of the commands that act on environments.
type promoteFlags struct {
	storeFlags
	config *string
	noApt  *bool
	actor  *string
	asJSON *bool
	// repoDir, when set, is the repository whose ledger and history the
	// commands use instead of the one at env.Dir (the hook's robot: the
	// pushed-to repository, while the config comes from the work directory).
	repoDir string
	envs    envDeployFlags
}

func (pf *promoteFlags) add(fs *flag.FlagSet) {
	pf.storeFlags.add(fs)
	pf.config = configFlag(fs)
	pf.noApt = fs.Bool("no-apt", false, "record in the ledger but leave the APT distributions alone")
	pf.actor = fs.String("actor", defaultActor(), "`NAME` of who acts, recorded in the ledger (env STRIDE_ACTOR)")
	pf.asJSON = fs.Bool("json", false, "print the result as JSON")
}

func defaultActor() string {
	if a := os.Getenv("STRIDE_ACTOR"); a != "" {
		return a
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, _ := os.Hostname()
	return user + "@" + host
}

// options opens what the robot needs: the environments, the repository
// and its ledger, the store, and aptly unless --no-apt.
func (pf *promoteFlags) options(env *Env) (promote.Options, func(), error) {
	var o promote.Options
	cfg, err := loadConfig(env, *pf.config)
	if err != nil {
		return o, nil, err
	}
	dir := env.Dir
	if pf.repoDir != "" {
		dir = pf.repoDir
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		return o, nil, Usagef("%v", err)
	}
	s, err := pf.open(env)
	if err != nil {
		repo.Close()
		return o, nil, err
	}
	o = promote.Options{Config: cfg, Repo: repo, Ledger: ledger.Open(repo), Store: s, Actor: *pf.actor, Log: env.Stderr}
	if !*pf.noApt {
		a, err := pf.aptly(env, s, false)
		if err != nil {
			repo.Close()
			return o, nil, err
		}
		if a != nil {
			o.Switcher = &promote.AptSwitcher{Aptly: a, Lock: s.Lock}
			if pf.envs.root != nil { // promotions and rollbacks deploy
				d, err := pf.envs.deployer(env, cfg, a, *pf.actor)
				if err != nil {
					repo.Close()
					return o, nil, err
				}
				// healthy() reads the local balancers' traffic.
				o.Deployer, o.Traffic = d, localenv.TrafficSource{Root: d.Root}
			}
		}
	}
	return o, func() { repo.Close() }, nil
}

func signalContext() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func promoteRun(env *Env, c *Command, args []string) error {
	fs := NewFlagSet(env, c)
	var pf promoteFlags
	pf.add(fs)
	pf.envs.add(fs)
	auto := fs.Bool("auto", false, "evaluate every environment's next build; promote with --confirm")
	confirm := fs.Bool("confirm", false, "with --auto: promote (without it, a dry run that prints the excuses)")
	to := fs.String("to", "", "the `environment` to promote BUILD to")
	reason := fs.String("reason", "", "why, a `TEXT` recorded in the ledger (required for a manual promotion)")
	override := fs.Bool("override", false, "promote BUILD despite failing criteria (recorded; owners_approved still applies)")
	// BUILD may come before the flags: stride promote BUILD --to ENV.
	var build string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		build, args = args[0], args[1:]
	}
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if build != "" || fs.NArg() > 1 {
			return Usagef("unexpected argument %q", fs.Arg(fs.NArg()-1))
		}
		build = fs.Arg(0)
	}
	switch {
	case *auto && build != "":
		return Usagef("--auto takes no BUILD")
	case !*auto && build == "":
		return Usagef("want --auto or BUILD --to ENV (see stride promote -h)")
	case !*auto && *to == "":
		return Usagef("promote %s: want --to ENV", build)
	case *auto && (*to != "" || *override):
		return Usagef("--auto takes neither --to nor --override")
	case *confirm && !*auto:
		return Usagef("--confirm goes with --auto (a manual promotion always acts)")
	}
	o, done, err := pf.options(env)
	if err != nil {
		return err
	}
	defer done()
	ctx, stop := signalContext()
	defer stop()
	if !*auto {
		out, err := promote.Promote(ctx, o, promote.Manual{Build: build, Env: *to, Reason: *reason, Override: *override})
		if out != nil {
			if perr := printOutcomeOrJSON(env, *pf.asJSON, out); perr != nil {
				return perr
			}
		}
		return err
	}
	o.Actor = "robot (" + o.Actor + ")"
	res, err := promote.Auto(ctx, o, *confirm)
	if res != nil {
		if *pf.asJSON {
			if jerr := writeJSON(env, res); jerr != nil {
				return jerr
			}
		} else {
			printAuto(env, res)
		}
	}
	return err
}

// robotAfterPublish returns the post-receive hook's robot (nil when off):
// `stride promote --auto --confirm` with the environments of the pushed
// commit (the work directory's ci/environments.star) and the ledger of the
// pushed-to repository gitDir, so the audit trail is where the team
// pushes. Its result goes to the run's log and to promote.json in outDir.
func robotAfterPublish(on bool, gitDir string) func(ctx context.Context, workDir, outDir string, log io.Writer) error {
	if !on {
		return nil
	}
	return func(ctx context.Context, workDir, outDir string, log io.Writer) error {
		env := &Env{Dir: workDir, Stdout: log, Stderr: log}
		fs := flag.NewFlagSet("promote", flag.ContinueOnError)
		var pf promoteFlags
		pf.add(fs) // the defaults: the store, ci/environments.star, aptly
		// and the local environments under $STRIDE_ENV_ROOT, deployed to
		// when they are up on this machine (as promote --auto does).
		pf.envs.add(fs)
		pf.repoDir = gitDir
		o, done, err := pf.options(env)
		if err != nil {
			return err
		}
		defer done()
		o.Actor = "robot (" + o.Actor + ", post-receive)"
		fmt.Fprintf(log, "stride hook: promote --auto --confirm on %s\n", gitDir)
		res, err := promote.Auto(ctx, o, true)
		if res != nil {
			printAuto(env, res)
			b, jerr := json.MarshalIndent(res, "", "  ")
			if jerr == nil {
				jerr = atomicfile.Write(filepath.Join(outDir, "promote.json"), append(b, '\n'))
			}
			if jerr != nil && err == nil {
				err = jerr
			}
		}
		return err
	}
}

func printOutcome(env *Env, out *promote.Outcome) {
	if out.Evaluation != nil {
		fmt.Fprintf(env.Stdout, "%s for %s: %s\n%s", short12(out.Evaluation.Build), out.Evaluation.Env, out.Evaluation.Verdict, out.Evaluation.Excuses("  "))
	}
	if out.Message != "" {
		fmt.Fprintln(env.Stdout, out.Message)
	}
	for _, e := range out.Recorded {
		fmt.Fprintf(env.Stdout, "recorded %s\n", e.Line())
	}
}

func short12(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func printAuto(env *Env, res *promote.Result) {
	w := env.Stdout
	for _, d := range res.Decisions {
		switch d.Action {
		case promote.ActionNoCandidate:
			fmt.Fprintf(w, "%-8s %s: %s\n", d.Env, d.Action, d.Why)
		case promote.ActionUpToDate:
			fmt.Fprintf(w, "%-8s %s: %s\n", d.Env, d.Action, d.Why)
		default:
			from := "nothing"
			if d.Current != "" {
				from = short12(d.Current)
			}
			fmt.Fprintf(w, "%-8s %s %s -> %s", d.Env, d.Action, from, short12(d.Candidate))
			if d.Evaluation == nil && d.Why != "" {
				fmt.Fprintf(w, ": %s", d.Why)
			}
			fmt.Fprintln(w)
			if d.Evaluation != nil {
				fmt.Fprint(w, d.Evaluation.Excuses("    "))
			}
		}
	}
	for _, e := range res.Recorded {
		fmt.Fprintf(w, "recorded %s\n", e.Line())
	}
	if res.DryRun {
		fmt.Fprintln(w, "dry run: nothing recorded or switched (stride promote --auto --confirm acts)")
	}
}

func promoteHold(env *Env, parent *Command, sub string, args []string) error {
	c := &Command{Name: "promote " + sub, Usage: "stride promote " + sub + " ENV --reason TEXT",
		Summary: "stop (hold) or allow again (unhold) promotions into ENV; ENV \"all\" is a freeze of every environment"}
	fs := NewFlagSet(env, c)
	var pf promoteFlags
	pf.add(fs)
	reason := fs.String("reason", "", "why, a `TEXT` recorded in the ledger (required)")
	return runEnvCommand(env, fs, &pf, args, func(ctx context.Context, o promote.Options, name string) (*promote.Outcome, error) {
		return promote.Hold(ctx, o, name, *reason, sub == "hold")
	})
}

// runEnvCommand runs a command on one environment: it parses ENV (before
// or after the flags) and the flags, opens what the robot needs, runs act
// and prints its outcome.
func runEnvCommand(env *Env, fs *flag.FlagSet, pf *promoteFlags, args []string,
	act func(ctx context.Context, o promote.Options, name string) (*promote.Outcome, error)) error {
	var name string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		return Usagef("want one ENV")
	}
	o, done, err := pf.options(env)
	if err != nil {
		return err
	}
	defer done()
	ctx, stop := signalContext()
	defer stop()
	out, err := act(ctx, o, name)
	if out != nil {
		if perr := printOutcomeOrJSON(env, *pf.asJSON, out); perr != nil {
			return perr
		}
	}
	return err
}

func printOutcomeOrJSON(env *Env, asJSON bool, out *promote.Outcome) error {
	if asJSON {
		return writeJSON(env, out)
	}
	printOutcome(env, out)
	return nil
}

func init() {
	c := &Command{
		Name:    "rollback",
		Summary: "put an environment back on the build it served before (recorded in the ledger)",
		Usage:   "stride rollback ENV [--to BUILD] [--reason TEXT] [--json]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		var pf promoteFlags
		pf.add(fs)
		pf.envs.add(fs)
		to := fs.String("to", "", "the `build` to go back to (default: the newest good build ENV served before)")
		reason := fs.String("reason", "", "why, a `TEXT` recorded in the ledger")
		return runEnvCommand(env, fs, &pf, args, func(ctx context.Context, o promote.Options, name string) (*promote.Outcome, error) {
			return promote.Rollback(ctx, o, name, *to, *reason)
		})
	}
	register(c)
}
