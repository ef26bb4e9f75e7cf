package corpus

import (
	"fmt"
	"math/rand"

	"github.com/strideci/monorepo/tools/synth/internal/model"
)

// kinds is every change kind. Weights favour cheap, common changes (source
// edits) over ones that make Bazel rebuild most of the workspace.
var kinds = append(mainKinds, subKinds...)

var mainKinds = []kind{
	// Source files, data and genrule inputs.
	{"src-body", 12, srcBody},
	{"src-add-func", 6, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, anyPkg)
		if p == nil {
			return "", false
		}
		p.ExtraFuncs++
		return "add an unused exported function to " + p.Label(), true
	}},
	{"src-comment", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, anyPkg)
		if p == nil {
			return "", false
		}
		p.Comment++
		return "edit a trailing comment in " + p.Label(), true
	}},
	{"test-src", 6, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, hasTest)
		if p == nil {
			return "", false
		}
		p.TestVariant++
		return "edit the test source of " + p.Label(), true
	}},
	{"glob-data-edit", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return len(p.Data) > 0 })
		if p == nil {
			return "", false
		}
		p.Data["testdata/a.txt"] += fmt.Sprintf("line %d\n", r.Intn(1000))
		return "edit testdata/a.txt (a glob'd data file) of " + p.Label(), true
	}},
	{"glob-data-add", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return len(p.Data) > 0 })
		if p == nil {
			return "", false
		}
		name := fmt.Sprintf("testdata/b%d.txt", len(p.Data))
		p.Data[name] = "new data\n"
		return "add " + name + " (matched by a glob) to " + p.Label(), true
	}},
	{"genrule-macro-input", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return p.Gen })
		if p == nil {
			return "", false
		}
		p.GenValue = (p.GenValue + 1 + r.Intn(50)) % 100
		return "edit gen.txt, input of a synth_gen_const genrule, in " + p.Label(), true
	}},
	{"genrule-input", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return p.Notes != "" })
		if p == nil {
			return "", false
		}
		p.Notes += fmt.Sprintf("more %d\n", r.Intn(1000))
		return "edit notes.in, input of a genrule used as test data, in " + p.Label(), true
	}},
	{"rename-file", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, anyPkg)
		if p == nil {
			return "", false
		}
		old := p.SrcName
		if p.SrcName == p.Name()+".go" {
			p.SrcName = p.Name() + "_impl.go"
		} else {
			p.SrcName = p.Name() + ".go"
		}
		how := "BUILD srcs updated"
		if p.Glob {
			how = "srcs is a glob"
		}
		return fmt.Sprintf("rename %s to %s in %s (%s)", old, p.SrcName, p.Label(), how), true
	}},
	// BUILD attributes.
	{"build-deps-add", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return p.Layer > 0 })
		if p == nil {
			return "", false
		}
		have := map[int]bool{}
		for _, d := range append(append([]int(nil), p.Deps...), p.UnusedDeps...) {
			have[d] = true
		}
		var cands []*model.Pkg
		for _, q := range m.Pkgs {
			if q.Layer < p.Layer && !have[q.ID] {
				cands = append(cands, q)
			}
		}
		if len(cands) == 0 {
			return "", false
		}
		q := cands[r.Intn(len(cands))]
		p.UnusedDeps = append(p.UnusedDeps, q.ID)
		return fmt.Sprintf("add %s to the deps of %s (not imported)", q.Label(), p.Label()), true
	}},
	{"build-deps-remove", 4, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, func(p *model.Pkg) bool { return len(p.Deps) > 1 })
		if p == nil {
			return "", false
		}
		d := p.Deps[len(p.Deps)-1]
		p.Deps = p.Deps[:len(p.Deps)-1]
		return fmt.Sprintf("drop dep %s (and its import) from %s", m.Pkg(d).Label(), p.Label()), true
	}},
	{"build-copts", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, anyPkg)
		if p == nil {
			return "", false
		}
		p.Goopts = !p.Goopts
		return fmt.Sprintf("set gc_goopts (compiler options) of %s to %v", p.Label(), p.Goopts), true
	}},
	{"build-env", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, hasTest)
		if p == nil {
			return "", false
		}
		p.Env++
		return fmt.Sprintf("change env of %s_test", p.Label()), true
	}},
	{"build-args", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, hasTest)
		if p == nil {
			return "", false
		}
		p.Args++
		return fmt.Sprintf("change args of %s_test", p.Label()), true
	}},
	{"build-tags", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, hasTest)
		if p == nil {
			return "", false
		}
		p.Tags++
		return fmt.Sprintf("change tags of %s_test", p.Label()), true
	}},
	{"build-visibility", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		p := pick(m, r, anyPkg)
		if p == nil {
			return "", false
		}
		p.Vis = 1 - p.Vis
		return "change visibility of " + p.Label(), true
	}},
	// New and deleted targets and packages.
	{"new-target", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		if r.Intn(3) == 0 {
			b := m.NewBin(r)
			return "add binary //" + b.Dir + ":" + b.Name(), true
		}
		p := pick(m, r, hasTest)
		if p == nil {
			return "", false
		}
		m.NextID++
		p.ExtraTests = append(p.ExtraTests, m.NextID)
		return fmt.Sprintf("add go_test extra%d_test to %s", m.NextID, p.Label()), true
	}},
	{"delete-target", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		if p := pick(m, r, func(p *model.Pkg) bool { return len(p.ExtraTests) > 0 }); p != nil {
			e := p.ExtraTests[len(p.ExtraTests)-1]
			p.ExtraTests = p.ExtraTests[:len(p.ExtraTests)-1]
			return fmt.Sprintf("delete go_test extra%d_test from %s", e, p.Label()), true
		}
		if r.Intn(3) == 0 && len(m.Bins) > 1 {
			i := r.Intn(len(m.Bins))
			b := m.Bins[i]
			m.Bins = append(m.Bins[:i], m.Bins[i+1:]...)
			return "delete binary package //" + b.Dir, true
		}
		p := pick(m, r, func(p *model.Pkg) bool { return p.Test && len(p.ExtraTests) == 0 })
		if p == nil {
			return "", false
		}
		p.Test, p.TestMacro, p.Cmp, p.Data, p.Notes, p.Env, p.Args, p.Tags = false, false, false, nil, "", 0, 0, 0
		return "delete the go_test (and its data) of " + p.Label(), true
	}},
	{"new-package", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		top := 0
		for _, p := range m.Pkgs {
			if p.Layer > top {
				top = p.Layer
			}
		}
		m.NextID++
		p := &model.Pkg{ID: m.NextID, Layer: 1 + r.Intn(top+1)}
		if p.Layer > top {
			p.Layer = top
		}
		p.Dir = fmt.Sprintf("lib/l%02d/%s", p.Layer, p.Name())
		p.SrcName = p.Name() + ".go"
		p.Const = 1 + r.Intn(1000)
		p.Test = true
		p.Deps = m.PickDeps(r, p.Layer)
		m.Pkgs = append(m.Pkgs, p)
		return "add package " + p.Label() + " (library and test)", true
	}},
	{"delete-package", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		rd := m.RevDeps()
		p := pick(m, r, func(p *model.Pkg) bool { return rd[p.ID] == 0 })
		if p == nil {
			return "", false
		}
		for i, q := range m.Pkgs {
			if q == p {
				m.Pkgs = append(m.Pkgs[:i], m.Pkgs[i+1:]...)
				break
			}
		}
		return "delete package //" + p.Dir + " (no reverse deps)", true
	}},
	// Starlark macros.
	{"bzl-macro-genrule", 1, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.BzlGenVersion++
		return "change the command of the synth_gen_const macro in build/defs.bzl", true
	}},
	{"bzl-macro-test", 1, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.BzlTestEnv++
		return "change the default env of the synth_go_test macro in build/defs.bzl", true
	}},
	{"bzl-comment", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.BzlComment++
		return "edit a comment in build/defs.bzl", true
	}},
	// WORKSPACE, deps.bzl, go.mod, go.sum.
	{"workspace-comment", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.WorkspaceComment++
		return "edit a comment in WORKSPACE", true
	}},
	{"workspace-repo", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		if m.ExtraRepos > 0 {
			m.ExtraRepos = 0
			return "remove an unused local_repository from WORKSPACE", true
		}
		m.ExtraRepos = 1
		return "add an unused local_repository to WORKSPACE", true
	}},
	{"deps-bzl", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.SyncProtoMode = !m.SyncProtoMode
		return fmt.Sprintf("set build_file_proto_mode on golang.org/x/sync's go_repository in deps.bzl (%v)", m.SyncProtoMode), true
	}},
	{"gomod-bump", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		if r.Intn(2) == 0 {
			old := m.CmpVersion
			m.CmpVersion = model.OtherVersion("github.com/google/go-cmp", old)
			return fmt.Sprintf("go-cmp %s -> %s (go.mod, go.sum, deps.bzl)", old, m.CmpVersion), true
		}
		old := m.SyncVersion
		m.SyncVersion = model.OtherVersion("golang.org/x/sync", old)
		return fmt.Sprintf("x/sync %s -> %s (go.mod, go.sum, deps.bzl)", old, m.SyncVersion), true
	}},
	{"gomod-only", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.GoModComment++
		return "edit a comment in go.mod only", true
	}},
	// .bazelrc.
	{"bazelrc-comment", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.BazelrcComment++
		return "edit a comment in .bazelrc", true
	}},
	{"bazelrc-flag", 1, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.BazelrcTestEnv++
		return fmt.Sprintf("set test --test_env=SYNTH_RC=%d in .bazelrc", m.BazelrcTestEnv), true
	}},
	// Files outside any package.
	{"outside-package", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		if r.Intn(2) == 0 {
			m.Docs["docs/notes.txt"] += fmt.Sprintf("note %d\n", r.Intn(1000))
			return "edit docs/notes.txt (in no package)", true
		}
		name := fmt.Sprintf("docs/page%d.md", len(m.Docs))
		m.Docs[name] = "# page\n"
		return "add " + name + " (in no package)", true
	}},
	// History shapes.
	{"merge", 3, nil},
	{"force-push", 3, nil},
}

func anyPkg(p *model.Pkg) bool  { return true }
func hasTest(p *model.Pkg) bool { return p.Test }

func srcBody(m *model.Model, r *rand.Rand) (string, bool) {
	p := pick(m, r, anyPkg)
	if p == nil {
		return "", false
	}
	p.Const = 1 + (p.Const+r.Intn(999))%1000
	return "change the body (a constant) of " + p.Label(), true
}

// pick returns a random package satisfying ok, or nil.
func pick(m *model.Model, r *rand.Rand, ok func(*model.Pkg) bool) *model.Pkg {
	var c []*model.Pkg
	for _, p := range m.Pkgs {
		if ok(p) {
			c = append(c, p)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[r.Intn(len(c))]
}
