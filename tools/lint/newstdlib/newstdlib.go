// Package newstdlib defines an analyzer that reports uses of the standard
// library that are newer than Go 1.19, the version the Bazel build compiles
// with.
//
// The host Go that developers run (`go build`, `go test`) is newer, and a
// go.mod `go 1.19` line does not stop it from compiling errors.Join or
// import "slices": the go directive gates language changes, not library
// API. Such code builds on the laptop and breaks `bazel build`. This
// analyzer catches it with the host Go (tools/lint/cmd/stridelint in
// ci/test) and names the Go version that added the symbol.
//
// # Rule
//
// In every file, tests included (Bazel compiles tests too), it reports:
//   - imports of standard-library packages added after Go 1.19 (slices,
//     maps, cmp, log/slog, iter, unique, math/rand/v2, crypto/ecdh, ...);
//   - uses of functions, types, variables, constants, methods and struct
//     fields added after Go 1.19 to packages that existed in 1.19
//     (errors.Join, strings.CutPrefix, bytes.Clone, context.WithCancelCause,
//     sync.OnceFunc, time.DateTime, (time.Time).Compare, ...);
//   - the builtins min, max and clear (Go 1.21) and unsafe.String,
//     unsafe.StringData and unsafe.SliceData (Go 1.20);
//   - range over an integer (Go 1.22) or over a function (Go 1.23).
//
// The package and symbol tables (table.go) are generated from a newer Go's
// GOROOT/api files by ./gentable. Not covered: the Go 1.22 per-iteration
// loop variable semantics, which change behaviour without changing syntax.
package newstdlib

import (
	"fmt"
	"go/ast"
	"go/types"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// BaseMinor is the Go 1.x version the Bazel build compiles with.
const BaseMinor = 19

// Analyzer reports standard-library API and builtins newer than Go 1.19.
var Analyzer = &analysis.Analyzer{
	Name:     "newstdlib",
	Doc:      "report standard-library packages, symbols and builtins newer than Go 1.19 (the Go the Bazel build compiles with)",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// builtins are the predeclared functions added after Go 1.19, by name; the
// unsafe ones are told apart by their names (no universe builtin shares
// them).
var builtins = map[string]struct {
	name  string
	minor int
}{
	"min":        {"builtin min", 21},
	"max":        {"builtin max", 21},
	"clear":      {"builtin clear", 21},
	"String":     {"unsafe.String", 20},
	"StringData": {"unsafe.StringData", 20},
	"SliceData":  {"unsafe.SliceData", 20},
}

// PackageMinor returns the Go 1.x version that added the standard-library
// package path, and whether it is newer than Go 1.19.
func PackageMinor(path string) (int, bool) {
	m, ok := newPackages[path]
	return m, ok
}

// SymbolMinor returns the Go 1.x version that added key ("errors.Join",
// "time.Time.Compare"), and whether it is newer than Go 1.19.
func SymbolMinor(key string) (int, bool) {
	m, ok := newSymbols[key]
	return m, ok
}

func run(pass *analysis.Pass) (interface{}, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	owners := fieldOwners{}
	report := func(n ast.Node, what string, minor int) {
		pass.Reportf(n.Pos(), "%s was added in Go 1.%d; the Bazel build compiles with Go 1.%d", what, minor, BaseMinor)
	}
	nodes := []ast.Node{(*ast.ImportSpec)(nil), (*ast.Ident)(nil), (*ast.RangeStmt)(nil)}
	ins.Preorder(nodes, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ImportSpec:
			path, err := strconv.Unquote(n.Path.Value)
			if err != nil {
				return
			}
			if m, ok := newPackages[path]; ok {
				report(n, fmt.Sprintf("package %s", path), m)
			}
		case *ast.RangeStmt:
			t := pass.TypesInfo.TypeOf(n.X)
			if t == nil {
				return
			}
			switch u := t.Underlying().(type) {
			case *types.Basic:
				if u.Info()&types.IsInteger != 0 {
					report(n, "range over an integer", 22)
				}
			case *types.Signature:
				report(n, "range over a function", 23)
			}
		case *ast.Ident:
			obj := pass.TypesInfo.Uses[n]
			if obj == nil {
				return
			}
			if b, ok := obj.(*types.Builtin); ok {
				if nb, ok := builtins[b.Name()]; ok {
					report(n, nb.name, nb.minor)
				}
				return
			}
			key := symbolKey(obj, owners)
			if key == "" {
				return
			}
			if m, ok := newSymbols[key]; ok {
				report(n, displayName(obj, key), m)
			}
		}
	})
	return nil, nil
}

// isStd reports whether path looks like a standard-library import path (no
// dot in its first element).
func isStd(path string) bool {
	first := path
	if i := strings.Index(path, "/"); i >= 0 {
		first = path[:i]
	}
	return !strings.Contains(first, ".") && path != "C"
}

// symbolKey returns obj's table key, or "" when obj is not a
// standard-library package member, method or field.
func symbolKey(obj types.Object, owners fieldOwners) string {
	pkg := obj.Pkg()
	if pkg == nil || !isStd(pkg.Path()) {
		return ""
	}
	if obj.Parent() == pkg.Scope() {
		return pkg.Path() + "." + obj.Name()
	}
	switch obj := obj.(type) {
	case *types.Func:
		sig, ok := obj.Type().(*types.Signature)
		if !ok || sig.Recv() == nil {
			return ""
		}
		if name := namedOf(sig.Recv().Type()); name != "" {
			return pkg.Path() + "." + name + "." + obj.Name()
		}
	case *types.Var:
		if obj.IsField() {
			if owner := owners.owner(obj); owner != "" {
				return pkg.Path() + "." + owner + "." + obj.Name()
			}
		}
	}
	return ""
}

// displayName is how a symbol is named in a message: "errors.Join",
// "(time.Time).Compare", "field net/http.Server.DisableGeneralOptionsHandler".
func displayName(obj types.Object, key string) string {
	short := obj.Pkg().Name() + strings.TrimPrefix(key, obj.Pkg().Path())
	switch obj := obj.(type) {
	case *types.Func:
		if sig, ok := obj.Type().(*types.Signature); ok && sig.Recv() != nil {
			i := strings.LastIndex(short, ".")
			return "method (" + short[:i] + ")" + short[i:]
		}
	case *types.Var:
		if obj.IsField() {
			return "field " + short
		}
	}
	return short
}

// namedOf returns the name of the named type t or *t, or "".
func namedOf(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// fieldOwners maps the struct fields of standard-library packages to the
// name of the named struct type that declares them, filled per package on
// first use.
type fieldOwners map[*types.Package]map[*types.Var]string

func (fo fieldOwners) owner(v *types.Var) string {
	pkg := v.Pkg()
	m, ok := fo[pkg]
	if !ok {
		m = map[*types.Var]string{}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok {
				continue
			}
			st, ok := tn.Type().Underlying().(*types.Struct)
			if !ok {
				continue
			}
			for i := 0; i < st.NumFields(); i++ {
				m[st.Field(i)] = name
			}
		}
		fo[pkg] = m
	}
	return m[v]
}
