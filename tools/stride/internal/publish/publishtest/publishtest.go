// Package publishtest holds the helpers of the tests that publish builds
// (internal/publish, internal/promote): a finished run's directory, a
// docs directory, artifactd serving a store on 127.0.0.1, and apt-get
// confined to a directory.
package publishtest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Sha is a fake commit id made of one repeated letter ('a'+n).
func Sha(n int) string { return strings.Repeat(string(rune('a'+n)), 40) }

// Run describes a finished run for WriteRun.
type Run struct {
	Head, Base string
	Status     report.Status
	// NsPerOp, when > 0, adds five samples of a benchmark around it (and
	// perf.json).
	NsPerOp float64
	// Tests, when set, replace the default results (a passed and a flaky
	// test).
	Tests []report.TestResult
}

// MakeRun writes a finished run of head (base Sha(0)) under
// dir/out/runs/<head>/ and returns that directory.
func MakeRun(t testing.TB, dir string, head string, status report.Status, ns float64) string {
	t.Helper()
	return WriteRun(t, dir, Run{Head: head, Base: Sha(0), Status: status, NsPerOp: ns})
}

// WriteRun writes a finished run's directory the way `stride run` does:
// report.json (a passed and a flaky test), junit.xml, and perf.json when
// the run has benchmarks.
func WriteRun(t testing.TB, dir string, run Run) string {
	t.Helper()
	head, status, ns := run.Head, run.Status, run.NsPerOp
	runDir := filepath.Join(dir, "out", "runs", head)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := report.New(dir, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	r.Status, r.ExitCode = status, status.ExitCode()
	r.Head = report.Rev{Rev: "HEAD", SHA: head}
	r.Base = report.Rev{SHA: run.Base}
	r.Branch = "main"
	r.Summary = "test run"
	r.Tests.Results = []report.TestResult{
		{Label: "//services/hello:hello_test", Status: "PASSED"},
		{Label: "//services/hello:flaky_test", Status: "FLAKY", Flaky: true, Log: filepath.Join(runDir, "flaky.log")},
	}
	if run.Tests != nil {
		r.Tests.Results = run.Tests
	}
	os.WriteFile(filepath.Join(runDir, "flaky.log"), []byte("--- FAIL: TestX (first attempt)\n"), 0o644)
	if ns > 0 {
		for i := 0; i < 5; i++ {
			r.Benchmarks = append(r.Benchmarks, report.Benchmark{Target: "//services/hello/perf:perf_test", Name: "Hello", Iterations: 1000, NsPerOp: ns + float64(i)})
		}
		doc := map[string]interface{}{"schema": "stride.perf/v1", "head": head, "benchmarks": r.Benchmarks}
		b, _ := json.Marshal(doc)
		os.WriteFile(filepath.Join(runDir, report.PerfFile), b, 0o644)
		r.Files.Perf = report.PerfFile
	}
	os.WriteFile(filepath.Join(runDir, report.JUnitFile), []byte("<testsuites></testsuites>\n"), 0o644)
	r.Files.JUnit = report.JUnitFile
	r.Tally()
	r.Status = status
	if err := r.WriteJSON(runDir); err != nil {
		t.Fatal(err)
	}
	return runDir
}

// DocsDir writes a small Markdown docs directory.
func DocsDir(t testing.TB) string {
	d := filepath.Join(t.TempDir(), "docs")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "intro.md"), []byte("# Intro\n\nSee [build](build.md).\n"), 0o644)
	os.WriteFile(filepath.Join(d, "build.md"), []byte("# Build\n"), 0o644)
	return d
}

// StartArtifactd builds artifactd with the go tool and serves the store on
// 127.0.0.1; it returns the base URL.
func StartArtifactd(t *testing.T, storeRoot string) string {
	t.Helper()
	return StartArtifactdArgs(t, []string{"-listen", "127.0.0.1:0", "-root", t.TempDir(), "-store", storeRoot})
}

// StartArtifactdArgs is StartArtifactd with artifactd's flags given (it
// must listen on 127.0.0.1:0); logs are JSON at level info.
func StartArtifactdArgs(t *testing.T, args []string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "artifactd")
	build := exec.Command("go", "build", "-o", bin, "github.com/strideci/monorepo/services/artifactd/cmd/artifactd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build artifactd: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append(append([]string{}, args...), "-log-format", "json", "-log-level", "info")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("artifactd did not start listening")
	}
	return ""
}

// AptGet runs apt-get with its state, cache and sources in dir only.
func AptGet(t *testing.T, dir, sources string, args ...string) (string, error) {
	t.Helper()
	full, err := apt.ClientDir(dir, sources)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("apt-get", append(full, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// AptInstallRoot runs apt-get install (with args after "install") as AptGet
// does, and has dpkg install into root instead of / (--root: its own
// status database under root/var/lib/dpkg, empty at first, and apt's log
// in dir). dpkg needs root for it; the caller checks os.Geteuid.
func AptInstallRoot(t *testing.T, dir, sources, root string, args ...string) (string, error) {
	t.Helper()
	admin := filepath.Join(root, "var", "lib", "dpkg")
	for _, d := range []string{"updates", "info", "triggers"} {
		if err := os.MkdirAll(filepath.Join(admin, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(admin, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []string{
		"-o", "Dir::State::status=" + filepath.Join(admin, "status"),
		"-o", "Dir::Log=" + filepath.Join(dir, "log"),
		"-o", "DPkg::Options::=--root=" + root,
		"-o", "Debug::NoLocking=1",
		"-y", "--no-install-recommends", "install",
	}
	return AptGet(t, dir, sources, append(opts, args...)...)
}

// RequireAPT skips the test under `bazel test` (the APT tests run in go
// test ./..., ci/test), or when aptly, gpg, dpkg-deb or one of bins is
// missing.
func RequireAPT(t testing.TB, bins ...string) {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: the APT integration tests run in go test ./... (ci/test)")
	}
	if err := apt.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping: %s is not installed (ci/lib.sh installs it)", bin)
		}
	}
}

// APTStore opens a store in a new temporary directory, with aptly's root
// under it (STORE/aptly, as stride uses it) signing with a key in a new
// GnuPG home (a short path: gpg-agent's socket path is limited), which is
// removed with its agent after the test.
func APTStore(t testing.TB) (*store.FS, *apt.Aptly) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "store")
	s, err := store.OpenFS(root)
	if err != nil {
		t.Fatal(err)
	}
	gnupg, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	kr := &apt.Keyring{Home: gnupg}
	t.Cleanup(func() { kr.KillAgent(); os.RemoveAll(gnupg) })
	return s, &apt.Aptly{Root: filepath.Join(root, "aptly"), Keyring: kr}
}

// HowTo are the command lines of docs/publish.md's how-to "serve the
// store, point apt at it, install a package", for the APT test to run.
type HowTo struct {
	// ArtifactdArgs are the flags of the documented artifactd command.
	ArtifactdArgs []string
	// KeyURL is the documented key URL, SourcesLine the documented line
	// of sources.list, both naming the server http://HOST:8080 and the
	// keyring /usr/share/keyrings/stride.gpg.
	KeyURL, SourcesLine string
	// AptGet are the documented apt-get commands' arguments.
	AptGet [][]string
}

// Documented host and keyring of the how-to, for tests to replace.
const (
	HowToServer  = "http://HOST:8080"
	HowToKeyring = "/usr/share/keyrings/stride.gpg"
)

// ReadHowTo reads the how-to from docs/publish.md (relative to the
// package directory of the test); it skips the test when the docs are not
// there (bazel test).
func ReadHowTo(t testing.TB) HowTo {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "docs", "publish.md")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skip("docs/publish.md not found (not in the source tree)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var h HowTo
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		f := strings.Fields(line)
		switch {
		case !inBlock:
		case len(f) > 1 && f[0] == "artifactd":
			for _, a := range f[1:] {
				h.ArtifactdArgs = append(h.ArtifactdArgs, strings.Trim(a, `"`))
			}
		case len(f) > 1 && f[0] == "curl":
			h.KeyURL = f[len(f)-1]
		case strings.HasPrefix(line, `echo "deb `):
			h.SourcesLine = line[len(`echo "`):strings.LastIndex(line, `"`)]
		case len(f) > 1 && f[0] == "apt-get":
			h.AptGet = append(h.AptGet, f[1:])
		}
	}
	if h.ArtifactdArgs == nil || !strings.HasPrefix(h.KeyURL, HowToServer+"/") ||
		!strings.Contains(h.SourcesLine, HowToServer) || !strings.Contains(h.SourcesLine, HowToKeyring) || len(h.AptGet) == 0 {
		t.Fatalf("%s: the how-to's commands are not found as the test expects: %+v", path, h)
	}
	return h
}
