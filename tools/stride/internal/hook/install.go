// Package hook runs `stride run` on every push: it installs git hooks
// (pre-push in a clone, post-receive in a bare repository), checks each
// pushed commit out into a work directory of its branch, runs the pipeline
// there, and records the outcome per branch where `stride status` and
// `stride hook status` read it.
//
// Runs of one branch are serialized by a lock file (flock), and the newest
// push wins: a push that arrives while an older run of its branch is
// still going stops that run (SIGTERM to its recorded pid; the run then
// reports "cancelled"), and a run that was queued behind a newer push
// skips itself ("superseded"). Each run writes its own report directory,
// keyed by branch and commit, so reports are never mixed.
//
// State layout under the state directory (see docs/run.md):
//
//	runs/<branch>/latest.json      the newest run's Record (stride.hookrun/v1)
//	runs/<branch>/history.jsonl    one Record per finished or skipped run
//	runs/<branch>/<sha>/           that run's report (report.json, ...) and hook.log
//	runs/<branch>/lock             flock held while a run of the branch runs
//	runs/<branch>/pending.json     the newest push's token
//	runs/<branch>/running.json     the running run's pid and token
//	work/<branch>/                 the branch's work directory (a local clone)
//
// <branch> is the branch name path-escaped (feature/x is feature%2Fx).
package hook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Hook kinds.
const (
	PrePush     = "pre-push"
	PostReceive = "post-receive"
)

// marker identifies a hook script stride wrote.
const marker = "# stride-hook: installed by `stride hook install`"

// ErrForeignHook: a hook that stride did not write is in the way.
var ErrForeignHook = errors.New("a hook stride did not install exists")

// InstallOptions configure Install.
type InstallOptions struct {
	Kind   string // PrePush or PostReceive
	GitDir string // the repository's git directory (absolute)
	// Stride is the absolute path of the stride binary the hook runs.
	// With CopyStride, it is the binary Install copies to StableBinary
	// and the hook runs the copy.
	Stride string
	// CopyStride copies Stride under the git directory (StableBinary),
	// so that the hook survives what happens to the original: a `bazel
	// clean`, a new Bazel output base, a `go run` cache purge.
	CopyStride bool
	// StateDir is where runs are recorded (default DefaultStateDir).
	StateDir string
	// RunArgs are extra `stride run` flags (e.g. --jobs 4).
	RunArgs []string
	// Promote runs the promotion robot (`stride promote --auto
	// --confirm`) on the pushed-to repository after each green run that
	// published a build.
	Promote bool
	// Force replaces a hook stride did not install.
	Force bool
}

// Script returns the hook script Install writes.
func Script(o InstallOptions) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(marker + "; do not edit, re-run it.\n")
	fmt.Fprintf(&b, "# %s: ", o.Kind)
	if o.Kind == PrePush {
		b.WriteString("runs `stride run` on each pushed branch in a work directory of its own;\n# the push goes ahead only when the run is green (git push --no-verify skips it).\n")
	} else {
		b.WriteString("queues `stride run` on each pushed branch, in the background;\n# `stride hook status` shows the results.\n")
	}
	args := []string{shellQuote(o.Stride), "hook", o.Kind, "--state", shellQuote(o.StateDir)}
	for _, a := range o.RunArgs {
		args = append(args, shellQuote("--run-arg="+a))
	}
	if o.Promote {
		args = append(args, "--promote")
	}
	fmt.Fprintf(&b, "exec %s \"$@\"\n", strings.Join(args, " "))
	return b.String()
}

// Install writes the hook into GitDir/hooks atomically and returns its
// path. It is idempotent; a different hook already there is an error
// wrapping ErrForeignHook unless Force.
func Install(o InstallOptions) (string, error) {
	if o.Kind != PrePush && o.Kind != PostReceive {
		return "", fmt.Errorf("hook kind %q: want %s or %s", o.Kind, PrePush, PostReceive)
	}
	if !filepath.IsAbs(o.Stride) || !filepath.IsAbs(o.GitDir) {
		return "", errors.New("hook install: stride binary and git dir must be absolute paths")
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir(o.GitDir)
	}
	if o.CopyStride {
		stable, err := copyStride(o.Stride, o.GitDir)
		if err != nil {
			return "", err
		}
		o.Stride = stable
	}
	dir := filepath.Join(o.GitDir, "hooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hook install: %w", err)
	}
	path := filepath.Join(dir, o.Kind)
	old, err := os.ReadFile(path)
	if err == nil && !bytes.Contains(old, []byte(marker)) && !o.Force {
		return path, fmt.Errorf("%w: %s (move it away, or pass --force to replace it)", ErrForeignHook, path)
	}
	if err := report.WriteAtomic(path, []byte(Script(o))); err != nil {
		return path, fmt.Errorf("hook install: %w", err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		return path, fmt.Errorf("hook install: %w", err)
	}
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return path, fmt.Errorf("hook install: state directory: %w", err)
	}
	return path, nil
}

// StableBinary is where Install copies the stride binary a hook runs:
// GIT_DIR/stride/bin/stride, which lives as long as the repository.
func StableBinary(gitDir string) string {
	return filepath.Join(gitDir, "stride", "bin", "stride")
}

// copyStride copies the binary src to StableBinary(gitDir) atomically (a
// hook running the old copy keeps running it) and returns the copy's path.
func copyStride(src, gitDir string) (string, error) {
	dst := StableBinary(gitDir)
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("hook install: copy stride: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("hook install: copy stride: %w", err)
	}
	if err := atomicfile.WriteFrom(dst, in, 0o755); err != nil {
		return "", fmt.Errorf("hook install: copy stride: %w", err)
	}
	return dst, nil
}

// Uninstall removes a hook stride installed; a foreign hook is left alone
// (ErrForeignHook). A missing hook is not an error.
func Uninstall(gitDir, kind string) error {
	path := filepath.Join(gitDir, "hooks", kind)
	old, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hook uninstall: %w", err)
	}
	if !bytes.Contains(old, []byte(marker)) {
		return fmt.Errorf("%w: %s", ErrForeignHook, path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("hook uninstall: %w", err)
	}
	// The stable copy goes with the last hook that runs it.
	for _, k := range []string{PrePush, PostReceive} {
		if b, err := os.ReadFile(filepath.Join(gitDir, "hooks", k)); err == nil && bytes.Contains(b, []byte(StableBinary(gitDir))) {
			return nil
		}
	}
	if err := os.RemoveAll(filepath.Join(gitDir, "stride", "bin")); err != nil {
		return fmt.Errorf("hook uninstall: %w", err)
	}
	return nil
}

// DefaultStateDir is $XDG_DATA_HOME/stride/hooks/<repo>-<hash> (XDG_DATA_HOME
// defaults to ~/.local/share), one directory per repository.
func DefaultStateDir(gitDir string) string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "share")
	}
	abs, err := filepath.Abs(gitDir)
	if err != nil {
		abs = gitDir
	}
	sum := sha256.Sum256([]byte(abs))
	name := filepath.Base(abs)
	if name == ".git" {
		name = filepath.Base(filepath.Dir(abs))
	}
	name = strings.TrimSuffix(name, ".git")
	return filepath.Join(base, "stride", "hooks", name+"-"+hex.EncodeToString(sum[:4]))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
