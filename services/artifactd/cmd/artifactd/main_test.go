package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/libs/proctest"
)

var binary = flag.String("binary", "", "artifactd binary to test (Bazel passes $(rootpath :artifactd)); empty: go build it")

// TestBinary starts the built artifactd on a free port of 127.0.0.1 and
// checks it end to end: health, metrics, a range request with its ETag, a
// conditional request, and a clean exit 0 on SIGTERM.
func TestBinary(t *testing.T) {
	bin := proctest.Binary(t, *binary, "artifactd", "")

	t.Run("serve and stop", func(t *testing.T) {
		root := t.TempDir()
		content := make([]byte, 100<<10)
		if _, err := rand.Read(content); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, "pool"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "pool", "hello_1.0_amd64.deb"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`

		p := proctest.Start(t, bin, []string{"-listen", "127.0.0.1:0", "-root", root}, proctest.Env("ARTIFACTD_LOG_LEVEL=debug"))
		proctest.WaitReady(t, http.DefaultClient, p.URL)

		status, _, body := proctest.Get(t, p.URL+"/healthz", nil)
		if status != 200 || body != "ok\n" {
			t.Errorf("/healthz = %d %q", status, body)
		}

		status, hdr, body := proctest.Get(t, p.URL+"/pool/hello_1.0_amd64.deb", map[string]string{"Range": "bytes=100-199"})
		if status != http.StatusPartialContent {
			t.Errorf("range request status = %d, want 206", status)
		}
		if body != string(content[100:200]) {
			t.Errorf("range body differs from bytes 100-199")
		}
		if got := hdr.Get("Content-Range"); got != fmt.Sprintf("bytes 100-199/%d", len(content)) {
			t.Errorf("Content-Range = %q", got)
		}
		if got := hdr.Get("ETag"); got != etag {
			t.Errorf("ETag = %q, want %q (SHA-256 of the whole file)", got, etag)
		}
		if got := hdr.Get("Content-Type"); got != "application/vnd.debian.binary-package" {
			t.Errorf("Content-Type = %q", got)
		}
		if hdr.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id in the response")
		}

		status, _, _ = proctest.Get(t, p.URL+"/pool/hello_1.0_amd64.deb", map[string]string{"If-None-Match": etag})
		if status != http.StatusNotModified {
			t.Errorf("If-None-Match status = %d, want 304", status)
		}

		status, _, body = proctest.Get(t, p.URL+"/metrics", nil)
		if status != 200 {
			t.Fatalf("/metrics = %d", status)
		}
		for _, want := range []string{
			`http_requests_total{code="206",handler="/",method="get"} 1`,
			`http_requests_total{code="304",handler="/",method="get"} 1`,
			`artifactd_build_info{commit="`,
			"artifactd_digest_cache_hits_total 1",
			"go_goroutines ",
			"process_resident_memory_bytes ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}

		if code := p.Stop(t); code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0\nstderr:\n%s", code, p.Stderr())
		}
		for _, want := range []string{`"msg":"signal received"`, `"signal":"terminated"`, `"msg":"stopped"`, `"path":"/pool/hello_1.0_amd64.deb","status":206`} {
			if !strings.Contains(p.Stderr(), want) {
				t.Errorf("stderr lacks %s:\n%s", want, p.Stderr())
			}
		}
	})

	t.Run("invalid config exits 2 naming the key", func(t *testing.T) {
		root := t.TempDir()
		tests := []struct {
			args []string
			env  []string
			want string
		}{
			{[]string{"-root", root, "-drain-timeout", "x"}, nil, `artifactd: config: key "drain-timeout" from flag -drain-timeout: invalid duration "x"`},
			{[]string{"-root", root}, []string{"ARTIFACTD_LISTEN="}, `artifactd: config: key "listen" from env ARTIFACTD_LISTEN: must not be empty`},
			{nil, []string{"ARTIFACTD_ROOT=" + filepath.Join(root, "missing")}, `artifactd: config: key "root" from env ARTIFACTD_ROOT: lstat`},
		}
		for _, tt := range tests {
			code, _, stderr := proctest.Run(t, bin, tt.args, proctest.Env(tt.env...))
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v %v: exit %d, stderr %q; want 2 and %q", tt.args, tt.env, code, stderr, tt.want)
			}
		}
	})

	t.Run("shipped config", func(t *testing.T) {
		// deploy/config.json must load; only root and listen are overridden.
		p := proctest.Start(t, bin, []string{"-config", "../../deploy/config.json", "-root", t.TempDir(), "-listen", "127.0.0.1:0"}, proctest.Env())
		if code := p.Stop(t); code != 0 {
			t.Errorf("exit code %d\n%s", code, p.Stderr())
		}
	})

	t.Run("systemd unit", func(t *testing.T) {
		proctest.VerifyUnit(t, "../../deploy/artifactd.service", "/usr/bin/artifactd", bin, []string{
			"Type=simple",
			"ExecStart=/usr/bin/artifactd -config /etc/artifactd/config.json",
			"DynamicUser=yes",
			"ProtectSystem=strict",
			"NoNewPrivileges=yes",
			"Restart=on-failure",
		})
	})
}
