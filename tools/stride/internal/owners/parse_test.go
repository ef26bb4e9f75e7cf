package owners

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dumpFile renders a parsed OWNERS file and its diagnostics for golden
// comparison.
func dumpFile(f *File, ds Diagnostics) string {
	var b strings.Builder
	for _, e := range f.Entries {
		fmt.Fprintf(&b, "%d:%d %s %s\n", e.Pos.Line, e.Pos.Col, e.Kind, e)
	}
	for _, pf := range f.PerFile {
		fmt.Fprintf(&b, "%d:%d per-file %s\n", pf.Pos.Line, pf.Pos.Col, strings.Join(pf.Globs, " "))
		for _, e := range pf.Entries {
			fmt.Fprintf(&b, "  %d:%d %s %s\n", e.Pos.Line, e.Pos.Col, e.Kind, e)
		}
	}
	for _, d := range ds {
		fmt.Fprintf(&b, "%s\n", d)
	}
	return b.String()
}

func dumpAliases(a *Aliases, ds Diagnostics) string {
	var b strings.Builder
	for _, t := range a.Teams {
		fmt.Fprintf(&b, "%d:%d team @%s\n", t.Pos.Line, t.Pos.Col, t.Name)
		for _, m := range t.Members {
			fmt.Fprintf(&b, "  %d:%d %s %s\n", m.Pos.Line, m.Pos.Col, m.Kind, m)
		}
	}
	for _, l := range a.Logins {
		fmt.Fprintf(&b, "%d:%d login %s = %s\n", l.Pos.Line, l.Pos.Col, l.Login, l.Email)
	}
	for _, d := range ds {
		fmt.Fprintf(&b, "%s\n", d)
	}
	return b.String()
}

// runGolden runs render over testdata/DIR/*.in and compares with .golden.
func runGolden(t *testing.T, dir string, render func(data []byte) string) {
	ins, err := filepath.Glob(filepath.Join("testdata", dir, "*.in"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatalf("no test cases in testdata/%s", dir)
	}
	for _, in := range ins {
		in := in
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := render(data)
			golden := strings.TrimSuffix(in, ".in") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestParseGolden(t *testing.T) {
	runGolden(t, "parse", func(data []byte) string {
		f, ds := Parse("pkg/sub/OWNERS", data)
		return dumpFile(f, ds)
	})
}

func TestParseAliasesGolden(t *testing.T) {
	runGolden(t, "aliases", func(data []byte) string {
		a, ds := ParseAliases(AliasesFile, data)
		return dumpAliases(a, ds)
	})
}

// TestEntryStringRoundTrip checks that every entry's canonical form parses
// back to the same entry.
func TestEntryStringRoundTrip(t *testing.T) {
	src := "alice@strideci.example\n@platform\n*\n!bob@strideci.example\n!@interns\nfile:../x/OWNERS\n" +
		"set noparent\nrequire 3\nrequire all-teams\nrequire any-team\n"
	f, ds := Parse("a/b/OWNERS", []byte(src))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	for _, e := range f.Entries {
		g, ds := Parse("a/b/OWNERS", []byte(e.String()))
		if len(ds) > 0 || len(g.Entries) != 1 {
			t.Errorf("Parse(%q) = %v, %v", e.String(), g.Entries, ds)
			continue
		}
		got := g.Entries[0]
		got.Pos, e.Pos = Pos{}, Pos{}
		if got != e {
			t.Errorf("round trip of %q: got %+v, want %+v", e.String(), got, e)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		glob string
		yes  []string
		no   []string
	}{
		// Without '/': * and ? cross directories, as Chromium's fnmatch and
		// Gerrit's find-owners (per-file *.cc in content/baz/OWNERS covers
		// content/baz/sub/x.cc); a plain name is only the file itself.
		{"*.go", []string{"a.go", ".go", "sub/a.go", "x/y/a.go"}, []string{"a.go.txt", "sub/a.go.txt"}},
		{"auth*", []string{"auth.go", "authz/x.go"}, []string{"sub/auth.go"}},
		{"BUILD.bazel", []string{"BUILD.bazel"}, []string{"x/BUILD.bazel"}},
		{"[ab].txt", []string{"a.txt", "b.txt"}, []string{"c.txt"}},
		{"api/*.proto", []string{"api/x.proto"}, []string{"api/v1/x.proto", "x.proto"}},
		{"api/**/*.proto", []string{"api/x.proto", "api/v1/x.proto", "api/v1/v2/x.proto"}, []string{"x.proto", "apix/y.proto"}},
		{"**/*.md", []string{"a.md", "x/y/a.md"}, []string{"a.txt"}},
		{"deploy/**", []string{"deploy/a", "deploy/x/y"}, []string{"deploy", "other/a"}},
		{"**", []string{"a", "x/y/z"}, nil},
		{"a/**/**/b", []string{"a/b", "a/x/y/b"}, []string{"a/x/c"}},
	} {
		g, err := compileGlob(tc.glob)
		if err != nil {
			t.Errorf("compileGlob(%q): %v", tc.glob, err)
			continue
		}
		for _, p := range tc.yes {
			if !g.match(p) {
				t.Errorf("%q should match %q", tc.glob, p)
			}
		}
		for _, p := range tc.no {
			if g.match(p) {
				t.Errorf("%q should not match %q", tc.glob, p)
			}
		}
	}
	for _, bad := range []string{"[", "/a", "a/", "a//b", "a/../b", "**/**/a/**/b/**/c/**/d/**/e"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("compileGlob(%q) succeeded, want an error", bad)
		}
	}
}
