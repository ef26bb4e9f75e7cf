// Package gitexec defines an analyzer that keeps git processes behind one
// door in stride: package gitrepo.
//
// stride reads repositories through gitrepo (go-git, and gitrepo.Git for
// what go-git does not do). A second place that starts git is a second
// environment to get right (git's hook variables, GIT_DIR and the like,
// point a git started inside a hook at the wrong repository) and a second
// way for "the change" to be computed. Issue 16 found five such places.
//
// # Rule
//
// In a package under tools/stride (import path containing Scope), a call
// of exec.Command or exec.CommandContext whose program is a constant with
// base name "git" is reported, except in:
//   - package gitrepo and the packages under it (Allowed);
//   - test files (_test.go) and test-support packages (a last path
//     element ending in "test": gittest, runtest), which build the
//     repositories tests run against.
//
// Program names that are not constants are not tracked.
package gitexec

import (
	"go/ast"
	"path"
	"strings"

	"github.com/strideci/monorepo/tools/lint/internal/execcall"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports git started outside package gitrepo.
var Analyzer = &analysis.Analyzer{
	Name:     "gitexec",
	Doc:      "report git started (os/exec) in a stride package other than internal/gitrepo; run git through gitrepo.Git",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// Scope is the import path element of the packages checked, and Allowed
// the one package (with the packages under it) that may start git.
const (
	Scope   = "/tools/stride/"
	Allowed = "/tools/stride/internal/gitrepo"
)

// Checked reports whether the package with import path p must not start
// git.
func Checked(p string) bool {
	p = strings.TrimSuffix(p, "_test")
	if !strings.Contains(p+"/", Scope) {
		return false
	}
	if strings.HasSuffix(p, Allowed) || strings.Contains(p+"/", Allowed+"/") {
		return false
	}
	return !strings.HasSuffix(path.Base(p), "test")
}

func run(pass *analysis.Pass) (interface{}, error) {
	if !Checked(pass.Pkg.Path()) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		if strings.HasSuffix(pass.Fset.File(call.Pos()).Name(), "_test.go") {
			return
		}
		if execcall.Program(pass.TypesInfo, call) == "git" {
			pass.Reportf(call.Pos(), "git started outside package gitrepo: run it through gitrepo.Git (one runner, one clean environment)")
		}
	})
	return nil, nil
}
