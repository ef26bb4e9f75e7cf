package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
)

const ownersHelp = `OWNERS files say who may approve changes to each directory (docs/owners.md).

  who      the owners of each path, and the OWNERS line that grants each
  check    is every file changed between --base and --head approved by its owners?
           Approvals: Approved-by: trailers of the change's commits, --approvals FILE
           (GitHub's pull-request reviews JSON, or a JSON array of emails), --approved-by.
           Exit 1 if a file is not approved.
  suggest  the fewest closest owners to ask for the missing approvals
  lint     every problem in the OWNERS files at once; exit 1 on errors
  teams    the teams of OWNERS_ALIASES, their members and the directories they own

--base defaults to the merge base of --head (default HEAD) and the default branch
(origin/HEAD, main or master). check and suggest read OWNERS at the commits, not the
work tree; who, lint and teams read the work tree unless --rev is given.`

func init() {
	c := &Command{
		Name:    "owners",
		Summary: "OWNERS files: who owns a path, check approvals of a change, suggest approvers, lint",
		Help:    ownersHelp,
		Subs:    []string{"who", "check", "suggest", "lint", "teams"},
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
		sub, rest := args[0], args[1:]
		switch sub {
		case "who":
			return ownersWho(env, rest)
		case "check":
			return ownersCheck(env, rest, false)
		case "suggest":
			return ownersCheck(env, rest, true)
		case "lint":
			return ownersLint(env, rest)
		case "teams":
			return ownersTeams(env, rest)
		}
		return Usagef("unknown subcommand %q (want who, check, suggest, lint or teams)", sub)
	}
	register(c)
}

func ownersSubFlags(env *Env, name, usage, summary string) *flag.FlagSet {
	return NewFlagSet(env, &Command{Name: "owners " + name, Usage: usage, Summary: summary})
}

// ownersTree loads the OWNERS tree of the work tree, or of rev if set. It
// returns the tree (even with errors in OWNERS files; diags then lists
// them) and the directory paths are relative to.
func ownersTree(env *Env, rev string) (tree *owners.Tree, root string, repo *gitrepo.Repo, err error) {
	repo, err = gitrepo.Open(env.Dir)
	if err != nil && !(errors.Is(err, gitrepo.ErrNotRepository) && rev == "") {
		return nil, "", nil, err
	}
	root = env.Dir
	if repo != nil && repo.Root() != "" {
		root = repo.Root()
	}
	if rev != "" {
		h, err := repo.ResolveRevision(rev)
		if err != nil {
			return nil, "", nil, err
		}
		tree, err = owners.LoadAt(repo, h)
	} else {
		tree, err = owners.LoadDir(root)
	}
	var ds owners.Diagnostics
	if err != nil && !(errors.As(err, &ds) && tree != nil) {
		return nil, "", nil, err
	}
	return tree, root, repo, nil
}

// ownersRelPath turns a command-line path (relative to env.Dir, or
// absolute) into a slash path relative to the repository root.
func ownersRelPath(env *Env, root, p string) (string, error) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(env.Dir, p)
	}
	r1, err1 := filepath.EvalSymlinks(root)
	if err1 != nil {
		r1 = root
	}
	a1 := abs
	// The path may not exist (a deleted file): resolve its directory.
	if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		a1 = filepath.Join(d, filepath.Base(abs))
	}
	rel, err := filepath.Rel(r1, a1)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", Usagef("%s is outside the repository %s", p, root)
	}
	rel = filepath.ToSlash(rel)
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator)) {
		rel += "/"
	}
	return rel, nil
}

func ownersWho(env *Env, args []string) error {
	fl := ownersSubFlags(env, "who", "stride owners who [--rev REV] [--json] PATH...",
		"the owners of each path and the OWNERS file and line that grant it")
	asJSON := fl.Bool("json", false, "print JSON (schema "+owners.WhoSchema+")")
	rev := fl.String("rev", "", "read OWNERS at revision `REV` instead of the work tree")
	if err := ParseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return Usagef("owners who needs at least one PATH")
	}
	tree, root, repo, err := ownersTree(env, *rev)
	if err != nil {
		return err
	}
	var fsys fs.FS
	if *rev != "" {
		h, err := repo.ResolveRevision(*rev)
		if err != nil {
			return err
		}
		if fsys, err = repo.FS(h); err != nil {
			return err
		}
	} else {
		fsys = os.DirFS(root)
	}
	var list []*owners.Owners
	for _, p := range fl.Args() {
		rel, err := ownersRelPath(env, root, p)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(rel, "/") && fsys != nil {
			if st, err := fsStat(fsys, rel); err == nil && st.IsDir() {
				rel += "/"
			}
		}
		if rel == "./" {
			rel = "."
		}
		list = append(list, tree.Resolve(rel))
	}
	if *asJSON {
		return writeJSON(env, map[string]interface{}{"schema": owners.WhoSchema, "paths": list})
	}
	if err := owners.WriteWho(env.Stdout, list); err != nil {
		return err
	}
	return ownersWarnErrors(env, tree)
}

func fsStat(fsys fs.FS, p string) (fs.FileInfo, error) {
	if p == "." {
		return fs.Stat(fsys, ".")
	}
	return fs.Stat(fsys, strings.TrimSuffix(p, "/"))
}

// ownersWarnErrors notes on stderr that OWNERS files have errors (the
// answer may be incomplete).
func ownersWarnErrors(env *Env, tree *owners.Tree) error {
	if errs := tree.Diagnostics().Errors(); len(errs) > 0 {
		fmt.Fprintf(env.Stderr, "stride owners: warning: the OWNERS files have %d errors (run 'stride owners lint'); the first: %s\n", len(errs), errs[0])
	}
	return nil
}

func ownersCheck(env *Env, args []string, suggest bool) error {
	name, usage, summary := "check", "[PATH...]",
		"check that the owners of every changed file approved; exit 1 if not.\n"+
			"With PATHs, the change is those files (a directory: every file in it) instead of base..head."
	if suggest {
		name, summary = "suggest",
			"the fewest closest owners who can complete the missing approvals.\n"+
				"With PATHs: whom to ask to approve a change to those files (a directory: every file in it)."
	}
	fl := ownersSubFlags(env, name, usage, summary)
	base := fl.String("base", "", "compare with revision `REV` (default: merge base of --head and the default branch)")
	head := fl.String("head", "HEAD", "the change's head revision `REV`")
	approvalsFile := fl.String("approvals", "", "JSON `FILE` of review approvals: GitHub's pull-request reviews API response, or an array of emails")
	var approvedBy, authors stringList
	fl.Var(&approvedBy, "approved-by", "count `EMAIL` as an approval (repeatable)")
	fl.Var(&authors, "author", "the change's author `EMAIL` (repeatable; default: the authors of its commits)")
	noSelf := fl.Bool("no-self-approval", false, "authors do not count as approvers of files they own")
	asJSON := fl.Bool("json", false, "print JSON (same as --format json)")
	format := "text"
	var md *bool
	if !suggest {
		fl.StringVar(&format, "format", "text", "output `FORMAT`: text, md (Markdown for a PR comment) or json")
		md = fl.Bool("markdown", false, "print Markdown (same as --format md)")
	}
	if err := ParseFlags(fl, args); err != nil {
		return err
	}
	if md != nil && *md {
		format = "md"
	}
	if *asJSON {
		format = "json"
	}
	switch format {
	case "text", "md", "json":
	case "markdown":
		format = "md"
	default:
		return Usagef("--format %q: want text, md or json", format)
	}
	if fl.NArg() > 0 && *base != "" {
		return Usagef("give PATHs or --base, not both: PATHs are the change")
	}
	// A typo would silently approve (or author) nothing.
	for _, f := range []struct {
		flag   string
		emails []string
	}{{"--approved-by", approvedBy}, {"--author", authors}} {
		for _, e := range f.emails {
			if err := owners.ValidateEmail(e); err != nil {
				return Usagef("%s: %v", f.flag, err)
			}
		}
	}
	repo, err := gitrepo.Open(env.Dir)
	if err != nil {
		return err
	}
	opts := owners.RepoCheck{Base: *base, Head: *head, NoSelfApproval: *noSelf, Approvers: approvedBy}
	if fl.NArg() > 0 {
		if opts.Paths, err = ownersFiles(env, repo.Root(), fl.Args()); err != nil {
			return err
		}
	}
	if len(authors) > 0 {
		opts.Authors = authors
	}
	if *approvalsFile != "" {
		p := *approvalsFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(env.Dir, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return Usagef("--approvals: %v", err)
		}
		opts.Reviews, opts.ReviewsName = data, *approvalsFile
	}
	res, err := owners.CheckRepo(repo, opts)
	if err != nil {
		return err
	}
	sug := owners.Suggest(res)
	if suggest {
		if format == "json" {
			err = writeJSON(env, sug)
		} else {
			err = sug.WriteText(env.Stdout)
		}
		if err != nil {
			return err
		}
		// Broken OWNERS files fail suggest as they fail check.
		if len(sug.Diagnostics) > 0 {
			return &ExitError{Code: ExitFindings}
		}
		return nil
	}
	switch format {
	case "json":
		err = writeJSON(env, res)
	case "md":
		err = res.WriteMarkdown(env.Stdout, sug)
	default:
		err = res.WriteText(env.Stdout)
		if err == nil && !res.OK && len(sug.Approvers) > 0 {
			var names []string
			for _, a := range sug.Approvers {
				if len(a.AnyOf) > 0 {
					names = append(names, "any one of ("+strings.Join(a.AnyOf, ", ")+")")
					continue
				}
				names = append(names, a.Email)
			}
			_, err = fmt.Fprintf(env.Stdout, "\nsuggested approvers: %s\n", strings.Join(names, ", "))
		}
	}
	if err != nil {
		return err
	}
	if !res.OK {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func ownersLint(env *Env, args []string) error {
	fl := ownersSubFlags(env, "lint", "stride owners lint [--rev REV] [--strict] [--json]",
		"report every problem in the OWNERS files at once; exit 1 on errors")
	asJSON := fl.Bool("json", false, "print JSON (schema "+owners.LintSchema+")")
	rev := fl.String("rev", "", "lint the OWNERS files at revision `REV` instead of the work tree")
	strict := fl.Bool("strict", false, "warnings fail too")
	if err := ParseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return Usagef("unexpected argument %q", fl.Arg(0))
	}
	tree, _, _, err := ownersTree(env, *rev)
	if err != nil {
		return err
	}
	ds := owners.Lint(tree)
	rep := owners.NewLintReport(tree, ds, *strict)
	if *asJSON {
		if err := writeJSON(env, rep); err != nil {
			return err
		}
	} else {
		for _, d := range ds {
			fmt.Fprintln(env.Stdout, d)
		}
		fmt.Fprintf(env.Stdout, "owners lint: %s\n", rep)
	}
	if !rep.OK {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func ownersTeams(env *Env, args []string) error {
	fl := ownersSubFlags(env, "teams", "stride owners teams [--rev REV] [--json] [TEAM]",
		"the teams of OWNERS_ALIASES with their members and owned directories; with TEAM, its directories")
	asJSON := fl.Bool("json", false, "print JSON (schema "+owners.TeamsSchema+")")
	rev := fl.String("rev", "", "read OWNERS at revision `REV` instead of the work tree")
	if err := ParseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() > 1 {
		return Usagef("at most one TEAM")
	}
	tree, _, _, err := ownersTree(env, *rev)
	if err != nil {
		return err
	}
	if fl.NArg() == 1 {
		dirs, err := tree.DirsOwnedBy(fl.Arg(0))
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(env, map[string]interface{}{"schema": owners.TeamsSchema, "team": strings.TrimPrefix(fl.Arg(0), "@"), "dirs": dirs})
		}
		for _, d := range dirs {
			fmt.Fprintln(env.Stdout, d)
		}
		return nil
	}
	teams := tree.Teams()
	if *asJSON {
		if teams == nil {
			teams = []owners.Team{}
		}
		return writeJSON(env, map[string]interface{}{"schema": owners.TeamsSchema, "teams": teams})
	}
	for _, t := range teams {
		fmt.Fprintf(env.Stdout, "@%s  (%s)\n  members: %s\n  owns: %s\n", t.Name, t.Source.FileLine(),
			strings.Join(t.Members, ", "), strings.Join(t.Dirs, ", "))
	}
	return ownersWarnErrors(env, tree)
}

// ownersFiles turns command-line paths into root-relative files: a
// directory stands for every file below it in the work tree (.git
// excluded), a path that does not exist for itself (a file to add).
func ownersFiles(env *Env, root string, args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(rel string) {
		if !seen[rel] {
			seen[rel] = true
			out = append(out, rel)
		}
	}
	for _, a := range args {
		rel, err := ownersRelPath(env, root, a)
		if err != nil {
			return nil, err
		}
		rel = strings.TrimSuffix(rel, "/")
		abs := filepath.Join(root, filepath.FromSlash(rel))
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			if rel == "" || rel == "." {
				return nil, Usagef("%s: not a file", a)
			}
			add(rel)
			continue
		}
		n := len(out)
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				r, _ := filepath.Rel(root, p)
				add(filepath.ToSlash(r))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", a, err)
		}
		if len(out) == n {
			return nil, Usagef("%s: no files in it", a)
		}
	}
	return out, nil
}
