package haproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Binary is the haproxy program (Debian's package: /usr/sbin/haproxy).
var Binary = "haproxy"

// ErrMissing: haproxy is not installed.
var ErrMissing = errors.New("haproxy is not installed (apt-get install haproxy; ci/lib.sh installs it)")

// Path returns the haproxy program's path.
func Path() (string, error) {
	if p, err := exec.LookPath(Binary); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrMissing
}

// Check validates a configuration file (haproxy -c).
func Check(ctx context.Context, cfgFile string) error {
	bin, err := Path()
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, bin, "-c", "-q", "-f", cfgFile).CombinedOutput()
	if err != nil {
		return fmt.Errorf("haproxy -c -f %s: %v: %s", cfgFile, err, bytes.TrimSpace(out))
	}
	return nil
}

// Start starts HAProxy in the background (-D) with cfgFile, writing its
// pid to pidFile; with reload it replaces the running one gracefully
// (-sf: the old process finishes its connections).
func Start(ctx context.Context, cfgFile, pidFile string) error {
	bin, err := Path()
	if err != nil {
		return err
	}
	args := []string{"-f", cfgFile, "-D", "-p", pidFile}
	if pid, ok := Running(pidFile); ok {
		args = append(args, "-sf", strconv.Itoa(pid))
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("haproxy %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Running returns the pid in pidFile if that process is alive.
func Running(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	return pid, true
}

// Stop stops the HAProxy of pidFile (SIGUSR1: a soft stop that lets
// connections finish) and waits up to timeout before SIGKILL.
func Stop(pidFile string, timeout time.Duration) error {
	pid, ok := Running(pidFile)
	if !ok {
		return nil
	}
	syscall.Kill(pid, syscall.SIGUSR1)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			os.Remove(pidFile)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	os.Remove(pidFile)
	return nil
}
