package build

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wantProtocGenGo is the google.golang.org/protobuf version in go.mod; the
// generated code must match the runtime it links against.
const wantProtocGenGo = "v1.31.0"

// TestGeneratedUpToDate regenerates build.pb.go with ../regen.sh into a
// temporary directory and fails if it differs from the checked-in file. It
// skips when protoc or protoc-gen-go (at wantProtocGenGo) is not installed.
func TestGeneratedUpToDate(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not on PATH (Debian: apt-get install protobuf-compiler)")
	}
	gen, err := exec.LookPath("protoc-gen-go")
	if err != nil {
		t.Skip("protoc-gen-go not on PATH (go install google.golang.org/protobuf/cmd/protoc-gen-go@" + wantProtocGenGo + ")")
	}
	out, err := exec.Command(gen, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), wantProtocGenGo) {
		t.Skipf("protoc-gen-go is %q, want %s", strings.TrimSpace(string(out)), wantProtocGenGo)
	}
	script, err := filepath.Abs("../regen.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("regen.sh not found: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", script, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("regen.sh: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "build.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("build.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stripVersions(got), stripVersions(want)) {
		t.Errorf("build.pb.go is out of date with build.proto: run third_party/bazel_proto/regen.sh")
	}
}

// stripVersions drops the "// \tprotoc vX" header line, which names the
// local protoc and does not change the code.
func stripVersions(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "// \tprotoc ") {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}
