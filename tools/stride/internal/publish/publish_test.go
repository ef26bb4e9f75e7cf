package publish_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

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
	docs := publishtest.DocsDir(t)

	opts := publish.Options{Dir: ws, RunDir: publishtest.MakeRun(t, ws, publishtest.Sha(1), report.StatusGreen, 1000), Debs: []string{hello1, world}, DocsDir: docs, Store: s, Number: 10}
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
	opts2.RunDir, opts2.Debs, opts2.Number = publishtest.MakeRun(t, ws, publishtest.Sha(2), report.StatusGreen, 1500), []string{hello2, world}, 11
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
	if w2.Version != w1.Version || w2.Since != publishtest.Sha(1) || w2.Artifact != w1.Artifact {
		t.Errorf("unchanged world in build 2 = %+v, want version %s since %s", w2, w1.Version, publishtest.Sha(1))
	}
	a1, _ := m1.Artifact(w1.Artifact)
	a2, _ := m2.Artifact(w2.Artifact)
	if a1.Digest != a2.Digest {
		t.Errorf("unchanged package stored with other bytes: %s != %s", a1.Digest, a2.Digest)
	}
	if r2.Perf == nil || len(r2.Perf.Rows) == 0 || r2.Perf.Rows[0].Baseline != publishtest.Sha(1) || r2.Perf.Rows[0].ChangePct == nil || !r2.Perf.Rows[0].Significant {
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
	bad.RunDir = publishtest.MakeRun(t, ws, publishtest.Sha(3), report.StatusFailed, 0)
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
