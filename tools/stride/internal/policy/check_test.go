package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// baseFiles is the tree every test repository starts from.
var baseFiles = map[string]string{
	"README.md":      "# demo\n",
	"OWNERS":         "alice@example.com\n",
	"go/BUILD.bazel": "load(\"@io_bazel_rules_go//go:def.bzl\", \"go_library\")\n\ngo_library(\n    name = \"go\",\n    srcs = [\"a.go\"],\n)\n",
	"go/a.go":        "package a\n",
	"config/app.env": "# settings\nLEVEL=info\n",
}

// newRepo makes a repository with one base commit and returns it with the
// base commit's hash.
func newRepo(t *testing.T) (*gittest.Repo, string) {
	t.Helper()
	r := gittest.New(t)
	return r, r.Commit("Add the base", baseFiles)
}

// summary is what a test compares of a finding: rule, where, and the
// commit as the index of the commit made by the test (or -1 for tree
// findings).
type summary struct {
	Rule   string
	File   string
	Line   int
	Commit string
}

func summarize(res *policy.Result) []summary {
	var out []summary
	for _, f := range res.Findings {
		out = append(out, summary{f.Rule, f.File, f.Line, f.Commit})
	}
	return out
}

func check(t *testing.T, r *gittest.Repo, base string, o policy.Options) *policy.Result {
	t.Helper()
	res, err := policy.Check(context.Background(), r.Dir, base, "HEAD", o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Schema != policy.Schema {
		t.Errorf("schema %q", res.Schema)
	}
	for _, f := range res.Findings {
		if f.Message == "" || f.String() == "" {
			t.Errorf("finding without a message: %+v", f)
		}
	}
	return res
}

func TestCleanChange(t *testing.T) {
	r, base := newRepo(t)
	r.Commit("Add the usage docs\n\nThe docs say how to run it, wrapped at a\nsensible width.\n",
		map[string]string{"docs/usage.md": "# usage\n\nRun it.\n"})
	res := check(t, r, base, policy.Options{})
	if !res.OK() || res.Commits != 1 {
		t.Errorf("result %+v, want 1 commit and no findings", res)
	}
	want := []policy.Skip{
		{Rule: policy.RuleOwnersLint, Reason: "no OWNERS files changed"},
		{Rule: policy.RuleGeneratedDrift, Reason: "no Go, BUILD, Starlark or module files changed"},
	}
	if diff := cmp.Diff(want, res.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

// TestBadChanges makes one deliberately bad change per rule and checks
// that it is caught with its file and line (or commit and message line).
func TestBadChanges(t *testing.T) {
	key := "-----BEGIN " + "RSA PRIVATE" + " KEY-----"
	envSecret := "DB_" + "PASSWORD=" + "Q7mZ2vK9pL4xT8wR"
	fakeGazelle := func(t *testing.T) []string {
		script := filepath.Join(t.TempDir(), "gazelle.sh")
		diff := "--- go/BUILD.bazel\t1970-01-01 00:00:00.000000000 +0000\n" +
			"+++ go/BUILD.bazel\t1970-01-01 00:00:00.000000000 +0000\n" +
			"@@ -3,6 +3,7 @@\n" +
			" go_library(\n" +
			"     name = \"go\",\n" +
			"     srcs = [\"a.go\"],\n" +
			"-    deps = [\"//hand/edited\"],\n" +
			"+    importpath = \"example.com/go\",\n" +
			" )\n"
		body := "#!/bin/sh\necho 'Loading: 0 packages loaded' >&2\ncat <<'EOF'\n" + diff + "EOF\nexit 1\n"
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return []string{"/bin/sh", script}
	}
	for _, tc := range []struct {
		name    string
		commits []struct {
			msg   string
			files map[string]string
		}
		opts func(t *testing.T) policy.Options
		want func(shas []string) []summary
	}{
		{
			name: "subject-length",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add a subject line that goes on and on well past the seventy-two character limit", map[string]string{"a.txt": "a\n"}}},
			want: func(s []string) []summary { return []summary{{policy.RuleSubjectLength, "", 1, s[0]}} },
		},
		{
			name: "subject-imperative",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Added a file", map[string]string{"a.txt": "a\n"}}},
			want: func(s []string) []summary { return []summary{{policy.RuleSubjectImperative, "", 1, s[0]}} },
		},
		{
			name: "body-wrap",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add a file\n\nshort line\n" + strings.Repeat("and a long line ", 6) + "\n", map[string]string{"a.txt": "a\n"}}},
			want: func(s []string) []summary { return []summary{{policy.RuleBodyWrap, "", 4, s[0]}} },
		},
		{
			name: "file-size",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add data", map[string]string{"data/big.bin": strings.Repeat("x", 3000), "data/ok.bin": "small", "vendor/big.bin": strings.Repeat("y", 3000)}}},
			opts: func(*testing.T) policy.Options {
				return policy.Options{MaxFileSize: 2048, AllowLarge: []string{"vendor/**"}}
			},
			want: func(s []string) []summary { return []summary{{policy.RuleFileSize, "data/big.bin", 0, s[0]}} },
		},
		{
			name: "secrets in a new file and in added lines",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add deploy settings", map[string]string{
				"deploy/id_rsa":  key + "\nMIIEpAIBAAKCAQEA\n",
				"config/app.env": "# settings\n" + envSecret + "\nLEVEL=info\n",
			}}},
			want: func(s []string) []summary {
				return []summary{{policy.RuleSecrets, "config/app.env", 2, s[0]}, {policy.RuleSecrets, "deploy/id_rsa", 1, s[0]}}
			},
		},
		{
			name: "a secret added then removed is still pushed",
			commits: []struct {
				msg   string
				files map[string]string
			}{
				{"Add a key", map[string]string{"key.pem": "x\n" + key + "\n"}},
				{"Remove the key", map[string]string{"key.pem!": ""}},
			},
			want: func(s []string) []summary { return []summary{{policy.RuleSecrets, "key.pem", 2, s[0]}} },
		},
		{
			name: "owners-lint",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add bob as an owner", map[string]string{"OWNERS": "alice@example.com\nbob at example\n"}}},
			want: func(s []string) []summary { return []summary{{policy.RuleOwnersLint, "OWNERS", 2, ""}} },
		},
		{
			name: "generated-drift",
			commits: []struct {
				msg   string
				files map[string]string
			}{{"Add a dependency by hand", map[string]string{"go/BUILD.bazel": strings.Replace(baseFiles["go/BUILD.bazel"],
				"    srcs = [\"a.go\"],\n", "    srcs = [\"a.go\"],\n    deps = [\"//hand/edited\"],\n", 1)}}},
			opts: func(t *testing.T) policy.Options { return policy.Options{GazelleCommand: fakeGazelle(t)} },
			want: func(s []string) []summary { return []summary{{policy.RuleGeneratedDrift, "go/BUILD.bazel", 6, ""}} },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, base := newRepo(t)
			var shas []string
			for _, c := range tc.commits {
				shas = append(shas, r.Commit(c.msg, c.files))
			}
			o := policy.Options{NoGazelle: true}
			if tc.opts != nil {
				o = tc.opts(t)
			}
			res := check(t, r, base, o)
			if diff := cmp.Diff(tc.want(shas), summarize(res)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall:\n%s", diff, text(res))
			}
		})
	}
}

func text(res *policy.Result) string {
	var b bytes.Buffer
	_ = res.WriteText(&b)
	return b.String()
}

func TestOnlyAddedLinesAreScanned(t *testing.T) {
	r := gittest.New(t)
	// The base holds a secret (pushed before the policy existed).
	base := r.Commit("Add settings", map[string]string{"app.env": "DB_" + "PASSWORD=" + "Q7mZ2vK9pL4xT8wR\nLEVEL=info\n"})
	r.Commit("Raise the level", map[string]string{"app.env": "DB_" + "PASSWORD=" + "Q7mZ2vK9pL4xT8wR\nLEVEL=debug\n"})
	if res := check(t, r, base, policy.Options{NoGazelle: true}); !res.OK() {
		t.Errorf("an untouched line was reported:\n%s", text(res))
	}
}

func TestMergeCommitsAreSkipped(t *testing.T) {
	r, base := newRepo(t)
	r.Git("checkout", "-q", "-b", "topic")
	r.Commit("Add a topic file", map[string]string{"topic.txt": "t\n"})
	r.Git("checkout", "-q", "main")
	r.Commit("Add a main file", map[string]string{"main.txt": "m\n"})
	r.Git("merge", "-q", "--no-ff", "-m", "Merge branch 'topic' with a subject that is far longer than seventy-two characters", "topic")
	res := check(t, r, base, policy.Options{NoGazelle: true})
	if !res.OK() || res.Commits != 2 {
		t.Errorf("want 2 commits checked and no findings, got %d:\n%s", res.Commits, text(res))
	}
}

func TestZeroBaseMeansDefaultBranch(t *testing.T) {
	r, _ := newRepo(t)
	r.Git("checkout", "-q", "-b", "feature")
	sha := r.Commit("Added a feature", map[string]string{"f.txt": "f\n"})
	res := check(t, r, strings.Repeat("0", 40), policy.Options{NoGazelle: true})
	want := []summary{{policy.RuleSubjectImperative, "", 1, sha}}
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestGazelle(t *testing.T) {
	script := func(t *testing.T, body string) []string {
		p := filepath.Join(t.TempDir(), "gazelle.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return []string{"/bin/sh", p}
	}
	goChange := map[string]string{"go/b.go": "package a\n"}

	t.Run("no drift", func(t *testing.T) {
		r, base := newRepo(t)
		r.Commit("Add b.go", goChange)
		res := check(t, r, base, policy.Options{GazelleCommand: script(t, "exit 0\n")})
		if !res.OK() || len(res.Skipped) != 1 { // owners-lint only
			t.Errorf("got:\n%s", text(res))
		}
	})
	t.Run("runs in the work tree root", func(t *testing.T) {
		r, base := newRepo(t)
		r.Commit("Add b.go", goChange)
		out := filepath.Join(t.TempDir(), "pwd")
		check(t, r, base, policy.Options{GazelleCommand: script(t, "pwd > "+out+"\n")})
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := filepath.EvalSymlinks(strings.TrimSpace(string(b)))
		want, _ := filepath.EvalSymlinks(r.Dir)
		if got != want {
			t.Errorf("ran in %s, want %s", got, want)
		}
	})
	t.Run("command fails without a diff", func(t *testing.T) {
		r, base := newRepo(t)
		r.Commit("Add b.go", goChange)
		_, err := policy.Check(context.Background(), r.Dir, base, "HEAD",
			policy.Options{GazelleCommand: script(t, "echo 'ERROR: no such target //:gazelle' >&2\nexit 2\n")})
		if err == nil || !strings.Contains(err.Error(), "ERROR: no such target //:gazelle") {
			t.Errorf("err = %v, want one carrying the command's stderr", err)
		}
	})
	t.Run("head not checked out", func(t *testing.T) {
		r, base := newRepo(t)
		head := r.Commit("Add b.go", goChange)
		r.Git("checkout", "-q", base)
		res, err := policy.Check(context.Background(), r.Dir, base, head,
			policy.Options{GazelleCommand: script(t, "exit 1\n")})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Skipped) != 2 || res.Skipped[1].Rule != policy.RuleGeneratedDrift ||
			!strings.Contains(res.Skipped[1].Reason, "does not have head") {
			t.Errorf("skipped = %+v", res.Skipped)
		}
	})
	t.Run("Go headers", func(t *testing.T) {
		// A change Gazelle cannot see skips the command; one it can runs it.
		const file = "package a\n\nimport \"fmt\"\n\nfunc F() { fmt.Println(1) }\n"
		tests := []struct {
			name, edit string
			runs       bool
		}{
			{"body", "package a\n\nimport \"fmt\"\n\n// F prints.\nfunc F() { fmt.Println(2) }\n\nvar x int\n", false},
			{"import", "package a\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc F() { fmt.Println(os.Args) }\n", true},
			{"build constraint", "//go:build linux\n\npackage a\n\nimport \"fmt\"\n\nfunc F() { fmt.Println(1) }\n", true},
			{"embed", "package a\n\nimport (\n\t_ \"embed\"\n\t\"fmt\"\n)\n\n//go:embed x.txt\nvar s string\n\nfunc F() { fmt.Println(s) }\n", true},
			{"package name", "package b\n\nimport \"fmt\"\n\nfunc F() { fmt.Println(1) }\n", true},
			{"syntax error", "package a\n\nimport \"fmt\n", true},
		}
		for _, tc := range tests {
			r, _ := newRepo(t)
			base := r.Commit("Add b.go", map[string]string{"go/b.go": file})
			r.Commit("Edit b.go", map[string]string{"go/b.go": tc.edit})
			ran := filepath.Join(t.TempDir(), "ran")
			res := check(t, r, base, policy.Options{GazelleCommand: script(t, "touch "+ran+"\n")})
			_, err := os.Stat(ran)
			if got := err == nil; got != tc.runs {
				t.Errorf("%s: Gazelle ran = %v, want %v; skipped %+v", tc.name, got, tc.runs, res.Skipped)
			}
		}
	})
	t.Run("--no-gazelle", func(t *testing.T) {
		r, base := newRepo(t)
		r.Commit("Add b.go", goChange)
		res := check(t, r, base, policy.Options{NoGazelle: true, GazelleCommand: script(t, "exit 1\n")})
		if !res.OK() || res.Skipped[len(res.Skipped)-1].Reason != "--no-gazelle" {
			t.Errorf("got %+v", res)
		}
	})
}

func TestBadInput(t *testing.T) {
	r, base := newRepo(t)
	ctx := context.Background()
	if _, err := policy.Check(ctx, r.Dir, "no-such-branch", "HEAD", policy.Options{}); !errors.Is(err, gitrepo.ErrUnknownRevision) {
		t.Errorf("unknown base: err = %v, want ErrUnknownRevision", err)
	}
	if _, err := policy.Check(ctx, r.Dir, base, "nope", policy.Options{}); !errors.Is(err, gitrepo.ErrUnknownRevision) {
		t.Errorf("unknown head: err = %v, want ErrUnknownRevision", err)
	}
	if _, err := policy.Check(ctx, r.Dir, base, "HEAD", policy.Options{Disable: []string{"spelling"}}); !errors.Is(err, policy.ErrBadInput) {
		t.Errorf("unknown rule: err = %v, want ErrBadInput", err)
	}
	if _, err := policy.Check(ctx, t.TempDir(), base, "HEAD", policy.Options{}); !errors.Is(err, gitrepo.ErrNotRepository) {
		t.Errorf("not a repository: err = %v, want ErrNotRepository", err)
	}
}

// TestResultGolden pins the JSON and Markdown forms of a result.
func TestResultGolden(t *testing.T) {
	r, base := newRepo(t)
	r.Commit("Added a key.", map[string]string{"key.pem": "-----BEGIN " + "PRIVATE" + " KEY-----\n"})
	res := check(t, r, base, policy.Options{NoGazelle: true})
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var txt bytes.Buffer
	if err := res.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{
		"result.golden.json": append(js, '\n'),
		"result.golden.md":   []byte(res.Markdown()),
		"result.golden.txt":  txt.Bytes(),
	} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}
