package bad

import (
	"context"
	"os/exec"
)

const git = "git"

func f(ctx context.Context, bin string) {
	_ = exec.Command("git", "status")                   // want `git started outside package gitrepo`
	_ = exec.CommandContext(ctx, "/usr/bin/git", "log") // want `git started outside package gitrepo`
	_ = exec.Command(git)                               // want `git started outside package gitrepo`
	_ = exec.Command("bazel", "info")
	_ = exec.Command(bin) // not a constant: not tracked
}
