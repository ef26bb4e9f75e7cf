// Command promotebench is `ci/bench promote`: it generates a repository,
// a store and a ledger (internal/promote/promotebench) and times stride's
// promote --auto and ledger log --env prod against baselines.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/promote/promotebench"
)

func main() {
	stride := flag.String("stride", "", "the stride `binary` to time")
	dir := flag.String("dir", "", "work `directory` (default: a new temporary one)")
	builds := flag.Int("builds", 1000, "published builds")
	events := flag.Int("events", 10000, "ledger events")
	reps := flag.Int("reps", 5, "timed runs of each command")
	flag.Parse()
	if err := run(*stride, *dir, *builds, *events, *reps); err != nil {
		fmt.Fprintf(os.Stderr, "promotebench: %v\n", err)
		os.Exit(1)
	}
}

func run(stride, dir string, builds, events, reps int) error {
	if stride == "" {
		return fmt.Errorf("want -stride BINARY")
	}
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "promotebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	start := time.Now()
	if err := promotebench.Generate(ctx, dir, builds, events, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("promotebench: generated in %v\n", time.Since(start).Round(time.Millisecond))
	repo, st := filepath.Join(dir, "repo"), filepath.Join(dir, "store")
	cache := filepath.Join(repo, ".git", "stride", "ledger-cache.gob")
	cold := func() { os.Remove(cache) }
	type measure struct {
		name string
		prep func()
		argv []string
	}
	ms := []measure{
		{"baseline: stride version (process start)", nil, []string{stride, "version"}},
		{"baseline: git log of the ledger (10,000 commits)", nil, []string{"git", "log", "--format=%H %s", "refs/stride/ledger"}},
		{"baseline: stride store ls (1,000 manifests)", nil, []string{stride, "-C", repo, "store", "ls", "--store", st}},
		{"stride ledger log --env prod (warm cache)", nil, []string{stride, "-C", repo, "ledger", "log", "--env", "prod"}},
		{"stride ledger log --env prod (cache deleted)", cold, []string{stride, "-C", repo, "ledger", "log", "--env", "prod"}},
		{"stride promote --auto (dry run)", nil, []string{stride, "-C", repo, "promote", "--auto", "--no-apt", "--store", st}},
		{"stride promote --auto --confirm", nil, []string{stride, "-C", repo, "promote", "--auto", "--confirm", "--no-apt", "--store", st}},
	}
	var got []promotebench.Timing
	for _, m := range ms {
		t, err := promotebench.Time(ctx, m.name, reps, repo, m.prep, m.argv...)
		if err != nil {
			return err
		}
		got = append(got, t)
	}
	base := got[0].Median
	fmt.Printf("\n%-50s %10s %8s %10s\n", "command (median of runs)", "wall", "x start", "cpu")
	for _, t := range got {
		fmt.Printf("%-50s %10v %8.1f %10v\n", t.Name, t.Median.Round(100*time.Microsecond), float64(t.Median)/float64(base), t.CPU.Round(100*time.Microsecond))
	}
	by := map[string]promotebench.Timing{}
	for _, t := range got {
		by[t.Name] = t
	}
	logT, gitT, autoT, lsT := by[ms[3].name], by[ms[1].name], by[ms[5].name], by[ms[2].name]
	fmt.Printf("\nledger log --env prod: %.2f x git log of the ledger (wall), %v wall, %v cpu; goal < 200ms\n",
		float64(logT.Median)/float64(gitT.Median), logT.Median.Round(time.Millisecond), logT.CPU.Round(time.Millisecond))
	fmt.Printf("promote --auto: %.2f x stride store ls (wall), %v wall, %v cpu; goal < 1s\n",
		float64(autoT.Median)/float64(lsT.Median), autoT.Median.Round(time.Millisecond), autoT.CPU.Round(time.Millisecond))
	return nil
}
