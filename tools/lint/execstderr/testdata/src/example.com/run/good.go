package run

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func goodStderrBuffer(dir string) error {
	cmd := exec.Command("git", "fetch")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git fetch: %v: %s", err, stderr.String())
	}
	return nil
}

func goodStreamToUser() error {
	cmd := exec.Command("bazel", "build", "//...")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func goodOutputExitError() (string, error) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", fmt.Errorf("git rev-parse: %v: %s", err, ee.Stderr)
	}
	return strings.TrimSpace(string(out)), err
}

func goodCombined() error {
	out, err := exec.Command("git", "gc").CombinedOutput()
	if err != nil {
		return fmt.Errorf("git gc: %v\n%s", err, out)
	}
	return nil
}

func goodPipe() error {
	cmd := exec.Command("git", "log")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	_ = pipe
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait()
}

// Other programs are not checked.
func otherProgram() error {
	return exec.Command("make", "all").Run()
}

// A program name that is not a constant is not tracked.
func variableProgram(bin string) error {
	return exec.Command(bin, "version").Run()
}

// A command handed to another function is that function's business.
func escapes() error {
	cmd := exec.Command("git", "status")
	return runIt(cmd)
}

func runIt(cmd *exec.Cmd) error {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		return fmt.Errorf("%v: %s", err, stderr.String())
	}
	return nil
}

// A method value is not a run.
func methodValue() func() error {
	var stderr bytes.Buffer
	cmd := exec.Command("git", "status")
	cmd.Stderr = &stderr
	return cmd.Run
}

// The error goes nowhere: nothing to put stderr into (best-effort cleanup).
func errorDiscarded() {
	_ = exec.Command("bazel", "shutdown").Run()
	exec.Command("git", "gc", "--auto").Run()
	defer exec.Command("bazel", "shutdown").Run()
	out, _ := exec.Command("git", "describe").Output()
	_ = out
	cmd := exec.Command("git", "maintenance", "run")
	go cmd.Run()
}

// The exit status as an answer: the error is only compared with nil.
func isAncestor(a, b string) bool {
	if err := exec.Command("git", "merge-base", "--is-ancestor", a, b).Run(); err == nil {
		return true
	}
	err := exec.Command("git", "diff", "--quiet").Run()
	return err != nil && exec.Command("git", "rev-parse", "--verify", "x").Run() == nil
}
