// Package proctest runs a service binary of this repository from a test:
// it finds (or builds) the binary, starts it, reads the bound address from
// its "listening" log line, and stops it with SIGTERM.
//
// The binary comes from a test flag that Bazel sets (-binary=$(rootpath
// //services/NAME/cmd/NAME)); when the flag is empty, Binary builds the
// package in the test's working directory with `go build` (go from PATH), so
// `go test ./...` works without Bazel.
//
// Services must log JSON to stderr and log a line {"msg":"listening",
// "addr":"HOST:PORT"} once they accept connections (libs/httpserver does).
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long Start waits for the "listening" line, and
// Stop for the process to exit.
var StartTimeout = 20 * time.Second

// Binary returns the path of the binary to test. flagValue is the value of
// the test's -binary flag: an absolute path, a path relative to the working
// directory, or a Bazel runfiles path (relative to
// $TEST_SRCDIR/$TEST_WORKSPACE, what $(rootpath) gives). When flagValue is
// empty, Binary runs `go build` on the package in the working directory,
// writing the binary named name into dir (t.TempDir() if dir is "").
func Binary(t testing.TB, flagValue, name, dir string) string {
	t.Helper()
	if flagValue != "" {
		p, err := resolve(flagValue)
		if err != nil {
			t.Fatalf("-binary: %v", err)
		}
		return p
	}
	if dir == "" {
		dir = t.TempDir()
	}
	out := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", out, ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %s (pass -binary=PATH to use a built one): %v\n%s", name, err, stderr.String())
	}
	return out
}

func resolve(p string) (string, error) {
	cands := []string{p}
	if !filepath.IsAbs(p) {
		ws := os.Getenv("TEST_WORKSPACE")
		for _, root := range []string{os.Getenv("TEST_SRCDIR"), os.Getenv("RUNFILES_DIR")} {
			if root != "" && ws != "" {
				cands = append(cands, filepath.Join(root, ws, p))
			}
		}
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("binary %s not found (tried %s)", p, strings.Join(cands, ", "))
}

// Env returns a minimal environment for a service process (PATH, HOME,
// TMPDIR) plus extra, so that variables of the test's own environment (such
// as ARTIFACTD_*) do not leak in.
func Env(extra ...string) []string {
	env := []string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// Process is a running service.
type Process struct {
	Cmd *exec.Cmd
	// Addr is the address from the "listening" line, e.g. "127.0.0.1:41234".
	Addr string
	// URL is "http://" + Addr (or https when the line says tls=true).
	URL string

	stderr Buffer
	done   chan struct{}
	err    error // from Wait, valid after done is closed
}

// Start runs bin with args and env (see Env), waits for its "listening" log
// line and returns the process. The test fails if the process exits or does
// not listen within StartTimeout; the process is killed at the end of the
// test if still running.
func Start(t testing.TB, bin string, args, env []string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.Cmd.Env = env
	pipe, err := p.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	type listening struct {
		addr string
		tls  bool
	}
	addrc := make(chan listening, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Bytes()
			p.stderr.Write(append(line, '\n'))
			if sent {
				continue
			}
			var m struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
				TLS  bool   `json:"tls"`
			}
			if json.Unmarshal(line, &m) == nil && m.Msg == "listening" && m.Addr != "" {
				addrc <- listening{m.Addr, m.TLS}
				sent = true
			}
		}
		io.Copy(io.Discard, pipe)
	}()
	go func() {
		<-scanned // Wait closes the pipe; read it all first
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case l := <-addrc:
		p.Addr = l.addr
		p.URL = "http://" + l.addr
		if l.tls {
			p.URL = "https://" + l.addr
		}
	case <-p.done:
		t.Fatalf("%s exited before listening: %v\nstderr:\n%s", bin, p.err, p.Stderr())
	case <-time.After(StartTimeout):
		t.Fatalf("%s did not log a listening line within %s\nstderr:\n%s", bin, StartTimeout, p.Stderr())
	}
	return p
}

// Stderr returns what the process wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop sends SIGTERM and returns the exit code (-1 if killed by a signal).
// The test fails if the process does not exit within StartTimeout.
func (p *Process) Stop(t testing.TB) int {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(StartTimeout):
		t.Fatalf("process did not exit within %s of SIGTERM\nstderr:\n%s", StartTimeout, p.Stderr())
	}
	return exitCode(p.err)
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// Run runs bin to completion (for invocations that must fail fast, such as
// an invalid configuration) and returns its exit code, stdout and stderr.
func Run(t testing.TB, bin string, args, env []string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(err), o.String(), e.String()
	case <-time.After(StartTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit within %s\nstderr:\n%s", bin, args, StartTimeout, e.String())
		return -1, "", ""
	}
}

// WaitReady polls url+"/readyz" with c until it answers 200.
func WaitReady(t testing.TB, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(StartTimeout)
	for {
		resp, err := c.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
