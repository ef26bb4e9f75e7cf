package lint_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bazelbuild/buildtools/build"
	"github.com/bazelbuild/buildtools/warn"
	"github.com/strideci/monorepo/tools/lint"
	"github.com/strideci/monorepo/tools/lint/internal/linttest"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// TestAnalyzerNames: each analyzer's name is its package directory's name,
// which is also its Bazel target (//tools/lint/NAME), its nogo.json key and
// the name printed after each finding.
func TestAnalyzerNames(t *testing.T) {
	linttest.SkipUnderBazel(t)
	for _, a := range lint.Analyzers {
		if _, err := os.Stat(filepath.Join(a.Name, a.Name+".go")); err != nil {
			t.Errorf("analyzer %s: no %s/%s.go: %v", a.Name, a.Name, a.Name, err)
		}
		if a.Doc == "" {
			t.Errorf("analyzer %s has no Doc", a.Name)
		}
	}
}

// TestNogoConfig: every analyzer of tools/lint is a dep of the nogo target
// and has an entry in its config (which keeps it off external/). While
// nogo.json.proposed exists (not merged into tools/nogo yet), the proposal
// is checked instead of tools/nogo/nogo.json.
func TestNogoConfig(t *testing.T) {
	linttest.SkipUnderBazel(t)
	config := filepath.Join(repoRoot, "tools", "nogo", "nogo.json")
	checkBuild := true
	if _, err := os.Stat("nogo.json.proposed"); err == nil {
		config = "nogo.json.proposed"
		checkBuild = false
	}
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]struct {
		ExcludeFiles map[string]string `json:"exclude_files"`
		OnlyFiles    map[string]string `json:"only_files"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", config, err)
	}
	for name, c := range cfg {
		for re := range c.ExcludeFiles {
			if _, err := regexp.Compile(re); err != nil {
				t.Errorf("%s: %s: exclude_files %q: %v", config, name, re, err)
			}
		}
		if _, ok := c.ExcludeFiles["external/"]; !ok {
			t.Errorf("%s: %s does not exclude external/ (third-party code)", config, name)
		}
	}
	var build []byte
	if checkBuild {
		if build, err = os.ReadFile(filepath.Join(repoRoot, "tools", "nogo", "BUILD.bazel")); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range lint.Analyzers {
		if _, ok := cfg[a.Name]; !ok {
			t.Errorf("%s has no entry for analyzer %s", config, a.Name)
		}
		if checkBuild && !bytes.Contains(build, []byte(`"//tools/lint/`+a.Name+`"`)) {
			t.Errorf("tools/nogo/BUILD.bazel: nogo deps lack \"//tools/lint/%s\"", a.Name)
		}
	}
}

// buildifierWarnings reads buildifier-warnings.txt into the warning list
// buildifier would use for --warnings=<the lines joined by commas>.
func buildifierWarnings(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("buildifier-warnings.txt")
	if err != nil {
		t.Fatal(err)
	}
	enabled := map[string]bool{}
	for _, w := range warn.DefaultWarnings {
		enabled[w] = true
	}
	known := map[string]bool{}
	for _, w := range warn.AllWarnings {
		known[w] = true
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < 2 || (line[0] != '-' && line[0] != '+') {
			t.Fatalf("buildifier-warnings.txt:%d: %q: want +WARNING or -WARNING (changes to the default set)", i+1, line)
		}
		if !known[line[1:]] {
			t.Fatalf("buildifier-warnings.txt:%d: unknown warning %q", i+1, line[1:])
		}
		enabled[line[1:]] = line[0] == '+'
	}
	var out []string
	for w, on := range enabled {
		if on {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// lintStarlark returns buildifier's findings for one file as
// "file:line: category".
func lintStarlark(t *testing.T, path, name string, warnings []string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := build.Parse(name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var out []string
	for _, fd := range warn.FileWarnings(f, warnings, nil, warn.ModeWarn, nil) {
		out = append(out, fmt.Sprintf("%s:%d: %s", name, fd.Start.Line, fd.Category))
	}
	return out
}

// TestBuildifierCatchesBadFiles: deliberate mistakes are reported with
// their file and line.
func TestBuildifierCatchesBadFiles(t *testing.T) {
	linttest.SkipUnderBazel(t)
	warnings := buildifierWarnings(t)
	got := append(lintStarlark(t, "testdata/buildifier/BUILD.bazel.in", "BUILD.bazel", warnings),
		lintStarlark(t, "testdata/buildifier/bad.bzl.in", "bad.bzl", warnings)...)
	want := []string{
		"BUILD.bazel:1: load",             // go_test loaded, unused
		"BUILD.bazel:5: native-build",     // native.glob in a BUILD file
		"BUILD.bazel:13: duplicated-name", // a second target named dup
		"bad.bzl:10: unused-variable",     // unused = ...
		"bad.bzl:13: unused-variable",     // _impl is never used
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRepositoryPassesBuildifierLint runs the lint of ci/test over this
// repository's BUILD, .bzl, WORKSPACE and MODULE.bazel files (tracked, and
// untracked but not ignored).
func TestRepositoryPassesBuildifierLint(t *testing.T) {
	linttest.SkipUnderBazel(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	warnings := buildifierWarnings(t)
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "--",
		"BUILD", "BUILD.bazel", "*/BUILD", "*/BUILD.bazel", "*.bzl", "WORKSPACE", "*/WORKSPACE",
		"WORKSPACE.bzlmod", "MODULE.bazel")
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v: %s (not a git checkout?)", err, stderr.String())
	}
	files := strings.Fields(string(out))
	if len(files) == 0 {
		t.Fatal("no Starlark files found")
	}
	n := 0
	for _, name := range files {
		if strings.Contains(name, "/testdata/") || strings.HasPrefix(name, "testdata/") {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, name)); os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		n++
		for _, f := range lintStarlark(t, filepath.Join(repoRoot, name), name, warnings) {
			t.Errorf("%s (fix it, or change tools/lint/buildifier-warnings.txt)", f)
		}
	}
	t.Logf("linted %d files", n)
}
