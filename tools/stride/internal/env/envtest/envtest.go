// Package envtest builds the packages the environment tests deploy: the
// test service (envtest/testsvc) packaged like the services' .debs (a
// program under /usr/bin, a systemd unit, a config under /etc), one
// package per service name, with the behaviour of each build in its
// config.
package envtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Service is one package of a build.
type Service struct {
	Name string
	// Version is what the service says it is (its answer to GET /), not
	// the package version (publish assigns that).
	Version string
	// NotReady makes /readyz answer 503: a build that fails its health
	// check.
	NotReady bool
	// CrashAfter, e.g. "2s", makes it exit 1 that long after it starts.
	CrashAfter string
}

var (
	once   sync.Once
	binErr error
	bin    string
)

// Binary builds testsvc once per test process (go build) and returns it.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "testsvc-")
		if err != nil {
			binErr = err
			return
		}
		bin = filepath.Join(dir, "testsvc")
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, "github.com/strideci/monorepo/tools/stride/internal/env/envtest/testsvc")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build testsvc: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return bin
}

// Cleanup removes the test service built by Binary; TestMain calls it
// after the tests.
func Cleanup() {
	if bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
}

// Build writes NAME_0.0.0_amd64.deb of s into dir and returns its path.
func Build(t testing.TB, dir string, s Service) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed")
	}
	exe := Binary(t)
	root := t.TempDir()
	cfg, _ := json.Marshal(map[string]interface{}{"name": s.Name, "version": s.Version, "ready": !s.NotReady, "crash_after": s.CrashAfter})
	unit := fmt.Sprintf("[Unit]\nDescription=%s (test service)\n\n[Service]\nExecStart=/usr/bin/%s -config /etc/%s/config.json\nKillSignal=SIGTERM\n\n[Install]\nWantedBy=multi-user.target\n", s.Name, s.Name, s.Name)
	control := fmt.Sprintf("Package: %s\nVersion: 0.0.0\nArchitecture: amd64\nMaintainer: Stride Platform Team <platform@strideci.example>\nSection: net\nPriority: optional\nDescription: test service of stride's environment tests\n The test service (%s).\n", s.Name, s.Version)
	files := map[string]string{
		"etc/" + s.Name + "/config.json":            string(cfg) + "\n",
		"lib/systemd/system/" + s.Name + ".service": unit,
		"DEBIAN/control":                            control,
		"DEBIAN/conffiles":                          "/etc/" + s.Name + "/config.json\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "usr", "bin"), 0o755)
	if out, err := exec.Command("cp", exe, filepath.Join(root, "usr", "bin", s.Name)).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	out := filepath.Join(dir, s.Name+"_0.0.0_amd64.deb")
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", root, out)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=946684800")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v: %s", err, b)
	}
	return out
}

// Real builds the .deb of one of the repository's services
// (services/NAME: artifactd, releaseboard) with the go tool, shaped as
// Bazel's deb_package builds it: the program under /usr/bin, its systemd
// unit and config from services/NAME/deploy. repoRoot is the monorepo's
// root; stamp, written to /usr/share/doc/NAME/build, makes two builds'
// packages differ.
func Real(t testing.TB, repoRoot, dir, name, stamp string) string {
	t.Helper()
	root := t.TempDir()
	exe := filepath.Join(root, "usr", "bin", name)
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", exe, "./services/"+name+"/cmd/"+name)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	files := map[string]string{
		"lib/systemd/system/" + name + ".service": filepath.Join(repoRoot, "services", name, "deploy", name+".service"),
		"etc/" + name + "/config.json":            filepath.Join(repoRoot, "services", name, "deploy", "config.json"),
	}
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(root, filepath.Dir(dst)), 0o755)
		os.WriteFile(filepath.Join(root, dst), b, 0o644)
	}
	control := fmt.Sprintf("Package: %s\nVersion: 0.0.0\nArchitecture: amd64\nMaintainer: Stride Platform Team <platform@strideci.example>\nSection: net\nPriority: optional\nDescription: %s\n Built by stride's environment benchmark.\n", name, name)
	extra := map[string]string{"DEBIAN/control": control, "DEBIAN/conffiles": "/etc/" + name + "/config.json\n", "usr/share/doc/" + name + "/build": stamp + "\n"}
	for dst, content := range extra {
		os.MkdirAll(filepath.Join(root, filepath.Dir(dst)), 0o755)
		os.WriteFile(filepath.Join(root, dst), []byte(content), 0o644)
	}
	out := filepath.Join(dir, name+"_0.0.0_amd64.deb")
	b := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", root, out)
	if o, err := b.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v: %s", err, o)
	}
	return out
}
