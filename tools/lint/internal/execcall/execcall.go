// Package execcall recognizes the os/exec calls that start a program, for
// the analyzers that care which program runs (execstderr, gitexec).
package execcall

import (
	"go/ast"
	"go/constant"
	"go/types"
	"path"
)

// Program returns the base name of the program e starts when e is a call
// of exec.Command or exec.CommandContext with a constant program name
// ("git" for exec.Command("/usr/bin/git", ...)), else "".
func Program(info *types.Info, e ast.Expr) string {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	var id *ast.Ident
	switch fun := call.Fun.(type) {
	case *ast.SelectorExpr:
		id = fun.Sel
	case *ast.Ident:
		id = fun
	default:
		return ""
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "os/exec" {
		return ""
	}
	argi := -1
	switch fn.Name() {
	case "Command":
		argi = 0
	case "CommandContext":
		argi = 1
	}
	if argi < 0 || len(call.Args) <= argi {
		return ""
	}
	tv, ok := info.Types[call.Args[argi]]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return ""
	}
	return path.Base(constant.StringVal(tv.Value))
}
