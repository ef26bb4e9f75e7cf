package gitrepo

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

// HookEnv lists the variables git sets when it runs a hook (and for
// commands run under `git -C`, `GIT_DIR=... git`...). Left in the
// environment, they point every git command at the hook's repository
// instead of the directory it runs in. CleanEnv drops them.
var HookEnv = []string{
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_QUARANTINE_PATH",
	"GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR",
}

// CleanEnv returns env without the variables of HookEnv. It is the
// environment of every git command stride runs (Git, unless KeepHookEnv)
// and of the processes a hook starts.
func CleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			k = kv[:i]
		}
		if isHookVar(k) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func isHookVar(k string) bool {
	for _, h := range HookEnv {
		if k == h {
			return true
		}
	}
	return false
}

// Git runs the git binary: stride's one runner of git processes (package
// gitrepo is the only package of tools/stride that starts git; the
// gitexec analyzer in tools/lint enforces it). Use it for what go-git does
// not do (clone, fetch, checkout, sparse-checkout, refs of other
// repositories). The zero value runs "git" from PATH in the current
// directory.
type Git struct {
	// Binary is the git executable; "git" (from PATH) when empty.
	Binary string
	// Dir is the directory git runs in.
	Dir string
	// Env, when non-nil, is added to the environment.
	Env []string
	// KeepHookEnv keeps git's hook variables (HookEnv) in the
	// environment: only for a hook asking about its own repository.
	KeepHookEnv bool
	// Log, when set, receives the commands run ("+ git ARGS") and, for
	// RunLogged, their output.
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

// In returns a Git like g that runs in dir.
func (g *Git) In(dir string) *Git {
	c := *g
	c.Dir = dir
	return &c
}

func (g *Git) command(ctx context.Context, args []string) *exec.Cmd {
	bin := g.Binary
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = g.Dir
	env := os.Environ()
	if !g.KeepHookEnv {
		env = CleanEnv(env)
	}
	cmd.Env = append(env, g.Env...)
	return cmd
}

// Run runs git ARGS with stdin (may be nil) and returns its stdout. A
// failure is a *GitError holding git's stderr.
func (g *Git) Run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args)
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

// Output runs git ARGS and returns its stdout without surrounding space.
func (g *Git) Output(ctx context.Context, args ...string) (string, error) {
	out, err := g.Run(ctx, nil, args...)
	return strings.TrimSpace(string(out)), err
}

// RunLogged runs git ARGS with its stdout and stderr going to g.Log (for
// long commands whose progress the user follows: clone, fetch). A failure
// is a *GitError holding the combined output.
func (g *Git) RunLogged(ctx context.Context, args ...string) error {
	cmd := g.command(ctx, args)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if g.Log != nil && out.Len() > 0 {
		g.Log.Write(out.Bytes())
	}
	if err != nil {
		return &GitError{Args: args, Dir: g.Dir, Stderr: out.String(), Err: err}
	}
	return nil
}

var versionRE = regexp.MustCompile(`git version (\d+)\.(\d+)`)

// Version returns git's major and minor version and its `git version`
// line.
func (g *Git) Version(ctx context.Context) (major, minor int, line string, err error) {
	line, err = g.Output(ctx, "version")
	if err != nil {
		return 0, 0, "", fmt.Errorf("could not run git: %w", err)
	}
	m := versionRE.FindStringSubmatch(line)
	if m == nil {
		return 0, 0, line, fmt.Errorf("could not parse %q", line)
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, line, nil
}

// TopLevel returns the root of the work tree containing g.Dir, or an error
// wrapping ErrNotRepository ("not a git repository: DIR").
func (g *Git) TopLevel(ctx context.Context) (string, error) {
	if st, err := os.Stat(g.Dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: %s", ErrNotRepository, g.Dir)
	}
	out, err := g.Output(ctx, "rev-parse", "--show-toplevel")
	if err != nil || out == "" {
		return "", fmt.Errorf("%w: %s", ErrNotRepository, g.Dir)
	}
	return filepath.FromSlash(out), nil
}

// GitDir returns the absolute git directory of the repository that
// contains g.Dir and whether it is bare. Outside a repository the error
// wraps ErrNotRepository and carries git's message.
func (g *Git) GitDir(ctx context.Context) (dir string, bare bool, err error) {
	out, err := g.Output(ctx, "rev-parse", "--absolute-git-dir", "--is-bare-repository")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) {
			var ee *exec.ExitError
			if errors.As(ge.Err, &ee) {
				return "", false, fmt.Errorf("%w: %s: %s", ErrNotRepository, g.Dir, strings.TrimSpace(ge.Stderr))
			}
		}
		return "", false, fmt.Errorf("git rev-parse in %s: %w", g.Dir, err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 2 {
		return "", false, fmt.Errorf("git rev-parse in %s: unexpected output %q", g.Dir, out)
	}
	return lines[0], lines[1] == "true", nil
}

// runner runs r's own git commands (in its work tree).
func (r *Repo) runner() *Git { return &Git{Dir: r.workTree} }

// IsDirty reports whether tracked files of the work tree differ from HEAD
// (staged or not; untracked files do not count). It asks git's index,
// which is fast where go-git's status hashes every file.
func (r *Repo) IsDirty() (bool, error) {
	if r.workTree == "" {
		return false, fmt.Errorf("%w: bare repository has no work tree", ErrNotRepository)
	}
	out, err := r.runner().Run(context.Background(), nil, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return false, fmt.Errorf("git status: %w", err)
	}
	return len(bytes.TrimSpace(out)) > 0, nil
}
