package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ReadFileAt returns the content of the file at path (slash-separated,
// relative to the repository root) in commit. A path that does not exist
// at the commit gives an error that wraps fs.ErrNotExist and names the path
// and the commit.
func (r *Repo) ReadFileAt(commit plumbing.Hash, path string) ([]byte, error) {
	fsys, err := r.FS(commit)
	if err != nil {
		return nil, err
	}
	b, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, short(commit), unwrapPathError(err))
	}
	return b, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FS returns the tree of commit as a read-only file system (fs.FS, also
// fs.ReadDirFS, fs.ReadFileFS and fs.StatFS), so code written against
// fs.FS reads a commit as easily as a directory. Symbolic links are files
// of type fs.ModeSymlink whose content is the link target; submodules are
// entries of type fs.ModeIrregular with no content. ModTime is the commit
// time.
func (r *Repo) FS(commit plumbing.Hash) (fs.FS, error) {
	c, err := r.CommitObject(commit)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", short(commit), err)
	}
	return &treeFS{r: r, root: t, when: c.Committer.When, trees: map[string]*object.Tree{}}, nil
}

type treeFS struct {
	r    *Repo
	root *object.Tree
	when time.Time

	mu    sync.Mutex
	trees map[string]*object.Tree // decoded sub-trees by path
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
)

// lookup finds name in the tree: it returns the tree for a directory, or
// the entry for anything else.
func (t *treeFS) lookup(op, name string) (*object.Tree, *object.TreeEntry, error) {
	if !fs.ValidPath(name) {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return t.root, nil, nil
	}
	dir, base := ".", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, base = name[:i], name[i+1:]
	}
	parent, err := t.dir(dir)
	if err != nil {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	var e *object.TreeEntry
	for i := range parent.Entries {
		if parent.Entries[i].Name == base {
			e = &parent.Entries[i]
			break
		}
	}
	if e == nil {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	if e.Mode == filemode.Dir {
		sub, err := t.dir(name)
		if err != nil {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		return sub, e, nil
	}
	return nil, e, nil
}

// dir returns the tree of directory p, decoding each tree once.
func (t *treeFS) dir(p string) (*object.Tree, error) {
	if p == "." {
		return t.root, nil
	}
	t.mu.Lock()
	tr, ok := t.trees[p]
	t.mu.Unlock()
	if ok {
		return tr, nil
	}
	parentPath, base := ".", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		parentPath, base = p[:i], p[i+1:]
	}
	parent, err := t.dir(parentPath)
	if err != nil {
		return nil, err
	}
	var e *object.TreeEntry
	for i := range parent.Entries {
		if parent.Entries[i].Name == base {
			e = &parent.Entries[i]
			break
		}
	}
	if e == nil {
		return nil, fs.ErrNotExist
	}
	if e.Mode != filemode.Dir {
		return nil, errors.New("not a directory")
	}
	tr, err = t.r.git.TreeObject(e.Hash)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.trees[p] = tr
	t.mu.Unlock()
	return tr, nil
}

func (t *treeFS) Open(name string) (fs.File, error) {
	dir, e, err := t.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if dir != nil {
		return &treeDir{fsys: t, tree: dir, info: t.info(baseName(name), e)}, nil
	}
	data, err := t.blob(name, e)
	if err != nil {
		return nil, err
	}
	info := t.info(baseName(name), e)
	info.size = int64(len(data))
	return &treeFile{info: info, r: bytes.NewReader(data)}, nil
}

func (t *treeFS) ReadFile(name string) ([]byte, error) {
	dir, e, err := t.lookup("read", name)
	if err != nil {
		return nil, err
	}
	if dir != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return t.blob(name, e)
}

func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	dir, e, err := t.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	info := t.info(baseName(name), e)
	if dir == nil && e.Mode != filemode.Submodule {
		info.size = t.size(e)
	}
	return info, nil
}

func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	dir, _, err := t.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return t.entries(dir), nil
}

func (t *treeFS) entries(dir *object.Tree) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(dir.Entries))
	for i := range dir.Entries {
		e := &dir.Entries[i]
		out = append(out, &treeDirEntry{fsys: t, e: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func (t *treeFS) blob(name string, e *object.TreeEntry) ([]byte, error) {
	if e.Mode == filemode.Submodule {
		return nil, nil
	}
	b, err := t.r.git.BlobObject(e.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	rc, err := b.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

func (t *treeFS) size(e *object.TreeEntry) int64 {
	if e == nil || e.Mode == filemode.Dir || e.Mode == filemode.Submodule {
		return 0
	}
	if s, err := t.r.git.Storer.EncodedObjectSize(e.Hash); err == nil {
		return s
	}
	return 0
}

func (t *treeFS) info(name string, e *object.TreeEntry) *treeInfo {
	mode := fs.ModeDir | 0o755
	if e != nil {
		mode = fsMode(e.Mode)
	}
	return &treeInfo{name: name, mode: mode, when: t.when}
}

func fsMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	default:
		return 0o644
	}
}

func baseName(name string) string {
	if name == "." {
		return "."
	}
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

type treeInfo struct {
	name string
	size int64
	mode fs.FileMode
	when time.Time
}

func (i *treeInfo) Name() string       { return i.name }
func (i *treeInfo) Size() int64        { return i.size }
func (i *treeInfo) Mode() fs.FileMode  { return i.mode }
func (i *treeInfo) ModTime() time.Time { return i.when }
func (i *treeInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *treeInfo) Sys() interface{}   { return nil }

type treeDirEntry struct {
	fsys *treeFS
	e    *object.TreeEntry
}

func (d *treeDirEntry) Name() string      { return d.e.Name }
func (d *treeDirEntry) IsDir() bool       { return d.e.Mode == filemode.Dir }
func (d *treeDirEntry) Type() fs.FileMode { return fsMode(d.e.Mode).Type() }
func (d *treeDirEntry) Info() (fs.FileInfo, error) {
	info := d.fsys.info(d.e.Name, d.e)
	info.size = d.fsys.size(d.e)
	return info, nil
}

type treeFile struct {
	info *treeInfo
	r    *bytes.Reader
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *treeFile) Close() error               { return nil }

type treeDir struct {
	fsys    *treeFS
	tree    *object.Tree
	info    *treeInfo
	entries []fs.DirEntry
	read    bool
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *treeDir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		d.entries = d.fsys.entries(d.tree)
		d.read = true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
