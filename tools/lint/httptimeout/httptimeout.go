// Package httptimeout defines an analyzer that keeps HTTP servers from
// running without timeouts.
//
// An http.Server without timeouts keeps a connection (and its goroutine and
// buffers) for as long as the client likes: a slow or stalled client, or a
// handler stuck on a dead backend, holds it forever. libs/httpserver sets
// every timeout and gives handlers a request context that is cancelled when
// the client goes away or the server drains; services should use it.
//
// # Rule
//
// In non-test files it reports:
//   - uses of net/http's package-level ListenAndServe, ListenAndServeTLS,
//     Serve and ServeTLS, which serve with a zero-timeout http.Server;
//   - http.Server composite literals (keyed) that do not bound reading the
//     request (neither ReadHeaderTimeout nor ReadTimeout set) or do not bound
//     the response side (neither WriteTimeout nor IdleTimeout set).
//
// A field set to a value that is zero at run time is not detected; a
// Server built field by field (var s http.Server; s.Addr = ...) is not
// followed. Tests are exempt (httptest servers live for one test).
package httptimeout

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports HTTP servers without read and write/idle timeouts.
var Analyzer = &analysis.Analyzer{
	Name:     "httptimeout",
	Doc:      "report http.ListenAndServe/Serve (no timeouts) and http.Server literals without ReadHeaderTimeout/ReadTimeout and WriteTimeout/IdleTimeout",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// noTimeoutFuncs are net/http's functions that serve with a zero Server.
var noTimeoutFuncs = map[string]bool{
	"ListenAndServe":    true,
	"ListenAndServeTLS": true,
	"Serve":             true,
	"ServeTLS":          true,
}

func run(pass *analysis.Pass) (interface{}, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.Ident)(nil), (*ast.CompositeLit)(nil)}, func(n ast.Node) {
		if strings.HasSuffix(pass.Fset.File(n.Pos()).Name(), "_test.go") {
			return
		}
		switch n := n.(type) {
		case *ast.Ident:
			fn, ok := pass.TypesInfo.Uses[n].(*types.Func)
			if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "net/http" || !noTimeoutFuncs[fn.Name()] {
				return
			}
			if sig, ok := fn.Type().(*types.Signature); !ok || sig.Recv() != nil {
				return // (*http.Server).ListenAndServe is fine
			}
			pass.Reportf(n.Pos(), "http.%s serves without timeouts: use libs/httpserver, or an http.Server with ReadHeaderTimeout and WriteTimeout (or IdleTimeout) set", fn.Name())
		case *ast.CompositeLit:
			if !isHTTPServer(pass.TypesInfo.TypeOf(n)) {
				return
			}
			set := map[string]bool{}
			for _, elt := range n.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					return // unkeyed: every field is given
				}
				if id, ok := kv.Key.(*ast.Ident); ok {
					set[id.Name] = true
				}
			}
			var missing []string
			if !set["ReadHeaderTimeout"] && !set["ReadTimeout"] {
				missing = append(missing, "ReadHeaderTimeout (or ReadTimeout)")
			}
			if !set["WriteTimeout"] && !set["IdleTimeout"] {
				missing = append(missing, "WriteTimeout (or IdleTimeout)")
			}
			if len(missing) > 0 {
				pass.Reportf(n.Pos(), "http.Server without %s: a slow or stalled client holds the connection forever; set it, or use libs/httpserver", strings.Join(missing, " and "))
			}
		}
	})
	return nil, nil
}

func isHTTPServer(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem() // an elided &http.Server{} in a []*http.Server literal
	}
	n, ok := t.(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "net/http" && obj.Name() == "Server"
}
