package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes cmd's process get SIGKILL when the benchmark dies,
// even by a signal it cannot catch, so no server (bazel-remote) outlives
// a killed run.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
