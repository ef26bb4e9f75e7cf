package checker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// listed is the part of `go list -json` output that Load uses.
type listed struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	Export     string
	ImportMap  map[string]string
	ForTest    string
	DepOnly    bool
	Error      *struct{ Err string }
}

// Load lists the packages matching patterns (go list syntax, e.g.
// "./...") in dir with the go command on PATH, and type-checks each from
// source, its tests included: for a package with tests, the package with
// its in-package test files, and its external test package, as `go vet`
// does. Imports are resolved from the export data that `go list -export`
// builds, so the go command must be the one this program was built with
// (use `go run`). Packages with cgo files are skipped with a note in
// skipped. A package that does not load or type-check is left out and
// its error is one of errs; err is for failures of the whole listing.
func Load(dir string, patterns []string) (pkgs []*Package, skipped []string, errs []error, err error) {
	args := append([]string{"list", "-e", "-json", "-export", "-deps", "-test", "--"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	index := map[string]*listed{}
	var order []*listed
	dec := json.NewDecoder(&stdout)
	for {
		var l listed
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, nil, fmt.Errorf("decode go list output: %w", err)
		}
		index[l.ImportPath] = &l
		order = append(order, &l)
	}
	var targets []*listed
	for _, l := range order {
		if l.DepOnly || strings.HasSuffix(l.ImportPath, ".test") {
			continue
		}
		if l.Error != nil {
			errs = append(errs, fmt.Errorf("%s: %s", l.ImportPath, strings.TrimSpace(l.Error.Err)))
			continue
		}
		if l.ForTest == "" {
			if _, ok := index[l.ImportPath+" ["+l.ImportPath+".test]"]; ok {
				continue // its test variant has the same files and more
			}
		}
		targets = append(targets, l)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].ImportPath < targets[j].ImportPath })

	fset := token.NewFileSet()
	for _, t := range targets {
		path := t.ImportPath
		if i := strings.Index(path, " ["); i >= 0 {
			path = path[:i]
		}
		if len(t.CgoFiles) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s: has cgo files, not analyzed", path))
			continue
		}
		var files []*ast.File
		var perr error
		for _, name := range t.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(t.Dir, name), nil, parser.ParseComments)
			if err != nil {
				perr = err
				break
			}
			files = append(files, f)
		}
		if perr != nil {
			errs = append(errs, perr)
			continue
		}
		t := t
		lookup := func(imp string) (io.ReadCloser, error) {
			resolved := imp
			if m, ok := t.ImportMap[imp]; ok {
				resolved = m
			}
			dep, ok := index[resolved]
			if !ok || dep.Export == "" {
				return nil, fmt.Errorf("no export data for %s (imported by %s)", resolved, t.ImportPath)
			}
			return os.Open(dep.Export)
		}
		p, err := TypeCheck(fset, path, files, importer.ForCompiler(fset, "gc", lookup))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, skipped, errs, nil
}
