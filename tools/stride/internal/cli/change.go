package cli

import (
	"fmt"

	"github.com/strideci/monorepo/tools/stride/internal/change"
)

func init() {
	c := &Command{
		Name:    "change",
		Summary: "the change stride sees: base and head commits, how base was chosen, the changed files",
		Usage:   "stride [-C DIR] change [--base REV] [--head REV] [--pushed SHA] [--uncommitted] [--no-first-parent] [--json | --print base|head]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		base := fs.String("base", "", "base `revision` (default: the merge base of head and the default branch; head's first parent when head is on it)")
		head := fs.String("head", "", "head `revision` (default: HEAD)")
		pushed := fs.String("pushed", "", "the pushed ref's previous tip `sha`, as a hook receives it: the base when the repository has it")
		uncommitted := fs.Bool("uncommitted", false, "head is the work tree, with its uncommitted changes")
		noFirstParent := fs.Bool("no-first-parent", false, "on the default branch, keep the merge base (head itself) as `stride affected` and `stride owners check` do, rather than head's first parent as `stride run` does")
		asJSON := fs.Bool("json", false, "print the change as JSON (schema stride.change/v1)")
		print := fs.String("print", "", "print only the `field`'s commit: base or head (for scripts; empty for no base)")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return Usagef("unexpected argument %q", fs.Arg(0))
		}
		if *print != "" && *print != "base" && *print != "head" {
			return Usagef("--print %q: want base or head", *print)
		}
		if *print != "" && *asJSON {
			return Usagef("give --json or --print, not both")
		}
		ch, err := change.Open(env.Dir, change.Options{Base: *base, Head: *head, Pushed: *pushed,
			Uncommitted: *uncommitted, FirstParent: !*noFirstParent})
		if err != nil {
			return err
		}
		s, err := ch.Summary()
		if err != nil {
			return err
		}
		switch {
		case *print == "base":
			fmt.Fprintln(env.Stdout, s.Base)
			return nil
		case *print == "head":
			fmt.Fprintln(env.Stdout, s.Head)
			return nil
		case *asJSON:
			return writeJSON(env, s)
		}
		if ch.Note != "" {
			fmt.Fprintf(env.Stderr, "stride change: %s\n", ch.Note)
		}
		fmt.Fprintf(env.Stdout, "base %s (%s: %s)\nhead %s (%s)\n", orNone(s.Base), s.BaseFrom, s.BaseRev, s.Head, s.HeadRev)
		if s.Uncommitted {
			fmt.Fprintln(env.Stdout, "     plus the work tree's uncommitted changes")
		}
		for _, f := range s.Files {
			if f.OldPath != "" {
				fmt.Fprintf(env.Stdout, "%-8s %s -> %s\n", f.Status, f.OldPath, f.Path)
			} else {
				fmt.Fprintf(env.Stdout, "%-8s %s\n", f.Status, f.Path)
			}
		}
		return nil
	}
	register(c)
}

func orNone(s string) string {
	if s == "" {
		return "(none: head's whole history)"
	}
	return s
}
