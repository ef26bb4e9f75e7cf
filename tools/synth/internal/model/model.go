// Package model is the synthetic monorepo: a seeded, layered DAG of Go
// packages with the rules, macros and workspace files a Bazel Go monorepo
// has. A Model is plain data; Render turns it into files, and the corpus
// package mutates it to make changes. The same seed always gives the same
// Model and so the same bytes.
package model

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
)

// Module is the Go module path of the generated workspace.
const Module = "synth.example"

// Model is the whole synthetic workspace.
type Model struct {
	Seed int64  `json:"seed"`
	Pkgs []*Pkg `json:"pkgs"`
	Bins []*Bin `json:"bins"`

	// Variants of the shared files; a change bumps one to edit the file.
	BzlGenVersion    int    `json:"bzl_gen_version"`   // synth_gen_const's command
	BzlTestEnv       int    `json:"bzl_test_env"`      // synth_go_test's default env
	BzlComment       int    `json:"bzl_comment"`       // a comment in defs.bzl
	WorkspaceComment int    `json:"workspace_comment"` // a comment in WORKSPACE
	ExtraRepos       int    `json:"extra_repos"`       // unused local_repository rules in WORKSPACE
	BazelrcComment   int    `json:"bazelrc_comment"`   // a comment in .bazelrc
	BazelrcTestEnv   int    `json:"bazelrc_test_env"`  // test --test_env=SYNTH_RC=N in .bazelrc (0: none)
	GoModComment     int    `json:"gomod_comment"`     // a comment in go.mod
	SyncProtoMode    bool   `json:"sync_proto_mode"`   // build_file_proto_mode on x/sync's go_repository
	CmpVersion       string `json:"cmp_version"`       // github.com/google/go-cmp version
	SyncVersion      string `json:"sync_version"`      // golang.org/x/sync version

	// Docs are files outside any Bazel package (path -> content).
	Docs map[string]string `json:"docs"`

	// Sub is the git submodule holding Bazel packages (see sub.go).
	Sub *Sub `json:"sub,omitempty"`

	NextID int `json:"next_id"`
}

// Pkg is one library package with its optional test, genrules and data.
type Pkg struct {
	ID    int    `json:"id"`
	Dir   string `json:"dir"` // e.g. lib/l03/p0042
	Layer int    `json:"layer"`
	// Deps are imported libraries (IDs); UnusedDeps are in BUILD deps only.
	Deps       []int `json:"deps"`
	UnusedDeps []int `json:"unused_deps,omitempty"`
	// SubDeps are the submodule's libraries it imports (SubLibs names).
	SubDeps []string `json:"sub_deps,omitempty"`

	Const      int    `json:"const"`       // in the library's code
	SrcName    string `json:"src_name"`    // the library source file's name
	Glob       bool   `json:"glob"`        // srcs = glob(...)
	Comment    int    `json:"comment"`     // trailing comment version
	ExtraFuncs int    `json:"extra_funcs"` // unused exported functions
	Sync       bool   `json:"sync"`        // imports golang.org/x/sync/errgroup
	Goopts     bool   `json:"goopts"`      // gc_goopts = ["-l"]
	Vis        int    `json:"vis"`         // 0 public, 1 restricted to //lib and //cmd

	Gen      bool `json:"gen"`       // synth_gen_const macro (genrule) feeding the library
	GenValue int  `json:"gen_value"` // content of gen.txt

	Test        bool              `json:"test"`
	TestMacro   bool              `json:"test_macro"` // synth_go_test instead of go_test
	TestVariant int               `json:"test_variant"`
	Cmp         bool              `json:"cmp"`                   // test imports go-cmp
	Data        map[string]string `json:"data,omitempty"`        // testdata/NAME -> content (glob)
	Notes       string            `json:"notes,omitempty"`       // notes.in of a plain genrule used as test data; "" none
	Env         int               `json:"env"`                   // go_test env variant (0 none)
	Args        int               `json:"args"`                  // go_test args variant (0 none)
	Tags        int               `json:"tags"`                  // go_test tags variant (0 none)
	ExtraTests  []int             `json:"extra_tests,omitempty"` // extra go_test targets extraN_test
}

// Bin is a go_binary package importing a few top libraries.
type Bin struct {
	ID    int    `json:"id"`
	Dir   string `json:"dir"` // cmd/b0007
	Deps  []int  `json:"deps"`
	Const int    `json:"const"`
}

// Name is the package's Go name and its library target's name.
func (p *Pkg) Name() string { return fmt.Sprintf("p%04d", p.ID) }

// Name is the binary target's name.
func (b *Bin) Name() string { return fmt.Sprintf("b%04d", b.ID) }

// Label is the library's label.
func (p *Pkg) Label() string { return "//" + p.Dir + ":" + p.Name() }

// Targets is the number of rule targets the package defines.
func (p *Pkg) Targets() int {
	n := 1
	if p.Test {
		n += 1 + len(p.ExtraTests)
	}
	if p.Gen {
		n++
	}
	if p.Notes != "" {
		n++
	}
	return n
}

// Targets is the number of rule targets the model defines under //...
func (m *Model) Targets() int {
	n := len(m.Bins)
	if m.Sub != nil {
		n += subTargets
	}
	for _, p := range m.Pkgs {
		n += p.Targets()
	}
	return n
}

// Pkg returns the package with the given ID, or nil.
func (m *Model) Pkg(id int) *Pkg {
	for _, p := range m.Pkgs {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Index maps package IDs to packages.
func (m *Model) Index() map[int]*Pkg {
	ix := make(map[int]*Pkg, len(m.Pkgs))
	for _, p := range m.Pkgs {
		ix[p.ID] = p
	}
	return ix
}

// RevDeps counts, for each package ID, the packages and binaries that list
// it in deps (used or not).
func (m *Model) RevDeps() map[int]int {
	r := map[int]int{}
	for _, p := range m.Pkgs {
		for _, d := range p.Deps {
			r[d]++
		}
		for _, d := range p.UnusedDeps {
			r[d]++
		}
	}
	for _, b := range m.Bins {
		for _, d := range b.Deps {
			r[d]++
		}
	}
	return r
}

// Options say what to generate.
type Options struct {
	Seed    int64
	Targets int // wanted number of rule targets under //... (at least 10)
}

// New generates a model with about opts.Targets rule targets (exactly, when
// the count allows: binaries fill the remainder).
func New(opts Options) (*Model, error) {
	if opts.Targets < 10 {
		return nil, fmt.Errorf("targets must be at least 10, got %d", opts.Targets)
	}
	r := rand.New(rand.NewSource(opts.Seed))
	m := &Model{
		Seed:        opts.Seed,
		CmpVersion:  "v0.6.0",
		SyncVersion: "v0.6.0",
		Docs: map[string]string{
			"docs/README.md": "# Synthetic monorepo\n\nGenerated by tools/synth. Files under docs/ are in no Bazel package.\n",
			"docs/notes.txt": "notes v0\n",
		},
		Sub: newSub(),
	}
	nBins := opts.Targets / 50
	if nBins < 1 {
		nBins = 1
	}
	// Estimate the package count to size the layers (2.26 targets a package).
	estPkgs := int(float64(opts.Targets-nBins) / 2.26)
	if estPkgs < 3 {
		estPkgs = 3
	}
	layers := int(math.Round(math.Log2(float64(estPkgs)))) - 1
	if layers < 3 {
		layers = 3
	}
	if layers > 12 {
		layers = 12
	}
	// Layer k gets weight 1+0.3k: more packages near the top, as in real
	// monorepos where a few base libraries serve many leaves.
	var weights []float64
	total := 0.0
	for k := 0; k < layers; k++ {
		w := 1 + 0.3*float64(k)
		weights = append(weights, w)
		total += w
	}
	layerOf := func(i int) int {
		// The i-th package's layer, so that layers fill in proportion.
		f := (float64(i) + 0.5) / float64(estPkgs) * total
		acc := 0.0
		for k, w := range weights {
			acc += w
			if f < acc {
				return k
			}
		}
		return layers - 1
	}
	fanin := map[int]int{}
	targets := subTargets
	for i := 0; targets < opts.Targets-nBins; i++ {
		m.NextID++
		p := &Pkg{ID: m.NextID, Layer: layerOf(i)}
		p.Dir = fmt.Sprintf("lib/l%02d/%s", p.Layer, p.Name())
		p.SrcName = p.Name() + ".go"
		p.Const = 1 + r.Intn(1000)
		p.Glob = r.Float64() < 0.3
		p.Sync = p.Layer <= 2 && r.Float64() < 0.1
		p.Goopts = r.Float64() < 0.03
		p.Gen = r.Float64() < 0.3
		p.GenValue = r.Intn(100)
		p.Test = r.Float64() < 0.8
		if p.Test {
			p.TestMacro = r.Float64() < 0.35
			p.Cmp = r.Float64() < 0.1
			if r.Float64() < 0.2 {
				p.Data = map[string]string{"testdata/a.txt": fmt.Sprintf("data %d\n", r.Intn(1000))}
			}
			if r.Float64() < 0.15 {
				p.Notes = fmt.Sprintf("notes for %s\n", p.Name())
			}
			if r.Float64() < 0.1 {
				p.Env = 1
			}
			if r.Float64() < 0.05 {
				p.Args = 1
			}
			if r.Float64() < 0.1 {
				p.Tags = 1
			}
		}
		// Too many targets? Drop the optional ones so the total is exact.
		for targets+p.Targets() > opts.Targets-nBins && p.Targets() > 1 {
			switch {
			case p.Notes != "":
				p.Notes = ""
			case p.Gen:
				p.Gen = false
			default:
				p.Test = false
				p.TestMacro, p.Cmp, p.Data, p.Env, p.Args, p.Tags = false, false, nil, 0, 0, 0
			}
		}
		p.Deps = pickDeps(r, m.Pkgs, p.Layer, fanin)
		for _, d := range p.Deps {
			fanin[d]++
		}
		m.Pkgs = append(m.Pkgs, p)
		targets += p.Targets()
	}
	// The first two packages (layer 0) import the submodule's libraries.
	m.Pkgs[0].SubDeps = []string{"s0"}
	if len(m.Pkgs) > 1 {
		m.Pkgs[1].SubDeps = []string{"s0", "s1"}
	}
	nBins = opts.Targets - targets
	for i := 0; i < nBins; i++ {
		m.Bins = append(m.Bins, m.newBin(r))
	}
	return m, nil
}

// newBin makes a binary importing 2-4 libraries from the top two layers.
func (m *Model) newBin(r *rand.Rand) *Bin {
	m.NextID++
	b := &Bin{ID: m.NextID, Const: r.Intn(1000)}
	b.Dir = "cmd/" + b.Name()
	top := 0
	for _, p := range m.Pkgs {
		if p.Layer > top {
			top = p.Layer
		}
	}
	var cands []int
	for _, p := range m.Pkgs {
		if p.Layer >= top-1 {
			cands = append(cands, p.ID)
		}
	}
	n := 2 + r.Intn(3)
	seen := map[int]bool{}
	for i := 0; i < n && len(seen) < len(cands); i++ {
		id := cands[r.Intn(len(cands))]
		if !seen[id] {
			seen[id] = true
			b.Deps = append(b.Deps, id)
		}
	}
	sort.Ints(b.Deps)
	return b
}

// NewBin adds a binary (used by changes that add targets).
func (m *Model) NewBin(r *rand.Rand) *Bin {
	b := m.newBin(r)
	m.Bins = append(m.Bins, b)
	return b
}

// pickDeps chooses the imports of a package at layer: at least one from the
// layer just below, the rest from any lower layer with preferential
// attachment (weight 1+fan-in), so that a few base packages become hubs.
func pickDeps(r *rand.Rand, pkgs []*Pkg, layer int, fanin map[int]int) []int {
	if layer == 0 {
		return nil
	}
	var below, lower []*Pkg
	for _, q := range pkgs {
		if q.Layer == layer-1 {
			below = append(below, q)
		}
		if q.Layer < layer {
			lower = append(lower, q)
		}
	}
	if len(lower) == 0 {
		return nil
	}
	// Fan-out 1..8, mostly 2-4.
	n := 1 + poisson(r, 2.0)
	if n > 8 {
		n = 8
	}
	seen := map[int]bool{}
	var deps []int
	if len(below) > 0 {
		q := below[r.Intn(len(below))]
		seen[q.ID] = true
		deps = append(deps, q.ID)
	}
	total := 0
	for _, q := range lower {
		total += 1 + fanin[q.ID]
	}
	for tries := 0; len(deps) < n && tries < 4*n; tries++ {
		x := r.Intn(total)
		for _, q := range lower {
			x -= 1 + fanin[q.ID]
			if x < 0 {
				if !seen[q.ID] {
					seen[q.ID] = true
					deps = append(deps, q.ID)
				}
				break
			}
		}
	}
	sort.Ints(deps)
	return deps
}

// PickDeps chooses deps for a new package at layer (used by changes).
func (m *Model) PickDeps(r *rand.Rand, layer int) []int {
	fanin := map[int]int{}
	for _, p := range m.Pkgs {
		for _, d := range p.Deps {
			fanin[d]++
		}
	}
	return pickDeps(r, m.Pkgs, layer, fanin)
}

func poisson(r *rand.Rand, lambda float64) int {
	l := math.Exp(-lambda)
	k := 0
	p := 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := *m
	c.Pkgs = make([]*Pkg, len(m.Pkgs))
	for i, p := range m.Pkgs {
		q := *p
		q.Deps = append([]int(nil), p.Deps...)
		q.UnusedDeps = append([]int(nil), p.UnusedDeps...)
		q.ExtraTests = append([]int(nil), p.ExtraTests...)
		q.SubDeps = append([]string(nil), p.SubDeps...)
		if p.Data != nil {
			q.Data = map[string]string{}
			for k, v := range p.Data {
				q.Data[k] = v
			}
		}
		c.Pkgs[i] = &q
	}
	c.Bins = make([]*Bin, len(m.Bins))
	for i, b := range m.Bins {
		x := *b
		x.Deps = append([]int(nil), b.Deps...)
		c.Bins[i] = &x
	}
	c.Sub = m.Sub.clone()
	c.Docs = map[string]string{}
	for k, v := range m.Docs {
		c.Docs[k] = v
	}
	return &c
}
