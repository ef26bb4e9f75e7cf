package run

import (
	"context"
	"fmt"
	"os/exec"
)

const gitBin = "git"

// Run without capturing stderr: the error says only "exit status 128".
func badRun(dir string) error {
	cmd := exec.Command("git", "fetch")
	cmd.Dir = dir
	if err := cmd.Run(); err != nil { // want `git command run without capturing stderr`
		return fmt.Errorf("git fetch: %w", err)
	}
	return nil
}

// A constant program name, and an absolute path, are still git.
func badConstant(ctx context.Context) error {
	return exec.CommandContext(ctx, gitBin, "status").Run() // want `git command run without capturing stderr`
}

func badPath() error {
	var cmd = exec.Command("/usr/bin/bazel", "info")
	return cmd.Run() // want `bazel command run without capturing stderr`
}

// Output fills (*exec.ExitError).Stderr, but nothing reads it here.
func badOutput() (string, error) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output() // want `git command run with Output, but \*exec.ExitError`
	if err != nil {
		return "", fmt.Errorf("rev-parse: %w", err)
	}
	return string(out), nil
}

// CombinedOutput holds stderr, but it is thrown away.
func badCombined() error {
	_, err := exec.Command("bazel", "build", "//...").CombinedOutput() // want `bazel command run with CombinedOutput, but the output`
	return err
}

// Start then Wait is a run too.
func badWait() error {
	cmd := exec.Command("git", "gc")
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait() // want `git command run without capturing stderr`
}

// Inside a closure.
func badClosure() func() error {
	return func() error {
		cmd := exec.Command("git", "pull")
		return cmd.Run() // want `git command run without capturing stderr`
	}
}

// A package-level function literal.
var badVar = func() error {
	return exec.Command("git", "push").Run() // want `git command run without capturing stderr`
}

// The error is kept but the output of CombinedOutput is not.
func badCombinedVar() error {
	var _, err = exec.Command("git", "gc").CombinedOutput() // want `git command run with CombinedOutput, but the output`
	return err
}

// Compared with nil, and also returned: the error reaches the caller.
func badTestedAndReturned() error {
	err := exec.Command("git", "fetch").Run() // want `git command run without capturing stderr`
	if err != nil {
		return err
	}
	return nil
}
