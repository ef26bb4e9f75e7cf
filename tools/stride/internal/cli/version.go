package cli

import (
	"fmt"

	"github.com/strideci/monorepo/tools/stride/internal/version"
)

func init() {
	c := &Command{
		Name:    "version",
		NoRepo:  true,
		Summary: "print stride's version and the commit it was built from",
		Usage:   "stride version [--json]",
	}
	c.Run = func(env *Env, args []string) error {
		fs := NewFlagSet(env, c)
		asJSON := fs.Bool("json", false, "print JSON")
		if err := ParseFlags(fs, args); err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env, map[string]string{
				"version": version.Version,
				"commit":  version.Commit,
			})
		}
		_, err := fmt.Fprintln(env.Stdout, version.String())
		return err
	}
	register(c)
}
