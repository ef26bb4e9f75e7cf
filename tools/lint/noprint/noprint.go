// Package noprint defines an analyzer that keeps library packages from
// printing to the process's standard output.
//
// A library does not own stdout: a command that uses it may write JSON
// there, or run as a daemon whose stdout nobody reads. Libraries log through
// libs/log, or write to an io.Writer the caller passes in (fmt.Fprint*).
//
// # Rule
//
// In a library package, that is a non-main package whose import path has a
// "libs" or "internal" element (github.com/strideci/monorepo/libs/log,
// .../tools/stride/internal/cli), any use of fmt.Print, fmt.Printf or
// fmt.Println, or of the builtins print and println, in a non-test file is
// reported. Calls and function values (f := fmt.Println) are both caught.
// fmt.Fprint* and fmt.Sprint* are fine.
package noprint

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports fmt.Print* and print/println in library packages.
var Analyzer = &analysis.Analyzer{
	Name:     "noprint",
	Doc:      "report fmt.Print/Printf/Println and print/println in library packages (under libs/ or internal/); log through libs/log or write to a passed io.Writer",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// IsLibrary reports whether the package with import path path and name name
// is a library in the sense of this analyzer.
func IsLibrary(path, name string) bool {
	if name == "main" {
		return false
	}
	path = strings.TrimSuffix(path, "_test")
	for _, elem := range strings.Split(path, "/") {
		if elem == "libs" || elem == "internal" {
			return true
		}
	}
	return false
}

var banned = map[string]bool{"Print": true, "Printf": true, "Println": true}

func run(pass *analysis.Pass) (interface{}, error) {
	if !IsLibrary(pass.Pkg.Path(), pass.Pkg.Name()) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.Ident)(nil)}, func(n ast.Node) {
		id := n.(*ast.Ident)
		if strings.HasSuffix(pass.Fset.File(id.Pos()).Name(), "_test.go") {
			return
		}
		switch obj := pass.TypesInfo.Uses[id].(type) {
		case *types.Func:
			if obj.Pkg() != nil && obj.Pkg().Path() == "fmt" && banned[obj.Name()] {
				pass.Reportf(id.Pos(), "fmt.%s in library package %s: log through libs/log or write to an io.Writer the caller passes (fmt.Fprint*)", obj.Name(), pass.Pkg.Path())
			}
		case *types.Builtin:
			if obj.Name() == "print" || obj.Name() == "println" {
				pass.Reportf(id.Pos(), "builtin %s in library package %s: log through libs/log", obj.Name(), pass.Pkg.Path())
			}
		}
	})
	return nil, nil
}
