package affected

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// scratch is a copy of one commit's files under the cache directory, with
// its own Bazel output base, where the commit is queried without touching
// the user's work tree. It is kept between runs and updated
// incrementally, so its Bazel server and fetched repositories stay warm.
//
// Layout: <cache>/workspaces/<repo-key>/<slot>/{src,output_base,commit,lock}.
type scratch struct {
	dir  string
	lock *os.File
}

// Src is the workspace directory.
func (s *scratch) Src() string { return filepath.Join(s.dir, "src") }

// OutputBase is the Bazel output base used for Src.
func (s *scratch) OutputBase() string { return scratchOutputBase(s.Src()) }

// scratchOutputBase is the output base of the scratch copy whose source
// directory is src: beside it.
func scratchOutputBase(src string) string { return filepath.Join(filepath.Dir(src), "output_base") }

// openScratch locks slot (e.g. "base", "head") of repo's scratch
// workspaces and makes it hold commit. Close releases the lock.
func openScratch(repo *gitrepo.Repo, cacheDir, slot string, commit plumbing.Hash) (*scratch, error) {
	root := repo.Root()
	sum := sha256.Sum256([]byte(root))
	key := filepath.Base(root) + "-" + hex.EncodeToString(sum[:6])
	dir := filepath.Join(cacheDir, "workspaces", key, slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("scratch workspace: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("scratch workspace: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, fmt.Errorf("lock scratch workspace %s: %w", dir, err)
	}
	s := &scratch{dir: dir, lock: lf}
	marker := filepath.Join(dir, "commit")
	var from plumbing.Hash
	if b, err := os.ReadFile(marker); err == nil {
		from = plumbing.NewHash(strings.TrimSpace(string(b)))
	}
	if from != commit {
		_ = os.Remove(marker)
		if err := repo.Export(s.Src(), from, commit); err != nil {
			s.Close()
			return nil, fmt.Errorf("scratch workspace for %s: %w", commit, err)
		}
		if err := os.WriteFile(marker, []byte(commit.String()+"\n"), 0o644); err != nil {
			s.Close()
			return nil, fmt.Errorf("scratch workspace: %w", err)
		}
	}
	copyRCImports(root, s.Src(), filepath.Join(dir, "rc-copies"))
	return s, nil
}

// copyRCImports copies the untracked files that .bazelrc imports from the
// workspace (user.bazelrc and the like) into the scratch copy, so Bazel
// runs there with the same settings.
// The files copied are listed in record and refreshed on each run.
func copyRCImports(root, dst, record string) {
	copied := map[string]bool{}
	if b, err := os.ReadFile(record); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				copied[l] = true
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dst, ".bazelrc"))
	if err != nil {
		return
	}
	var list []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || (f[0] != "import" && f[0] != "try-import") || !strings.HasPrefix(f[1], "%workspace%/") {
			continue
		}
		rel := filepath.FromSlash(strings.TrimPrefix(f[1], "%workspace%/"))
		target := filepath.Join(dst, rel)
		if _, err := os.Lstat(target); err == nil && !copied[rel] {
			continue // the commit has it
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			_ = os.Remove(target)
			continue
		}
		_ = os.MkdirAll(filepath.Dir(target), 0o755)
		if os.WriteFile(target, data, 0o644) == nil {
			list = append(list, rel)
		}
	}
	_ = os.WriteFile(record, []byte(strings.Join(list, "\n")+"\n"), 0o644)
}

// Close releases the slot.
func (s *scratch) Close() {
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}
