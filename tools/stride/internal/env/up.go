package env

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
)

// StartSupervisor starts command (stride env supervise ENV, detached in its
// own session, its output appended to supervisor.log) and waits until it
// holds the environment's lock. ErrUp if a supervisor runs already.
func StartSupervisor(l *Layout, command []string) (int, error) {
	if pid, up := Up(l); up {
		return pid, fmt.Errorf("%s (supervisor pid %d): %w", l.Name, pid, ErrUp)
	}
	if _, err := haproxy.Path(); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(l.SupervisorLog(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = l.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the supervisor of %s: %w", l.Name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if this process outlives it
	deadline := time.After(15 * time.Second)
	for {
		if pid, up := Up(l); up && pid == cmd.Process.Pid {
			return pid, nil
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("the supervisor of %s exited at once (%v); see %s", l.Name, err, l.SupervisorLog())
		case <-deadline:
			return 0, fmt.Errorf("the supervisor of %s did not start within 15s; see %s", l.Name, l.SupervisorLog())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Down stops the environment: SIGTERM to its supervisor, which stops the
// instances (each drains) and HAProxy; it waits up to timeout. An
// environment that is not up has its HAProxy stopped if one was left.
// It returns whether the environment was up.
func Down(l *Layout, timeout time.Duration) (bool, error) {
	pid, up := Up(l)
	if !up {
		haproxy.Stop(l.HAProxyPID(), 5*time.Second)
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return true, fmt.Errorf("stop the supervisor of %s (pid %d): %w", l.Name, pid, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, up := Up(l); !up {
			return true, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true, fmt.Errorf("the supervisor of %s (pid %d) still runs after %v; see %s", l.Name, pid, timeout, l.SupervisorLog())
}
