package model

import (
	"fmt"
	"strings"
)

// Submodule names and paths. The submodule's repository lives inside the
// workspace's git directory (SubURL, relative to the superproject: a clone
// of the workspace finds it through its origin), so the same seed gives
// the same commit ids wherever the workspace is written.
const (
	SubName = "sub"
	SubURL  = "./.git/synth/" + SubName
	// SubImport prefixes the submodule's Go import paths; they do not
	// depend on where the submodule is checked out.
	SubImport = Module + "/sub"
)

// SubPaths are the paths the submodule moves between.
var SubPaths = [2]string{"third_party/sub", "third_party/subm"}

// SubLibs are the submodule's library packages (directory = name).
var SubLibs = []string{"s0", "s1"}

// Sub is the workspace's git submodule: a repository of its own, gitlinked
// at Path, holding Bazel packages (s0 with a test, s1) that main libraries
// import. Revs is every state its repository has had; At is the one the
// superproject's gitlink names.
type Sub struct {
	Path   string   `json:"path"`
	Branch bool     `json:"branch"` // .gitmodules says branch = main
	Revs   []SubRev `json:"revs"`
	At     int      `json:"at"`
}

// SubRev is the content of one commit of the submodule's repository.
type SubRev struct {
	S0          int `json:"s0"`           // s0's value
	S1          int `json:"s1"`           // s1's value
	TestVariant int `json:"test_variant"` // s0_test's variant
	Readme      int `json:"readme"`       // README.md (in no package) variant
}

// subTargets is the number of rule targets under the submodule.
const subTargets = 3

// newSub is the submodule of a new model: two commits, gitlinked at the
// second (so that its gitlink can move back from the start).
func newSub() *Sub {
	return &Sub{Path: SubPaths[0], Revs: []SubRev{{S0: 11, S1: 23}, {S0: 12, S1: 23}}, At: 1}
}

func (s *Sub) clone() *Sub {
	if s == nil {
		return nil
	}
	c := *s
	c.Revs = append([]SubRev(nil), s.Revs...)
	return &c
}

// Label is the label of the submodule's library lib at the current path.
func (s *Sub) Label(lib string) string { return "//" + s.Path + "/" + lib + ":" + lib }

// Gitmodules is the superproject's .gitmodules.
func (s *Sub) Gitmodules() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[submodule %q]\n\tpath = %s\n\turl = %s\n", SubName, s.Path, SubURL)
	if s.Branch {
		b.WriteString("\tbranch = main\n")
	}
	return b.String()
}

// SubFiles returns the files of the submodule's repository at rev (paths
// relative to the submodule's root).
func (m *Model) SubFiles(rev SubRev) map[string][]byte {
	out := map[string][]byte{}
	put := func(path, s string) { out[path] = []byte(s) }
	put("README.md", fmt.Sprintf("# Synthetic submodule\n\nA separate repository, gitlinked into the synthetic monorepo (note %d).\n", rev.Readme))
	vals := map[string]int{"s0": rev.S0, "s1": rev.S1}
	for _, lib := range SubLibs {
		put(lib+"/"+lib+".go", fmt.Sprintf("// Package %s lives in the synthetic submodule.\npackage %s\n\nvar value = %d\n\n// Value returns the package's value.\nfunc Value() int { return value }\n", lib, lib, vals[lib]))
		var b strings.Builder
		loads := "\"go_library\""
		if lib == "s0" {
			loads += ", \"go_test\""
		}
		fmt.Fprintf(&b, "load(\"@io_bazel_rules_go//go:def.bzl\", %s)\n\ngo_library(\n    name = %q,\n    srcs = [\"%s.go\"],\n    importpath = \"%s/%s\",\n    visibility = [\"//visibility:public\"],\n)\n", loads, lib, lib, SubImport, lib)
		if lib == "s0" {
			b.WriteString("\ngo_test(\n    name = \"s0_test\",\n    srcs = [\"s0_test.go\"],\n    embed = [\":s0\"],\n)\n")
			put("s0/s0_test.go", fmt.Sprintf("package s0\n\nimport \"testing\"\n\nconst testVariant = %d\n\nfunc TestValue(t *testing.T) {\n\tif Value() <= 0 {\n\t\tt.Fatalf(\"Value() = %%d (variant %%d)\", Value(), testVariant)\n\t}\n}\n", rev.TestVariant))
		}
		put(lib+"/BUILD.bazel", b.String())
	}
	return out
}
