package sparse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotRepository: the directory is not inside a git work tree.
	ErrNotRepository = errors.New("not a git repository")
	// ErrGitTooOld: the git binary has no cone-mode sparse-checkout.
	ErrGitTooOld = errors.New("git too old for cone-mode sparse-checkout")
	// ErrNoMap: no package map is stored for the commit or its ancestors.
	ErrNoMap = errors.New("no package map")
	// ErrNoTeam: refresh was asked for without a team and none is recorded.
	ErrNoTeam = errors.New("no team")
)

// MinGit is the oldest git whose cone-mode sparse-checkout this package
// uses (`sparse-checkout set --stdin` in cone mode, `clone --sparse`).
var MinGit = [2]int{2, 27}

// Git runs the git binary in one work tree.
type Git struct {
	// Binary is the git executable; "git" (from PATH) when empty.
	Binary string
	// Dir is the directory git runs in.
	Dir string
	// Env, when non-nil, is added to the process environment.
	Env []string
	// Log, when set, receives the commands run and git's progress.
	Log io.Writer
}

// GitError is a failed git command with its stderr.
type GitError struct {
	Args   []string
	Dir    string
	Stderr string
	Err    error
}

func (e *GitError) Error() string {
	return fmt.Sprintf("git %s (in %s): %v: %s", strings.Join(e.Args, " "), e.Dir, e.Err, strings.TrimSpace(e.Stderr))
}

func (e *GitError) Unwrap() error { return e.Err }

// Run runs git ARGS with stdin (may be nil) and returns its stdout.
func (g *Git) Run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	bin := g.Binary
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = g.Dir
	cmd.Env = append(os.Environ(), g.Env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if g.Log != nil {
		fmt.Fprintf(g.Log, "+ git %s\n", strings.Join(args, " "))
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), &GitError{Args: args, Dir: g.Dir, Stderr: errb.String(), Err: err}
	}
	return out.Bytes(), nil
}

func (g *Git) output(ctx context.Context, args ...string) (string, error) {
	out, err := g.Run(ctx, nil, args...)
	return strings.TrimSpace(string(out)), err
}

// in returns a Git like g that runs in dir.
func (g *Git) in(dir string) *Git {
	c := *g
	c.Dir = dir
	return &c
}

var versionRE = regexp.MustCompile(`git version (\d+)\.(\d+)`)

// CheckVersion returns an error wrapping ErrGitTooOld when git is older
// than MinGit.
func (g *Git) CheckVersion(ctx context.Context) error {
	out, err := g.output(ctx, "version")
	if err != nil {
		return fmt.Errorf("could not run git: %w", err)
	}
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("could not parse %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < MinGit[0] || (major == MinGit[0] && minor < MinGit[1]) {
		return fmt.Errorf("%w: %s (need %d.%d or newer)", ErrGitTooOld, out, MinGit[0], MinGit[1])
	}
	return nil
}

// TopLevel returns the root of the work tree containing g.Dir, or an error
// wrapping ErrNotRepository ("not a git repository: DIR").
func (g *Git) TopLevel(ctx context.Context) (string, error) {
	if st, err := os.Stat(g.Dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: %s", ErrNotRepository, g.Dir)
	}
	out, err := g.output(ctx, "rev-parse", "--show-toplevel")
	if err != nil || out == "" {
		return "", fmt.Errorf("%w: %s", ErrNotRepository, g.Dir)
	}
	return filepath.FromSlash(out), nil
}

// IsSparse reports whether the work tree has sparse-checkout enabled.
func (g *Git) IsSparse(ctx context.Context) bool {
	out, err := g.output(ctx, "config", "--bool", "core.sparseCheckout")
	return err == nil && out == "true"
}

// SetCone turns on cone-mode sparse-checkout with dirs (slash-separated,
// relative to the root; "." entries are dropped: the root's files are
// always in a cone) and updates the work tree.
func (g *Git) SetCone(ctx context.Context, dirs []string) error {
	if err := g.CheckVersion(ctx); err != nil {
		return err
	}
	var in bytes.Buffer
	for _, d := range dirs {
		if d != "." && d != "" {
			in.WriteString(d + "\n")
		}
	}
	if _, err := g.Run(ctx, nil, "sparse-checkout", "init", "--cone"); err != nil {
		return fmt.Errorf("could not turn on sparse-checkout: %w", err)
	}
	if _, err := g.Run(ctx, in.Bytes(), "sparse-checkout", "set", "--stdin"); err != nil {
		return fmt.Errorf("could not set the sparse-checkout cone: %w", err)
	}
	return nil
}

// ConeDirs returns the directories of the current cone (empty when
// sparse-checkout is off).
func (g *Git) ConeDirs(ctx context.Context) ([]string, error) {
	if !g.IsSparse(ctx) {
		return nil, nil
	}
	out, err := g.output(ctx, "sparse-checkout", "list")
	if err != nil {
		return nil, fmt.Errorf("could not list the sparse-checkout cone: %w", err)
	}
	var dirs []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			dirs = append(dirs, l)
		}
	}
	return dirs, nil
}
