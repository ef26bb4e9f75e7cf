package affected

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

// requireBazel skips integration tests that need a real Bazel: under
// `bazel test` (no nested Bazel there) and where bazel is not installed.
func requireBazel(t *testing.T) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("integration test runs real Bazel; skipped under `bazel test` (run it with `go test`)")
	}
	if _, err := exec.LookPath("bazel"); err != nil {
		t.Skip("integration test needs bazel on PATH (Debian: apt-get install bazel-bootstrap)")
	}
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
}

// shimFiles are the files every test workspace needs on Debian's Bazel
// 4.2.3, which lacks the implicit repositories release binaries embed.
var shimFiles = map[string]string{
	".bazelrc":                       "build --nosandbox_debug\n",
	"third_party/rules_cc/WORKSPACE": `workspace(name = "rules_cc")` + "\n",
	"third_party/rules_cc/BUILD":     "",
	"third_party/rules_cc/cc/BUILD":  "",
	"third_party/rules_cc/cc/defs.bzl": `cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
objc_library = native.objc_library
objc_import = native.objc_import
`,
	"third_party/remote_coverage_tools/WORKSPACE": `workspace(name = "remote_coverage_tools")` + "\n",
	"third_party/remote_coverage_tools/BUILD": `package(default_visibility = ["//visibility:public"])
sh_binary(name = "coverage_report_generator", srcs = ["stub.sh"])
sh_binary(name = "lcov_merger", srcs = ["stub.sh"])
`,
	"third_party/remote_coverage_tools/stub.sh": "#!/bin/sh\nexit 1\n",
}

// workspaceHeader starts every test WORKSPACE.
const workspaceHeader = `workspace(name = "t")

local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")

local_repository(name = "platforms", path = "/usr/share/bazel/platforms")

local_repository(name = "rules_cc", path = "third_party/rules_cc")

local_repository(name = "remote_coverage_tools", path = "third_party/remote_coverage_tools")
`

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// testWS is a git repository holding a Bazel workspace, with Bazel's
// output bases in a temporary directory that is cleaned up (servers shut
// down first) when the test ends.
type testWS struct {
	t     *testing.T
	repo  *gittest.Repo
	tmp   string // output bases and caches
	cache string
	// checkoutHook, when set, runs after each checkout (e.g. to update
	// submodules).
	checkoutHook func(rev string)
}

func newTestWS(t *testing.T, files map[string]string) (*testWS, string) {
	t.Helper()
	requireBazel(t)
	tmp, err := os.MkdirTemp("", "stride-affected-")
	if err != nil {
		t.Fatal(err)
	}
	w := &testWS{t: t, repo: gittest.New(t), tmp: tmp, cache: filepath.Join(tmp, "cache")}
	t.Cleanup(w.cleanup)
	c := w.repo.Commit("base", merge(shimFiles, files))
	return w, c
}

func (w *testWS) outputBases() []string {
	obs, _ := filepath.Glob(filepath.Join(w.tmp, "ob*"))
	m, _ := filepath.Glob(filepath.Join(w.tmp, "*", "workspaces", "*", "*", "output_base"))
	return append(obs, m...)
}

func (w *testWS) cleanup() {
	for _, ob := range w.outputBases() {
		if _, err := os.Stat(ob); err != nil {
			continue
		}
		cmd := exec.Command("bazel", "--output_base="+ob, "shutdown")
		cmd.Dir = w.repo.Dir
		_ = cmd.Run()
	}
	_ = exec.Command("chmod", "-R", "u+w", w.tmp).Run()
	_ = os.RemoveAll(w.tmp)
}

// opts are the options a test computes with: Bazel's output base in the
// test's temporary directory, short-lived servers.
func (w *testWS) opts(base, head string) Options {
	return Options{
		Dir:             w.repo.Dir,
		Base:            base,
		Head:            head,
		CacheDir:        w.cache,
		Startup:         []string{"--output_base=" + filepath.Join(w.tmp, "ob"), "--max_idle_secs=60"},
		ScratchIdleSecs: 60,
	}
}

// checkout makes head the work tree, so head is queried in place.
func (w *testWS) checkout(rev string) {
	w.t.Helper()
	w.repo.Git("checkout", "-q", "--detach", rev)
	if w.checkoutHook != nil {
		w.checkoutHook(rev)
	}
}

func compute(t *testing.T, o Options) *Result {
	t.Helper()
	start := time.Now()
	res, err := Compute(context.Background(), o)
	if err != nil {
		t.Fatalf("Compute(base %s, head %s): %v", o.Base, o.Head, err)
	}
	res.Wait() // DeferWrites: the maps are read next
	t.Logf("base %s (%s) head %s (%s): %d affected in %v", o.Base, res.Base.Source, o.Head, res.Head.Source, len(res.Targets), time.Since(start).Round(time.Millisecond))
	return res
}

// affectedCase is one comparison and what it must give.
type affectedCase struct {
	name       string
	base, head string // revisions
	kind       string
	want       []string // affected labels; nil means none
	everything bool
	removed    []string
	// reasons: label -> texts that must be among its reasons.
	reasons map[string][]string
	// explain: label -> a line that must be among its --explain lines.
	explain map[string]string
}

// runCases checks every case five ways: with the cache and the fast path
// (base derived from head's query when only contents changed); with every
// side queried in full (base in its scratch copy); with no map cached and
// the fast path; with no cache directory (the rdeps path when no .bzl,
// WORKSPACE or settings file changed and no dirty package exists at base,
// whose targets, reasons and removed targets must equal the full maps');
// with base's map cached
// and head's patched from it (incremental.go); and with head's map cached
// and base's patched from it. All must agree, and each patched map must
// equal the map its full query gives.
func (w *testWS) runCases(cases []affectedCase) {
	t := w.t
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			w.checkout(tc.head)
			fast := w.opts(tc.base, "")
			fast.Kind = tc.kind
			slow := fast
			slow.NoFastPath = true
			slow.CacheDir = filepath.Join(w.tmp, "cache-slow")
			// Drop cached maps (not the warm scratch workspace) so base is
			// queried for real.
			maps := filepath.Join(slow.CacheDir, "maps")
			_ = os.RemoveAll(maps)
			fastRes := compute(t, fast)
			checkResult(t, tc, fastRes)
			full := compute(t, slow)
			checkResult(t, tc, full)
			if full.Base.Commit == full.Head.Commit || full.Head.Uncommitted {
				return
			}
			// No cache directory: the rdeps path (rdeps.go) takes changes
			// without .bzl, WORKSPACE or settings files, and must give
			// what the full maps give, reasons and removed targets
			// included. (Other changes may fail for want of a scratch
			// copy of base; that is not this check's business.)
			nocache := fast
			nocache.CacheDir = ""
			rd, err := Compute(context.Background(), nocache)
			var ie *InputError
			if err != nil && (!errors.As(err, &ie) || !strings.Contains(err.Error(), "cache")) {
				t.Errorf("no cache directory: want a result or an input error naming the cache, got %v", err)
			}
			if err == nil && rd.Head.Source == "query-rdeps" {
				t.Logf("no cache: rdeps path, %d affected", len(rd.Targets))
				checkResult(t, tc, rd)
				if d := cmp.Diff(full.Targets, rd.Targets); d != "" {
					t.Errorf("rdeps path: targets differ from the full maps' (-full +rdeps):\n%s", d)
				}
				if d := cmp.Diff(full.Removed, rd.Removed); d != "" {
					t.Errorf("rdeps path: removed targets differ from the full maps' (-full +rdeps):\n%s", d)
				}
			}
			headMap, baseMap := readMap(t, maps, full.Head.Commit), readMap(t, maps, full.Base.Commit)
			if headMap == nil || baseMap == nil {
				return
			}
			if fastRes.Base.Source == "derived" {
				if got := readMap(t, filepath.Join(fast.CacheDir, "maps"), full.Base.Commit); got != nil {
					sameSnapshot(t, "base derived from head's query (fast path)", baseMap, got)
				}
			}
			inc := fast
			inc.CacheDir = slow.CacheDir
			inc.DeferWrites = true
			removeMap(t, maps, full.Head.Commit)
			res := compute(t, inc)
			checkResult(t, tc, res)
			if got := readMap(t, maps, full.Head.Commit); got != nil {
				sameSnapshot(t, "head patched from base ("+res.Head.Source+")", headMap, got)
			}
			removeMap(t, maps, full.Base.Commit)
			res = compute(t, inc)
			checkResult(t, tc, res)
			if got := readMap(t, maps, full.Base.Commit); got != nil {
				sameSnapshot(t, "base patched from head ("+res.Base.Source+")", baseMap, got)
			}
		})
	}
}

func readMap(t *testing.T, maps, commit string) *Snapshot {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(maps, commit+"-*"+mapExt))
	if len(files) != 1 {
		return nil
	}
	key := strings.TrimSuffix(filepath.Base(files[0]), mapExt)
	return (&cache{dir: filepath.Dir(maps)}).get(key)
}

func removeMap(t *testing.T, maps, commit string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(maps, commit+"-*"+mapExt))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

// sameSnapshot reports every difference between a full query's map and a
// patched one.
func sameSnapshot(t *testing.T, what string, want, got *Snapshot) {
	t.Helper()
	var diffs []string
	for name, n := range want.Nodes {
		g, ok := got.Nodes[name]
		switch {
		case !ok:
			var by []string
			for other, o := range want.Nodes {
				for _, d := range o.Deps {
					if d == name {
						by = append(by, other)
					}
				}
			}
			sort.Strings(by)
			diffs = append(diffs, fmt.Sprintf("missing %s (a dependency of %v)", name, by))
		case g.Digest != n.Digest || strings.Join(g.Deps, " ") != strings.Join(n.Deps, " "):
			diffs = append(diffs, "differs "+name)
		}
	}
	for name := range got.Nodes {
		if _, ok := want.Nodes[name]; !ok {
			diffs = append(diffs, "extra "+name)
		}
	}
	for k, v := range want.Globals {
		if got.Globals[k] != v {
			diffs = append(diffs, "global "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("... %d more", len(diffs)-10))
	}
	if len(diffs) > 0 {
		t.Errorf("%s: differs from the full query's map:\n%s", what, strings.Join(diffs, "\n"))
	}
}

func checkResult(t *testing.T, tc affectedCase, res *Result) {
	t.Helper()
	got := res.Labels()
	want := append([]string{}, tc.want...)
	sort.Strings(want)
	if tc.everything {
		if !res.Everything {
			t.Errorf("everything = false, want true; targets %v", got)
		}
	} else {
		if res.Everything {
			t.Errorf("everything = true (%v), want false", res.GlobalReasons)
		}
		if strings.Join(want, " ") != strings.Join(got, " ") {
			t.Errorf("affected (-want +got):\n%s\n%s", cmp.Diff(want, got), describeResult(res))
		}
	}
	var removed []string
	for _, r := range res.Removed {
		removed = append(removed, r.Label)
	}
	if strings.Join(removed, ",") != strings.Join(tc.removed, ",") {
		t.Errorf("removed = %v, want %v", removed, tc.removed)
	}
	for label, texts := range tc.reasons {
		have := map[string]bool{}
		for _, tg := range res.Targets {
			if tg.Label == label {
				for _, r := range tg.Reasons {
					have[r.Text] = true
				}
			}
		}
		for _, text := range texts {
			if !have[text] {
				t.Errorf("%s: reason %q missing; have %v", label, text, have)
			}
		}
	}
	for label, line := range tc.explain {
		e, err := res.Explain(label)
		if err != nil {
			t.Errorf("Explain(%s): %v", label, err)
			continue
		}
		if !strings.Contains(e.String(), line+"\n") {
			t.Errorf("Explain(%s) = %q, want a line %q", label, e.String(), line)
		}
	}
}

func describeResult(res *Result) string {
	var b strings.Builder
	for _, tg := range res.Targets {
		var rs []string
		for _, r := range tg.Reasons {
			rs = append(rs, r.Text)
		}
		b.WriteString(tg.Label + ": " + strings.Join(rs, "; ") + "\n")
	}
	for _, g := range res.GlobalReasons {
		b.WriteString("global: " + g.Text + "\n")
	}
	return b.String()
}
