package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

const envHelp = `Local environments (docs/environments.md): each environment's services run as
processes on 127.0.0.1 behind an HAProxy stride configures, installed from the
environment's signed APT distribution.

  up      start the environment's supervisor (in the background): it starts HAProxy
          and the instances the last deploy left, and restarts an instance that
          crashes, counting it. Idempotent.
  down    stop the instances (each drains on SIGTERM), HAProxy and the supervisor
  status  each instance's version, state, pid, port, restarts and balancer state,
          and the newest deploy; without ENV, every environment
  deploy  install BUILD's packages from ENV's APT distribution and replace the
          instances one at a time (drain, stop, start, /readyz, ready), then watch;
          on bad health, deploy the build ENV ran before again (exit 1). Finishes a
          deploy a kill interrupted. Promotions deploy the same way by themselves
          (stride promote), and record it in the ledger; this command does not.
          An environment with environment(deploy = "...") runs that command.

Where environments live: --env-root, else $STRIDE_ENV_ROOT, else
$XDG_DATA_HOME/stride/envs/<repo>-<hash>/ENV.

Exit codes: 0 done (up/down of an environment already up/down too), 1 the build
failed its health checks and was rolled back, 2 bad input (unknown build or
environment, environment not up), 3 a tool failed (haproxy, apt-get).`

// envKillEnv is a test-only knob: the deploy kills itself with SIGKILL at
// that crash point ("drained", "started"), as kill -9 would.
const envKillEnv = "STRIDE_ENV_TEST_KILL_AT"

func init() {
	c := &Command{
		Name:    "env",
		Summary: "local environments behind HAProxy: up, down, status, deploy",
		Help:    envHelp,
		Subs:    []string{"up", "down", "status", "deploy"},
	}
	c.Run = func(e *Env, args []string) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			w := e.Stdout
			if len(args) == 0 {
				w = e.Stderr
			}
			printSubcommands(w, e, c)
			if len(args) == 0 {
				return &ExitError{Code: ExitUsage}
			}
			return nil
		}
		switch args[0] {
		case "up":
			return envUp(e, args[1:])
		case "down":
			return envDown(e, args[1:])
		case "status":
			return envStatus(e, args[1:])
		case "deploy":
			return envDeploy(e, args[1:])
		case "supervise":
			return envSupervise(e, args[1:])
		}
		return Usagef("unknown subcommand %q (want up, down, status or deploy)", args[0])
	}
	register(c)
}

// envFlags are the flags every env subcommand takes.
type envFlags struct {
	root   *string
	asJSON *bool
}

func (f *envFlags) add(fs *flag.FlagSet) {
	f.root = fs.String("env-root", "", "the `directory` of the local environments (default $STRIDE_ENV_ROOT, else $XDG_DATA_HOME/stride/envs/<repo>-<hash>)")
	f.asJSON = fs.Bool("json", false, "print the result as JSON (schema "+env.StatusSchema+")")
}

func (f *envFlags) rootDir(e *Env) (string, error) {
	if *f.root != "" {
		return absPath(e.Dir, *f.root), nil
	}
	return env.DefaultRoot(e.Dir)
}

// layout parses the flags and the ENV argument (and nargs-1 more).
func (f *envFlags) layout(e *Env, fs *flag.FlagSet, args []string, nargs int) (*env.Layout, []string, error) {
	if err := ParseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	pos := fs.Args()
	if len(pos) != nargs {
		return nil, nil, Usagef("want %s (see stride env -h)", map[int]string{1: "ENV", 2: "ENV BUILD"}[nargs])
	}
	root, err := f.rootDir(e)
	if err != nil {
		return nil, nil, err
	}
	l, err := env.Open(root, pos[0])
	if err != nil {
		return nil, nil, Usagef("%v", err)
	}
	return l, pos, nil
}

func envSubFlags(e *Env, name, usage, summary string) (*flag.FlagSet, *envFlags) {
	fs := NewFlagSet(e, &Command{Name: "env " + name, Usage: usage, Summary: summary})
	var f envFlags
	f.add(fs)
	return fs, &f
}

func envUp(e *Env, args []string) error {
	fs, f := envSubFlags(e, "up", "ENV", "start the environment's supervisor, HAProxy and instances")
	l, _, err := f.layout(e, fs, args, 1)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	pid, err := env.StartSupervisor(l, []string{exe, "-C", e.Dir, "env", "supervise", l.Name, "--env-root", filepath.Dir(l.Dir)})
	already := errors.Is(err, env.ErrUp)
	if err != nil && !already {
		return err
	}
	if !already {
		time.Sleep(300 * time.Millisecond) // the supervisor's first status
	}
	st, err := l.ReadStatus()
	if err != nil {
		return err
	}
	if *f.asJSON {
		return writeJSON(e, st)
	}
	if already {
		fmt.Fprintf(e.Stdout, "%s is up already (supervisor pid %d, %s)\n", l.Name, pid, l.Dir)
		return nil
	}
	fmt.Fprintf(e.Stdout, "%s is up (supervisor pid %d, %s)\n", l.Name, pid, l.Dir)
	if len(st.Instances) == 0 {
		fmt.Fprintf(e.Stdout, "it runs nothing yet: stride env deploy %s BUILD deploys (or a promotion: stride promote --auto --confirm)\n", l.Name)
	} else {
		fmt.Fprintf(e.Stdout, "starting the %d instances it ran\n", len(st.Instances))
	}
	return nil
}

func envDown(e *Env, args []string) error {
	fs, f := envSubFlags(e, "down", "ENV", "stop the environment's instances, HAProxy and supervisor")
	l, _, err := f.layout(e, fs, args, 1)
	if err != nil {
		return err
	}
	was, err := env.Down(l, env.StopTimeout+15*time.Second)
	if err != nil {
		return err
	}
	if *f.asJSON {
		st, err := l.ReadStatus()
		if err != nil {
			return err
		}
		return writeJSON(e, st)
	}
	if was {
		fmt.Fprintf(e.Stdout, "%s is down\n", l.Name)
	} else {
		fmt.Fprintf(e.Stdout, "%s was not up\n", l.Name)
	}
	return nil
}

func envSupervise(e *Env, args []string) error {
	fs, f := envSubFlags(e, "supervise", "ENV", "run the supervisor in the foreground (what stride env up starts)")
	l, _, err := f.layout(e, fs, args, 1)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	err = env.Supervise(ctx, l, e.Stderr)
	if errors.Is(err, env.ErrUp) {
		return Usagef("%v", err)
	}
	return err
}

func envStatus(e *Env, args []string) error {
	fs, f := envSubFlags(e, "status", "[ENV]", "what each environment runs")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if len(pos) > 1 {
		return Usagef("unexpected argument %q", pos[1])
	}
	root, err := f.rootDir(e)
	if err != nil {
		return err
	}
	names := pos
	if len(names) == 0 {
		if names, err = env.List(root); err != nil {
			return err
		}
	}
	var all []*env.Status
	for _, n := range names {
		st, err := env.ReadStatus(root, n)
		if err != nil {
			return Usagef("%v", err)
		}
		all = append(all, st)
	}
	if *f.asJSON {
		if len(pos) == 1 {
			return writeJSON(e, all[0])
		}
		if all == nil {
			all = []*env.Status{}
		}
		return writeJSON(e, all)
	}
	if len(all) == 0 {
		fmt.Fprintf(e.Stdout, "no local environments under %s (stride env up ENV)\n", root)
	}
	for _, st := range all {
		printEnvStatus(e, st)
	}
	return nil
}

func printEnvStatus(e *Env, st *env.Status) {
	state := "down"
	if st.Up {
		state = fmt.Sprintf("up (supervisor pid %d, haproxy pid %d)", st.Supervisor, st.Balancer.PID)
	}
	build := "no build deployed"
	if st.Build != "" {
		build = "build " + short12(st.Build)
	}
	fmt.Fprintf(e.Stdout, "%s: %s, %s\n", st.Env, state, build)
	var svcs []string
	for svc := range st.Balancer.Frontends {
		svcs = append(svcs, svc)
	}
	sort.Strings(svcs)
	for _, svc := range svcs {
		fmt.Fprintf(e.Stdout, "  %-14s http://%s\n", svc, st.Balancer.Frontends[svc])
	}
	if len(st.Instances) > 0 {
		fmt.Fprintf(e.Stdout, "  %-16s %-22s %-10s %-8s %-7s %-8s %s\n", "INSTANCE", "VERSION", "STATE", "PID", "PORT", "RESTARTS", "BALANCER")
	}
	for _, in := range st.Instances {
		pid := "-"
		if in.PID > 0 {
			pid = fmt.Sprint(in.PID)
		}
		fmt.Fprintf(e.Stdout, "  %-16s %-22s %-10s %-8s %-7d %-8d %s\n", in.Key(), in.Version, in.State, pid, in.Port, in.Restarts, in.Balancer)
		if in.LastExit != "" {
			fmt.Fprintf(e.Stdout, "  %-16s last exit: %s\n", "", in.LastExit)
		}
	}
	if d := st.Deploy; d != nil {
		fmt.Fprintf(e.Stdout, "  last deploy: %s of %s, started %s by %s", d.Phase, short12(d.Build), d.Started.Format(time.RFC3339), d.By)
		if d.Error != "" {
			fmt.Fprintf(e.Stdout, ": %s", d.Error)
		}
		fmt.Fprintln(e.Stdout)
		for _, s := range d.Slots {
			if s.Phase != env.SlotDone && s.Phase != env.SlotSkipped && s.Phase != env.SlotPending {
				fmt.Fprintf(e.Stdout, "    %s/%d %s: %s\n", s.Service, s.Slot, s.Phase, s.Detail)
			}
		}
	}
}

// aptSource is the environments' APT source: aptly's published tree of
// the store and its signing key.
func aptSource(a *apt.Aptly) env.APTSource {
	return env.APTSource{PublicDir: a.PublicDir(), KeyFile: filepath.Join(a.PublicDir(), apt.KeyFile)}
}

func envDeploy(e *Env, args []string) error {
	fs, f := envSubFlags(e, "deploy", "ENV BUILD", "deploy a build to a local environment, rolling")
	var sf storeFlags
	sf.add(fs)
	config := configFlag(fs)
	watch := fs.Duration("watch", 10*time.Second, "how long to watch health and the balancer's errors after the deploy")
	ready := fs.Duration("ready-timeout", 30*time.Second, "how long a new instance has to answer /readyz")
	l, pos, err := f.layout(e, fs, args, 2)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(e, *config)
	if err != nil {
		return err
	}
	ce, ok := cfg.Env(l.Name)
	if !ok {
		return Usagef("no environment %q in %s", l.Name, cfg.Path)
	}
	s, err := sf.open(e)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	build, err := storeResolveBuild(ctx, s, pos[1])
	if err != nil {
		return err
	}
	m, err := s.Manifest(ctx, build)
	if err != nil {
		return err
	}
	st, err := l.ReadStatus()
	if err != nil {
		return err
	}
	dep := promote.Deployment{Env: l.Name, Build: build, From: st.Build, Packages: m.Packages, Instances: ce.Instances}
	if ce.Deploy != "" {
		if err := env.RunCommand(ctx, e.Dir, ce.Deploy, dep, e.Stderr); err != nil {
			return deployExit(err)
		}
		fmt.Fprintf(e.Stdout, "%s: %s deployed %s\n", l.Name, ce.Deploy, short12(build))
		return nil
	}
	a, err := sf.aptly(e, s, true)
	if err != nil {
		return err
	}
	o := env.DeployOptions{Layout: l, Build: build, From: st.Build, Packages: m.Packages, Instances: ce.Instances,
		APT: aptSource(a), Watch: *watch, ReadyTimeout: *ready, By: fmt.Sprintf("%s: stride env deploy (pid %d)", defaultActor(), os.Getpid()), Log: e.Stderr}
	o.Hook = killHook()
	rec, err := env.Deploy(ctx, o)
	var fail *env.Failure
	if errors.As(err, &fail) && st.Build != "" && st.Build != build {
		fmt.Fprintf(e.Stderr, "%s: %v; deploying %s again\n", l.Name, err, short12(st.Build))
		pm, merr := s.Manifest(ctx, st.Build)
		if merr != nil {
			return merr
		}
		back := o
		back.Build, back.From, back.Packages, back.Hook = st.Build, build, pm.Packages, nil
		if _, berr := env.Deploy(ctx, back); berr != nil {
			return fmt.Errorf("%v; and the rollback to %s failed too: %w", err, short12(st.Build), berr)
		}
		return Exit(ExitFindings, fmt.Errorf("%v: %s runs %s again", err, l.Name, short12(st.Build)))
	}
	if err != nil {
		return deployExit(err)
	}
	if *f.asJSON {
		return writeJSON(e, rec)
	}
	t := rec.Timings
	fmt.Fprintf(e.Stdout, "%s runs %s: %d instances in %v (install %v, drain %v, start %v, readiness %v, watch %v)\n", l.Name, short12(build),
		len(rec.Slots), t.Total.Round(time.Millisecond), t.Install.Round(time.Millisecond), t.Drain.Round(time.Millisecond),
		t.Start.Round(time.Millisecond), t.Readiness.Round(time.Millisecond), t.Watch.Round(time.Millisecond))
	if rec.Resumed != "" {
		fmt.Fprintf(e.Stdout, "took over the interrupted %s\n", rec.Resumed)
	}
	return nil
}

// deployExit maps a deploy's failure to its exit code: unhealthy or a
// failed command 1, an environment not up 2.
func deployExit(err error) error {
	var fail *env.Failure
	var df *promote.DeployFailed
	switch {
	case errors.As(err, &fail), errors.As(err, &df):
		return Exit(ExitFindings, err)
	case errors.Is(err, env.ErrNotUp):
		return Exit(ExitUsage, err)
	}
	return err
}

// envDeployFlags are the promote commands' flags for the deployer.
type envDeployFlags struct {
	root  *string
	watch *time.Duration
	ready *time.Duration
}

func (f *envDeployFlags) add(fs *flag.FlagSet) {
	f.root = fs.String("env-root", "", "the `directory` of the local environments a promotion deploys to when they are up (default $STRIDE_ENV_ROOT, else $XDG_DATA_HOME/stride/envs/<repo>-<hash>)")
	f.watch = fs.Duration("watch", 10*time.Second, "after deploying to a local environment, how long to watch its health and balancer errors")
	f.ready = fs.Duration("ready-timeout", 30*time.Second, "how long a new instance of a local environment has to answer /readyz")
}

// deployer is the promotions' deployer: deploy commands, local
// environments that are up, else the switch alone.
func (f *envDeployFlags) deployer(e *Env, cfg *promote.Config, a *apt.Aptly, actor string) (*env.Deployer, error) {
	root := absPath(e.Dir, *f.root)
	if *f.root == "" {
		var err error
		if root, err = env.DefaultRoot(e.Dir); err != nil {
			return nil, err
		}
	}
	return &env.Deployer{Root: root, Config: cfg, RepoDir: e.Dir, APT: aptSource(a), Watch: *f.watch, ReadyTimeout: *f.ready,
		By: fmt.Sprintf("%s: stride promote (pid %d)", actor, os.Getpid()), Log: e.Stderr, Hook: killHook()}, nil
}

// killHook is the test knob of envKillEnv: nil unless it is set.
func killHook() func(string) {
	at := os.Getenv(envKillEnv)
	if at == "" {
		return nil
	}
	return func(point string) {
		if point == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}
}
