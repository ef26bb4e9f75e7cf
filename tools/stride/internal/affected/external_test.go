package affected

import (
	"strings"
	"testing"
)

const extDeps = `def deps():
    native.new_local_repository(
        name = "a_repo",
        path = "vendor/a",
        build_file_content = "filegroup(name = 'a', srcs = ['a.txt'], visibility = ['//visibility:public'])",
    )
    native.new_local_repository(
        name = "b_repo",
        path = "vendor/b",
        build_file_content = "filegroup(name = 'b', srcs = ['b.txt'], visibility = ['//visibility:public'])",
    )
`

var extFiles = map[string]string{
	"WORKSPACE": workspaceHeader + `
local_repository(name = "extlib", path = "ext")

new_local_repository(name = "newext", path = "vendor/newext", build_file = "//third_party:BUILD.newext")

load("//:deps.bzl", "deps")

deps()
`,
	"BUILD":                    "",
	"deps.bzl":                 extDeps,
	"third_party/BUILD":        `exports_files(["BUILD.newext"])` + "\n",
	"third_party/BUILD.newext": `filegroup(name = "files", srcs = glob(["*.txt"]), visibility = ["//visibility:public"])` + "\n",
	"vendor/newext/x.txt":      "x\n",
	"vendor/a/a.txt":           "a\n",
	"vendor/b/b.txt":           "b\n",
	"ext/WORKSPACE":            `workspace(name = "extlib")` + "\n",
	"ext/sub/BUILD":            `sh_library(name = "lib", srcs = ["lib.sh"], visibility = ["//visibility:public"])` + "\n",
	"ext/sub/lib.sh":           "echo ext\n",
	"app/BUILD": `filegroup(name = "usea", srcs = ["@a_repo//:a"])

filegroup(name = "useb", srcs = ["@b_repo//:b"])

sh_library(name = "useext", deps = ["@extlib//sub:lib"])

filegroup(name = "usenew", srcs = ["@newext//:files"])

sh_library(name = "plain", srcs = ["plain.sh"])
`,
	"app/plain.sh": "echo plain\n",
}

// TestExternalRepositories covers WORKSPACE, deps.bzl and repository
// files: a change affects exactly the targets that depend on the
// repositories whose definition changed; changes to the WORKSPACE outside
// repository definitions, to .bazelversion, and to repositories no target
// uses that a registration or a .bazelrc flag may name (they may provide
// toolchains) affect everything; an unused repository nothing can
// register from affects nothing.
func TestExternalRepositories(t *testing.T) {
	w, c0 := newTestWS(t, extFiles)
	r := w.repo
	commit := func(msg string, files map[string]string) string { return r.Commit(msg, files) }

	c1 := commit("local_repository source", map[string]string{"ext/sub/lib.sh": "echo ext2\n"})
	c2 := commit("deps.bzl a_repo", map[string]string{"deps.bzl": replaceIn(w, "deps.bzl", "srcs = ['a.txt']", "srcs = ['a.txt'], tags = ['x']")})
	c3 := commit("WORKSPACE comment", map[string]string{"WORKSPACE": mustRead(w, "WORKSPACE") + "# A comment.\n"})
	c4 := commit("build_file of newext", map[string]string{"third_party/BUILD.newext": `filegroup(name = "files", srcs = glob(["*.txt"]), visibility = ["//visibility:public"], tags = ["y"])` + "\n"})
	c5 := commit("file in new_local_repository", map[string]string{"vendor/b/b.txt": "b2\n"})
	c6 := commit("new unused repository", map[string]string{"deps.bzl": mustRead(w, "deps.bzl") + `    native.new_local_repository(
        name = "c_repo",
        path = "vendor/a",
        build_file_content = "",
    )
`})
	c7 := commit("unused repository changed", map[string]string{"deps.bzl": replaceIn(w, "deps.bzl", `build_file_content = "",`, `build_file_content = "# changed",`)})
	c8 := commit("bind in WORKSPACE", map[string]string{"WORKSPACE": mustRead(w, "WORKSPACE") + `bind(name = "x", actual = "//app:plain")` + "\n"})
	// Debian's bazel wrapper accepts only "latest" or an installed version.
	c9 := commit("bazel version", map[string]string{".bazelversion": "latest\n"})
	// An unused repository that a registration or a flag may name.
	c10 := commit("register toolchains", map[string]string{"WORKSPACE": mustRead(w, "WORKSPACE") + `register_toolchains("@c_repo//:all")` + "\n"})
	c11 := commit("registered repository changed", map[string]string{"deps.bzl": replaceIn(w, "deps.bzl", `build_file_content = "# changed",`, `build_file_content = "# changed again",`)})
	c12 := commit("platforms flag", map[string]string{
		"WORKSPACE": strings.Replace(mustRead(w, "WORKSPACE"), `register_toolchains("@c_repo//:all")`+"\n", "", 1),
		".bazelrc":  "build --platforms=@c_repo//:p\n",
	})
	c13 := commit("repository a flag names changed", map[string]string{"deps.bzl": replaceIn(w, "deps.bzl", `build_file_content = "# changed again",`, `build_file_content = "# and again",`)})
	c14 := commit("no flag", map[string]string{".bazelrc": "build --jobs=2\n"})
	c15 := commit("unused repository changed again", map[string]string{"deps.bzl": replaceIn(w, "deps.bzl", `build_file_content = "# and again",`, `build_file_content = "",`)})

	w.runCases([]affectedCase{
		{name: "local_repository source", base: c0, head: c1, want: []string{"//app:useext"},
			reasons: map[string][]string{"//app:useext": {"depends on @extlib//sub:lib"}},
			explain: map[string]string{"//app:useext": "//app:useext <- depends on @extlib//sub:lib <- source changed: ext/sub/lib.sh"}},
		{name: "deps.bzl repository", base: c1, head: c2, want: []string{"//app:usea"},
			reasons: map[string][]string{"//app:usea": {"external repository a_repo changed"}}},
		{name: "WORKSPACE comment", base: c2, head: c3},
		{name: "build_file label", base: c3, head: c4, want: []string{"//app:usenew"},
			reasons: map[string][]string{"//app:usenew": {"external repository newext changed"}}},
		{name: "file in new_local_repository", base: c4, head: c5, want: []string{"//app:useb"}},
		{name: "new unused repository", base: c5, head: c6},
		// Nothing registers toolchains or platforms: no target uses it, so
		// nothing is affected.
		{name: "unused repository changed", base: c6, head: c7},
		{name: "WORKSPACE bind", base: c7, head: c8, everything: true},
		{name: "bazelversion", base: c8, head: c9, everything: true},
		{name: "WORKSPACE registers toolchains", base: c9, head: c10, everything: true},
		{name: "unused repository changed, WORKSPACE registers toolchains", base: c10, head: c11, everything: true},
		{name: "unused repository changed, .bazelrc names platforms", base: c12, head: c13, everything: true},
		{name: "unused repository changed, no registration again", base: c14, head: c15},
	})
}
