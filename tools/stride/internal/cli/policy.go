package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/policy"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run"
)

const policyHelp = `The commit policy of a push (docs/quality-gates.md).

  check  check the commits of base..head (as git log base..head): their messages,
         the files each adds (size, secrets), and at head the BUILD files against
         Gazelle and the changed OWNERS files. Exit 1 on findings.
  rules  the rules and their ids (for --disable)

--base defaults to the default branch (origin/HEAD, main or master); git's all-zero
sha (a new branch in a hook) means the same. --head defaults to HEAD.`

func init() {
	c := &Command{
		Name:    "policy",
		Summary: "commit policy of a push: messages, file sizes, secrets, Gazelle drift, OWNERS lint",
		Help:    policyHelp,
		Subs:    []string{"check", "rules"},
		// rules only lists the rules.
		NoRepoSubs: []string{"rules"},
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 {
			return Usagef("missing subcommand (want check or rules; see 'stride policy -h')")
		}
		switch args[0] {
		case "check":
			return policyCheck(env, args[1:])
		case "rules":
			return policyRules(env, args[1:])
		case "-h", "-help", "--help", "help":
			printSubcommands(env.Stdout, env, c)
			return nil
		}
		return Usagef("unknown subcommand %q (want check or rules)", args[0])
	}
	register(c)
}

// listFlag collects repeated and comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// sizeFlag is a byte count with an optional K, M or G suffix (powers of
// 1024; "KiB", "MiB" and "GiB" too).
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }
func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 1048576, 512K, 2M)", v)
	}
	return n * mult, nil
}

func policyCheck(env *Env, args []string) error {
	fs := NewFlagSet(env, &Command{Name: "policy check", Usage: "stride policy check",
		Summary: "check the commits of base..head against the commit policy"})
	base := fs.String("base", "", "the change's base `REV` (default: the default branch)")
	head := fs.String("head", "HEAD", "the change's head `REV`")
	asJSON := fs.Bool("json", false, "print the result as JSON (schema "+policy.Schema+")")
	noGazelle := fs.Bool("no-gazelle", false, "skip generated-drift (it runs Bazel)")
	gazelleCmd := fs.String("gazelle-cmd", strings.Join(policy.DefaultGazelleCommand, " "),
		"the `command` that prints Gazelle's diff (split on spaces; run in the work tree)")
	var o policy.Options
	fs.IntVar(&o.MaxSubject, "max-subject", policy.DefaultMaxSubject, "longest subject line, in characters")
	fs.IntVar(&o.MaxBodyLine, "max-body-line", policy.DefaultMaxBodyLine, "longest body line, in characters")
	maxSize := sizeFlag(policy.DefaultMaxFileSize)
	fs.Var(&maxSize, "max-file-size", "largest file a commit may add, e.g. 1M or 512K")
	var allow, disable listFlag
	fs.Var(&allow, "allow-large", "`GLOB` of paths exempt from the size limit (path.Match, or DIR/**); repeatable")
	fs.Var(&disable, "disable", "`RULE` ids not to check (comma-separated or repeated; see stride policy rules)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.MaxFileSize = int64(maxSize)
	o.AllowLarge, o.Disable, o.NoGazelle = allow, disable, *noGazelle
	o.GazelleCommand = strings.Fields(*gazelleCmd)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := policy.Check(ctx, env.Dir, *base, *head, o)
	if err != nil {
		return err // exitCodeOf: bad options and revisions 2
	}
	if *asJSON {
		if err := writeJSON(env, res); err != nil {
			return err
		}
	} else if err := res.WriteText(env.Stdout); err != nil {
		return err
	}
	if !res.OK() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func policyRules(env *Env, args []string) error {
	fs := NewFlagSet(env, &Command{Name: "policy rules", Usage: "stride policy rules [--json]",
		Summary: "list the commit policy's rules"})
	asJSON := fs.Bool("json", false, "print the rules as a JSON array")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env, policy.Rules)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, r := range policy.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Scope, r.Summary)
	}
	return tw.Flush()
}

var _ flag.Value = (*listFlag)(nil)

// policyChecker returns the policy step of `stride run` (run.Options.Policy):
// policy.Check of base..head with the default rules, Gazelle run through
// bazelBin ("" means "bazel"), mapped to a report.Check whose findings are
// the findings' one-line forms.
func policyChecker(bazelBin string) run.CheckerFunc {
	if bazelBin == "" {
		bazelBin = "bazel"
	}
	gazelle := append([]string{bazelBin}, policy.DefaultGazelleCommand[1:]...)
	return func(ctx context.Context, ch *change.Change) report.Check {
		res, err := policy.CheckChange(ctx, ch, policy.Options{GazelleCommand: gazelle})
		if err != nil {
			return report.Check{Reason: "policy check failed: " + strings.SplitN(err.Error(), "\n", 2)[0]}
		}
		c := report.Check{Checked: true, OK: res.OK(), Reason: res.Summary()}
		for _, f := range res.Findings {
			c.Findings = append(c.Findings, f.String())
		}
		for _, sk := range res.Skipped {
			c.Findings = append(c.Findings, fmt.Sprintf("skipped %s: %s", sk.Rule, sk.Reason))
		}
		return c
	}
}
