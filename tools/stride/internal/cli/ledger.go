package cli

import (
	"fmt"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
)

const ledgerHelp = `The promotion ledger: every evaluation, promotion, rollback, step and hold,
one git commit each on refs/stride/ledger of the repository (docs/promote.md).

  log     the events, oldest first; --env and --build (a prefix of the id) filter
  verify  the chain is intact and every promotion has the evaluation that allowed
          it; exit 1 on problems`

func init() {
	c := &Command{
		Name:    "ledger",
		Summary: "the promotion ledger (refs/stride/ledger): log, verify",
		Help:    ledgerHelp,
		Subs:    []string{"log", "verify"},
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			w := env.Stdout
			if len(args) == 0 {
				w = env.Stderr
			}
			printSubcommands(w, env, c)
			if len(args) == 0 {
				return &ExitError{Code: ExitUsage}
			}
			return nil
		}
		switch args[0] {
		case "log":
			return ledgerLog(env, args[1:])
		case "verify":
			return ledgerVerify(env, args[1:])
		}
		return Usagef("unknown subcommand %q (want log or verify)", args[0])
	}
	register(c)
}

// openLedger opens the ledger of the repository at env.Dir.
func openLedger(env *Env) (*gitrepo.Repo, *ledger.Ledger, error) {
	repo, err := gitrepo.Open(env.Dir)
	if err != nil {
		return nil, nil, Usagef("%v", err)
	}
	return repo, ledger.Open(repo), nil
}

func ledgerLog(env *Env, args []string) error {
	c := &Command{Name: "ledger log", Usage: "stride ledger log [--env ENV] [--build BUILD] [--json]",
		Summary: "the ledger's events, oldest first"}
	fs := NewFlagSet(env, c)
	envName := fs.String("env", "", "only events about `ENV` (and freezes)")
	build := fs.String("build", "", "only events about `BUILD` (a prefix of its id)")
	asJSON := fs.Bool("json", false, "print the events as a JSON array (schema stride.ledger-event/v1 each)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	repo, l, err := openLedger(env)
	if err != nil {
		return err
	}
	defer repo.Close()
	log, err := l.Read()
	if err != nil {
		return err
	}
	events := log.Filter(*envName, *build)
	if *asJSON {
		if events == nil {
			events = []ledger.Event{}
		}
		return writeJSON(env, events)
	}
	for _, e := range events {
		fmt.Fprintln(env.Stdout, e.Line())
	}
	if len(log.Events) == 0 {
		fmt.Fprintf(env.Stderr, "the ledger is empty (no %s yet)\n", ledger.Ref)
	}
	return nil
}

func ledgerVerify(env *Env, args []string) error {
	c := &Command{Name: "ledger verify", Usage: "stride ledger verify [--json]",
		Summary: "check the ledger's chain and that every promotion has the evaluation that allowed it; exit 1 on problems"}
	fs := NewFlagSet(env, c)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	repo, l, err := openLedger(env)
	if err != nil {
		return err
	}
	defer repo.Close()
	res, err := l.Verify()
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(env, res); err != nil {
			return err
		}
	} else {
		for _, p := range res.Problems {
			fmt.Fprintf(env.Stdout, "event #%d (commit %.12s): %s\n", p.Seq, p.Commit, p.Problem)
		}
		fmt.Fprintf(env.Stdout, "%s: %d events, %d problems\n", ledger.Ref, res.Events, len(res.Problems))
	}
	if !res.OK() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// ledgerState is the state of the ledger of the repository at env.Dir,
// read once for store gc and rebuild-apt; nil outside a repository (a
// store used on its own has no ledger).
func ledgerState(env *Env) (*ledger.State, error) {
	repo, err := gitrepo.Open(env.Dir)
	if err != nil {
		return nil, nil
	}
	defer repo.Close()
	log, err := ledger.Open(repo).Read()
	if err != nil {
		return nil, fmt.Errorf("read the ledger: %w", err)
	}
	return log.State(), nil
}
