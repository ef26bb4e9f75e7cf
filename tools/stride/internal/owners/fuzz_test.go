package owners

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzParse feeds arbitrary bytes to the OWNERS and OWNERS_ALIASES
// parsers and to a whole Load/Resolve/Lint/Check, checking that nothing
// panics, that every diagnostic points inside the input, and that every
// parsed entry prints to text that parses back to the same entry.
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=10m -parallel=1 ./tools/stride/internal/owners/
func FuzzParse(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join("testdata", "*", "*.in"))
	for _, in := range ins {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "\n", "@", "!", "*", "per-file", "per-file =", "per-file a=b", "file:", "file://OWNERS",
		"file:OWNERS", "@t:\n a@b.c\n@t2: @t\n", "require 2\nrequire all-teams\n@t\n",
		"per-file **/**/x=set noparent\n", "\xef\xbb\xbf#\r\n", "login a = b@c.d\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n")
		checkPos := func(ds Diagnostics, file string) {
			for _, d := range ds {
				if d.Pos.File != file {
					t.Fatalf("diagnostic %v names file %q, want %q", d, d.Pos.File, file)
				}
				if d.Pos.Line < 1 || d.Pos.Line > len(lines) {
					t.Fatalf("diagnostic %v: line out of range 1..%d", d, len(lines))
				}
				max := len(lines[d.Pos.Line-1]) + 1
				if d.Pos.Line == 1 && strings.HasPrefix(string(data), "\ufeff") {
					max += 3
				}
				if d.Pos.Col < 1 || d.Pos.Col > max {
					t.Fatalf("diagnostic %v: column out of range 1..%d", d, max)
				}
				if d.Msg == "" {
					t.Fatalf("diagnostic without a message at %v", d.Pos)
				}
			}
		}
		file, ds := Parse("a/b/OWNERS", data)
		checkPos(ds, "a/b/OWNERS")
		roundTrip := func(e Entry) {
			g, ds := Parse("a/b/OWNERS", []byte(e.String()))
			if len(ds) > 0 || len(g.Entries) != 1 {
				t.Fatalf("entry %+v prints as %q, which parses to %v, %v", e, e.String(), g.Entries, ds)
			}
			got := g.Entries[0]
			got.Pos, e.Pos = Pos{}, Pos{}
			if got != e {
				t.Fatalf("entry %+v prints as %q, which parses to %+v", e, e.String(), got)
			}
		}
		for _, e := range file.Entries {
			roundTrip(e)
		}
		for _, pf := range file.PerFile {
			if len(pf.Globs) == 0 || len(pf.Entries) == 0 || len(pf.globs) != len(pf.Globs) {
				t.Fatalf("per-file line without globs or entries: %+v", pf)
			}
			for _, e := range pf.Entries {
				roundTrip(e)
			}
		}
		a, ads := ParseAliases(AliasesFile, data)
		checkPos(ads, AliasesFile)
		for _, tm := range a.Teams {
			if tm.Name == "" {
				t.Fatalf("team without a name: %+v", tm)
			}
		}

		// The whole pipeline, with the input as OWNERS files, an include
		// target and OWNERS_ALIASES.
		fsys := fstest.MapFS{
			"OWNERS":             {Data: []byte("root@strideci.example\n")},
			"a/OWNERS":           {Data: data},
			"a/b/OWNERS":         {Data: data},
			"a/b/c/x.go":         {Data: nil},
			"a/b/README.md":      {Data: nil},
			"a/b/sub/OWNERS":     {Data: []byte("file:../OWNERS\n")},
			"tools/OWNERS":       {Data: data},
			"OWNERS_ALIASES":     {Data: data},
			"a/b/sub/deep/y.txt": {Data: nil},
		}
		tree, err := Load(fsys)
		if tree == nil {
			t.Fatalf("Load: %v", err)
		}
		for _, p := range []string{"a/b/c/x.go", "a/b/README.md", "a/b/sub/deep/y.txt", "a/", "OWNERS", "z"} {
			o := tree.Resolve(p)
			if o.Require < 1 {
				t.Fatalf("Resolve(%q).Require = %d", p, o.Require)
			}
		}
		_ = Lint(tree)
		_ = tree.Teams()
		res := Check(CheckInput{Head: tree, Changes: changesOf("a/b/c/x.go", "a/b/OWNERS", "tools/OWNERS"),
			Approvals: []Approval{{Email: "root@strideci.example"}}})
		_ = Suggest(res)
	})
}
