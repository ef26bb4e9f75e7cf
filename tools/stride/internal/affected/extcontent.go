package affected

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Content-digested repositories.
//
// A go_repository's files are a function of its definition (module path,
// version and sum, patches, Gazelle's settings), but a change of
// definition often leaves most of them, or all, as they were: a Gazelle
// setting that generates the same BUILD files, a version bump that
// touches a few packages. Digesting its targets by the definition makes
// every target that uses the repository affected; digesting them by
// content makes only those whose files changed. So for go_repository,
// and for nothing else (repositories of other classes may provide
// toolchains, which the query graph does not show), a source file's
// digest covers its content as fetched into the output base, and a
// rule's covers its package's BUILD file instead of the definition.
// Where the content cannot be read (the output base is unknown, or the
// repository was not fetched there), the definition stands in, as for
// other repositories: different digests at the two sides then make the
// targets affected, never the opposite.
//
// Content digests are cached by definition digest under
// <cache-dir>/external/ (a few KB per definition; unused for 30 days,
// deleted), so a definition's files are read once; the output base is
// asked for (bazel info output_base) only on a miss.

// extSource gives the content digests of a repository's files.
type extSource interface {
	// digests returns path -> digest for paths (relative to the
	// repository's root) of repository repo, whose definition digest is
	// def; ok is false when they cannot be read.
	digests(repo, def string, paths []string) (map[string]string, bool)
}

// contentRepo reports whether the targets of a repository of this class
// are digested by content.
func contentRepo(r *Repo) bool { return r != nil && r.Class == "go_repository" && r.Dir == "" }

// extContent is an extSource reading an output base's external/
// directory, with a cache of digests per definition.
type extContent struct {
	// cacheDir holds the cache files ("" keeps nothing).
	cacheDir string
	// outputBase returns the output base of the workspace whose query
	// is being digested (called on a cache miss only; memoize it).
	outputBase func() (string, error)

	mu    sync.Mutex
	known map[string]map[string]string // def -> path -> digest
}

func newExtContent(cacheDir string, outputBase func() (string, error)) *extContent {
	return &extContent{cacheDir: cacheDir, outputBase: outputBase, known: map[string]map[string]string{}}
}

func (e *extContent) cachePath(def string) string {
	return filepath.Join(e.cacheDir, "external", def+".gob")
}

func (e *extContent) digests(repo, def string, paths []string) (map[string]string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.known[def]
	if !ok {
		m = map[string]string{}
		if e.cacheDir != "" {
			p := e.cachePath(def)
			if b, err := os.ReadFile(p); err == nil {
				var disk map[string]string
				if gob.NewDecoder(bytes.NewReader(b)).Decode(&disk) == nil {
					m = disk
					// The modification time says when it was last used
					// (see prune).
					if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
						now := time.Now()
						_ = os.Chtimes(p, now, now)
					}
				}
			}
		}
		e.known[def] = m
	}
	var missing []string
	for _, p := range paths {
		if _, ok := m[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return m, true
	}
	if e.outputBase == nil {
		return nil, false
	}
	ob, err := e.outputBase()
	if err != nil || ob == "" {
		return nil, false
	}
	// The marker file is rewritten when Bazel fetches the repository
	// again: the same before and after reading means one fetch was read.
	marker := filepath.Join(ob, "external", "@"+repo+".marker")
	before, err := os.ReadFile(marker)
	if err != nil {
		return nil, false
	}
	dir := filepath.Join(ob, "external", repo)
	add := make(map[string]string, len(missing))
	for _, p := range missing {
		d, err := diskDigest(filepath.Join(dir, filepath.FromSlash(p)), 0)
		if err != nil {
			return nil, false
		}
		add[p] = d
	}
	if after, err := os.ReadFile(marker); err != nil || !bytes.Equal(before, after) {
		return nil, false
	}
	merged := make(map[string]string, len(m)+len(add))
	for k, v := range m {
		merged[k] = v
	}
	for k, v := range add {
		merged[k] = v
	}
	e.known[def] = merged
	if e.cacheDir != "" {
		_ = e.write(def, merged) // a cache: a failed write costs a re-read
	}
	return merged, true
}

// write stores def's digests atomically.
func (e *extContent) write(def string, m map[string]string) error {
	p := e.cachePath(def)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m); err != nil {
		return err
	}
	if err := atomicfile.Write(p, buf.Bytes()); err != nil {
		return err
	}
	prune(filepath.Dir(p), extUnused)
	return nil
}

// extUnused is how long a definition's digests are kept unused.
const extUnused = 30 * 24 * time.Hour

// prune deletes the cache files in dir unused for longer than age, and
// temporary files left by killed runs.
func prune(dir string, age time.Duration) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, en := range entries {
		info, err := en.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		old := time.Since(info.ModTime())
		if old > age || (strings.HasPrefix(en.Name(), ".tmp-") && old > time.Hour) {
			_ = os.Remove(filepath.Join(dir, en.Name()))
		}
	}
}

// diskDigest digests the file at p as the build sees it: a regular file
// by its content and executable bit (symbolic links followed), a
// directory by its entries, recursively; "missing" when there is none.
func diskDigest(p string, depth int) (string, error) {
	if depth > 64 {
		return "", fmt.Errorf("%s: directories nested too deep", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return "missing", nil
		}
		return "", err
	}
	h := sha256.New()
	switch {
	case st.IsDir():
		entries, err := os.ReadDir(p)
		if err != nil {
			return "", err
		}
		names := make([]string, 0, len(entries))
		for _, en := range entries {
			names = append(names, en.Name())
		}
		sort.Strings(names)
		h.Write([]byte("dir\x00"))
		for _, n := range names {
			d, err := diskDigest(filepath.Join(p, n), depth+1)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s\x00%s\x00", n, d)
		}
	case st.Mode().IsRegular():
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		if st.Mode()&0o111 != 0 {
			h.Write([]byte("exec\x00"))
		} else {
			h.Write([]byte("file\x00"))
		}
		h.Write(b)
	default:
		return "special:" + st.Mode().Type().String(), nil
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// prepareExternal reads the content digests of the files that the
// targets of content-digested repositories among targets need: source
// files, and the BUILD files of the packages of the others. It runs after
// addRepos and before those targets are added.
func (b *builder) prepareExternal(targets []*buildpb.Target) {
	if b.ext == nil {
		return
	}
	need := map[string]map[string]bool{}
	for _, t := range targets {
		name := b.canonical(targetName(t))
		l, ok := parseLabel(name)
		if !ok || l.repo == "" || !contentRepo(b.snap.Repos[l.repo]) {
			continue
		}
		ps := need[l.repo]
		if ps == nil {
			ps = map[string]bool{}
			need[l.repo] = ps
		}
		if t.GetType() == buildpb.Target_SOURCE_FILE {
			ps[l.filePath()] = true
		} else {
			ps[path.Join(l.pkg, "BUILD.bazel")] = true
			ps[path.Join(l.pkg, "BUILD")] = true
		}
	}
	for repo, ps := range need {
		paths := make([]string, 0, len(ps))
		for p := range ps {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		if m, ok := b.ext.digests(repo, b.snap.Repos[repo].Digest, paths); ok {
			if b.extFiles == nil {
				b.extFiles = map[string]map[string]string{}
			}
			b.extFiles[repo] = m
		}
	}
}

// ownerDigest is what a target of l's repository is defined by besides
// its own attributes: the repository's definition, or for a
// content-digested repository the content of the package's BUILD file.
func (b *builder) ownerDigest(l label) string {
	if m, ok := b.extFiles[l.repo]; ok && l.repo != "" {
		d1, ok1 := m[path.Join(l.pkg, "BUILD.bazel")]
		d2, ok2 := m[path.Join(l.pkg, "BUILD")]
		if ok1 && ok2 {
			return "content:" + d1 + "," + d2
		}
	}
	return b.repoDigestOf(l.repo)
}

// extFileDigest is the content digest of a source file of a
// content-digested repository.
func (b *builder) extFileDigest(l label) (string, bool) {
	if l.repo == "" {
		return "", false
	}
	d, ok := b.extFiles[l.repo][l.filePath()]
	if !ok || strings.HasPrefix(d, "special:") {
		return "", false
	}
	return d, true
}
