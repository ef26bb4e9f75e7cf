// Package apttest builds small, lintian-clean Debian packages for tests with
// dpkg-deb, shaped like the services' packages: a program under /usr/bin, a
// systemd unit, a default config (a conffile), the copyright file and a
// changelog.
package apttest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Package describes a package to build.
type Package struct {
	Name    string
	Version string // default 0.0.0, as Bazel's deb_package builds them
	// Payload changes the program's content: equal payloads give equal
	// packages.
	Payload string
	// Padding adds that many bytes of incompressible data to the package
	// (for download tests).
	Padding int
}

// Build writes NAME_VERSION_amd64.deb into dir and returns its path. It
// skips the test if dpkg-deb is missing.
func Build(tb testing.TB, dir string, p Package) string {
	tb.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		tb.Skip("dpkg-deb is not installed")
	}
	if p.Version == "" {
		p.Version = "0.0.0"
	}
	root, err := os.MkdirTemp("", "apttest-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(root)
	script := fmt.Sprintf("#!/bin/sh\n# %s\necho %s %q\n", p.Payload, p.Name, p.Payload)
	unit := fmt.Sprintf("[Unit]\nDescription=%s test service\n\n[Service]\nExecStart=/usr/bin/%s\nDynamicUser=yes\n\n[Install]\nWantedBy=multi-user.target\n", p.Name, p.Name)
	copyright := fmt.Sprintf("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: %s\n\nFiles: *\nCopyright: 2024 Stride Platform Team\nLicense: Apache-2.0\n On Debian systems, the full text of the Apache License 2.0 can be found\n in /usr/share/common-licenses/Apache-2.0.\n", p.Name)
	changelog := fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * Test build.\n\n -- Stride Platform Team <platform@strideci.example>  Sat, 01 Jan 2000 00:00:00 +0000\n", p.Name, p.Version)
	files := map[string]string{
		"usr/bin/" + p.Name:                         script,
		"lib/systemd/system/" + p.Name + ".service": unit,
		"etc/" + p.Name + "/config.json":            "{\"listen\": \":8080\"}\n",
		"usr/share/doc/" + p.Name + "/copyright":    copyright,
		"usr/share/doc/" + p.Name + "/changelog.gz": gz(tb, changelog),
	}
	if p.Padding > 0 {
		pad := make([]byte, p.Padding)
		x := uint64(len(p.Payload) + 1)
		for i := range pad { // xorshift: incompressible, deterministic
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			pad[i] = byte(x)
		}
		files["usr/share/"+p.Name+"/padding.bin"] = string(pad)
	}
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "usr/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			tb.Fatal(err)
		}
		os.Chmod(path, mode)
	}
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		tb.Fatal(err)
	}
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: Stride Platform Team <platform@strideci.example>\nSection: net\nPriority: optional\nDescription: service used by the tests of stride\n A package built by the tests of stride (%s).\n", p.Name, p.Version, p.Name)
	ctl := map[string]string{
		"control":   control,
		"conffiles": "/etc/" + p.Name + "/config.json\n",
	}
	for name, content := range ctl {
		if err := os.WriteFile(filepath.Join(root, "DEBIAN", name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	// Fixed modes and times, so equal inputs give equal bytes.
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	if out, err := exec.Command("find", root, "-exec", "touch", "-h", "-d", "@946684800", "{}", "+").CombinedOutput(); err != nil {
		tb.Fatalf("touch: %v: %s", err, out)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_%s_amd64.deb", p.Name, p.Version))
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=946684800")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("dpkg-deb --build: %v: %s", err, b)
	}
	return out
}

func gz(tb testing.TB, s string) string {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write([]byte(s))
	w.Close()
	return b.String()
}
