package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Submodules: a gitlink entry (mode 160000) of a tree names a commit of
// another repository whose files Bazel sees as part of the workspace. The
// trees stride reads (TreeFiles, Export, WorkTreeChanges) carry them: a
// gitlink whose commit is found in a local clone of the submodule is
// replaced by that commit's files under the submodule's path, so a moved
// gitlink, a moved submodule or a change inside one is a change of files
// like any other. A gitlink whose commit is not available locally (the
// submodule was never fetched) stays a TreeEntry of mode
// filemode.Submodule: callers must not guess what it holds.

// maxSubmoduleDepth bounds nested submodules.
const maxSubmoduleDepth = 4

// subRepos are the local clones of submodules found so far, searched for
// the blobs of submodule files.
type subRepos struct {
	mu        sync.Mutex
	commonDir string // the superproject's common git directory; "" until known
	byDir     map[string]*git.Repository
	order     []*git.Repository
}

// gitCommonDir is the repository's (common) git directory.
func (r *Repo) gitCommonDir() string {
	r.subs.mu.Lock()
	defer r.subs.mu.Unlock()
	if r.subs.commonDir == "" && r.workTree != "" {
		out, err := r.runner().Run(context.Background(), nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
		if err == nil {
			r.subs.commonDir = strings.TrimSpace(string(out))
		} else if out, err := r.runner().Run(context.Background(), nil, "rev-parse", "--git-common-dir"); err == nil {
			d := strings.TrimSpace(string(out))
			if !filepath.IsAbs(d) {
				d = filepath.Join(r.workTree, d)
			}
			r.subs.commonDir = d
		}
	}
	return r.subs.commonDir
}

// openSub opens (once) the git directory dir of a submodule clone.
func (r *Repo) openSub(dir string) *git.Repository {
	r.subs.mu.Lock()
	defer r.subs.mu.Unlock()
	if g, ok := r.subs.byDir[dir]; ok {
		return g
	}
	g, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: false})
	if err != nil {
		g = nil
	}
	if r.subs.byDir == nil {
		r.subs.byDir = map[string]*git.Repository{}
	}
	r.subs.byDir[dir] = g
	if g != nil {
		r.subs.order = append(r.subs.order, g)
	}
	return g
}

// submoduleNames maps each submodule path of a tree to its name, from the
// tree's .gitmodules.
func (r *Repo) submoduleNames(files map[string]TreeEntry, prefix string) map[string]string {
	names := map[string]string{}
	e, ok := files[prefix+".gitmodules"]
	if !ok {
		return names
	}
	b, err := r.blobBytes(e.Hash)
	if err != nil {
		return names
	}
	m := config.NewModules()
	if err := m.Unmarshal(b); err != nil {
		return names
	}
	for name, s := range m.Submodules {
		names[prefix+path.Clean(s.Path)] = name
	}
	return names
}

// submoduleGitDirs lists the git directories that may hold the commits of
// the submodule at p (named name): the superproject's modules/<name>, a
// clone checked out at p, modules/<p>, then every other clone under
// modules/ (a submodule renamed in .gitmodules keeps its old directory).
func (r *Repo) submoduleGitDirs(p, name string) []string {
	var dirs []string
	common := r.gitCommonDir()
	if common != "" && name != "" {
		dirs = append(dirs, filepath.Join(common, "modules", filepath.FromSlash(name)))
	}
	if r.workTree != "" {
		dot := filepath.Join(r.workTree, filepath.FromSlash(p), ".git")
		if st, err := os.Stat(dot); err == nil && st.IsDir() {
			dirs = append(dirs, dot)
		} else if b, err := os.ReadFile(dot); err == nil && bytes.HasPrefix(b, []byte("gitdir:")) {
			d := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir:"))
			if !filepath.IsAbs(d) {
				d = filepath.Join(filepath.Dir(dot), d)
			}
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	if common != "" {
		dirs = append(dirs, filepath.Join(common, "modules", filepath.FromSlash(p)))
		// Nested clones (modules/a/modules/b) are found through the
		// first ones; one level of other names is searched here.
		if ents, err := os.ReadDir(filepath.Join(common, "modules")); err == nil {
			for _, e := range ents {
				if e.IsDir() {
					dirs = append(dirs, filepath.Join(common, "modules", e.Name()))
				}
			}
		}
	}
	return dirs
}

// expandSubmodules replaces, in files, each gitlink whose commit a local
// clone of the submodule holds with that commit's files under the
// gitlink's path (recursively, up to maxSubmoduleDepth).
func (r *Repo) expandSubmodules(files map[string]TreeEntry, depth int) {
	r.expand(files, r.submoduleGitDirs, depth)
}

// expand replaces the gitlinks of files whose commit is in one of the
// clones dirs(path, name) lists. The clones of a submodule's own
// submodules live in its clone's modules/ directory.
func (r *Repo) expand(files map[string]TreeEntry, dirs func(p, name string) []string, depth int) {
	var links []string
	for p, e := range files {
		if e.Mode == filemode.Submodule {
			links = append(links, p)
		}
	}
	if len(links) == 0 || depth >= maxSubmoduleDepth {
		return
	}
	sort.Strings(links)
	names := r.submoduleNames(files, "")
	for _, p := range links {
		for _, dir := range dirs(p, names[p]) {
			sub, err := r.subTree(dir, files[p].Hash)
			if err != nil {
				continue
			}
			dir := dir
			r.expand(sub, func(np, nname string) []string {
				var out []string
				if nname != "" {
					out = append(out, filepath.Join(dir, "modules", filepath.FromSlash(nname)))
				}
				return append(out, filepath.Join(dir, "modules", filepath.FromSlash(np)))
			}, depth+1)
			delete(files, p)
			for sp, se := range sub {
				files[p+"/"+sp] = se
			}
			break
		}
	}
}

var errNoClone = errors.New("no clone")

func readAllClose(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}

// subTree lists the tree of commit in the git directory dir, and keeps dir
// open for blob reads.
func (r *Repo) subTree(dir string, commit plumbing.Hash) (map[string]TreeEntry, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, errNoClone
	}
	if r.openSub(dir) == nil {
		return nil, errNoClone
	}
	// --work-tree: the clone's core.worktree may name a directory that is
	// gone (the submodule moved or was deleted), which git refuses.
	return lsTreeCmd([]string{"--git-dir=" + dir, "--work-tree=" + dir}, commit)
}

// subBlob reads blob h from the submodule clones opened so far.
func (r *Repo) subBlob(h plumbing.Hash) ([]byte, error) {
	r.subs.mu.Lock()
	repos := append([]*git.Repository{}, r.subs.order...)
	r.subs.mu.Unlock()
	for _, g := range repos {
		b, err := g.BlobObject(h)
		if err != nil {
			continue
		}
		rd, err := b.Reader()
		if err != nil {
			continue
		}
		data, err := readAllClose(rd)
		if err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("read blob %s: %w", h, plumbing.ErrObjectNotFound)
}

// submoduleWorkTreeChanges lists the work-tree changes inside the checked
// out submodule at p (gitlink commit at HEAD): its files that differ from
// the gitlinked commit (a submodule moved to another commit, or edited)
// and its untracked files, with paths prefixed by p. ok is false when the
// submodule cannot be compared (not checked out, commit missing): then
// the caller reports p itself.
func (r *Repo) submoduleWorkTreeChanges(p string, commit plumbing.Hash) ([]WorkTreeChange, bool) {
	dir := filepath.Join(r.workTree, filepath.FromSlash(p))
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return nil, false
	}
	g := &Git{Dir: dir}
	diff, err := g.Run(context.Background(), nil, "--no-optional-locks", "diff", "--no-renames", "--no-ext-diff", "--name-status", "-z", "--ignore-submodules=none", commit.String(), "--")
	if err != nil {
		return nil, false
	}
	untracked, err := g.Run(context.Background(), nil, "--no-optional-locks", "ls-files", "--others", "--exclude-standard", "-z")
	if err != nil {
		return nil, false
	}
	var out []WorkTreeChange
	f := strings.Split(string(diff), "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		status, name := f[i], f[i+1]
		out = append(out, WorkTreeChange{Path: p + "/" + name, Deleted: strings.HasPrefix(status, "D")})
	}
	for _, name := range strings.Split(string(untracked), "\x00") {
		if name != "" {
			out = append(out, WorkTreeChange{Path: p + "/" + strings.TrimSuffix(name, "/")})
		}
	}
	return out, true
}

// submoduleChanges is submoduleWorkTreeChanges for a path git status
// reports, when HEAD's tree has a gitlink there.
func (r *Repo) submoduleChanges(p string) ([]WorkTreeChange, bool) {
	out, err := r.runner().Run(context.Background(), nil, "ls-tree", "-z", "HEAD", "--", p)
	if err != nil {
		return nil, false
	}
	// "160000 commit <sha>\t<path>"
	f := strings.Fields(strings.SplitN(string(out), "\t", 2)[0])
	if len(f) != 3 || f[1] != "commit" {
		return nil, false
	}
	return r.submoduleWorkTreeChanges(p, plumbing.NewHash(f[2]))
}
