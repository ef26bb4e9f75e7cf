package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/shard"
)

func init() {
	c := &Command{
		Name:    "report",
		Summary: "combine the partial reports of a sharded run (stride run --shard I/N) into the run's report",
		Subs:    []string{"merge"},
		// The shards' directories may be anywhere, e.g. a CI's downloads.
		NoRepo: true,
	}
	c.Run = func(env *Env, args []string) error {
		if len(args) == 0 {
			return Usagef("missing subcommand (want merge; see 'stride report -h')")
		}
		switch args[0] {
		case "merge":
			return reportMerge(env, args[1:])
		case "-h", "-help", "--help", "help":
			printSubcommands(env.Stdout, env, c)
			return nil
		}
		return Usagef("unknown subcommand %q (want merge)", args[0])
	}
	register(c)
}

func reportMerge(env *Env, args []string) error {
	c := &Command{Name: "report merge", Usage: "SHARD_DIR...",
		Summary: "merge the shards' report directories into one report.json, report.md and junit.xml"}
	fl := NewFlagSet(env, c)
	out := fl.String("out", "", "write the merged report to `DIR` (default: the shards' common parent, out/runs/<head>/ for shards in their default place)")
	asJSON := fl.Bool("json", false, "print the merged report.json (schema stride.report/v1) to stdout")
	if err := ParseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return Usagef("want the shards' report directories")
	}
	var parts []*shard.Partial
	for _, d := range fl.Args() {
		p, err := shard.ReadPartial(absPath(env.Dir, d))
		if err != nil {
			return Exit(ExitUsage, err)
		}
		parts = append(parts, p)
	}
	m, j, err := shard.Merge(parts)
	var me *shard.MergeError
	switch {
	case errors.As(err, &me):
		for _, p := range me.Problems {
			fmt.Fprintf(env.Stderr, "stride report merge: %s\n", p)
		}
		return Exit(ExitFindings, fmt.Errorf("%d problem(s); nothing written", len(me.Problems)))
	case err != nil:
		return Exit(ExitUsage, err)
	}
	dir := *out
	if dir == "" {
		dir = commonParent(parts)
	}
	dir = absPath(env.Dir, dir)
	if err := shard.Write(dir, m, j); err != nil {
		return err
	}
	if *asJSON {
		b, err := m.Marshal()
		if err != nil {
			return err
		}
		env.Stdout.Write(b)
	} else {
		fmt.Fprintf(env.Stdout, "stride report merge: %s: %s\n", strings.ToUpper(string(m.Status)), m.Summary)
		fmt.Fprintf(env.Stdout, "report: %s\n", filepath.Join(dir, report.MarkdownFile))
	}
	if m.ExitCode != ExitOK {
		return Exit(m.ExitCode, nil)
	}
	return nil
}

// commonParent is the directory holding every shard's directory.
func commonParent(parts []*shard.Partial) string {
	dir := filepath.Dir(parts[0].Dir)
	for _, p := range parts[1:] {
		for !strings.HasPrefix(p.Dir, dir+string(filepath.Separator)) && dir != filepath.Dir(dir) {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

// shardDurations reads the test durations of the reports under paths
// (report.json files, or directories searched three levels deep).
// Unreadable or foreign JSON files are skipped: history only balances.
// Only whole runs count (merged or unsharded reports) of other commits
// than head: every shard of a run must compute the same plan, and the
// partial reports of this very run appear while its shards start.
func shardDurations(env *Env, head string, paths []string) (map[string]int64, error) {
	var reports []*report.Report
	for _, p := range paths {
		p = absPath(env.Dir, p)
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, Exit(ExitUsage, fmt.Errorf("--shard-history: %w", err))
		}
		if !st.IsDir() {
			r, err := report.Read(p)
			if err != nil {
				return nil, Exit(ExitUsage, fmt.Errorf("--shard-history: %w", err))
			}
			if r.Shard == nil && r.Head.SHA != head {
				reports = append(reports, r)
			}
			continue
		}
		depth := strings.Count(p, string(filepath.Separator))
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && strings.Count(path, string(filepath.Separator))-depth > 3 {
				return filepath.SkipDir
			}
			if !d.IsDir() && d.Name() == report.JSONFile {
				if r, err := report.Read(path); err == nil && r.Shard == nil && r.Head.SHA != head {
					reports = append(reports, r)
				}
			}
			return nil
		})
	}
	return shard.Durations(reports), nil
}
