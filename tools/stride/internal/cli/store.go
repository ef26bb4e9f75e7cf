package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/serving"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

const storeHelp = `The build store: content-addressed blobs and one manifest per published build
(docs/store.md). BUILD is a build id (the commit sha) or a unique prefix of one.

  ls      the published builds, newest first, with the environments serving them
  show    a build's manifest: packages, artifacts, digests
  verify  check every manifest and blob (bytes against digests); exit 1 on problems
  gc      remove builds that no environment serves and nobody pinned, then the blobs
          no remaining build names; a dry run unless --confirm. What the environments
          serve is read from the published APT tree and from aptly's database; gc
          refuses (exit 1, nothing removed) when they disagree, 3 when one is unreadable
  pin     keep a build through gc; unpin undoes it
  rebuild-apt
          rebuild aptly's database from the store: every build's packages and
          snapshot, every environment published again from the build it serves
          (read from the published tree)

Only publish creates a store: the other subcommands exit 2 when --store is not one.
Exit codes: 0 ok, 1 findings (verify's problems, gc's disagreeing records),
2 bad input (no store, unknown build, malformed manifest), 3 a tool or the disk failed.

The store is --store DIR, else $STRIDE_STORE, else $XDG_DATA_HOME/stride/store
(~/.local/share/stride/store). aptly's root is DIR/aptly; the signing key's GnuPG
home is --gnupg DIR, else $STRIDE_GNUPGHOME, else $XDG_DATA_HOME/stride/gnupg.`

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	dir   string
	gnupg string
}

func strideDataHome() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "stride-data")
	}
	return filepath.Join(home, ".local", "share")
}

// DefaultStoreDir is the store used without --store: $STRIDE_STORE, else
// $XDG_DATA_HOME/stride/store.
func DefaultStoreDir() string {
	if d := os.Getenv("STRIDE_STORE"); d != "" {
		return d
	}
	return filepath.Join(strideDataHome(), "stride", "store")
}

func defaultGnuPGHome() string {
	if d := os.Getenv("STRIDE_GNUPGHOME"); d != "" {
		return d
	}
	return filepath.Join(strideDataHome(), "stride", "gnupg")
}

func (f *storeFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "store", DefaultStoreDir(), "build store `directory` (env STRIDE_STORE)")
	fs.StringVar(&f.gnupg, "gnupg", defaultGnuPGHome(), "GnuPG home `directory` of the APT signing key (env STRIDE_GNUPGHOME)")
}

// open opens the existing store (exit 2 when there is none).
func (f *storeFlags) open(env *Env) (*store.FS, error) {
	s, err := store.OpenExistingFS(absPath(env.Dir, f.dir))
	if errors.Is(err, store.ErrNoStore) {
		return nil, Exit(ExitUsage, err)
	}
	return s, err
}

// create opens the store, creating it if needed (publish).
func (f *storeFlags) create(env *Env) (*store.FS, error) {
	return store.OpenFS(absPath(env.Dir, f.dir))
}

// parseOpen parses a subcommand's args, flags before or after the
// positional ones, which must be nargs (0, or 1: a BUILD), and opens the
// store; it returns the positional arguments.
func (f *storeFlags) parseOpen(env *Env, fs *flag.FlagSet, args []string, nargs int) (*store.FS, []string, error) {
	if err := ParseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	pos := fs.Args()
	switch {
	case nargs == 0 && len(pos) > 0:
		return nil, nil, Usagef("unexpected argument %q", pos[0])
	case nargs == 1 && len(pos) != 1:
		return nil, nil, Usagef("want one BUILD")
	}
	s, err := f.open(env)
	return s, pos, err
}

// aptly returns the store's aptly driver, or nil when aptly is not set up
// there (no aptly directory) and need is false.
func (f *storeFlags) aptly(env *Env, s *store.FS, need bool) (*apt.Aptly, error) {
	root := filepath.Join(s.Root(), "aptly")
	if !need {
		if _, err := os.Stat(root); err != nil {
			return nil, nil
		}
	}
	if err := apt.Available(); err != nil {
		return nil, err
	}
	return &apt.Aptly{Root: root, Keyring: &apt.Keyring{Home: absPath(env.Dir, f.gnupg)}}, nil
}

func init() {
	c := &Command{
		Name:    "store",
		Summary: "the build store: list, show, verify and garbage-collect published builds",
		Help:    storeHelp,
		Subs:    []string{"ls", "show", "verify", "gc", "pin", "unpin", "rebuild-apt"},
		NoRepo:  true,
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
		case "ls", "list":
			return storeLs(env, rest)
		case "show":
			return storeShow(env, rest)
		case "verify":
			return storeVerify(env, rest)
		case "gc":
			return storeGC(env, rest)
		case "pin", "unpin":
			return storePin(env, sub, rest)
		case "rebuild-apt":
			return storeRebuildApt(env, rest)
		}
		return Usagef("unknown subcommand %q (want ls, show, verify, gc, pin, unpin or rebuild-apt)", sub)
	}
	register(c)
}

func storeSubFlags(env *Env, name, usage, summary string) (*flag.FlagSet, *storeFlags) {
	fs := NewFlagSet(env, &Command{Name: "store " + name, Usage: usage, Summary: summary})
	sf := &storeFlags{}
	sf.add(fs)
	return fs, sf
}

// storeEnvironments maps builds to the environments (published
// distributions) serving them; empty when the store has no aptly. When the
// records disagree or one cannot be read it warns and shows what the
// published tree says (what clients get), or nothing.
func storeEnvironments(ctx context.Context, env *Env, sf *storeFlags, s *store.FS) (map[string][]string, error) {
	a, err := sf.aptly(env, s, false)
	if err != nil || a == nil {
		return map[string][]string{}, err
	}
	served, err := store.Served(ctx, serving.Sources(s, a))
	if err != nil {
		// A listing still lists: it warns and shows what clients get.
		fmt.Fprintf(env.Stderr, "stride store: warning: %v (showing the published tree's view; see stride store rebuild-apt)\n", err)
		if served, err = (&serving.Tree{Dir: a.PublicDir(), Store: s}).Environments(ctx); err != nil {
			fmt.Fprintf(env.Stderr, "stride store: warning: %v (environments not shown)\n", err)
			return map[string][]string{}, nil
		}
	}
	return served.ServedBuilds(), nil
}

// StoreBuildSummary is one line of `stride store ls --json`.
type StoreBuildSummary struct {
	Build        string          `json:"build"`
	Number       int             `json:"number"`
	Branch       string          `json:"branch,omitempty"`
	Time         time.Time       `json:"time"`
	Size         int64           `json:"size"`
	Packages     []store.Package `json:"packages"`
	Environments []string        `json:"environments,omitempty"`
	Pinned       string          `json:"pinned,omitempty"`
}

func storeLs(env *Env, args []string) error {
	fs, sf := storeSubFlags(env, "ls", "stride store ls [--json]", "list the published builds, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	s, _, err := sf.parseOpen(env, fs, args, 0)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ids, err := s.Builds(ctx)
	if err != nil {
		return err
	}
	envs, err := storeEnvironments(ctx, env, sf, s)
	if err != nil {
		return err
	}
	pins, err := s.Pins(ctx)
	if err != nil {
		return err
	}
	list := []StoreBuildSummary{}
	var bad []string
	for _, id := range ids {
		m, err := s.Manifest(ctx, id)
		if errors.Is(err, store.ErrInvalid) {
			bad = append(bad, err.Error())
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return err
		}
		list = append(list, StoreBuildSummary{Build: id, Number: m.Number, Branch: m.Branch, Time: m.Time, Size: m.Size(), Packages: m.Packages, Environments: envs[id], Pinned: pins[id]})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Number != list[j].Number {
			return list[i].Number > list[j].Number
		}
		return list[i].Time.After(list[j].Time)
	})
	// Malformed manifests: the others are listed, then exit 2 naming them.
	badErr := func() error {
		if len(bad) == 0 {
			return nil
		}
		return Exit(ExitUsage, fmt.Errorf("%d malformed manifests (stride store verify checks the store): %s", len(bad), strings.Join(bad, "; ")))
	}
	if *asJSON {
		if err := writeJSON(env, list); err != nil {
			return err
		}
		return badErr()
	}
	if len(list) == 0 {
		fmt.Fprintf(env.Stdout, "no builds in %s\n", s.Root())
		return badErr()
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUILD\tNUMBER\tBRANCH\tPUBLISHED (UTC)\tSIZE\tPACKAGES\tENVIRONMENTS")
	for _, b := range list {
		var pk []string
		for _, p := range b.Packages {
			pk = append(pk, p.Name+" "+p.Version)
		}
		envs := strings.Join(b.Environments, ",")
		if b.Pinned != "" {
			envs = strings.TrimPrefix(envs+",pinned", ",")
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", storeShortID(b.Build), b.Number, b.Branch, b.Time.Format("2006-01-02 15:04:05"), storeBytes(b.Size), strings.Join(pk, ", "), envs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return badErr()
}

func storeShortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func storeBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// resolveBuild finds the build with id or unique prefix arg.
func storeResolveBuild(ctx context.Context, s store.Store, arg string) (string, error) {
	ids, err := s.Builds(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, id := range ids {
		if id == arg {
			return id, nil
		}
		if strings.HasPrefix(id, arg) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return "", Usagef("no build %q in the store", arg)
	case 1:
		return match[0], nil
	}
	return "", Usagef("build prefix %q is ambiguous: %s", arg, strings.Join(match, ", "))
}

func storeShow(env *Env, args []string) error {
	fs, sf := storeSubFlags(env, "show", "stride store show [--json] BUILD", "show a build's manifest")
	asJSON := fs.Bool("json", false, "print the manifest (schema stride.manifest/v1)")
	s, pos, err := sf.parseOpen(env, fs, args, 1)
	if err != nil {
		return err
	}
	ctx := context.Background()
	id, err := storeResolveBuild(ctx, s, pos[0])
	if err != nil {
		return err
	}
	m, err := s.Manifest(ctx, id)
	if err != nil {
		return err // exitCodeOf: malformed or missing input 2, sources that disagree 1
	}
	if *asJSON {
		b, err := m.Marshal()
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "build    %s\nnumber   %d\nbranch   %s\ntime     %s\n", m.Build, m.Number, m.Branch, m.Time.Format(time.RFC3339))
	if m.Run != nil {
		fmt.Fprintf(w, "run      %s: %s\n", m.Run.Status, m.Run.Summary)
	}
	fmt.Fprintf(w, "manifest %s\n\npackages:\n", s.ManifestPath(m.Build))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range m.Packages {
		since := ""
		if p.Since != "" {
			since = "unchanged since " + storeShortID(p.Since)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, p.Version, p.Architecture, since)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nartifacts (%d, %s):\n", len(m.Artifacts), storeBytes(m.Size()))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range m.Artifacts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, a.Kind, storeBytes(a.Size), a.Digest)
	}
	return tw.Flush()
}

func storeVerify(env *Env, args []string) error {
	fs, sf := storeSubFlags(env, "verify", "stride store verify [--json]", "check every manifest and blob of the store")
	asJSON := fs.Bool("json", false, "print JSON")
	s, _, err := sf.parseOpen(env, fs, args, 0)
	if err != nil {
		return err
	}
	ctx := context.Background()
	res, err := store.Verify(ctx, s)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(env, res); err != nil {
			return err
		}
	} else {
		for _, p := range res.Problems {
			fmt.Fprintf(env.Stdout, "%s: %s\n", p.Object, p.Error)
		}
		fmt.Fprintf(env.Stdout, "%d builds, %d blobs (%s), %d problems", res.Builds, res.Blobs, storeBytes(res.Bytes), len(res.Problems))
		if len(res.Leftovers) > 0 {
			fmt.Fprintf(env.Stdout, "; %d leftovers of interrupted writes (stride store gc removes them)", len(res.Leftovers))
		}
		fmt.Fprintln(env.Stdout)
	}
	if !res.OK() {
		return Exit(ExitFindings, nil)
	}
	return nil
}

func storeGC(env *Env, args []string) error {
	fs, sf := storeSubFlags(env, "gc", "stride store gc [--keep-last N] [--grace DURATION] [--confirm] [--json]",
		"remove builds no environment serves and nobody pinned; a dry run unless --confirm")
	keepLast := fs.Int("keep-last", 0, "also keep the newest `N` builds")
	grace := fs.Duration("grace", time.Hour, "spare unreferenced blobs younger than this")
	confirm := fs.Bool("confirm", false, "really remove (default: only say what would be removed)")
	asJSON := fs.Bool("json", false, "print JSON")
	s, _, err := sf.parseOpen(env, fs, args, 0)
	if err != nil {
		return err
	}
	ctx := context.Background()
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	a, err := sf.aptly(env, s, false)
	if err != nil {
		return err
	}
	st, err := ledgerState(env)
	if err != nil {
		return err
	}
	res, err := store.GC(ctx, s, store.GCOptions{Sources: serving.Sources(s, a), Keep: st.Keep(), KeepLast: *keepLast, Grace: *grace, DryRun: !*confirm})
	if err != nil {
		return err // exitCodeOf: malformed or missing input 2, sources that disagree 1
	}
	var aptNotes []string
	if a != nil && len(res.Removed) > 0 {
		aptNotes, err = gcAptly(ctx, a, s, res, !*confirm)
		if err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(env, struct {
			*store.GCResult
			Aptly []string `json:"aptly"`
		}{res, aptNotes})
	}
	verb := "would remove"
	if *confirm {
		verb = "removed"
	}
	for _, k := range res.Kept {
		fmt.Fprintf(env.Stdout, "keep    %s  (%s)\n", storeShortID(k.Build), k.Reason)
	}
	for _, id := range res.Removed {
		fmt.Fprintf(env.Stdout, "%s %s\n", verb, storeShortID(id))
	}
	for _, n := range aptNotes {
		fmt.Fprintf(env.Stdout, "aptly: %s\n", n)
	}
	for _, f := range res.Skipped {
		fmt.Fprintf(env.Stdout, "left alone %s: not a blob where it belongs (stride store verify)\n", f)
	}
	fmt.Fprintf(env.Stdout, "%s %d builds, %d blobs (%s), %d leftovers\n", verb, len(res.Removed), res.Blobs, storeBytes(res.Bytes), len(res.Leftovers))
	if !*confirm && (len(res.Removed) > 0 || res.Blobs > 0 || len(res.Leftovers) > 0) {
		fmt.Fprintln(env.Stdout, "(dry run: add --confirm to remove)")
	}
	return nil
}

// gcAptly drops the snapshots of removed builds and the repository's
// packages that no kept build has, then cleans aptly's pool.
func gcAptly(ctx context.Context, a *apt.Aptly, s *store.FS, res *store.GCResult, dry bool) ([]string, error) {
	var notes []string
	snaps, err := a.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, sn := range snaps {
		have[sn] = true
	}
	for _, id := range res.Removed {
		sn := apt.SnapshotName(id)
		if !have[sn] {
			continue
		}
		notes = append(notes, "drop snapshot "+sn)
		if !dry {
			if err := a.DropSnapshot(ctx, sn); err != nil {
				return nil, err
			}
		}
	}
	kept := map[apt.PackageRef]bool{}
	for _, k := range res.Kept {
		m, err := s.Manifest(ctx, k.Build)
		if err != nil {
			return nil, err
		}
		for _, p := range m.Packages {
			kept[apt.PackageRef{Name: p.Name, Version: p.Version, Architecture: p.Architecture}] = true
		}
	}
	refs, err := a.RepoPackages(ctx)
	if err != nil {
		return nil, err
	}
	var drop []apt.PackageRef
	for _, r := range refs {
		if !kept[r] {
			drop = append(drop, r)
			notes = append(notes, fmt.Sprintf("remove %s %s from the repository", r.Name, r.Version))
		}
	}
	if !dry {
		if err := a.RemovePackages(ctx, drop); err != nil {
			return nil, err
		}
		if err := a.Cleanup(ctx); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

func storePin(env *Env, verb string, args []string) error {
	fs, sf := storeSubFlags(env, verb, "stride store "+verb+" [--reason TEXT] BUILD", verb+" a build (pinned builds survive gc)")
	reason := fs.String("reason", "", "why the build is pinned (`TEXT`)")
	s, pos, err := sf.parseOpen(env, fs, args, 1)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// Pins, unpins and gc serialize on the store's lock: a build reported
	// pinned is never collected by a gc that was already running.
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	id, err := storeResolveBuild(ctx, s, pos[0])
	if err != nil {
		return err
	}
	if verb == "unpin" {
		err = s.Unpin(ctx, id)
	} else {
		err = s.Pin(ctx, id, *reason)
	}
	if err != nil {
		return err // exitCodeOf: malformed or missing input 2, sources that disagree 1
	}
	fmt.Fprintf(env.Stdout, "%sned %s\n", verb, id)
	return nil
}

func storeRebuildApt(env *Env, args []string) error {
	fs, sf := storeSubFlags(env, "rebuild-apt", "stride store rebuild-apt [--json]",
		"rebuild aptly's database from the store; each environment keeps serving the build the ledger (where it names the environment) or else the published tree says it serves")
	asJSON := fs.Bool("json", false, "print JSON")
	s, _, err := sf.parseOpen(env, fs, args, 0)
	if err != nil {
		return err
	}
	a, err := sf.aptly(env, s, true)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := publish.RebuildOptions{Store: s, Aptly: a, Log: env.Stderr}
	st, err := ledgerState(env)
	if err != nil {
		return err
	}
	serves := st.Serving()
	if len(serves) > 0 {
		opts.Serving = &serving.Override{Base: &serving.Tree{Dir: a.PublicDir(), Store: s}, Name: "ledger", Builds: serves}
	}
	res, err := publish.RebuildAPT(ctx, opts)
	if err != nil {
		return err // exitCodeOf: malformed or missing input 2, sources that disagree 1
	}
	if *asJSON {
		return writeJSON(env, res)
	}
	fmt.Fprintf(env.Stdout, "rebuilt aptly's database: %d packages, %d build snapshots\n", res.Packages, res.Builds)
	envs := make([]string, 0, len(res.Environments))
	for e := range res.Environments {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	for _, e := range envs {
		fmt.Fprintf(env.Stdout, "%s serves %s\n", e, storeShortID(res.Environments[e]))
	}
	fmt.Fprintf(env.Stdout, "took %dms\n", res.Steps["total"])
	return nil
}
