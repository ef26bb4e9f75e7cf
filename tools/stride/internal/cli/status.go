package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/status"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

const statusHelp = `Where a change stands (docs/status.md): which published builds contain it and
where each is in every environment of ci/environments.star (waiting, promoted,
replaced, rolled back, held), each criterion with its evidence and time (the
robot's dry run, else the last evaluation in the ledger), what it waits for, and
whose OWNERS approval is missing with the suggested reviewers.

The change is base..head (default: the merge base of HEAD and the default
branch, and HEAD), or with --build the build's run: its base and commit.

  --format md           a pull-request comment (at most 65,536 characters: large
                        changes are summarized, tables are never cut)
  --format json         schema stride.status/v1
  --format checks-json  a GitHub Checks API check run (POST .../check-runs)

Reads the ledger and the store; writes nothing. Exit codes: 0 printed, 2 bad input
(unknown revision or build, bad environments file), 3 a tool failed.`

func init() {
	c := &Command{
		Name:    "status",
		Usage:   "[--base REV --head REV | --build ID] [--format md|json|checks-json]",
		Summary: "where a change is: its builds in every environment, criteria, missing OWNERS approval",
		Help:    statusHelp,
	}
	c.Run = func(env *Env, args []string) error { return statusRun(env, c, args) }
	register(c)
}

func statusRun(env *Env, c *Command, args []string) error {
	fs := NewFlagSet(env, c)
	var sf storeFlags
	fs.StringVar(&sf.dir, "store", DefaultStoreDir(), "build store `directory` (env STRIDE_STORE)")
	config := configFlag(fs)
	base := fs.String("base", "", "the change's base `REV` (default: merge base of --head and the default branch)")
	head := fs.String("head", "", "the change's head `REV` (default HEAD)")
	build := fs.String("build", "", "the change of published build `ID` (or a unique prefix): its run's base and its commit")
	format := fs.String("format", "md", "output `format`: md, json or checks-json")
	asJSON := fs.Bool("json", false, "same as --format json")
	noLive := fs.Bool("no-live", false, "criteria only from the ledger's recorded evaluations (no dry run of the robot)")
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	if *asJSON {
		*format = "json"
	}
	switch {
	case *format != "md" && *format != "json" && *format != "checks-json":
		return Usagef("--format: want md, json or checks-json, got %q", *format)
	case *build != "" && (*base != "" || *head != ""):
		return Usagef("--build goes without --base and --head")
	}
	cfg, err := loadConfig(env, *config)
	if err != nil {
		return err
	}
	repo, err := gitrepo.Open(env.Dir)
	if err != nil {
		return Usagef("%v", err)
	}
	defer repo.Close()
	st, err := sf.open(env)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	facts, err := status.Load(ctx, status.Sources{Config: cfg, Repo: repo, Store: st, NoLive: *noLive})
	if err != nil {
		return err
	}
	opts := change.Options{Base: *base, Head: *head}
	if *build != "" {
		m, err := facts.Find(*build)
		if err != nil {
			return Usagef("%v", err)
		}
		opts = change.Options{Head: m.Commit, FirstParent: true}
		if m.Run != nil && m.Run.Base != "" {
			opts.Base = m.Run.Base
		}
	}
	ch, err := change.Resolve(repo, opts)
	if err != nil {
		return err
	}
	s, err := facts.Of(ch)
	if err != nil {
		return err
	}
	out, err := s.Render(*format)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(out)
	return err
}

// StatusFiles are the files writeRunStatus writes into a run's directory,
// by format.
var StatusFiles = map[string]string{"md": "status.md", "json": "status.json", "checks-json": "status.checks.json"}

// writeRunStatus writes the status of a pushed branch's head (against the
// default branch) into the run's directory outDir, for the hooks: the
// ledger and commits come from the repository at gitDir, the
// environments from the checked-out workDir, the builds from the default
// store (none when there is no store).
func writeRunStatus(ctx context.Context, gitDir, workDir, head, outDir string, log io.Writer) error {
	cfgPath := filepath.Join(workDir, promote.ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		fmt.Fprintf(log, "stride hook: no status: %s is missing\n", promote.ConfigFile)
		return nil
	}
	cfg, err := promote.LoadConfig(cfgPath, promote.ConfigFile)
	if err != nil {
		return err
	}
	repo, err := gitrepo.Open(gitDir)
	if err != nil {
		return err
	}
	defer repo.Close()
	var st store.Store
	if s, err := store.OpenExistingFS(DefaultStoreDir()); err == nil {
		st = s
	} else if !errors.Is(err, store.ErrNoStore) {
		return err
	}
	facts, err := status.Load(ctx, status.Sources{Config: cfg, Repo: repo, Store: st, Now: time.Now()})
	if err != nil {
		return err
	}
	ch, err := change.Resolve(repo, change.Options{Head: head, FirstParent: true})
	if err != nil {
		return err
	}
	s, err := facts.Of(ch)
	if err != nil {
		return err
	}
	for _, f := range status.Formats {
		b, err := s.Render(f)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(outDir, StatusFiles[f]), b); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
	}
	fmt.Fprintf(log, "stride hook: status: %s (%s)\n", s.Verdict, filepath.Join(outDir, StatusFiles["md"]))
	return nil
}
