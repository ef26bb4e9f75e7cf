package affected

import (
	"strings"
	"testing"
)

var wsFiles = map[string]string{
	"WORKSPACE":     workspaceHeader,
	"tools/BUILD":   `exports_files(["tool.sh"])` + "\n",
	"tools/tool.sh": "echo tool\n",
	"tools/helper.bzl": `HELP = "h"
`,
	"tools/rules.bzl": `load(":helper.bzl", "HELP")

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".out")
    ctx.actions.write(out, HELP + " ".join(ctx.attr.copts) + str(len(ctx.files.srcs)))
    return [DefaultInfo(files = depset([out]))]

my_rule = rule(
    implementation = _impl,
    attrs = {
        "srcs": attr.label_list(allow_files = True),
        "copts": attr.string_list(),
        "_tool": attr.label(default = "//tools:tool.sh", allow_single_file = True),
    },
)
`,
	"tools/macros.bzl": `load(":rules.bzl", "my_rule")

def my_macro(name, srcs, copts = []):
    my_rule(name = name, srcs = srcs, copts = copts)
    native.genrule(name = name + "_gen", srcs = srcs, outs = [name + "_gen.txt"], cmd = "cat $(SRCS) > $@")
`,
	"tools/unused.bzl": "def nothing():\n    pass\n",
	"lib/BUILD": `load("//tools:macros.bzl", "my_macro")

sh_library(
    name = "lib",
    srcs = glob(["*.sh"]),
    data = [":gen.txt"],
    deps = [":base"],
    visibility = ["//visibility:public"],
)

sh_library(name = "base", srcs = ["base/base.sh"])

genrule(name = "gen", srcs = ["in.txt"], outs = ["gen.txt"], cmd = "cp $< $@")

my_macro(name = "m", srcs = ["in.txt"])
`,
	"lib/a.sh":         "echo a\n",
	"lib/b.sh":         "echo b\n",
	"lib/in.txt":       "in\n",
	"lib/base/base.sh": "echo base\n",
	"app/BUILD": `sh_test(
    name = "t",
    srcs = ["t.sh"],
    deps = ["//lib"],
    data = ["data.txt"],
    env = {"A": "1"},
    args = ["--x"],
)

sh_binary(name = "bin", srcs = ["bin.sh"])
`,
	"app/t.sh":     "exit 0\n",
	"app/bin.sh":   "echo bin\n",
	"app/data.txt": "data\n",
	"other/BUILD":  `sh_library(name = "o", srcs = ["o.sh"], visibility = ["//app:__pkg__"])` + "\n",
	"other/o.sh":   "echo o\n",
}

func replaceIn(w *testWS, p, old, new string) string {
	w.t.Helper()
	b, ok := wsRead(w, p)
	if !ok || !strings.Contains(b, old) {
		w.t.Fatalf("%s does not contain %q", p, old)
	}
	return strings.Replace(b, old, new, 1)
}

func wsRead(w *testWS, p string) (string, bool) {
	out, err := w.repo.TryGit("show", "HEAD:"+p)
	if err != nil {
		return "", false
	}
	return out + "\n", true
}

// TestWorkspaceChanges covers source files (glob, data, genrule inputs,
// renames, files outside packages), BUILD attributes, new and deleted
// targets and packages, .bzl rule and macro changes, package() and
// .bazelrc, on one workspace with one commit per change.
func TestWorkspaceChanges(t *testing.T) {
	w, c0 := newTestWS(t, wsFiles)
	r := w.repo
	commit := func(msg string, files map[string]string) string { return r.Commit(msg, files) }

	c1 := commit("glob source", map[string]string{"lib/a.sh": "echo a2\n"})
	c2 := commit("genrule input", map[string]string{"lib/in.txt": "in2\n"})
	c3 := commit("docs", map[string]string{"README.md": "# readme\n", "docs/guide.md": "guide\n"})
	c4 := commit("data file", map[string]string{"app/data.txt": "data2\n"})
	c5 := commit("new glob file", map[string]string{"lib/c.sh": "echo c\n"})
	c6 := commit("rename", map[string]string{"lib/c.sh!": "", "lib/d.sh": "echo c\n"})
	c7 := commit("deps", map[string]string{"app/BUILD": replaceIn(w, "app/BUILD", `deps = ["//lib"],`, `deps = ["//lib", "//other:o"],`)})
	c8 := commit("env args", map[string]string{"app/BUILD": replaceIn(w, "app/BUILD", `env = {"A": "1"},
    args = ["--x"],`, `env = {"A": "2"},
    args = ["--y"],`)})
	c9 := commit("tags", map[string]string{"lib/BUILD": replaceIn(w, "lib/BUILD", `name = "lib",`, `name = "lib",
    tags = ["slow"],`)})
	c10 := commit("visibility", map[string]string{"other/BUILD": replaceIn(w, "other/BUILD", `"//app:__pkg__"`, `"//visibility:public"`)})
	c11 := commit("copts through macro", map[string]string{"lib/BUILD": replaceIn(w, "lib/BUILD", `my_macro(name = "m", srcs = ["in.txt"])`, `my_macro(name = "m", srcs = ["in.txt"], copts = ["-O2"])`)})
	c12 := commit("rule impl via transitive load", map[string]string{"tools/helper.bzl": `HELP = "h2"` + "\n"})
	c13 := commit("macro change", map[string]string{"tools/macros.bzl": replaceIn(w, "tools/macros.bzl", `cmd = "cat $(SRCS) > $@"`, `cmd = "cat $(SRCS) $(SRCS) > $@"`)})
	c14 := commit("macro no-op", map[string]string{"tools/macros.bzl": replaceIn(w, "tools/macros.bzl", `def my_macro`, "# A comment.\ndef my_macro")})
	c15 := commit("unused bzl", map[string]string{"tools/unused.bzl": "def nothing():\n    return 1\n"})
	c16 := commit("new package", map[string]string{"newpkg/BUILD": `sh_library(name = "n", srcs = ["n.sh"])` + "\n", "newpkg/n.sh": "echo n\n"})
	c17 := commit("delete package", map[string]string{"newpkg/BUILD!": "", "newpkg/n.sh!": ""})
	c18 := commit("delete target", map[string]string{"app/BUILD": replaceIn(w, "app/BUILD", `sh_binary(name = "bin", srcs = ["bin.sh"])`, "")})
	c19 := commit("package()", map[string]string{"other/BUILD": `package(default_testonly = True)` + "\n" + mustRead(w, "other/BUILD")})
	c20 := commit("bazelrc", map[string]string{".bazelrc": "build --nosandbox_debug\nbuild --define=x=2\n"})
	c21 := commit("bazelrc comment", map[string]string{".bazelrc": "# x\nbuild --nosandbox_debug\n\nbuild   --define=x=2\n"})
	c22 := commit("bazelrc test flags", map[string]string{".bazelrc": "# x\nbuild --nosandbox_debug\n\nbuild   --define=x=2\ntest --test_env=SYNTH=1 --test_output errors\n"})
	c22b := commit("bazelrc neutral flags and other commands", map[string]string{
		".bazelrc": "# x\nbuild --nosandbox_debug --jobs=2 --verbose_failures\n\nbuild   --define=x=2\ntest --test_env=SYNTH=1 --test_output errors\nrun --run_under=echo\ntry-import %workspace%/missing.bazelrc\n",
	})

	lib := []string{"//app:t", "//lib:lib"}
	w.runCases([]affectedCase{
		{name: "glob source", base: c0, head: c1, want: lib,
			reasons: map[string][]string{"//lib:lib": {"source changed: lib/a.sh"}, "//app:t": {"depends on //lib:lib"}},
			explain: map[string]string{"//app:t": "//app:t <- depends on //lib:lib <- source changed: lib/a.sh"}},
		{name: "genrule input", base: c1, head: c2, want: []string{"//app:t", "//lib:gen", "//lib:lib", "//lib:m", "//lib:m_gen"},
			reasons: map[string][]string{"//lib:lib": {"depends on //lib:gen"}, "//lib:gen": {"source changed: lib/in.txt"}}},
		{name: "tests only", base: c1, head: c2, kind: "test", want: []string{"//app:t"}},
		{name: "build only", base: c1, head: c2, kind: "build", want: []string{"//lib:gen", "//lib:lib", "//lib:m", "//lib:m_gen"}},
		{name: "files outside packages", base: c2, head: c3},
		{name: "files deleted outside packages", base: c3, head: c2},
		{name: "data file", base: c3, head: c4, want: []string{"//app:t"},
			reasons: map[string][]string{"//app:t": {"source changed: app/data.txt"}}},
		{name: "new file in glob", base: c4, head: c5, want: lib,
			reasons: map[string][]string{"//lib:lib": {"attribute changed: srcs", "source added: lib/c.sh"}}},
		{name: "rename", base: c5, head: c6, want: lib,
			reasons: map[string][]string{"//lib:lib": {"attribute changed: srcs", "source renamed: lib/c.sh -> lib/d.sh"}}},
		{name: "attribute deps", base: c6, head: c7, want: []string{"//app:t"},
			reasons: map[string][]string{"//app:t": {"attribute changed: deps"}}},
		{name: "attributes env and args", base: c7, head: c8, want: []string{"//app:t"},
			reasons: map[string][]string{"//app:t": {"attribute changed: env", "attribute changed: args"}}},
		{name: "attribute tags", base: c8, head: c9, want: lib,
			reasons: map[string][]string{"//lib:lib": {"attribute changed: tags"}}},
		{name: "visibility", base: c9, head: c10, want: []string{"//app:t", "//other:o"},
			reasons: map[string][]string{"//other:o": {"attribute changed: visibility"}}},
		{name: "copts through macro", base: c10, head: c11, want: []string{"//lib:m"},
			reasons: map[string][]string{"//lib:m": {"attribute changed: copts"}}},
		{name: "rule implementation", base: c11, head: c12, want: []string{"//lib:m"},
			reasons: map[string][]string{"//lib:m": {"rule definition changed: //tools:rules.bzl"}}},
		{name: "macro", base: c12, head: c13, want: []string{"//lib:m_gen"},
			reasons: map[string][]string{"//lib:m_gen": {"attribute changed: cmd", "macro //tools:macros.bzl changed"}}},
		{name: "macro no-op", base: c13, head: c14},
		{name: "unused bzl", base: c14, head: c15},
		{name: "new package", base: c15, head: c16, want: []string{"//newpkg:n"},
			reasons: map[string][]string{"//newpkg:n": {"new target"}}},
		{name: "deleted package", base: c16, head: c17, removed: []string{"//newpkg:n"}},
		{name: "deleted target", base: c17, head: c18, removed: []string{"//app:bin"}},
		{name: "package()", base: c18, head: c19, want: []string{"//app:t", "//other:o"},
			reasons: map[string][]string{"//other:o": {"package() changed: other/BUILD"}}},
		{name: "bazelrc", base: c19, head: c20, everything: true},
		{name: "bazelrc comment and spacing", base: c20, head: c21},
		{name: "bazelrc test-only flags", base: c21, head: c22, want: []string{"//app:t"},
			reasons: map[string][]string{"//app:t": {".bazelrc changed test-only flags (--test_env --test_output): every test is affected"}}},
		{name: "bazelrc neutral flags, other commands, missing try-import", base: c22, head: c22b},
		{name: "range", base: c0, head: c2, want: []string{"//app:t", "//lib:gen", "//lib:lib", "//lib:m", "//lib:m_gen"}},
	})
}

func mustRead(w *testWS, p string) string {
	s, ok := wsRead(w, p)
	if !ok {
		w.t.Fatalf("no %s at HEAD", p)
	}
	return s
}
