// Package bep reads what the soundness oracle needs from a Bazel build
// event stream written with --build_event_json_file (decoded by
// tools/internal/buildevent): which tests ran (and whether their result
// came from a cache), and which output files each target produced, so
// that a caller can digest them.
package bep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"

	"github.com/strideci/monorepo/tools/internal/buildevent"
)

// Test is the outcome of one test target (all its runs, shards, attempts).
type Test struct {
	Status string // last status seen (PASSED, FAILED, ...)
	// Executed is true when at least one attempt ran, i.e. was not served
	// from the local or a remote cache.
	Executed bool
}

// Stream is what a build event file says.
type Stream struct {
	Tests map[string]*Test
	// Outputs lists, for every completed target, the paths of the files in
	// its output groups (usually just "default").
	Outputs map[string][]string
	// Failed lists targets whose build did not complete.
	Failed []string
}

// ReadFile parses a JSON build event file.
func ReadFile(path string) (*Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read build events %s: %w", path, err)
	}
	return s, nil
}

// Read parses a JSON build event stream (one event per line).
func Read(r io.Reader) (*Stream, error) {
	sets := map[string][]buildevent.File{}
	setChildren := map[string][]string{}
	type pending struct {
		label string
		sets  []string
		files []buildevent.File
	}
	var completed []pending
	s := &Stream{Tests: map[string]*Test{}, Outputs: map[string][]string{}}
	err := buildevent.DecodeEvents(r, func(ev *buildevent.BuildEvent) {
		switch {
		case ev.ID.NamedSet != nil && ev.NamedSetOfFiles != nil:
			id := ev.ID.NamedSet.ID
			sets[id] = ev.NamedSetOfFiles.Files
			for _, c := range ev.NamedSetOfFiles.FileSets {
				setChildren[id] = append(setChildren[id], c.ID)
			}
		case ev.ID.TargetCompleted != nil:
			label := ev.ID.TargetCompleted.Label
			if ev.Completed == nil || !ev.Completed.Success {
				s.Failed = append(s.Failed, label)
				return
			}
			p := pending{label: label, files: ev.Completed.ImportantOutput}
			for _, g := range ev.Completed.OutputGroup {
				for _, fs := range g.FileSets {
					p.sets = append(p.sets, fs.ID)
				}
			}
			completed = append(completed, p)
		case ev.ID.TestResult != nil && ev.TestResult != nil:
			label := ev.ID.TestResult.Label
			t := s.Tests[label]
			if t == nil {
				t = &Test{}
				s.Tests[label] = t
			}
			t.Status = ev.TestResult.Status
			remote := ev.TestResult.ExecutionInfo != nil && ev.TestResult.ExecutionInfo.CachedRemote
			if !ev.TestResult.CachedLocally && !remote {
				t.Executed = true
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for _, p := range completed {
		seen := map[string]bool{}
		var paths []string
		add := func(f buildevent.File) {
			path := f.Path() // "" for remote (bytestream://) outputs
			if path != "" && !seen[path] {
				seen[path] = true
				paths = append(paths, path)
			}
		}
		for _, f := range p.files {
			add(f)
		}
		visited := map[string]bool{}
		var walk func(id string)
		walk = func(id string) {
			if visited[id] {
				return
			}
			visited[id] = true
			for _, f := range sets[id] {
				add(f)
			}
			for _, c := range setChildren[id] {
				walk(c)
			}
		}
		for _, id := range p.sets {
			walk(id)
		}
		sort.Strings(paths)
		s.Outputs[p.label] = append(s.Outputs[p.label], paths...)
	}
	sort.Strings(s.Failed)
	return s, nil
}

// Digester digests files, remembering digests by path, size, modification
// time and inode so that unchanged outputs are not read again.
type Digester struct {
	cache map[string]cached
}

type cached struct {
	size, mtime int64
	ino         uint64
	sum         string
}

// NewDigester returns an empty Digester.
func NewDigester() *Digester { return &Digester{cache: map[string]cached{}} }

// File returns the hex SHA-256 of a file's content ("dir" for a directory,
// whose files are digested in name order).
func (d *Digester) File(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return d.dir(path)
	}
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = uint64(sys.Ino)
	}
	if c, ok := d.cache[path]; ok && c.size == st.Size() && c.mtime == st.ModTime().UnixNano() && c.ino == ino {
		return c.sum, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("digest %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	d.cache[path] = cached{size: st.Size(), mtime: st.ModTime().UnixNano(), ino: ino, sum: sum}
	return sum, nil
}

func (d *Digester) dir(path string) (string, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range ents {
		s, err := d.File(path + "/" + e.Name())
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%s\n", e.Name(), s)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Target digests a target's output files into one value; a missing file
// makes the digest record that it was missing.
func (d *Digester) Target(paths []string) string {
	h := sha256.New()
	for _, p := range paths {
		s, err := d.File(p)
		if err != nil {
			s = "missing"
		}
		fmt.Fprintf(h, "%s\x00%s\n", p, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Digests digests every completed target of the stream.
func (d *Digester) Digests(s *Stream) map[string]string {
	out := make(map[string]string, len(s.Outputs))
	for label, paths := range s.Outputs {
		out[label] = d.Target(paths)
	}
	return out
}
