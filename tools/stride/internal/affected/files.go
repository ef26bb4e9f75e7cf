package affected

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// fileSet is the files of one side of a comparison: a commit's tree, or
// the work tree (HEAD's tree updated with the work tree's changes). File
// digests are git blob hashes, so a file has the same digest whether it
// was read from a commit or from disk.
type fileSet struct {
	repo    *gitrepo.Repo
	entries map[string]gitrepo.TreeEntry
	// disk, when set, is the work tree root: paths in onDisk are read
	// from there, and paths absent from entries (ignored files) are looked
	// up there too.
	disk   string
	onDisk map[string]bool
	sorted []string
}

// commitFiles returns the files of commit.
func commitFiles(repo *gitrepo.Repo, commit plumbing.Hash) (*fileSet, error) {
	e, err := repo.TreeFiles(commit)
	if err != nil {
		return nil, err
	}
	return &fileSet{repo: repo, entries: e}, nil
}

// workTreeFiles returns the files of the work tree: head's tree (the HEAD
// commit) with the changes `git status` reports applied from disk.
func workTreeFiles(repo *gitrepo.Repo, head plumbing.Hash) (*fileSet, error) {
	fsys, err := commitFiles(repo, head)
	if err != nil {
		return nil, err
	}
	changes, err := repo.WorkTreeChanges()
	if err != nil {
		return nil, err
	}
	fsys.disk = repo.Root()
	fsys.onDisk = map[string]bool{}
	for _, c := range changes {
		if c.Deleted {
			delete(fsys.entries, c.Path)
			continue
		}
		e, ok, err := diskEntry(filepath.Join(fsys.disk, filepath.FromSlash(c.Path)))
		if err != nil {
			return nil, err
		}
		if !ok {
			delete(fsys.entries, c.Path)
			continue
		}
		if e.Mode == filemode.Dir {
			// An untracked directory (git status lists some of them whole):
			// add its files.
			err := filepath.WalkDir(filepath.Join(fsys.disk, filepath.FromSlash(c.Path)), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(fsys.disk, p)
				rel = filepath.ToSlash(rel)
				if fe, ok, err := diskEntry(p); err == nil && ok {
					fsys.entries[rel] = fe
					fsys.onDisk[rel] = true
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read work tree %s: %w", c.Path, err)
			}
			continue
		}
		fsys.entries[c.Path] = e
		fsys.onDisk[c.Path] = true
	}
	return fsys, nil
}

// diskEntry hashes the file at p as git would store it.
func diskEntry(p string) (gitrepo.TreeEntry, bool, error) {
	st, err := os.Lstat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return gitrepo.TreeEntry{}, false, nil
		}
		return gitrepo.TreeEntry{}, false, fmt.Errorf("read work tree: %w", err)
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		t, err := os.Readlink(p)
		if err != nil {
			return gitrepo.TreeEntry{}, false, fmt.Errorf("read work tree: %w", err)
		}
		return gitrepo.TreeEntry{Hash: gitrepo.BlobHash([]byte(t)), Mode: filemode.Symlink}, true, nil
	case st.IsDir():
		return gitrepo.TreeEntry{Mode: filemode.Dir}, true, nil
	case !st.Mode().IsRegular():
		return gitrepo.TreeEntry{}, false, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return gitrepo.TreeEntry{}, false, fmt.Errorf("read work tree: %w", err)
	}
	m := filemode.Regular
	if st.Mode()&0o111 != 0 {
		m = filemode.Executable
	}
	return gitrepo.TreeEntry{Hash: gitrepo.BlobHash(b), Mode: m}, true, nil
}

// read returns the content of the file at p, following symbolic links
// inside the tree; ok is false when there is no such file.
func (f *fileSet) read(p string) ([]byte, bool) {
	for i := 0; i < 8; i++ {
		e, ok := f.entries[p]
		if !ok {
			if f.disk != "" {
				if b, err := os.ReadFile(filepath.Join(f.disk, filepath.FromSlash(p))); err == nil {
					return b, true
				}
			}
			return nil, false
		}
		if f.onDisk[p] {
			if e.Mode == filemode.Symlink {
				t, err := os.Readlink(filepath.Join(f.disk, filepath.FromSlash(p)))
				if err != nil {
					return nil, false
				}
				if p, ok = resolveLink(p, t); !ok {
					return nil, false
				}
				continue
			}
			b, err := os.ReadFile(filepath.Join(f.disk, filepath.FromSlash(p)))
			return b, err == nil
		}
		b, err := f.repo.ReadBlob(e.Hash)
		if err != nil {
			return nil, false
		}
		if e.Mode != filemode.Symlink {
			return b, true
		}
		if p, ok = resolveLink(p, string(b)); !ok {
			return nil, false
		}
	}
	return nil, false
}

// resolveLink resolves a symbolic link's target relative to the link's
// directory; ok is false for absolute targets and targets outside the tree.
func resolveLink(link, target string) (string, bool) {
	if path.IsAbs(target) {
		return "", false
	}
	p := path.Clean(path.Join(path.Dir(link), target))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

const missing = "missing"

// digest returns a digest of the file or directory at p: the blob hash and
// mode of a file; for a symbolic link inside the tree the link and what it
// points to; for a directory the digests of all its files; "missing" when
// nothing is there.
func (f *fileSet) digest(p string) string {
	return f.digestDepth(p, 0)
}

func (f *fileSet) digestDepth(p string, depth int) string {
	e, ok := f.entries[p]
	if !ok {
		if d := f.dirDigest(p, depth); d != "" {
			return d
		}
		if f.disk != "" {
			if e, ok, _ := diskEntry(filepath.Join(f.disk, filepath.FromSlash(p))); ok && e.Mode != filemode.Dir {
				return entryDigest(e)
			}
		}
		return missing
	}
	if e.Mode == filemode.Symlink && depth < 8 {
		var target string
		if f.onDisk[p] {
			t, err := os.Readlink(filepath.Join(f.disk, filepath.FromSlash(p)))
			if err != nil {
				return entryDigest(e)
			}
			target = t
		} else if b, err := f.repo.ReadBlob(e.Hash); err == nil {
			target = string(b)
		}
		if t, ok := resolveLink(p, target); ok {
			return entryDigest(e) + ">" + f.digestDepth(t, depth+1)
		}
	}
	return entryDigest(e)
}

func entryDigest(e gitrepo.TreeEntry) string {
	return fmt.Sprintf("%o:%s", uint32(e.Mode), e.Hash)
}

// dirDigest hashes every file under directory p, or returns "" when p is
// not a directory of the tree.
func (f *fileSet) dirDigest(p string, depth int) string {
	f.index()
	prefix := p + "/"
	if p == "" || p == "." {
		prefix = ""
	}
	i := sort.SearchStrings(f.sorted, prefix)
	h := sha256.New()
	n := 0
	for ; i < len(f.sorted) && strings.HasPrefix(f.sorted[i], prefix); i++ {
		k := f.sorted[i]
		fmt.Fprintf(h, "%s\x00%s\n", k[len(prefix):], entryDigest(f.entries[k]))
		n++
	}
	if n == 0 {
		return ""
	}
	return "dir:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// isDir reports whether p is a directory holding files of the tree.
func (f *fileSet) isDir(p string) bool { return f.dirDigest(p, 0) != "" }

// exists reports whether the tree has a file at p.
func (f *fileSet) exists(p string) bool {
	_, ok := f.entries[p]
	return ok
}

// index builds the sorted path list dirDigest searches, once.
func (f *fileSet) index() {
	if f.sorted == nil {
		f.sorted = make([]string, 0, len(f.entries))
		for k := range f.entries {
			f.sorted = append(f.sorted, k)
		}
		sort.Strings(f.sorted)
	}
}

// unreadSubmodules fails when a submodule whose files differ between the
// sides cannot be read: its gitlink moved (or appeared, or went) and no
// local clone of the submodule holds the commit, so the tree keeps the
// gitlink itself (gitrepo.TreeFiles). Guessing would be unsound.
func unreadSubmodules(cs *changeSet, base, head *fileSet) error {
	var bad []string
	for p := range cs.changed {
		for _, fs := range []*fileSet{base, head} {
			if e, ok := fs.entries[p]; ok && e.Mode == filemode.Submodule {
				bad = append(bad, fmt.Sprintf("%s (commit %s)", p, e.Hash))
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return inputErr(fmt.Errorf("submodule %s changed but is not in a local clone: run `git submodule update --init` (stride reads a submodule's files from its clone under .git/modules)", strings.Join(bad, ", ")))
}
