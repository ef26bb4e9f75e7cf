package sparse

import (
	"path"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// labelPkg returns the package directory ("." for the root package) of a
// label of the main repository written as "//pkg:name", "//pkg", "@//pkg"
// or "@WS//pkg" (WS the workspace name). ok is false for other repositories'
// labels and for strings that are not absolute labels.
func labelPkg(label, ws string) (pkg string, ok bool) {
	switch {
	case strings.HasPrefix(label, "@//"):
		label = label[1:]
	case ws != "" && strings.HasPrefix(label, "@"+ws+"//"):
		label = label[1+len(ws):]
	}
	if !strings.HasPrefix(label, "//") {
		return "", false
	}
	p := label[2:]
	if i := strings.IndexByte(p, ':'); i >= 0 {
		p = p[:i]
	}
	if strings.ContainsAny(p, " \t\n@$*\\") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "..") {
		return "", false
	}
	if p == "" {
		return ".", true
	}
	return p, true
}

// labelName returns the part after ':' of a label ("" when absent).
func labelName(label string) string {
	if i := strings.LastIndexByte(label, ':'); i >= 0 {
		return label[i+1:]
	}
	return ""
}

// bzlFile returns the repository-relative path of a load()ed .bzl file of
// the main repository, resolving ":x.bzl" against the loading file's
// package dir fromPkg.
func bzlFile(module, fromPkg, ws string) (string, bool) {
	if strings.HasPrefix(module, ":") {
		return joinPkg(fromPkg, module[1:]), true
	}
	pkg, ok := labelPkg(module, ws)
	if !ok {
		return "", false
	}
	name := labelName(module)
	if name == "" {
		return "", false
	}
	return joinPkg(pkg, name), true
}

func joinPkg(pkg, name string) string {
	if pkg == "." {
		return name
	}
	return path.Join(pkg, name)
}

// fileLoads returns the modules a BUILD, WORKSPACE or .bzl file loads.
func fileLoads(f *build.File) []string {
	var out []string
	for _, st := range f.Stmt {
		if l, ok := st.(*build.LoadStmt); ok {
			out = append(out, l.Module.Value)
		}
	}
	return out
}

// fileStrings returns every string literal of a file.
func fileStrings(f *build.File) []string {
	var out []string
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		if s, ok := x.(*build.StringExpr); ok {
			out = append(out, s.Value)
		}
	})
	return out
}

// callArgs returns, for every call of a function named fn, the string
// value of its keyword argument arg.
func callArgs(f *build.File, fn, arg string) []string {
	var out []string
	build.Walk(f, func(x build.Expr, _ []build.Expr) {
		c, ok := x.(*build.CallExpr)
		if !ok {
			return
		}
		id, ok := c.X.(*build.Ident)
		if !ok || id.Name != fn {
			return
		}
		for _, a := range c.List {
			as, ok := a.(*build.AssignExpr)
			if !ok {
				continue
			}
			if k, ok := as.LHS.(*build.Ident); ok && k.Name == arg {
				if s, ok := as.RHS.(*build.StringExpr); ok {
					out = append(out, s.Value)
				}
			}
		}
	})
	return out
}
