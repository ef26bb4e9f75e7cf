// Package corpus makes a seeded chain of changes on a synthetic workspace:
// each change is a commit (or a merge, or a force push) whose base is the
// previous change's head, and a manifest lists them with their kind. The
// kinds cover what `stride affected` must handle: source, data and genrule
// inputs, BUILD attributes, new and deleted targets and packages, renames,
// .bzl macros, WORKSPACE/deps.bzl/go.mod/go.sum, .bazelrc, files outside
// any package, a git submodule (its content, gitlink, path and
// .gitmodules), merge commits and force pushes.
package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"

	"github.com/strideci/monorepo/tools/synth/internal/model"
	"github.com/strideci/monorepo/tools/synth/internal/repo"
)

// Schema names the manifest format.
const Schema = "stride.synth-corpus/v1"

// Manifest lists the changes of a corpus in the order they were made.
type Manifest struct {
	Schema  string   `json:"schema"`
	Seed    int64    `json:"seed"`
	Targets int      `json:"targets"` // rule targets of the initial workspace
	Initial string   `json:"initial"` // the initial commit
	Changes []Change `json:"changes"`
}

// Change is one base..head pair. Base is the previous change's head (or the
// initial commit); for a force push, base is not an ancestor of head.
type Change struct {
	ID      int      `json:"id"`
	Kind    string   `json:"kind"`
	Base    string   `json:"base"`
	Head    string   `json:"head"`
	Summary string   `json:"summary"`
	Paths   []string `json:"paths"` // files written or removed
}

// mutation edits a model in place and says what it did; ok is false when
// the model has no candidate for it.
type mutation func(m *model.Model, r *rand.Rand) (summary string, ok bool)

// kind is a change kind with its relative weight in the random phase.
type kind struct {
	name   string
	weight int
	mut    mutation // nil for merge and force-push
}

// Kinds returns the names of all change kinds, in a fixed order.
func Kinds() []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k.name)
	}
	return out
}

var errSkip = errors.New("no candidate")

// Generator makes changes on a workspace.
type Generator struct {
	Repo      *repo.Repo
	Bootstrap map[string][]byte
	R         *rand.Rand

	cur        *model.Model // state at head
	prev       *model.Model // state at head's first parent
	prevCommit string
	head       string
	manifest   Manifest
}

// New starts a generator from the workspace's initial commit (already
// written and committed from m).
func New(rp *repo.Repo, boot map[string][]byte, m *model.Model, seed int64) (*Generator, error) {
	head, err := rp.Head()
	if err != nil {
		return nil, err
	}
	return &Generator{
		Repo: rp, Bootstrap: boot, R: rand.New(rand.NewSource(seed + 7919)),
		cur: m, prev: m, prevCommit: head, head: head,
		manifest: Manifest{Schema: Schema, Seed: m.Seed, Targets: m.Targets(), Initial: head},
	}, nil
}

// Manifest returns the changes made so far.
func (g *Generator) Manifest() Manifest { return g.manifest }

// Model returns the model at head.
func (g *Generator) Model() *model.Model { return g.cur }

// Generate makes n changes: first one of every kind (in a seeded order),
// then kinds drawn by weight.
func (g *Generator) Generate(n int) error {
	order := g.R.Perm(len(kinds))
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	for i := 0; len(g.manifest.Changes) < n; i++ {
		var k kind
		if i < len(kinds) {
			k = kinds[order[i]]
		} else {
			x := g.R.Intn(total)
			for _, kk := range kinds {
				x -= kk.weight
				if x < 0 {
					k = kk
					break
				}
			}
		}
		err := g.one(k)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return fmt.Errorf("change %d (%s): %w", len(g.manifest.Changes)+1, k.name, err)
		}
		if i > 100*n+1000 {
			return fmt.Errorf("could not make %d changes (only %d)", n, len(g.manifest.Changes))
		}
	}
	return nil
}

func (g *Generator) one(k kind) error {
	switch k.name {
	case "merge":
		return g.merge()
	case "force-push":
		return g.forcePush()
	}
	m := g.cur.Clone()
	summary, ok := k.mut(m, g.R)
	if !ok {
		return errSkip
	}
	paths, err := g.Repo.Apply(m.Render(g.Bootstrap))
	if err != nil {
		return err
	}
	links, err := syncSub(g.Repo, m)
	if err != nil {
		return err
	}
	paths = append(paths, links...)
	sort.Strings(paths)
	if len(paths) == 0 {
		g.Repo.Reset(g.cur.Render(g.Bootstrap))
		return errSkip
	}
	head, err := g.Repo.Commit(fmt.Sprintf("%s: %s", k.name, summary))
	if err != nil {
		return err
	}
	g.record(k.name, summary, head, paths)
	g.prev, g.prevCommit, g.cur = g.cur, g.head, m
	g.head = head
	return nil
}

func (g *Generator) record(kindName, summary, head string, paths []string) {
	g.manifest.Changes = append(g.manifest.Changes, Change{
		ID: len(g.manifest.Changes) + 1, Kind: kindName, Base: g.head, Head: head, Summary: summary, Paths: paths,
	})
}

// merge makes a side branch from head with one source change, a commit on
// main with another, and merges the side branch with a merge commit.
func (g *Generator) merge() error {
	a := pick(g.cur, g.R, func(p *model.Pkg) bool { return true })
	b := pick(g.cur, g.R, func(p *model.Pkg) bool { return a != nil && p.ID != a.ID })
	if a == nil || b == nil {
		return errSkip
	}
	va, vb := 1+g.R.Intn(1000), 1+g.R.Intn(1000)
	base := g.head
	branch := fmt.Sprintf("side-%d", len(g.manifest.Changes)+1)
	if _, err := g.Repo.Git("checkout", "-q", "-b", branch); err != nil {
		return err
	}
	ma := g.cur.Clone()
	ma.Pkg(a.ID).Const = va
	pa, err := g.Repo.Apply(ma.Render(g.Bootstrap))
	if err != nil {
		return err
	}
	if _, err := g.Repo.Commit(fmt.Sprintf("side: change %s", a.Label())); err != nil {
		return err
	}
	if _, err := g.Repo.Git("checkout", "-q", "main"); err != nil {
		return err
	}
	g.Repo.Reset(g.cur.Render(g.Bootstrap))
	mb := g.cur.Clone()
	mb.Pkg(b.ID).Const = vb
	pb, err := g.Repo.Apply(mb.Render(g.Bootstrap))
	if err != nil {
		return err
	}
	first, err := g.Repo.Commit(fmt.Sprintf("main: change %s", b.Label()))
	if err != nil {
		return err
	}
	if _, err := g.Repo.Git("merge", "-q", "--no-ff", "-m", "Merge branch "+branch, branch); err != nil {
		return err
	}
	if _, err := g.Repo.Git("branch", "-q", "-D", branch); err != nil {
		return err
	}
	mab := mb.Clone()
	mab.Pkg(a.ID).Const = va
	g.Repo.Reset(mab.Render(g.Bootstrap))
	head, err := g.Repo.Head()
	if err != nil {
		return err
	}
	// The merged tree must be what the model renders.
	if out, err := g.Repo.Git("status", "--porcelain"); err != nil || out != "" {
		return fmt.Errorf("merged work tree differs from the model: %v %s", err, out)
	}
	paths := append(append([]string(nil), pa...), pb...)
	sort.Strings(paths)
	g.head = base
	g.record("merge", fmt.Sprintf("merge of a side branch changing %s with main changing %s", a.Label(), b.Label()), head, paths)
	g.prev, g.prevCommit, g.cur, g.head = mb, first, mab, head
	return nil
}

// forcePush replaces head by a different commit on head's parent: base is
// then not an ancestor of head, and head drops base's change.
func (g *Generator) forcePush() error {
	if g.prevCommit == g.head {
		return errSkip // nothing to rewrite yet
	}
	m := g.prev.Clone()
	p := pick(m, g.R, func(p *model.Pkg) bool { return true })
	if p == nil {
		return errSkip
	}
	p.Const = 1 + g.R.Intn(1000)
	if _, err := g.Repo.Git("reset", "-q", "--hard", g.prevCommit); err != nil {
		return err
	}
	g.Repo.Reset(g.prev.Render(g.Bootstrap))
	paths, err := g.Repo.Apply(m.Render(g.Bootstrap))
	if err != nil {
		return err
	}
	head, err := g.Repo.Commit(fmt.Sprintf("force-push: rewrite the last commit as a change of %s", p.Label()))
	if err != nil {
		return err
	}
	g.record("force-push", fmt.Sprintf("last commit replaced by a change of %s (base not an ancestor of head)", p.Label()), head, paths)
	g.cur, g.head = m, head
	return nil
}

// WriteManifest writes the manifest as JSON, atomically.
func WriteManifest(path string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadManifest reads a manifest written by WriteManifest.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parse %s: %w", path, err)
	}
	if m.Schema != Schema {
		return m, fmt.Errorf("parse %s: schema %q, want %q", path, m.Schema, Schema)
	}
	return m, nil
}
