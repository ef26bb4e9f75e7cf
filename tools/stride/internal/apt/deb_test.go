package apt_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
)

func TestSetVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := apttest.Build(t, dir, apttest.Package{Name: "hello", Payload: "v1"})
	orig, err := apt.ReadDeb(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Package != "hello" || orig.Version != "0.0.0" || orig.Architecture != "amd64" {
		t.Fatalf("ReadDeb = %+v", orig)
	}
	out := filepath.Join(dir, "out.deb")
	d, err := apt.SetVersion(ctx, in, out, "0.7.0+gabcdef1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != "0.7.0+gabcdef1" || d.Filename() != "hello_0.7.0+gabcdef1_amd64.deb" {
		t.Errorf("SetVersion = %+v", d)
	}
	if d.Content != orig.Content {
		t.Errorf("content digest changed with the version: %s != %s", d.Content, orig.Content)
	}
	// dpkg agrees on the new version and can unpack the package.
	v, err := exec.Command("dpkg-deb", "-f", out, "Version").Output()
	if err != nil || strings.TrimSpace(string(v)) != "0.7.0+gabcdef1" {
		t.Fatalf("dpkg-deb -f Version = %q, %v", v, err)
	}
	root := t.TempDir()
	if b, err := exec.Command("dpkg-deb", "-x", out, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v: %s", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(root, "usr/bin/hello")); err != nil || !bytes.Contains(b, []byte("v1")) {
		t.Fatalf("unpacked program = %q, %v", b, err)
	}
	// The data member is kept byte for byte, and the result is reproducible.
	again := filepath.Join(dir, "again.deb")
	if _, err := apt.SetVersion(ctx, in, again, "0.7.0+gabcdef1"); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(out)
	b2, _ := os.ReadFile(again)
	if !bytes.Equal(b1, b2) {
		t.Error("SetVersion is not reproducible")
	}
	// Another payload: another content digest.
	other := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: "v2"})
	od, err := apt.ReadDeb(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if od.Content == orig.Content {
		t.Error("different payloads have the same content digest")
	}
	if _, err := apt.SetVersion(ctx, in, out, "not a version!"); err == nil {
		t.Error("SetVersion accepted a bad version")
	}
}

func TestReadDebRejectsNonDebs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.deb")
	os.WriteFile(p, []byte("!<arch>\nnope"), 0o644)
	if _, err := apt.ReadDeb(context.Background(), p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("ReadDeb(garbage) = %v, want an error naming the file", err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0.9.0+gaaaaaaa", "0.10.0+g0000000", -1},
		{"0.10.0+gaaaaaaa", "0.10.0+gaaaaaaa", 0},
		{"1:0.1", "0.99", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0-1", "1.0-1+b1", -1},
	}
	for _, tc := range tests {
		got := apt.CompareVersions(tc.a, tc.b)
		if got < 0 {
			got = -1
		} else if got > 0 {
			got = 1
		}
		if got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := apt.BuildVersion(42, "3f2a9c0d6b1e"); got != "0.42.0+g3f2a9c0" {
		t.Errorf("BuildVersion = %q", got)
	}
}
