package sparse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotRepository: the directory is not inside a git work tree (it is
	// gitrepo.ErrNotRepository).
	ErrNotRepository = gitrepo.ErrNotRepository
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

// Git runs git (gitrepo.Git: the one runner of git processes).
type Git = gitrepo.Git

// CheckVersion returns an error wrapping ErrGitTooOld when git is older
// than MinGit.
func CheckVersion(ctx context.Context, g *Git) error {
	major, minor, line, err := g.Version(ctx)
	if err != nil {
		return err
	}
	if major < MinGit[0] || (major == MinGit[0] && minor < MinGit[1]) {
		return fmt.Errorf("%w: %s (need %d.%d or newer)", ErrGitTooOld, line, MinGit[0], MinGit[1])
	}
	return nil
}

// isSparse reports whether the work tree has sparse-checkout enabled.
func isSparse(ctx context.Context, g *Git) bool {
	out, err := g.Output(ctx, "config", "--bool", "core.sparseCheckout")
	return err == nil && out == "true"
}

// setCone turns on cone-mode sparse-checkout with dirs (slash-separated,
// relative to the root; "." entries are dropped: the root's files are
// always in a cone) and updates the work tree.
func setCone(ctx context.Context, g *Git, dirs []string) error {
	if err := CheckVersion(ctx, g); err != nil {
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

// coneDirs returns the directories of the current cone (empty when
// sparse-checkout is off).
func coneDirs(ctx context.Context, g *Git) ([]string, error) {
	if !isSparse(ctx, g) {
		return nil, nil
	}
	out, err := g.Output(ctx, "sparse-checkout", "list")
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
