// Package watch watches a workspace for saved files and calls back once
// the saves settle (`stride watch`). It watches every directory under the
// root (fsnotify, recursive by walking, new directories added as they
// appear), ignores what is not source (.git, Bazel's bazel-* output links,
// out/, editor temporary and backup files), and debounces: the callback
// gets the set of paths changed since the last call once no event came for
// the debounce period. A callback still running when the next batch
// settles has its context cancelled first (the newest change wins).
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure Watch.
type Options struct {
	// Root is the workspace root (absolute).
	Root string
	// Debounce is how long the tree must be quiet before a batch is
	// delivered (default 300ms).
	Debounce time.Duration
	// Ignore reports whether a path (slash-separated, relative to Root)
	// is not watched; nil means DefaultIgnore.
	Ignore func(rel string, isDir bool) bool
	// OnChange receives each settled batch of changed paths (relative,
	// sorted). Its ctx is cancelled when a newer batch settles or Watch
	// stops; Watch waits for it to return before calling it again.
	OnChange func(ctx context.Context, paths []string)
	// Ready, if set, is called once every directory is watched.
	Ready func(dirs int)
	// Log receives warnings (nil: discarded).
	Log io.Writer
}

// DefaultIgnore skips .git, Bazel's output links (bazel-*) and out/ at the
// top, and editor files anywhere: swap and backup files (*.swp, *~, 4913),
// Emacs lock and autosave files (.#x, #x#), JetBrains' safe-write temps
// (*___jb_tmp___, *___jb_old___), *.tmp and .DS_Store.
func DefaultIgnore(rel string, isDir bool) bool {
	if rel == "." || rel == "" {
		return false
	}
	first := rel
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		first = rel[:i]
	}
	if first == ".git" || first == "out" || strings.HasPrefix(first, "bazel-") {
		return true
	}
	base := rel[strings.LastIndexByte(rel, '/')+1:]
	if base == ".git" {
		return true
	}
	if isDir {
		return false
	}
	switch {
	case strings.HasSuffix(base, "~"),
		strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".swx"), strings.HasSuffix(base, ".swo"),
		strings.HasSuffix(base, ".tmp"),
		strings.HasPrefix(base, ".#"),
		strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#"),
		strings.HasSuffix(base, "___jb_tmp___"), strings.HasSuffix(base, "___jb_old___"),
		base == "4913", base == ".DS_Store":
		return true
	}
	return false
}

// Watch watches until ctx is cancelled (returning nil) or the watcher
// fails.
func Watch(ctx context.Context, o Options) error {
	if o.Debounce <= 0 {
		o.Debounce = 300 * time.Millisecond
	}
	if o.Ignore == nil {
		o.Ignore = DefaultIgnore
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Close()
	wt := &watcher{o: o, w: w, dirs: map[string]bool{}}
	if _, err := wt.addTree(o.Root, nil); err != nil {
		return err
	}
	if o.Ready != nil {
		o.Ready(len(wt.dirs))
	}

	pending := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	// The callback running now, if any.
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var cur *running
	stopRun := func() {
		if cur != nil {
			cur.cancel()
			<-cur.done
			cur = nil
		}
	}
	defer stopRun()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				fmt.Fprintf(o.Log, "watch: too many events at once; some changes may be missed\n")
				continue
			}
			return fmt.Errorf("watch: %w", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			changed := wt.handle(ev)
			if len(changed) == 0 {
				continue
			}
			for _, p := range changed {
				pending[p] = true
			}
			if timer == nil {
				timer = time.NewTimer(o.Debounce)
			} else {
				if !timer.Stop() {
					select {
					case <-timer.C:
					default:
					}
				}
				timer.Reset(o.Debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			batch := make([]string, 0, len(pending))
			for p := range pending {
				batch = append(batch, p)
			}
			sort.Strings(batch)
			pending = map[string]bool{}
			stopRun()
			rctx, cancel := context.WithCancel(ctx)
			r := &running{cancel: cancel, done: make(chan struct{})}
			cur = r
			go func() {
				defer close(r.done)
				o.OnChange(rctx, batch)
			}()
		}
	}
}

type watcher struct {
	o    Options
	w    *fsnotify.Watcher
	dirs map[string]bool
}

func (wt *watcher) rel(p string) string {
	r, err := filepath.Rel(wt.o.Root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// addTree watches dir and every directory under it that is not ignored.
// Files found are appended to files (relative paths): a directory created
// with files in it (git checkout, mv) reports them as changed.
func (wt *watcher) addTree(dir string, files []string) ([]string, error) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // vanished meanwhile
		}
		rel := wt.rel(p)
		if wt.o.Ignore(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			files = append(files, rel)
			return nil
		}
		if wt.dirs[p] {
			return nil
		}
		if err := wt.w.Add(p); err != nil {
			if p == dir && len(wt.dirs) == 0 {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			fmt.Fprintf(wt.o.Log, "watch: cannot watch %s: %v\n", rel, err)
			return nil
		}
		wt.dirs[p] = true
		return nil
	})
	return files, err
}

// handle turns one event into the changed paths it implies.
func (wt *watcher) handle(ev fsnotify.Event) []string {
	if ev.Op == fsnotify.Chmod {
		return nil // touch, permission changes: no content change
	}
	rel := wt.rel(ev.Name)
	if ev.Op&fsnotify.Create != 0 {
		if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
			if wt.o.Ignore(rel, true) {
				return nil
			}
			files, _ := wt.addTree(ev.Name, nil)
			return files
		}
	}
	if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && wt.dirs[ev.Name] {
		delete(wt.dirs, ev.Name) // fsnotify drops the watch itself
		return []string{rel}
	}
	if wt.o.Ignore(rel, false) {
		return nil
	}
	return []string{rel}
}
