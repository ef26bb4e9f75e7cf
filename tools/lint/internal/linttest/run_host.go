//go:build go1.22

package linttest

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/lint/internal/checker"
	"golang.org/x/tools/go/analysis"
)

// Run runs a over the packages of testdata/src named by pkgs and checks its
// diagnostics against the `// want` comments, as analysistest.Run does.
func Run(t *testing.T, a *analysis.Analyzer, pkgs ...string) {
	t.Helper()
	SkipUnderBazel(t)
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	l := newLoader(filepath.Join(dir, "src"))
	for _, path := range pkgs {
		units, err := l.units(path)
		if err != nil {
			t.Errorf("loading %s: %v", path, err)
			continue
		}
		for _, u := range units {
			diags, err := checker.Run(u, []*analysis.Analyzer{a})
			if err != nil {
				t.Errorf("analyzing %s: %v", u.Path, err)
				continue
			}
			check(t, u, diags)
		}
	}
}

// loader type-checks testdata packages from source and the standard
// library from export data.
type loader struct {
	src   string
	fset  *token.FileSet
	std   types.Importer
	cache map[string]*types.Package
}

func newLoader(src string) *loader {
	fset := token.NewFileSet()
	return &loader{src: src, fset: fset, std: importer.ForCompiler(fset, "gc", nil), cache: map[string]*types.Package{}}
}

// Import implements types.Importer: a testdata package (non-test files)
// or a standard-library package.
func (l *loader) Import(path string) (*types.Package, error) {
	if p, ok := l.cache[path]; ok {
		return p, nil
	}
	dir := filepath.Join(l.src, filepath.FromSlash(path))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return l.std.Import(path)
	}
	files, _, _, err := l.parseDir(dir)
	if err != nil {
		return nil, err
	}
	pkg, err := checker.TypeCheck(l.fset, path, files, l)
	if err != nil {
		return nil, err
	}
	l.cache[path] = pkg.Types
	return pkg.Types, nil
}

// parseDir parses the .go files of dir into the package's own files, its
// in-package test files and its external test files.
func (l *loader) parseDir(dir string) (lib, test, xtest []*ast.File, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, nil, err
	}
	sort.Strings(names)
	var pkgName string
	for _, name := range names {
		f, err := parser.ParseFile(l.fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, nil, nil, err
		}
		isTest := strings.HasSuffix(name, "_test.go")
		switch {
		case isTest && strings.HasSuffix(f.Name.Name, "_test"):
			xtest = append(xtest, f)
		case isTest:
			test = append(test, f)
		default:
			if pkgName != "" && f.Name.Name != pkgName {
				return nil, nil, nil, fmt.Errorf("%s: package %s, want %s", name, f.Name.Name, pkgName)
			}
			pkgName = f.Name.Name
			lib = append(lib, f)
		}
	}
	if len(lib)+len(test)+len(xtest) == 0 {
		return nil, nil, nil, fmt.Errorf("no Go files in %s", dir)
	}
	return lib, test, xtest, nil
}

// units returns what analysistest analyzes for path: the package, the
// package with its in-package tests, and the external test package.
func (l *loader) units(path string) ([]*checker.Package, error) {
	dir := filepath.Join(l.src, filepath.FromSlash(path))
	lib, test, xtest, err := l.parseDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*checker.Package
	if len(lib) > 0 {
		p, err := checker.TypeCheck(l.fset, path, lib, l)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(test) > 0 {
		p, err := checker.TypeCheck(l.fset, path, append(append([]*ast.File{}, lib...), test...), l)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		l.cache[path] = p.Types // the external test sees the tests' additions
	}
	if len(xtest) > 0 {
		p, err := checker.TypeCheck(l.fset, path+"_test", xtest, l)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

type expectation struct {
	re      *regexp.Regexp
	matched bool
}

type key struct {
	file string
	line int
}

// check compares diags with the `// want` comments of u's files.
func check(t *testing.T, u *checker.Package, diags []checker.Diagnostic) {
	t.Helper()
	want := map[key][]*expectation{}
	for _, f := range u.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				text := strings.TrimPrefix(strings.TrimPrefix(c.Text, "//"), "/*")
				text = strings.TrimSpace(strings.TrimSuffix(text, "*/"))
				if !strings.HasPrefix(text, "want") {
					continue
				}
				pos := u.Fset.Position(c.Pos())
				res, err := parseWant(strings.TrimPrefix(text, "want"))
				if err != nil {
					t.Errorf("%s: in 'want' comment: %v", pos, err)
					continue
				}
				k := key{pos.Filename, pos.Line}
				for _, re := range res {
					want[k] = append(want[k], &expectation{re: re})
				}
			}
		}
	}
	for _, d := range diags {
		k := key{d.Pos.Filename, d.Pos.Line}
		found := false
		for _, e := range want[k] {
			if !e.matched && e.re.MatchString(d.Message) {
				e.matched = true
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%v: unexpected diagnostic: %v", d.Pos, d.Message)
		}
	}
	var keys []key
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].file != keys[j].file {
			return keys[i].file < keys[j].file
		}
		return keys[i].line < keys[j].line
	})
	for _, k := range keys {
		for _, e := range want[k] {
			if !e.matched {
				t.Errorf("%s:%d: no diagnostic was reported matching %#q", k.file, k.line, e.re)
			}
		}
	}
}

// parseWant parses the Go string literals after "want" into regexps.
func parseWant(s string) ([]*regexp.Regexp, error) {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("want", -1, len(s))
	var scanErr error
	sc.Init(file, []byte(s), func(_ token.Position, msg string) { scanErr = fmt.Errorf("%s", msg) }, 0)
	var out []*regexp.Regexp
	for {
		_, tok, lit := sc.Scan()
		if scanErr != nil {
			return nil, scanErr
		}
		switch tok {
		case token.EOF, token.SEMICOLON:
			if len(out) == 0 {
				return nil, fmt.Errorf("no expectations")
			}
			return out, nil
		case token.STRING:
			u, err := strconv.Unquote(lit)
			if err != nil {
				return nil, err
			}
			re, err := regexp.Compile(u)
			if err != nil {
				return nil, err
			}
			out = append(out, re)
		default:
			return nil, fmt.Errorf("unexpected %s %q (facts are not supported)", tok, lit)
		}
	}
}
