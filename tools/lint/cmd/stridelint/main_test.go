package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/lint/internal/linttest"
)

// TestBadModule lints a scratch module with one deliberate violation of
// each analyzer and checks that each is reported with its file and line.
func TestBadModule(t *testing.T) {
	linttest.SkipUnderBazel(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.19\n",
		"libs/bad/bad.go": `package bad

import (
	"fmt"
	"net/http"
	"os/exec"
)

func Hello() { fmt.Println("hi") }

func Fetch() error { return exec.Command("git", "fetch").Run() }

func Serve(h http.Handler) error { return http.ListenAndServe(":0", h) }
`,
		"libs/bad/bad_test.go": "package bad\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestHello(t *testing.T) { fmt.Println(\"tests may print\") }\n",
		"cmd/ok/main.go":       "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"commands may print\") }\n",
	}
	want := []string{
		"libs/bad/bad.go:9:20: fmt.Println in library package example.com/m/libs/bad",
		"libs/bad/bad.go:11:58: git command run without capturing stderr",
		"libs/bad/bad.go:13:48: http.ListenAndServe serves without timeouts",
	}
	if goMinor() >= 20 {
		// errors.Join compiles with this Go; Bazel's Go 1.19 would reject it.
		files["libs/bad/join.go"] = "package bad\n\nimport \"errors\"\n\nvar _ = errors.Join\n"
		want = append(want, "libs/bad/join.go:5:16: errors.Join was added in Go 1.20")
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(dir, nil, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d findings, want %d:\n%s", len(lines), len(want), stdout.String())
	}
	for _, w := range want {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("missing finding %q in:\n%s", w, stdout.String())
		}
	}
}

func TestCleanModule(t *testing.T) {
	linttest.SkipUnderBazel(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":        "module example.com/m\n\ngo 1.19\n",
		"libs/ok/ok.go": "package ok\n\nimport (\n\t\"fmt\"\n\t\"io\"\n)\n\nfunc Hello(w io.Writer) { fmt.Fprintln(w, \"hi\") }\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(dir, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// goMinor returns the minor version of the Go that built the test, or 0.
func goMinor() int {
	v := strings.TrimPrefix(runtime.Version(), "go1.")
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
