package cli

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

const promoteUsage = `stride promote --auto [--confirm] [--json]
       stride promote BUILD --to ENV --reason TEXT [--override] [--json]
       stride promote hold ENV --reason TEXT
       stride promote unhold ENV --reason TEXT
       stride promote lint [--config FILE] [--json]`

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
		Usage:   promoteUsage,
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) > 0 {
			switch args[0] {
			case "lint":
				return promoteLint(env, args[1:])
			}
		}
		return Usagef("want --auto, BUILD --to ENV, hold, unhold or lint (see stride promote -h)")
	}
	register(c)
}

// configFlag is the --config flag of the promote and ledger commands.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", promote.ConfigFile, "the environments `file`, relative to the repository root")
}

// loadConfig reads the environments file; its errors are bad input.
func loadConfig(env *Env, path string) (*promote.Config, error) {
	abs := pubAbs(env.Dir, path)
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
	if *asJSON {
		return storeWriteJSON(env, cfg)
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
		fmt.Fprintln(env.Stdout)
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d environments)\n", cfg.Path, len(cfg.Envs))
	return nil
}
