// Package gittest builds real git repositories for tests, with the git
// binary, in t.TempDir(). Commits get fixed dates one second apart so their
// hashes and order are reproducible, and the user's git configuration is
// ignored.
package gittest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Repo is a git repository under construction.
type Repo struct {
	t    testing.TB
	Dir  string // the work tree (absolute)
	tick int
}

// New runs `git init -b main` in a new temporary directory.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found")
	}
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// env is the environment git runs with: no global or system config, a
// fixed identity and commit dates one second apart.
func (r *Repo) env() []string {
	date := fmt.Sprintf("2024-01-01T00:%02d:%02dZ", r.tick/60%60, r.tick%60)
	return append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test Author",
		"GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer",
		"GIT_COMMITTER_EMAIL=committer@example.com",
		"GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_DATE="+date,
	)
}

// Git runs git in the repository and returns its trimmed stdout; it fails
// the test on error.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.TryGit(args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// TryGit is Git returning the error instead of failing the test.
func (r *Repo) TryGit(args ...string) (string, error) {
	return r.gitIn(r.Dir, args...)
}

func (r *Repo) gitIn(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = r.env()
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Write writes files (slash-separated path → content) into the work tree,
// creating directories. An empty content with a path ending in "!" deletes
// the file instead ("a/b.txt!").
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if strings.HasSuffix(p, "!") {
			if err := os.Remove(filepath.Join(r.Dir, filepath.FromSlash(strings.TrimSuffix(p, "!")))); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Commit writes files, stages everything and commits with message (which
// may carry trailers). It returns the new commit's full hash.
func (r *Repo) Commit(message string, files map[string]string) string {
	r.t.Helper()
	return r.CommitAs("", message, files)
}

// CommitAs is Commit with an author "Name <email>" ("" for the default).
func (r *Repo) CommitAs(author, message string, files map[string]string) string {
	r.t.Helper()
	r.Write(files)
	r.Git("add", "-A")
	r.tick++
	args := []string{"commit", "-q", "--allow-empty", "-m", message}
	if author != "" {
		args = append(args, "--author", author)
	}
	r.Git(args...)
	return r.Git("rev-parse", "HEAD")
}

// Clone clones the repository into a new temporary directory with extra
// arguments (e.g. "--depth=1") and returns the clone.
func (r *Repo) Clone(args ...string) *Repo {
	r.t.Helper()
	dst := r.t.TempDir()
	full := append([]string{"clone", "-q"}, args...)
	full = append(full, "file://"+r.Dir, dst)
	if _, err := r.gitIn(r.Dir, full...); err != nil {
		r.t.Fatal(err)
	}
	return &Repo{t: r.t, Dir: dst, tick: r.tick}
}
