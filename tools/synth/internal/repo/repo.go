// Package repo writes a rendered synthetic workspace to disk and records it
// in git: it copies the monorepo's offline Bazel bootstrap, applies file
// sets as diffs (so only changed files are touched), and makes commits with
// fixed authors and dates so that the same seed gives the same commit ids.
package repo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Bootstrap files copied from the monorepo into every generated workspace.
var bootstrapPaths = []string{
	"tools/bazel/gomod_repo.bzl",
	"third_party/bazel",
}

// FindRoot walks up from dir to the first directory holding both WORKSPACE
// and go.mod (the monorepo root).
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(d, "WORKSPACE")) && isFile(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no directory with WORKSPACE and go.mod above %s: pass -bootstrap ROOT", dir)
		}
		d = parent
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Bootstrap reads the offline-bootstrap files from the monorepo at root:
// tools/bazel/gomod_repo.bzl (with a BUILD.bazel exporting it) and
// third_party/bazel/ (the rules_cc and remote_coverage_tools shims).
func Bootstrap(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, p := range bootstrapPaths {
		full := filepath.Join(root, filepath.FromSlash(p))
		err := filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = b
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read bootstrap %s: %w", full, err)
		}
	}
	out["tools/bazel/BUILD.bazel"] = []byte("exports_files([\"gomod_repo.bzl\"])\n")
	return out, nil
}

// Repo is a generated workspace on disk.
type Repo struct {
	Dir string
	// files is what the work tree holds (as last written by Apply).
	files map[string][]byte
	// commits counts commits made, for deterministic dates.
	commits int
	// subs are the submodules' repositories (Sub); trees maps the tree
	// ids (and file-set digests) of the commits CommitFiles made to them.
	subs  map[string]*Repo
	trees map[string]string
}

// Init creates dir (which must not exist or be empty) as a git repository
// on branch main.
func Init(dir string) (*Repo, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("init %s: directory is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir, files: map[string][]byte{}}
	if _, err := r.Git("init", "-q"); err != nil {
		return nil, err
	}
	if _, err := r.Git("symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return nil, err
	}
	return r, nil
}

// Apply makes the work tree hold exactly files (besides .git and ignored
// bazel-* links): it writes new and changed files and removes the rest,
// and returns the paths it touched.
func (r *Repo) Apply(files map[string][]byte) ([]string, error) {
	var touched []string
	for p, b := range files {
		if old, ok := r.files[p]; ok && bytes.Equal(old, b) {
			continue
		}
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, b, mode); err != nil {
			return nil, fmt.Errorf("write %s: %w", full, err)
		}
		touched = append(touched, p)
	}
	for p := range r.files {
		if _, ok := files[p]; ok {
			continue
		}
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		// Remove directories left empty, up to the root.
		for d := filepath.Dir(full); d != r.Dir && len(d) > len(r.Dir); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
		touched = append(touched, p)
	}
	r.files = files
	sort.Strings(touched)
	return touched, nil
}

// Reset forgets what Apply wrote; the next Apply compares against files
// (the content of the commit just checked out).
func (r *Repo) Reset(files map[string][]byte) { r.files = files }

// Commit records the work tree as a commit and returns its id. With
// parents, it commits a merge of HEAD and those commits (whose trees must
// merge to the work tree already written).
func (r *Repo) Commit(msg string) (string, error) {
	if _, err := r.Git("add", "-A"); err != nil {
		return "", err
	}
	if _, err := r.Git("commit", "-q", "--allow-empty", "--no-verify", "-m", msg); err != nil {
		return "", err
	}
	return r.Head()
}

// Head returns the commit id of HEAD.
func (r *Repo) Head() (string, error) {
	out, err := r.Git("rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// Git runs git in the repository with a fixed identity and a date that
// advances by a minute for every commit, so ids are reproducible.
func (r *Repo) Git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", "-c", "merge.renames=false"}, args...)...)
	cmd.Dir = r.Dir
	if len(args) > 0 && (args[0] == "commit" || args[0] == "merge") {
		r.commits++
	}
	date := fmt.Sprintf("%d +0000", 1700000000+60*r.commits)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=synth", "GIT_AUTHOR_EMAIL=synth@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=synth", "GIT_COMMITTER_EMAIL=synth@example.com", "GIT_COMMITTER_DATE="+date,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Sub returns the repository of the submodule called name, kept inside the
// workspace's git directory (DIR/.git/synth/NAME, with a work tree, on
// branch main): created on first use, then the same one.
func (r *Repo) Sub(name string) (*Repo, error) {
	if s := r.subs[name]; s != nil {
		return s, nil
	}
	s, err := Init(filepath.Join(r.Dir, ".git", "synth", name))
	if err != nil {
		return nil, fmt.Errorf("submodule %s: %w", name, err)
	}
	s.trees = map[string]string{}
	if r.subs == nil {
		r.subs = map[string]*Repo{}
	}
	r.subs[name] = s
	return s, nil
}

// CommitFiles returns a commit of the repository whose tree is exactly
// files: the first commit made with that tree, or a new commit on the
// current branch. It leaves the work tree empty: a submodule's repository
// lives inside the workspace's .git directory, where Bazel would
// otherwise find its BUILD files as packages (//.git/synth/sub/...).
func (r *Repo) CommitFiles(files map[string][]byte, msg string) (string, error) {
	key := filesKey(files)
	if c, ok := r.trees[key]; ok {
		return c, nil
	}
	if _, err := r.Apply(files); err != nil {
		return "", err
	}
	defer r.Apply(map[string][]byte{})
	if _, err := r.Git("add", "-A"); err != nil {
		return "", err
	}
	out, err := r.Git("write-tree")
	if err != nil {
		return "", err
	}
	tree := strings.TrimSpace(out)
	if c, ok := r.trees[tree]; ok {
		r.trees[key] = c
		return c, nil
	}
	c, err := r.Commit(msg)
	if err != nil {
		return "", err
	}
	if r.trees == nil {
		r.trees = map[string]string{}
	}
	r.trees[tree], r.trees[key] = c, c
	return c, nil
}

// filesKey is a digest of a file set (paths and contents).
func filesKey(files map[string][]byte) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(files[p]))
		h.Write(files[p])
	}
	return "files:" + hex.EncodeToString(h.Sum(nil))
}

// Gitlinks returns the gitlinks of the index (path -> commit).
func (r *Repo) Gitlinks() (map[string]string, error) {
	out, err := r.Git("ls-files", "-s")
	if err != nil {
		return nil, err
	}
	links := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		// "160000 SHA 0\tPATH"
		if !strings.HasPrefix(line, "160000 ") {
			continue
		}
		f := strings.Fields(line)
		if i := strings.IndexByte(line, '\t'); i > 0 && len(f) >= 2 {
			links[line[i+1:]] = f[1]
		}
	}
	return links, nil
}

// SetGitlinks makes the index's gitlinks exactly links (path -> commit)
// and returns the paths it changed. The submodules stay unpopulated: an
// empty directory at each gitlink, which git treats as unchanged, so a
// later Commit (git add -A) keeps the gitlinks as set.
func (r *Repo) SetGitlinks(links map[string]string) ([]string, error) {
	have, err := r.Gitlinks()
	if err != nil {
		return nil, err
	}
	var touched []string
	for p := range have {
		if _, ok := links[p]; ok {
			continue
		}
		if _, err := r.Git("update-index", "--force-remove", "--", p); err != nil {
			return nil, err
		}
		os.Remove(filepath.Join(r.Dir, filepath.FromSlash(p))) // only if empty
		touched = append(touched, p)
	}
	for p, c := range links {
		if have[p] == c {
			continue
		}
		if err := os.MkdirAll(filepath.Join(r.Dir, filepath.FromSlash(p)), 0o755); err != nil {
			return nil, err
		}
		if _, err := r.Git("update-index", "--add", "--cacheinfo", "160000,"+c+","+p); err != nil {
			return nil, err
		}
		touched = append(touched, p)
	}
	sort.Strings(touched)
	return touched, nil
}

// InitSubmodules clones and checks out the submodules at their gitlinks
// (git submodule update --init --recursive), as a clone made with
// --recurse-submodules would have them.
func (r *Repo) InitSubmodules() error {
	_, err := r.Git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", "--force")
	return err
}
