// Package execstderr defines an analyzer that keeps the stderr of git and
// Bazel in the errors of the code that runs them.
//
// `git` and `bazel` say why they failed on stderr; the error from
// (*exec.Cmd).Run says only "exit status 128". An error without the stderr
// sends the reader off to reproduce the failure by hand.
//
// # Rule
//
// A command is tracked when it is made by exec.Command or
// exec.CommandContext with a constant program name whose base name is "git"
// or "bazel", and either assigned to a local variable or run directly
// (exec.Command("git", ...).Run()). In the function that makes it
// (closures included), each way of running it must capture stderr:
//   - Run and Wait: the function assigns cmd.Stderr (a buffer to put into
//     the error, or a writer that shows it to the user) or calls
//     cmd.StderrPipe;
//   - Output: the function assigns cmd.Stderr, or handles *exec.ExitError
//     (whose Stderr field Output fills in) by naming the type (errors.As,
//     a type assertion or switch);
//   - CombinedOutput: the output, which holds stderr, is kept (not
//     discarded with _ or an expression statement).
//
// A run whose error is discarded (cmd.Run() as a statement, _ = cmd.Run(),
// out, _ := cmd.Output(), go or defer), or only compared with nil (the exit
// status as a yes/no answer, as with `git merge-base --is-ancestor`), is
// not reported: there is no error to put stderr into. A tracked command that leaves the function (passed to another function,
// returned, stored in a field) is not checked further: the code it goes to
// decides. The analyzer does not follow the error itself to see that the
// captured stderr reaches it; it checks that there is something to put
// there. Program names that are not constants are not tracked.
package execstderr

import (
	"go/ast"
	"go/token"
	"go/types"

	"github.com/strideci/monorepo/tools/lint/internal/execcall"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports git and bazel commands run without capturing stderr.
var Analyzer = &analysis.Analyzer{
	Name:     "execstderr",
	Doc:      "report git and bazel commands (os/exec) run without capturing stderr for their errors",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// Programs are the base names of the commands whose stderr must be kept.
var Programs = map[string]bool{"git": true, "bazel": true}

// runMethods are the (*exec.Cmd) methods that return the command's error.
var runMethods = map[string]bool{"Run": true, "Output": true, "CombinedOutput": true, "Wait": true}

func run(pass *analysis.Pass) (interface{}, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	ins.Preorder([]ast.Node{(*ast.File)(nil)}, func(n ast.Node) {
		for _, d := range n.(*ast.File).Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					checkFunc(pass, d.Body)
				}
			case *ast.GenDecl:
				// Function literals in package-level declarations.
				ast.Inspect(d, func(n ast.Node) bool {
					if lit, ok := n.(*ast.FuncLit); ok {
						checkFunc(pass, lit.Body)
						return false
					}
					return true
				})
			}
		}
	})
	return nil, nil
}

// command is one tracked command.
type command struct {
	prog      string // "git" or "bazel"
	stderrSet bool   // cmd.Stderr assigned or cmd.StderrPipe called
	escapes   bool   // the command leaves the function
	runs      []runCall
}

type runCall struct {
	sel           *ast.SelectorExpr
	outputDropped bool // the output of Output or CombinedOutput is discarded
	errDropped    bool // the error is discarded: nothing to put stderr into
	errTested     bool // the call is compared with nil in place: cmd.Run() == nil
	errVar        *ast.Ident
}

func newRunCall(stack []ast.Node) runCall {
	out, err := dropped(stack)
	r := runCall{sel: stack[len(stack)-1].(*ast.SelectorExpr), outputDropped: out, errDropped: err}
	if len(stack) >= 3 {
		call := stack[len(stack)-2]
		switch p := stack[len(stack)-3].(type) {
		case *ast.BinaryExpr:
			r.errTested = isNilComparison(p)
		case *ast.AssignStmt:
			if len(p.Rhs) == 1 && p.Rhs[0] == call {
				r.errVar, _ = p.Lhs[len(p.Lhs)-1].(*ast.Ident)
			}
		case *ast.ValueSpec:
			if len(p.Values) == 1 && p.Values[0] == call {
				r.errVar = p.Names[len(p.Names)-1]
			}
		}
	}
	return r
}

// isNilComparison reports whether b is "x == nil" or "x != nil".
func isNilComparison(b *ast.BinaryExpr) bool {
	if b.Op != token.EQL && b.Op != token.NEQ {
		return false
	}
	isNil := func(e ast.Expr) bool {
		id, ok := unparen(e).(*ast.Ident)
		return ok && id.Name == "nil"
	}
	return isNil(b.X) || isNil(b.Y)
}

func checkFunc(pass *analysis.Pass, body *ast.BlockStmt) {
	cmds := map[types.Object]*command{}
	var direct []*command
	exitErrorNamed := false

	// First pass: the commands and their variables.
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, rhs := range n.Rhs {
				if prog := commandProgram(pass, rhs); prog != "" {
					if id, ok := n.Lhs[i].(*ast.Ident); ok {
						if obj := objectOf(pass, id); obj != nil {
							cmds[obj] = &command{prog: prog}
						}
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) != len(n.Values) {
				return true
			}
			for i, v := range n.Values {
				if prog := commandProgram(pass, v); prog != "" {
					if obj := pass.TypesInfo.Defs[n.Names[i]]; obj != nil {
						cmds[obj] = &command{prog: prog}
					}
				}
			}
		case *ast.Ident:
			if tn, ok := pass.TypesInfo.Uses[n].(*types.TypeName); ok && tn.Pkg() != nil &&
				tn.Pkg().Path() == "os/exec" && tn.Name() == "ExitError" {
				exitErrorNamed = true
			}
		}
		return true
	})

	// Second pass, with a stack of parents: how each command is used, and
	// the parent of every use of every variable (to see how errors are used).
	uses := map[types.Object][]ast.Node{}
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		parent := ast.Node(nil)
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)

		switch n := n.(type) {
		case *ast.SelectorExpr:
			// exec.Command("git", ...).Run()
			if prog := commandProgram(pass, n.X); prog != "" && runMethods[n.Sel.Name] && isCalled(stack) {
				c := &command{prog: prog}
				c.runs = append(c.runs, newRunCall(stack))
				direct = append(direct, c)
			}
		case *ast.Ident:
			obj := pass.TypesInfo.Uses[n]
			if obj != nil {
				uses[obj] = append(uses[obj], parent)
			}
			c := cmds[obj]
			if c == nil {
				return true
			}
			sel, ok := parent.(*ast.SelectorExpr)
			if !ok || sel.X != n {
				if !isDefiningLHS(parent, n) {
					c.escapes = true
				}
				return true
			}
			switch sel.Sel.Name {
			case "Stderr":
				if isAssignedTo(stack, sel) {
					c.stderrSet = true
				}
			case "StderrPipe":
				c.stderrSet = true
			default:
				if runMethods[sel.Sel.Name] && len(stack) >= 3 {
					if call, ok := stack[len(stack)-3].(*ast.CallExpr); ok && call.Fun == sel {
						c.runs = append(c.runs, newRunCall(stack[:len(stack)-1]))
					}
				}
			}
		}
		return true
	})

	all := direct
	for _, c := range cmds {
		all = append(all, c)
	}
	for _, c := range all {
		if c.escapes {
			continue
		}
		for _, r := range c.runs {
			if r.errTested || r.errVar != nil && onlyTested(uses[objectOf(pass, r.errVar)]) {
				continue // the exit status as a yes/no answer: no error to enrich
			}
			if msg := verdict(c, r, exitErrorNamed); msg != "" {
				pass.Reportf(r.sel.Sel.Pos(), "%s", msg)
			}
		}
	}
}

// onlyTested reports whether an error variable is used, and only compared
// with nil (parents are the parents of its uses).
func onlyTested(parents []ast.Node) bool {
	if len(parents) == 0 {
		return false
	}
	for _, p := range parents {
		b, ok := p.(*ast.BinaryExpr)
		if !ok || !isNilComparison(b) {
			return false
		}
	}
	return true
}

// verdict returns the finding for one run of c, or "".
func verdict(c *command, r runCall, exitErrorNamed bool) string {
	what := c.prog + " command"
	if r.errDropped {
		return "" // the error goes nowhere; whether to ignore it is not this analyzer's business
	}
	switch r.sel.Sel.Name {
	case "Run", "Wait":
		if !c.stderrSet {
			return what + " run without capturing stderr: its error says only \"exit status N\"; set cmd.Stderr to a buffer and put it into the error"
		}
	case "Output":
		if !c.stderrSet && !exitErrorNamed {
			return what + " run with Output, but *exec.ExitError (whose Stderr holds the stderr) is not handled: use errors.As and put its Stderr into the error, or set cmd.Stderr"
		}
	case "CombinedOutput":
		if r.outputDropped {
			return what + " run with CombinedOutput, but the output (which holds stderr) is discarded: put it into the error"
		}
	}
	return ""
}

// commandProgram returns "git" or "bazel" when e is a call of exec.Command
// or exec.CommandContext with that constant program name, else "".
func commandProgram(pass *analysis.Pass, e ast.Expr) string {
	if prog := execcall.Program(pass.TypesInfo, e); Programs[prog] {
		return prog
	}
	return ""
}

func objectOf(pass *analysis.Pass, id *ast.Ident) types.Object {
	if obj := pass.TypesInfo.Defs[id]; obj != nil {
		return obj
	}
	return pass.TypesInfo.Uses[id]
}

// isDefiningLHS reports whether id is on the left of the assignment parent
// (cmd = exec.Command(...) reassigning the variable).
func isDefiningLHS(parent ast.Node, id *ast.Ident) bool {
	as, ok := parent.(*ast.AssignStmt)
	if !ok {
		return false
	}
	for _, l := range as.Lhs {
		if l == id {
			return true
		}
	}
	return false
}

// isAssignedTo reports whether the selector at the top of stack is on the
// left of an assignment.
func isAssignedTo(stack []ast.Node, sel *ast.SelectorExpr) bool {
	if len(stack) < 3 {
		return false
	}
	// stack: ..., AssignStmt, SelectorExpr, Ident
	as, ok := stack[len(stack)-3].(*ast.AssignStmt)
	if !ok {
		return false
	}
	for _, l := range as.Lhs {
		if l == sel {
			return true
		}
	}
	return false
}

// dropped reports, for the call whose selector is at the top of stack,
// whether its first result (the output of Output and CombinedOutput) and
// its last result (the error) are discarded: an expression statement, go
// or defer, or an assignment of them to _.
func dropped(stack []ast.Node) (first, last bool) {
	// stack: ..., parent of call, CallExpr, SelectorExpr
	if len(stack) < 3 {
		return false, false
	}
	call, ok := stack[len(stack)-2].(*ast.CallExpr)
	if !ok {
		return false, false
	}
	blank := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "_"
	}
	switch p := stack[len(stack)-3].(type) {
	case *ast.ExprStmt, *ast.GoStmt, *ast.DeferStmt:
		return true, true
	case *ast.AssignStmt:
		if len(p.Rhs) == 1 && p.Rhs[0] == call && len(p.Lhs) > 0 {
			return blank(p.Lhs[0]), blank(p.Lhs[len(p.Lhs)-1])
		}
	case *ast.ValueSpec:
		if len(p.Values) == 1 && p.Values[0] == call && len(p.Names) > 0 {
			return blank(p.Names[0]), blank(p.Names[len(p.Names)-1])
		}
	}
	return false, false
}

// isCalled reports whether the selector at the top of stack is the function
// of a call (cmd.Run(), not the method value cmd.Run).
func isCalled(stack []ast.Node) bool {
	if len(stack) < 2 {
		return false
	}
	call, ok := stack[len(stack)-2].(*ast.CallExpr)
	return ok && call.Fun == stack[len(stack)-1]
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}
