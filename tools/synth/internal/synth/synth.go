// Package synth is the synth command: it generates a synthetic Bazel Go
// monorepo (package model), writes it as a git repository (package repo)
// and adds a seeded corpus of changes on top (package corpus).
package synth

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/strideci/monorepo/tools/synth/internal/corpus"
	"github.com/strideci/monorepo/tools/synth/internal/model"
	"github.com/strideci/monorepo/tools/synth/internal/repo"
)

const usage = `usage: synth -out DIR [-targets N] [-seed S] [-changes K] [-bootstrap ROOT] [-manifest FILE] [-force]

Generates a synthetic Bazel 4 Go workspace of N rule targets (layered DAG of
go_library/go_test/go_binary, genrules, .bzl macros, two external modules,
a git submodule at third_party/sub whose packages two libraries import)
as a git repository with an initial commit, then K seeded changes on top
(one commit each; merges, force pushes and submodule changes included;
the submodule's repository is DIR/.git/synth/sub, and it is checked out
at head's gitlink at the end). The manifest (JSON,
schema stride.synth-corpus/v1) lists every change's kind, base and head.
The same flags always give the same files and commit ids.

Flags:
`

// Main runs synth with args (without the program name); it returns the
// process exit code (0 ok, 2 usage, 3 failure).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "directory to create (must not exist, or be empty; see -force)")
	targets := fs.Int("targets", 1000, "number of rule targets under //...")
	seed := fs.Int64("seed", 1, "random seed")
	changes := fs.Int("changes", 0, "number of changes to make after the initial commit")
	bootstrap := fs.String("bootstrap", "", "monorepo root to copy the offline Bazel bootstrap from (default: walk up from the current directory)")
	manifest := fs.String("manifest", "", "where to write the corpus manifest (default DIR/.git/synth/corpus.json)")
	force := fs.Bool("force", false, "remove DIR first if it exists")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if err := run(*out, *targets, *seed, *changes, *bootstrap, *manifest, *force, stdout); err != nil {
		fmt.Fprintf(stderr, "synth: %v\n", err)
		return 3
	}
	return 0
}

func run(out string, targets int, seed int64, changes int, bootstrap, manifest string, force bool, stdout io.Writer) error {
	start := time.Now()
	if bootstrap == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if bootstrap, err = repo.FindRoot(wd); err != nil {
			return err
		}
	}
	boot, err := repo.Bootstrap(bootstrap)
	if err != nil {
		return err
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	if force {
		// Only ever delete an earlier synth workspace (or an empty dir),
		// finished or cut off while it was being made.
		ents, err := os.ReadDir(out)
		if err == nil && len(ents) > 0 && !isSynthWorkspace(out) {
			return fmt.Errorf("-force: %s is not empty and holds no synth workspace (no %s or %s); not deleting it", out, defaultManifest, generatingMarker)
		}
		if err := os.RemoveAll(out); err != nil {
			return err
		}
	}
	m, err := model.New(model.Options{Seed: seed, Targets: targets})
	if err != nil {
		return err
	}
	rp, err := repo.Init(out)
	if err != nil {
		return err
	}
	// The marker says the directory is synth's while it is being made, so
	// that -force can replace a workspace whose generation was killed.
	marker := filepath.Join(out, filepath.FromSlash(generatingMarker))
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(marker, []byte("synth is generating this workspace\n"), 0o644); err != nil {
		return err
	}
	initial, err := corpus.WriteInitial(rp, boot, m, fmt.Sprintf("synthetic monorepo: %d targets, seed %d", m.Targets(), seed))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "synth: %s: %d packages, %d binaries, %d rule targets, %d layers; initial commit %s (%.1fs)\n",
		out, len(m.Pkgs), len(m.Bins), m.Targets(), layers(m), initial[:12], time.Since(start).Seconds())
	g, err := corpus.New(rp, boot, m, seed)
	if err != nil {
		return err
	}
	if changes > 0 {
		if err := g.Generate(changes); err != nil {
			return err
		}
	}
	// Check the submodule out at head's gitlink, as a clone made with
	// --recurse-submodules would: Bazel at head needs its packages.
	if err := rp.InitSubmodules(); err != nil {
		return err
	}
	if manifest == "" {
		manifest = filepath.Join(out, filepath.FromSlash(defaultManifest))
	}
	mf := g.Manifest()
	if err := corpus.WriteManifest(manifest, mf); err != nil {
		return err
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	counts := map[string]int{}
	for _, c := range mf.Changes {
		counts[c.Kind]++
	}
	var ks []string
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(mf.Changes) > 0 {
		fmt.Fprintf(stdout, "synth: %d changes (%d kinds), head %s; manifest %s (%.1fs)\n",
			len(mf.Changes), len(ks), mf.Changes[len(mf.Changes)-1].Head[:12], manifest, time.Since(start).Seconds())
	} else {
		fmt.Fprintf(stdout, "synth: no changes; manifest %s\n", manifest)
	}
	return nil
}

func layers(m *model.Model) int {
	n := 0
	for _, p := range m.Pkgs {
		if p.Layer+1 > n {
			n = p.Layer + 1
		}
	}
	return n
}

// Relative to the workspace: generatingMarker exists while synth makes a
// workspace, defaultManifest (unless -manifest says otherwise) once it has
// made one.
const (
	generatingMarker = ".git/synth/generating"
	defaultManifest  = ".git/synth/corpus.json"
)

// isSynthWorkspace says whether dir holds a workspace synth made or began
// to make.
func isSynthWorkspace(dir string) bool {
	for _, f := range []string{defaultManifest, generatingMarker} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
			return true
		}
	}
	return false
}
