package repocheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// workspaceRoot finds the real source tree: under `bazel test` through the
// runfiles symlink of //:MODULE.bazel (its target is the source file), under
// `go test` by walking up from the package directory.
func workspaceRoot(t *testing.T) string {
	t.Helper()
	if srcdir := os.Getenv("TEST_SRCDIR"); srcdir != "" {
		link := filepath.Join(srcdir, os.Getenv("TEST_WORKSPACE"), "MODULE.bazel")
		real, err := filepath.EvalSymlinks(link)
		if err != nil {
			t.Fatalf("resolve %s: %v", link, err)
		}
		return filepath.Dir(real)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestThisRepository(t *testing.T) {
	root := workspaceRoot(t)
	r, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.DepsBzl) == 0 || len(r.ModuleUseRepo) == 0 || len(r.Direct) == 0 {
		t.Fatalf("parsed nothing: deps.bzl %d repos, use_repo %d, go.mod direct %d", len(r.DepsBzl), len(r.ModuleUseRepo), len(r.Direct))
	}
	probs, err := r.Check()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p)
	}
}

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/go-git/go-git/v5":         "com_github_go_git_go_git_v5",
		"golang.org/x/sync":                   "org_golang_x_sync",
		"github.com/BurntSushi/toml":          "com_github_burntsushi_toml",
		"dario.cat/mergo":                     "cat_dario_mergo",
		"gopkg.in/warnings.v0":                "in_gopkg_warnings_v0",
		"github.com/bazelbuild/buildtools":    "com_github_bazelbuild_buildtools",
		"github.com/prometheus/client_golang": "com_github_prometheus_client_golang",
	} {
		if got := RepoName(in); got != want {
			t.Errorf("RepoName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCatchesDrift builds small broken workspaces and checks each problem
// is reported with the file that has it.
func TestCatchesDrift(t *testing.T) {
	gomod := "module example.com/m\n\ngo 1.19\n\nrequire (\n\tgithub.com/google/go-cmp v0.6.0\n\tgolang.org/x/sync v0.6.0 // indirect\n)\n"
	deps := `load("@bazel_gazelle//:deps.bzl", "go_repository")

def go_dependencies():
    go_repository(
        name = "com_github_google_go_cmp",
        importpath = "github.com/google/go-cmp",
        sum = "h1:x",
        version = "v0.6.0",
    )
    go_repository(
        name = "org_golang_x_sync",
        importpath = "golang.org/x/sync",
        sum = "h1:y",
        version = "v0.6.0",
    )
`
	module := `module(name = "m")
go_deps = use_extension("@bazel_gazelle//:extensions.bzl", "go_deps")
go_deps.from_file(go_mod = "//:go.mod")
use_repo(go_deps, "com_github_google_go_cmp")
`
	build := `go_test(name = "t", deps = ["@com_github_google_go_cmp//cmp"])` + "\n"
	tests := []struct {
		name    string
		edit    func(files map[string]string)
		want    string // substring of one problem; "" means no problems
		wantErr string
	}{
		{name: "consistent", edit: func(map[string]string) {}},
		{
			name: "stale deps.bzl version",
			edit: func(f map[string]string) {
				f["go.mod"] = strings.Replace(f["go.mod"], "go-cmp v0.6.0", "go-cmp v0.7.0", 1)
			},
			want: "deps.bzl: com_github_google_go_cmp (github.com/google/go-cmp) is at v0.6.0, go.mod requires v0.7.0",
		},
		{
			name: "direct dependency missing from use_repo",
			edit: func(f map[string]string) {
				f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `, "com_github_google_go_cmp"`, `, "org_golang_x_sync"`, 1)
			},
			want: `lacks "com_github_google_go_cmp"`,
		},
		{
			name: "BUILD references a repo bzlmod lacks",
			edit: func(f map[string]string) {
				f["pkg/BUILD.bazel"] += `go_library(name = "l", deps = ["@org_golang_x_sync//errgroup"])` + "\n"
			},
			want: "pkg/BUILD.bazel:2 references @org_golang_x_sync",
		},
		{
			name: "use_repo of an undeclared repo",
			edit: func(f map[string]string) {
				f["MODULE.bazel"] = strings.Replace(f["MODULE.bazel"], `"com_github_google_go_cmp")`, `"com_github_google_go_cmp", "com_example_nope")`, 1)
			},
			want: `MODULE.bazel:4: use_repo names "com_example_nope"`,
		},
		{
			name:    "malformed MODULE.bazel",
			edit:    func(f map[string]string) { f["MODULE.bazel"] = "module(name = \n" },
			wantErr: "MODULE.bazel",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"go.mod": gomod, "deps.bzl": deps, "MODULE.bazel": module,
				"WORKSPACE": "workspace(name = \"m\")\n", "pkg/BUILD.bazel": build,
			}
			tc.edit(files)
			dir := t.TempDir()
			for name, content := range files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Load(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			probs, err := r.Check()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(probs) != 0 {
					t.Fatalf("problems in a consistent workspace: %q", probs)
				}
				return
			}
			for _, p := range probs {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("no problem contains %q; got %q", tc.want, probs)
		})
	}
}
