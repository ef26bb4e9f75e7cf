package owners

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// benchRepo generates a repository with 500 OWNERS files (the root, 19
// areas with 25 sub-directories each... minus one) using 50 teams,
// per-file lines, includes and exclusions, and a change of 1,000 files
// spread over it.
func benchRepo() (fstest.MapFS, []gitrepo.Change, []Approval) {
	fsys := fstest.MapFS{}
	var aliases strings.Builder
	for t := 0; t < 50; t++ {
		fmt.Fprintf(&aliases, "@team%d:\n", t)
		for m := 0; m < 5; m++ {
			fmt.Fprintf(&aliases, "  p%d.%d@x.example\n", t, m)
		}
	}
	fsys["OWNERS_ALIASES"] = &fstest.MapFile{Data: []byte(aliases.String())}
	fsys["OWNERS"] = &fstest.MapFile{Data: []byte("@team0\nadmin@x.example\n")}
	fsys["shared/SECURITY"] = &fstest.MapFile{Data: []byte("@team49\nsec@x.example\n")}
	n := 1
	var dirs []string
	for a := 0; a < 20 && n < 500; a++ {
		area := fmt.Sprintf("area%02d", a)
		fsys[area+"/OWNERS"] = &fstest.MapFile{Data: []byte(fmt.Sprintf("@team%d\nlead%d@x.example\nper-file *.proto=@team%d\n", a+1, a, (a+7)%50))}
		n++
		for s := 0; s < 25 && n < 500; s++ {
			dir := fmt.Sprintf("%s/pkg%02d", area, s)
			var b strings.Builder
			fmt.Fprintf(&b, "# generated\n@team%d\nowner%d.%d@x.example\n", (a*25+s)%50, a, s)
			if s%5 == 0 {
				b.WriteString("set noparent\n@team0\n")
			}
			if s%7 == 0 {
				b.WriteString("file://shared/SECURITY\n")
			}
			if s%9 == 0 {
				fmt.Fprintf(&b, "!p%d.0@x.example\n", (a*25+s)%50)
			}
			if s%4 == 0 {
				b.WriteString("per-file *_test.go=*\nper-file BUILD.bazel,*.bzl=@team0\nper-file api/**=require 2\n")
			}
			fsys[dir+"/OWNERS"] = &fstest.MapFile{Data: []byte(b.String())}
			dirs = append(dirs, dir)
			n++
		}
	}
	var changes []gitrepo.Change
	names := []string{"main.go", "main_test.go", "BUILD.bazel", "api/v1/x.proto", "deep/er/file.go"}
	for i := 0; len(changes) < 1000; i++ {
		p := dirs[i%len(dirs)] + "/" + fmt.Sprintf("f%d_", i) + names[i%len(names)]
		if strings.Contains(names[i%len(names)], "/") {
			p = dirs[i%len(dirs)] + "/" + names[i%len(names)]
			p = strings.Replace(p, "x.proto", fmt.Sprintf("x%d.proto", i), 1)
		}
		fsys[p] = &fstest.MapFile{}
		changes = append(changes, gitrepo.Change{Path: p, Status: gitrepo.Modified})
	}
	var approvals []Approval
	for t := 0; t < 50; t += 3 {
		approvals = append(approvals, Approval{Email: fmt.Sprintf("p%d.1@x.example", t), Source: "bench"})
	}
	return fsys, changes, approvals
}

// BenchmarkCheck is `check` of a 1,000-file change over 500 OWNERS files
// (the tree already loaded). Goal: under 100 ms.
//
//	go test -run='^$' -bench=Check -benchmem ./tools/stride/internal/owners/
func BenchmarkCheck(b *testing.B) {
	fsys, changes, approvals := benchRepo()
	tree, err := Load(fsys)
	if err != nil {
		b.Fatal(err)
	}
	if got := len(tree.OwnersFiles()); got != 500 {
		b.Fatalf("%d OWNERS files, want 500", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := Check(CheckInput{Head: tree, Changes: changes, Approvals: approvals})
		if len(res.Files) != 1000 {
			b.Fatalf("%d files", len(res.Files))
		}
	}
}

// BenchmarkLoadCheckSuggest is the whole of `check` after git: loading
// 500 OWNERS files, checking 1,000 files and computing suggestions.
func BenchmarkLoadCheckSuggest(b *testing.B) {
	fsys, changes, approvals := benchRepo()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tree, err := Load(fsys)
		if err != nil {
			b.Fatal(err)
		}
		res := Check(CheckInput{Head: tree, Changes: changes, Approvals: approvals})
		_ = Suggest(res)
	}
}

// BenchmarkLint lints the generated repository.
func BenchmarkLint(b *testing.B) {
	fsys, _, _ := benchRepo()
	tree, err := Load(fsys)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = Lint(tree)
	}
}

// BenchmarkCheckRepo is `stride owners check` end to end on a real git
// repository: resolve base and head, diff 1,000 changed files with rename
// detection, load 500 OWNERS files at both commits, read the commits'
// trailers, check and suggest.
func BenchmarkCheckRepo(b *testing.B) {
	fsys, changes, _ := benchRepo()
	g := gittest.New(b)
	files := map[string]string{}
	for p, f := range fsys {
		files[p] = string(f.Data)
	}
	g.Commit("base", files)
	edits := map[string]string{}
	for i, c := range changes {
		edits[c.Path] = fmt.Sprintf("edit %d\n", i)
	}
	g.Commit("change\n\nApproved-by: P 0 <p0.1@x.example>\nApproved-by: p3.1@x.example", edits)
	g.Git("gc", "-q") // objects packed, as in a clone
	r, err := gitrepo.Open(g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := CheckRepo(r, RepoCheck{Base: "HEAD~1"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) != 1000 {
			b.Fatalf("%d files", len(res.Files))
		}
		_ = Suggest(res)
	}
}
