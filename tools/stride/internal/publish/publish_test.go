package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

func sha(n int) string { return strings.Repeat(string(rune('a'+n)), 40) }

// makeRun writes a finished run's directory the way `stride run` does.
func makeRun(t testing.TB, dir string, head string, status report.Status, ns float64) string {
	t.Helper()
	runDir := filepath.Join(dir, "out", "runs", head)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := report.New(dir, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	r.Status, r.ExitCode = status, status.ExitCode()
	r.Head = report.Rev{Rev: "HEAD", SHA: head}
	r.Base = report.Rev{SHA: sha(0)}
	r.Branch = "main"
	r.Summary = "test run"
	r.Tests.Results = []report.TestResult{
		{Label: "//services/hello:hello_test", Status: "PASSED"},
		{Label: "//services/hello:flaky_test", Status: "FLAKY", Flaky: true, Log: filepath.Join(runDir, "flaky.log")},
	}
	os.WriteFile(filepath.Join(runDir, "flaky.log"), []byte("--- FAIL: TestX (first attempt)\n"), 0o644)
	if ns > 0 {
		for i := 0; i < 5; i++ {
			r.Benchmarks = append(r.Benchmarks, report.Benchmark{Target: "//services/hello/perf:perf_test", Name: "Hello", Iterations: 1000, NsPerOp: ns + float64(i)})
		}
		doc := map[string]interface{}{"schema": "stride.perf/v1", "head": head, "benchmarks": r.Benchmarks}
		b, _ := json.Marshal(doc)
		os.WriteFile(filepath.Join(runDir, report.PerfFile), b, 0o644)
		r.Files.Perf = report.PerfFile
	}
	os.WriteFile(filepath.Join(runDir, report.JUnitFile), []byte("<testsuites></testsuites>\n"), 0o644)
	r.Files.JUnit = report.JUnitFile
	r.Tally()
	r.Status = status
	if err := r.WriteJSON(runDir); err != nil {
		t.Fatal(err)
	}
	return runDir
}

func docsDir(t testing.TB) string {
	d := filepath.Join(t.TempDir(), "docs")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "intro.md"), []byte("# Intro\n\nSee [build](build.md).\n"), 0o644)
	os.WriteFile(filepath.Join(d, "build.md"), []byte("# Build\n"), 0o644)
	return d
}

func TestPublishStoreOnly(t *testing.T) {
	ctx := context.Background()
	ws := t.TempDir()
	s, err := store.OpenFS(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	debs := t.TempDir()
	hello1 := apttest.Build(t, filepath.Join(debs), apttest.Package{Name: "hello", Payload: "1"})
	os.MkdirAll(filepath.Join(debs, "w"), 0o755)
	world := apttest.Build(t, filepath.Join(debs, "w"), apttest.Package{Name: "world", Payload: "same"})
	docs := docsDir(t)

	opts := publish.Options{Dir: ws, RunDir: makeRun(t, ws, sha(1), report.StatusGreen, 1000), Debs: []string{hello1, world}, DocsDir: docs, Store: s, Number: 10}
	r1, err := publish.Publish(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	m1 := r1.Manifest
	if p, _ := m1.Package("hello"); p.Version != "0.10.0+gbbbbbbb" || p.Since != "" {
		t.Errorf("hello in build 1 = %+v", p)
	}
	for _, name := range []string{"docs/index.html", "docs/intro.html", "report.json", "test/junit.xml", "test/logs/services/hello/flaky_test.log", "perf/perf.json", "perf/compare.txt", "debs/hello_0.10.0+gbbbbbbb_amd64.deb"} {
		if _, ok := m1.Artifact(name); !ok {
			t.Errorf("build 1 lacks artifact %s", name)
		}
	}

	// Build 2: hello changed, world did not.
	os.MkdirAll(filepath.Join(debs, "h2"), 0o755)
	hello2 := apttest.Build(t, filepath.Join(debs, "h2"), apttest.Package{Name: "hello", Payload: "2"})
	opts2 := opts
	opts2.RunDir, opts2.Debs, opts2.Number = makeRun(t, ws, sha(2), report.StatusGreen, 1500), []string{hello2, world}, 11
	r2, err := publish.Publish(ctx, opts2)
	if err != nil {
		t.Fatal(err)
	}
	m2 := r2.Manifest
	h2, _ := m2.Package("hello")
	w1, _ := m1.Package("world")
	w2, _ := m2.Package("world")
	if h2.Version != "0.11.0+gccccccc" {
		t.Errorf("hello in build 2 = %+v", h2)
	}
	if w2.Version != w1.Version || w2.Since != sha(1) || w2.Artifact != w1.Artifact {
		t.Errorf("unchanged world in build 2 = %+v, want version %s since %s", w2, w1.Version, sha(1))
	}
	a1, _ := m1.Artifact(w1.Artifact)
	a2, _ := m2.Artifact(w2.Artifact)
	if a1.Digest != a2.Digest {
		t.Errorf("unchanged package stored with other bytes: %s != %s", a1.Digest, a2.Digest)
	}
	if r2.Perf == nil || len(r2.Perf.Rows) == 0 || r2.Perf.Rows[0].Baseline != sha(1) || r2.Perf.Rows[0].ChangePct == nil || !r2.Perf.Rows[0].Significant {
		t.Errorf("perf comparison = %+v", r2.Perf)
	}

	// Publishing build 2 again is a no-op.
	r3, err := publish.Publish(ctx, opts2)
	if err != nil {
		t.Fatal(err)
	}
	if !r3.Already {
		t.Error("second publish of build 2 did not say already published")
	}
	// ... unless the packages differ: a reproducibility bug.
	opts3 := opts2
	opts3.Debs = []string{hello1, world}
	if _, err := publish.Publish(ctx, opts3); !errors.Is(err, publish.ErrNotReproducible) {
		t.Errorf("publish with other packages = %v, want ErrNotReproducible", err)
	}

	// Runs that are not green are refused.
	bad := opts
	bad.RunDir = makeRun(t, ws, sha(3), report.StatusFailed, 0)
	if _, err := publish.Publish(ctx, bad); !errors.Is(err, publish.ErrNotGreen) {
		t.Errorf("publish of a failed run = %v, want ErrNotGreen", err)
	}
	bad.RunDir = filepath.Join(ws, "nothing")
	if _, err := publish.Publish(ctx, bad); !errors.Is(err, publish.ErrNoRun) {
		t.Errorf("publish without a run = %v, want ErrNoRun", err)
	}
	res, err := store.Verify(ctx, s)
	if err != nil || !res.OK() || res.Builds != 2 {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}
