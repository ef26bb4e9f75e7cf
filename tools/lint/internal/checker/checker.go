// Package checker runs go/analysis analyzers over packages that it
// type-checks itself with the standard library's go/types, without x/tools'
// go/packages.
//
// It exists because the versions of golang.org/x/tools that allow `go 1.19`
// in go.mod (up to v0.24) do not compile with Go 1.22 and newer in their
// go/packages dependency (internal/tokeninternal), so neither analysistest
// nor multichecker can run with the host Go. The analyzers themselves only
// need go/analysis and go/ast/inspector, which compile everywhere. Under
// Bazel, rules_go's nogo runs the same analyzers instead.
//
// Facts are not supported: an analyzer (or one it requires) that declares
// FactTypes is an error.
package checker

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"runtime"
	"sort"

	"golang.org/x/tools/go/analysis"
)

// Package is a parsed and type-checked package.
type Package struct {
	Path  string
	Fset  *token.FileSet
	Files []*ast.File
	Types *types.Package
	Info  *types.Info
}

// TypeCheck type-checks files as the package path, resolving imports with
// imp. Type errors are returned, all of them, joined in one error.
func TypeCheck(fset *token.FileSet, path string, files []*ast.File, imp types.Importer) (*Package, error) {
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Implicits:  map[ast.Node]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Scopes:     map[ast.Node]*types.Scope{},
	}
	var errs []string
	conf := types.Config{
		Importer: imp,
		Sizes:    types.SizesFor("gc", runtime.GOARCH),
		Error: func(err error) {
			if len(errs) < 10 {
				errs = append(errs, err.Error())
			}
		},
	}
	tpkg, _ := conf.Check(path, fset, files, info)
	if len(errs) > 0 {
		msg := fmt.Sprintf("type-check %s:", path)
		for _, e := range errs {
			msg += "\n\t" + e
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return &Package{Path: path, Fset: fset, Files: files, Types: tpkg, Info: info}, nil
}

// Diagnostic is one finding of one analyzer.
type Diagnostic struct {
	Analyzer string
	Pos      token.Position
	Message  string
}

// String formats d as the Go tools do: "file:line:col: message (analyzer)".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s (%s)", d.Pos, d.Message, d.Analyzer)
}

// Run runs analyzers, and the analyzers they require, over pkg and returns
// the diagnostics of analyzers (not of their requirements), sorted by
// position.
func Run(pkg *Package, analyzers []*analysis.Analyzer) ([]Diagnostic, error) {
	order, err := topo(analyzers)
	if err != nil {
		return nil, err
	}
	wanted := map[*analysis.Analyzer]bool{}
	for _, a := range analyzers {
		wanted[a] = true
	}
	results := map[*analysis.Analyzer]interface{}{}
	var diags []Diagnostic
	for _, a := range order {
		a := a
		resultOf := map[*analysis.Analyzer]interface{}{}
		for _, req := range a.Requires {
			resultOf[req] = results[req]
		}
		pass := &analysis.Pass{
			Analyzer:   a,
			Fset:       pkg.Fset,
			Files:      pkg.Files,
			Pkg:        pkg.Types,
			TypesInfo:  pkg.Info,
			TypesSizes: types.SizesFor("gc", runtime.GOARCH),
			ResultOf:   resultOf,
			Report: func(d analysis.Diagnostic) {
				if wanted[a] {
					diags = append(diags, Diagnostic{Analyzer: a.Name, Pos: pkg.Fset.Position(d.Pos), Message: d.Message})
				}
			},
			ImportObjectFact:  func(types.Object, analysis.Fact) bool { return false },
			ExportObjectFact:  func(types.Object, analysis.Fact) {},
			ImportPackageFact: func(*types.Package, analysis.Fact) bool { return false },
			ExportPackageFact: func(analysis.Fact) {},
			AllObjectFacts:    func() []analysis.ObjectFact { return nil },
			AllPackageFacts:   func() []analysis.PackageFact { return nil },
		}
		res, err := a.Run(pass)
		if err != nil {
			return nil, fmt.Errorf("analyzer %s on %s: %w", a.Name, pkg.Path, err)
		}
		if a.ResultType != nil && res != nil && reflect.TypeOf(res) != a.ResultType {
			return nil, fmt.Errorf("analyzer %s on %s: result of type %T, want %v", a.Name, pkg.Path, res, a.ResultType)
		}
		results[a] = res
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Pos, diags[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return diags, nil
}

// topo returns analyzers and their requirements, requirements first.
func topo(analyzers []*analysis.Analyzer) ([]*analysis.Analyzer, error) {
	var order []*analysis.Analyzer
	state := map[*analysis.Analyzer]int{} // 1 visiting, 2 done
	var visit func(a *analysis.Analyzer) error
	visit = func(a *analysis.Analyzer) error {
		switch state[a] {
		case 1:
			return fmt.Errorf("analyzer %s: requirement cycle", a.Name)
		case 2:
			return nil
		}
		if len(a.FactTypes) > 0 {
			return fmt.Errorf("analyzer %s uses facts, which this checker does not support", a.Name)
		}
		state[a] = 1
		for _, req := range a.Requires {
			if err := visit(req); err != nil {
				return err
			}
		}
		state[a] = 2
		order = append(order, a)
		return nil
	}
	for _, a := range analyzers {
		if err := visit(a); err != nil {
			return nil, err
		}
	}
	return order, nil
}
