// Package remotecachetest starts a real bazel-remote on 127.0.0.1 for
// tests. The binary is $STRIDE_BAZEL_REMOTE, bazel-remote on PATH, or one
// built once from the Go module (github.com/buchgr/bazel-remote/v2 at
// Version, through the Go module proxy) and kept in the user's cache
// directory; ci/test builds it during set-up.
package remotecachetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Version is the bazel-remote release tests use (offline-bazel.md: v2.4.4,
// v2.5.x and v2.6.x are served by the module proxy; v2.6.2 seen working).
const Version = "v2.6.2"

// Module is bazel-remote's Go module path.
const Module = "github.com/buchgr/bazel-remote/v2"

// CachedPath is where Binary keeps a bazel-remote it built.
func CachedPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "stride", "bazel-remote-"+Version, "bazel-remote"), nil
}

// Build builds bazel-remote into CachedPath (if it is not there) with
// the host Go and returns its path.
func Build() (string, error) {
	dst, err := CachedPath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	out, err := exec.Command("go", "mod", "download", "-json", Module+"@"+Version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", Module, Version, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s %v", Module, Version, mod.Error, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp := dst + ".tmp" + strconv.Itoa(os.Getpid())
	build := exec.Command("go", "build", "-o", tmp, ".")
	build.Dir = mod.Dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	build.Stderr = &stderr
	if err := build.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build bazel-remote in %s: %w\n%s", mod.Dir, err, stderr.String())
	}
	return dst, os.Rename(tmp, dst)
}

// Binary returns a bazel-remote binary, building it if needed; it skips
// the test when there is no go to build one with.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("STRIDE_BAZEL_REMOTE"); p != "" {
		return p
	}
	if p, err := exec.LookPath("bazel-remote"); err == nil {
		return p
	}
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("no bazel-remote under `bazel test` (set STRIDE_BAZEL_REMOTE, or run with `go test`)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no bazel-remote, and no go to build it with")
	}
	p, err := Build()
	if err != nil {
		t.Fatalf("bazel-remote: %v", err)
	}
	return p
}

// Server is a running bazel-remote.
type Server struct {
	GRPC, HTTP string // grpc://127.0.0.1:P, http://127.0.0.1:Q
	Dir        string
}

// Start runs bazel-remote on free loopback ports with a cache directory
// of its own, until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	grpcPort, httpPort := freePort(t), freePort(t)
	s := &Server{GRPC: "grpc://" + grpcPort, HTTP: "http://" + httpPort, Dir: dir}
	cmd := exec.Command(bin, "--dir", filepath.Join(dir, "cache"), "--max_size", "1",
		"--grpc_address", grpcPort, "--http_address", httpPort)
	logf, err := os.Create(filepath.Join(dir, "bazel-remote.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bazel-remote: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c1, err1 := net.DialTimeout("tcp", grpcPort, time.Second)
		c2, err2 := net.DialTimeout("tcp", httpPort, time.Second)
		if err1 == nil && err2 == nil {
			c1.Close()
			c2.Close()
			return s
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "bazel-remote.log"))
			t.Fatalf("bazel-remote did not listen on %s and %s: %v %v\n%s", grpcPort, httpPort, err1, err2, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
