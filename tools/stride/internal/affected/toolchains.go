package affected

import (
	"os"
	"path/filepath"
	"strings"

	bzl "github.com/bazelbuild/buildtools/build"
)

// A changed external repository that no target of either side is in can
// still change a build through toolchain resolution, which the query graph
// does not show: a toolchain or execution platform in it, registered by
// the WORKSPACE (register_toolchains, or a macro of another repository
// that registers it), by Bazel's own WORKSPACE suffix, or by a flag
// (--extra_toolchains, --platforms, ...). When none of those can name it,
// the repository can only matter through .bzl files that BUILD files
// load, whose effect the query output shows (attributes, targets, the
// rule definition digest): then it affects only what uses it.

// registers reports whether the statements of a WORKSPACE or workspace
// .bzl file (repository definitions already taken out) register a
// toolchain or execution platform, or load anything from another
// repository (whose macros may).
func registers(stmts []bzl.Expr, external func(*bzl.LoadStmt) bool) bool {
	found := false
	for _, st := range stmts {
		if l, ok := st.(*bzl.LoadStmt); ok && external(l) {
			return true
		}
		bzl.Walk(st, func(x bzl.Expr, _ []bzl.Expr) {
			c, ok := x.(*bzl.CallExpr)
			if !ok {
				return
			}
			name := ""
			switch f := c.X.(type) {
			case *bzl.Ident:
				name = f.Name
			case *bzl.DotExpr:
				name = f.Name
			}
			if strings.Contains(name, "register") {
				found = true
			}
		})
		if found {
			return true
		}
	}
	return false
}

// rcToolchainFlags select toolchains or platforms by label.
var rcToolchainFlags = map[string]bool{
	"extra_toolchains": true, "extra_execution_platforms": true, "platforms": true, "host_platform": true,
	"crosstool_top": true, "host_crosstool_top": true, "apple_crosstool_top": true,
	"javabase": true, "host_javabase": true, "java_toolchain": true, "host_java_toolchain": true,
	"toolchain_resolution_override": true,
}

// rcMayRegister reports whether .bazelrc text (raw or effective options)
// has a flag that selects toolchains or platforms, or names any external
// repository (a field with "@").
func rcMayRegister(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(line) {
			if strings.Contains(f, "@") {
				return true
			}
			if !strings.HasPrefix(f, "--") {
				continue
			}
			name := strings.TrimPrefix(f, "--")
			if i := strings.Index(name, "="); i >= 0 {
				name = name[:i]
			}
			if rcToolchainFlags[name] || rcToolchainFlags[strings.TrimPrefix(name, "no")] {
				return true
			}
		}
	}
	return false
}

// builtinToolchainRepo reports whether Bazel's own WORKSPACE suffix
// defines a repository of that name, whose toolchains it registers itself
// (@bazel_tools//tools/jdk:all names the remote JDKs and java tools,
// local_config_cc_toolchains, local_config_sh...): a WORKSPACE that
// redefines one changes toolchains no registration of its own names. The
// list is Bazel 4.2.3's (`bazel query //external:*` in an empty
// workspace), by prefix so that later versions' remotejdkNN count too.
func builtinToolchainRepo(name string) bool {
	for _, p := range []string{"bazel_tools", "local_config_", "local_jdk", "remotejdk", "remote_java_tools",
		"remote_coverage_tools", "rules_java", "rules_cc", "rules_proto", "rules_python", "platforms", "cc_toolchain"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// outsideRCClean reports whether the .bazelrc files Bazel reads that git
// does not version — the system's, the user's, and untracked rc files at
// the workspace root such as user.bazelrc — select no toolchain or
// platform (rcMayRegister). Unreadable directories count as clean only
// when the file does not exist.
func outsideRCClean(root string) bool {
	paths := []string{"/etc/bazel.bazelrc"}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".bazelrc"))
	}
	if ents, err := os.ReadDir(root); err == nil {
		for _, e := range ents {
			if !e.IsDir() && strings.Contains(e.Name(), "bazelrc") {
				paths = append(paths, filepath.Join(root, e.Name()))
			}
		}
	} else {
		return false
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil || rcMayRegister(string(b)) {
			return false
		}
	}
	return true
}
