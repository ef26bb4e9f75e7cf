package policy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// gazelleInputs reports whether a changed path can change what Gazelle
// generates: Go sources, BUILD files, module files, Starlark.
func gazelleInputs(changed map[string]bool) bool {
	for p := range changed {
		base := path.Base(p)
		switch {
		case base == "BUILD" || base == "BUILD.bazel" || base == "WORKSPACE" || base == "go.mod" || base == "go.sum":
			return true
		case strings.HasSuffix(base, ".go") || strings.HasSuffix(base, ".bzl") || strings.HasSuffix(base, ".proto"):
			return true
		}
	}
	return false
}

// checkGazelle runs the Gazelle diff command in the work tree when the
// change touched its inputs and the work tree has head checked out. It
// returns the findings, or a reason the rule was skipped.
func checkGazelle(ctx context.Context, repo *gitrepo.Repo, base, head plumbing.Hash, changed map[string]bool, o *Options) ([]Finding, string, error) {
	if !gazelleInputs(changed) {
		return nil, "no Go, BUILD, Starlark or module files changed", nil
	}
	if !base.IsZero() && goBodiesOnly(repo, base, head, changed) {
		return nil, "only Go function bodies and declarations changed (package clauses, imports, build constraints and //go:embed lines are the same), which Gazelle does not read", nil
	}
	root := repo.Root()
	if root == "" {
		return nil, "bare repository: there is no work tree to run Gazelle in", nil
	}
	cur, err := repo.ResolveRevision("HEAD")
	if err != nil || cur != head {
		return nil, fmt.Sprintf("the work tree does not have head %s checked out (Gazelle runs in the work tree)", shortSHA(head.String())), nil
	}
	cmd := exec.CommandContext(ctx, o.GazelleCommand[0], o.GazelleCommand[1:]...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	hunks := parseUnifiedDiff(stdout.String(), root)
	if runErr != nil && len(hunks) == 0 {
		return nil, "", fmt.Errorf("generated-drift: %s in %s: %v\n%s", strings.Join(o.GazelleCommand, " "), root, runErr, tail(stderr.String(), 20))
	}
	var out []Finding
	for _, h := range hunks {
		out = append(out, Finding{Rule: RuleGeneratedDrift, File: h.file, Line: h.line,
			Message: fmt.Sprintf("differs from what Gazelle generates (%s): run `bazel run //:gazelle` and commit the result; hand edits to generated rules are lost", h.first)})
	}
	return out, "", nil
}

// hunk is one hunk of a unified diff: the file, the first changed line in
// the current file, and that change's text.
type hunk struct {
	file  string
	line  int
	first string
}

// parseUnifiedDiff reads the hunks of a unified diff (Gazelle's -mode=diff
// output: "--- path", "+++ path", "@@ -l,n +l,n @@" headers). Paths are
// made relative to root when absolute.
func parseUnifiedDiff(s, root string) []hunk {
	var out []hunk
	var from, to string
	var cur *hunk
	oldLine := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "--- "):
			from, cur = diffPath(l[4:]), nil
		case strings.HasPrefix(l, "+++ "):
			to, cur = diffPath(l[4:]), nil
		case strings.HasPrefix(l, "@@ "):
			file := to
			if file == "" || file == "/dev/null" {
				file = from
			}
			if strings.HasPrefix(from, "a/") && strings.HasPrefix(to, "b/") {
				file = to[2:]
			}
			if filepath.IsAbs(file) {
				if rel, err := filepath.Rel(root, file); err == nil {
					file = filepath.ToSlash(rel)
				}
			}
			oldLine = hunkStart(l)
			out = append(out, hunk{file: file, line: oldLine})
			cur = &out[len(out)-1]
		case cur != nil && cur.first == "" && (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")):
			cur.line = oldLine
			if cur.line == 0 {
				cur.line = 1
			}
			cur.first = strings.TrimSpace(l[:1] + " " + strings.TrimSpace(l[1:]))
		case cur != nil && strings.HasPrefix(l, " "):
			oldLine++
		}
	}
	return out
}

// diffPath takes the path out of a ---/+++ header ("path\tdate").
func diffPath(s string) string {
	if i := strings.IndexByte(s, '\t'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// hunkStart returns l of "@@ -l,n +l,n @@".
func hunkStart(h string) int {
	f := strings.Fields(h)
	if len(f) < 2 || !strings.HasPrefix(f[1], "-") {
		return 0
	}
	n := strings.TrimPrefix(f[1], "-")
	if i := strings.IndexByte(n, ','); i >= 0 {
		n = n[:i]
	}
	v, _ := strconv.Atoi(n)
	return v
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// goBodiesOnly reports whether every changed path is a Go file present at
// both base and head whose Gazelle-visible header is the same: package
// name, imports, build constraints and //go:embed patterns. Gazelle's
// output depends on nothing else in a Go file, so such a change cannot
// make BUILD files drift (if base had none).
func goBodiesOnly(repo *gitrepo.Repo, base, head plumbing.Hash, changed map[string]bool) bool {
	for p := range changed {
		if !strings.HasSuffix(p, ".go") {
			return false
		}
		b, err := repo.ReadFileAt(base, p)
		if err != nil {
			return false
		}
		h, err := repo.ReadFileAt(head, p)
		if err != nil {
			return false
		}
		bh, ok := goHeader(p, b)
		if !ok {
			return false
		}
		hh, ok := goHeader(p, h)
		if !ok || bh != hh {
			return false
		}
	}
	return true
}

// goHeader is what Gazelle reads from a Go file: the package name, the
// imports (with their names), build constraint lines and //go:embed
// directives. ok is false when the file does not parse.
func goHeader(name string, src []byte) (string, bool) {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n", f.Name.Name)
	for _, imp := range f.Imports {
		n := ""
		if imp.Name != nil {
			n = imp.Name.Name
		}
		fmt.Fprintf(&b, "import %s %s\n", n, imp.Path.Value)
	}
	for _, l := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "//go:build") || strings.HasPrefix(t, "// +build") || strings.HasPrefix(t, "//go:embed") {
			fmt.Fprintf(&b, "%s\n", t)
		}
	}
	return b.String(), true
}
