package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultIgnore(t *testing.T) {
	tests := []struct {
		rel   string
		dir   bool
		want  bool
		descr string
	}{
		{".git", true, true, "git dir"},
		{".git/index", false, true, "in git dir"},
		{"bazel-out", true, true, "output link"},
		{"bazel-monorepo/x", false, true, "under output link"},
		{"out/runs/x/report.json", false, true, "reports"},
		{"src/out/x.go", false, false, "out below the top is source"},
		{"lib/bazel-rules.bzl", false, false, "bazel- below the top is source"},
		{"a/.b.go.swp", false, true, "vim swap"},
		{"a/b.go~", false, true, "backup"},
		{"a/4913", false, true, "vim probe"},
		{"a/.#b.go", false, true, "emacs lock"},
		{"a/#b.go#", false, true, "emacs autosave"},
		{"a/b.go___jb_tmp___", false, true, "jetbrains"},
		{"a/b.go", false, false, "source"},
		{"a/BUILD.bazel", false, false, "build file"},
		{"sub/.git", true, true, "nested repo"},
	}
	for _, tc := range tests {
		if got := DefaultIgnore(tc.rel, tc.dir); got != tc.want {
			t.Errorf("%s: DefaultIgnore(%q) = %v, want %v", tc.descr, tc.rel, got, tc.want)
		}
	}
}

// watchDir starts Watch on a new directory and returns it with the
// channel of batches.
func watchDir(t *testing.T, onChange func(ctx context.Context, paths []string)) (string, chan []string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	batches := make(chan []string, 10)
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, Options{
			Root:     dir,
			Debounce: 150 * time.Millisecond,
			Ready:    func(int) { close(ready) },
			OnChange: func(ctx context.Context, paths []string) {
				batches <- paths
				if onChange != nil {
					onChange(ctx, paths)
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("watch not ready")
	}
	return dir, batches
}

func next(t *testing.T, batches chan []string) []string {
	t.Helper()
	select {
	case b := <-batches:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no batch")
	}
	return nil
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatch(t *testing.T) {
	dir, batches := watchDir(t, nil)

	// A burst of saves, with editor noise, settles into one batch.
	write(t, dir, "a/b/x.go", "1")
	write(t, dir, "a/.x.go.swp", "swap")
	write(t, dir, ".git/index", "idx")
	write(t, dir, "a/y.go", "1")
	write(t, dir, "a/b/x.go", "2")
	if d := cmp.Diff([]string{"a/b/x.go", "a/y.go"}, next(t, batches)); d != "" {
		t.Errorf("batch (-want +got):\n%s", d)
	}

	// A new directory with a file in it (mkdir -p, then write): watched
	// from then on.
	write(t, dir, "c/d/new.go", "1")
	got := next(t, batches)
	if d := cmp.Diff([]string{"c/d/new.go"}, got); d != "" {
		t.Errorf("new dir batch (-want +got):\n%s", d)
	}
	write(t, dir, "c/d/new.go", "2")
	if d := cmp.Diff([]string{"c/d/new.go"}, next(t, batches)); d != "" {
		t.Errorf("write in new dir (-want +got):\n%s", d)
	}

	// Deleting a file is a change too.
	os.Remove(filepath.Join(dir, "a", "y.go"))
	if d := cmp.Diff([]string{"a/y.go"}, next(t, batches)); d != "" {
		t.Errorf("delete batch (-want +got):\n%s", d)
	}

	// Writes under out/ (reports) never trigger anything.
	write(t, dir, "out/runs/x/report.json", "{}")
	select {
	case b := <-batches:
		t.Errorf("unexpected batch %v", b)
	case <-time.After(500 * time.Millisecond):
	}
}

// A batch that settles while the previous callback still runs cancels it.
func TestNewestWins(t *testing.T) {
	cancelled := make(chan []string, 2)
	dir, batches := watchDir(t, func(ctx context.Context, paths []string) {
		select {
		case <-ctx.Done():
			cancelled <- paths
		case <-time.After(10 * time.Second):
		}
	})
	write(t, dir, "a/one.go", "1")
	first := next(t, batches)
	write(t, dir, "a/two.go", "1")
	second := next(t, batches)
	select {
	case c := <-cancelled:
		if d := cmp.Diff(first, c); d != "" {
			t.Errorf("cancelled batch (-want +got):\n%s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first run was not cancelled")
	}
	if d := cmp.Diff([]string{"a/two.go"}, second); d != "" {
		t.Errorf("second batch (-want +got):\n%s", d)
	}
}
