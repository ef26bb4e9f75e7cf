package sparse

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests below run only with STRIDE_SLOW_TESTS=1: they clone whole
// repositories and build rules_go targets from a cold Bazel output base
// (minutes). STRIDE_SPARSE_CACHE (default /tmp/stride-sparse-cache) holds
// the shared --repository_cache and --disk_cache.

func slowOrSkip(t *testing.T) {
	t.Helper()
	if os.Getenv("STRIDE_SLOW_TESTS") != "1" {
		t.Skip("slow test: set STRIDE_SLOW_TESTS=1")
	}
	bazelOrSkip(t)
}

// slowFlags returns the `bazel query` and `bazel test` flags of the slow
// tests: shared caches, and Gazelle's go_repository reading the host's Go
// module cache (GO_REPOSITORY_USE_HOST_CACHE) instead of downloading again.
func slowFlags(t *testing.T) (query, test []string) {
	cache := os.Getenv("STRIDE_SPARSE_CACHE")
	if cache == "" {
		cache = "/tmp/stride-sparse-cache"
	}
	for _, d := range []string{"repo", "disk"} {
		if err := os.MkdirAll(filepath.Join(cache, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	query = []string{"--repository_cache=" + filepath.Join(cache, "repo")}
	if out, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) == 2 {
			query = append(query, "--repo_env=GO_REPOSITORY_USE_HOST_CACHE=1", "--repo_env=GOMODCACHE="+f[0], "--repo_env=GOCACHE="+f[1])
		}
	}
	test = append(append([]string{}, query...), "--disk_cache="+filepath.Join(cache, "disk"))
	return query, test
}

func countFiles(t *testing.T, dir string) (files int, bytes int64) {
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && (info.Name() == ".git" || strings.HasPrefix(info.Name(), "bazel-")) {
			return filepath.SkipDir
		}
		if !info.IsDir() {
			files++
			bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

// sparseScenario serves src (a git repository) as a bare upstream allowing
// filters, clones it fully and publishes the package map from that clone,
// clones it sparsely for team and runs `bazel test` on the team's owned
// directories in the sparse clone, logging the numbers.
func sparseScenario(t *testing.T, src, team string) {
	ctx := context.Background()
	qflags, tflags := slowFlags(t)
	be := newBazelEnv(t, tflags...)
	tmp := t.TempDir()
	up := filepath.Join(tmp, "upstream.git")
	gitIn(t, tmp, "clone", "-q", "--bare", "file://"+src, up)
	gitIn(t, up, "config", "uploadpack.allowFilter", "true")
	url := "file://" + up

	full := filepath.Join(tmp, "full")
	start := time.Now()
	gitIn(t, tmp, "clone", "-q", url, full)
	fullClone := time.Since(start)
	fullFiles, fullBytes := countFiles(t, full)

	start = time.Now()
	m, ref, err := Publish(ctx, full, "origin", Options{Bazel: be.querier, QueryFlags: qflags})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("publish-map: %d packages, %s, in %v (cold Bazel query)", len(m.Packages), ref, time.Since(start).Round(time.Second))

	dir := filepath.Join(tmp, "sparse")
	start = time.Now()
	p, err := Clone(ctx, CloneOptions{URL: url, Dir: dir, Team: team}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sparseClone := time.Since(start)
	files, bytes := countFiles(t, dir)
	t.Logf("team @%s owns %v; cone: %v", p.Team, p.Owned, p.Cone)
	t.Logf("full clone: %v, %d files, %d bytes", fullClone.Round(time.Millisecond), fullFiles, fullBytes)
	t.Logf("sparse clone: %v, %d files (%.1f%%), %d bytes (%.1f%%); plan says %d of %d files",
		sparseClone.Round(time.Millisecond), files, 100*float64(files)/float64(fullFiles), bytes,
		100*float64(bytes)/float64(fullBytes), p.Checkout.Files, p.Full.Files)

	var targets []string
	for _, d := range p.Owned {
		if d == "." {
			targets = append(targets, "//:all")
		} else {
			targets = append(targets, "//"+d+"/...")
		}
	}
	sort.Strings(targets)
	start = time.Now()
	out, err := be.run(dir, append([]string{"test", "--test_output=errors"}, targets...)...)
	if err != nil {
		t.Fatalf("bazel test %v in the sparse clone: %v\n%s", targets, err, tail(out, 60))
	}
	t.Logf("bazel test %v in the sparse clone: ok in %v (cold output base)\n%s", targets, time.Since(start).Round(time.Second), tail(out, 15))
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestSlowMonorepo sparse-clones this repository (its HEAD commit) for one
// team (STRIDE_SPARSE_TEAM, default libs-team) and tests its targets.
func TestSlowMonorepo(t *testing.T) {
	slowOrSkip(t)
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	team := os.Getenv("STRIDE_SPARSE_TEAM")
	if team == "" {
		team = "libs-team"
	}
	sparseScenario(t, root, team)
}

// TestSlowSynthetic does the same on tools/synth's 5,000-target workspace,
// with a team that owns three packages of its top layer.
func TestSlowSynthetic(t *testing.T) {
	slowOrSkip(t)
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), "synth")
	c := exec.Command("go", "run", "./tools/synth/cmd/synth", "-out", ws, "-targets", "5000")
	c.Dir = root
	if out, err := c.CombinedOutput(); err != nil {
		t.Skipf("tools/synth unusable: %v\n%s", err, out)
	}
	layers, err := filepath.Glob(filepath.Join(ws, "lib", "l*"))
	if err != nil || len(layers) == 0 {
		t.Fatalf("no lib/l* layers in the synthetic workspace: %v", err)
	}
	top := layers[len(layers)-1]
	pkgs, _ := filepath.Glob(filepath.Join(top, "p*", "BUILD.bazel"))
	if len(pkgs) < 3 {
		t.Fatalf("too few packages in %s", top)
	}
	aliases := "@synth-team:\n  s@example.com\n"
	if err := os.WriteFile(filepath.Join(ws, "OWNERS_ALIASES"), []byte(aliases), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range pkgs[:3] {
		if err := os.WriteFile(filepath.Join(filepath.Dir(b), "OWNERS"), []byte("@synth-team\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, ws, "add", "-A")
	gitIn(t, ws, "commit", "-q", "-m", "synth-team owns three packages")
	sparseScenario(t, ws, "synth-team")
}
