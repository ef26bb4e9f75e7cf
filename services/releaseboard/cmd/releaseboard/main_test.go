package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"

	"github.com/strideci/monorepo/libs/proctest"
)

var binary = flag.String("binary", "", "releaseboard binary to test (Bazel passes $(rootpath :releaseboard)); empty: go build it")

// TestBinary starts the built releaseboard on a free port of 127.0.0.1 and
// checks it end to end: health, metrics, the page and /api/info, and a clean
// exit 0 on SIGTERM.
func TestBinary(t *testing.T) {
	bin := proctest.Binary(t, *binary, "releaseboard", "")

	t.Run("serve and stop", func(t *testing.T) {
		p := proctest.Start(t, bin, []string{"-listen", "127.0.0.1:0"}, proctest.Env("RELEASEBOARD_TITLE=Can we ship?"))
		proctest.WaitReady(t, http.DefaultClient, p.URL)

		if status, _, body := proctest.Get(t, p.URL+"/healthz", nil); status != 200 || body != "ok\n" {
			t.Errorf("/healthz = %d %q", status, body)
		}
		status, _, body := proctest.Get(t, p.URL+"/api/info", nil)
		var info struct {
			Schema, Title, Version, Commit string
			Health                         struct{ OK bool }
		}
		if err := json.Unmarshal([]byte(body), &info); err != nil || status != 200 {
			t.Fatalf("/api/info = %d %q: %v", status, body, err)
		}
		// The version is "dev" unless the binary was stamped (Bazel --stamp).
		if info.Schema != "releaseboard.info/v1" || info.Title != "Can we ship?" || info.Version == "" || info.Commit == "" || !info.Health.OK {
			t.Errorf("/api/info = %+v", info)
		}
		status, hdr, body := proctest.Get(t, p.URL+"/", nil)
		if status != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET / = %d %q", status, hdr.Get("Content-Type"))
		}
		for _, want := range []string{"<h1>Can we ship?</h1>", `<td id="version">` + info.Version + `</td>`, `<code id="commit">` + info.Commit + `</code>`, `id="health">Healthy`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		status, _, body = proctest.Get(t, p.URL+"/metrics", nil)
		for _, want := range []string{
			`http_requests_total{code="200",handler="/",method="get"} 1`,
			`http_requests_total{code="200",handler="/api/info",method="get"} 1`,
			`releaseboard_build_info{commit="` + info.Commit + `",goversion="`,
			"go_goroutines ",
		} {
			if status != 200 || !strings.Contains(body, want) {
				t.Errorf("/metrics (%d) lacks %q", status, want)
			}
		}
		if code := p.Stop(t); code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0\nstderr:\n%s", code, p.Stderr())
		}
		if !strings.Contains(p.Stderr(), `"msg":"stopped"`) {
			t.Errorf("no clean stop in stderr:\n%s", p.Stderr())
		}
	})

	t.Run("invalid config exits 2 naming the key", func(t *testing.T) {
		code, _, stderr := proctest.Run(t, bin, []string{"-drain-timeout", "x"}, proctest.Env())
		want := `releaseboard: config: key "drain-timeout" from flag -drain-timeout: invalid duration "x"`
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
		}
		code, _, stderr = proctest.Run(t, bin, nil, proctest.Env("RELEASEBOARD_LOG_LEVEL=chatty"))
		want = `releaseboard: config: key "log-level" from env RELEASEBOARD_LOG_LEVEL: unknown log level "chatty"`
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
		}
	})

	t.Run("shipped config", func(t *testing.T) {
		p := proctest.Start(t, bin, []string{"-config", "../../deploy/config.json", "-listen", "127.0.0.1:0"}, proctest.Env())
		if code := p.Stop(t); code != 0 {
			t.Errorf("exit code %d\n%s", code, p.Stderr())
		}
	})

	t.Run("systemd unit", func(t *testing.T) {
		proctest.VerifyUnit(t, "../../deploy/releaseboard.service", "/usr/bin/releaseboard", bin, []string{
			"Type=simple",
			"ExecStart=/usr/bin/releaseboard -config /etc/releaseboard/config.json",
			"DynamicUser=yes",
			"ProtectSystem=strict",
			"NoNewPrivileges=yes",
			"Restart=on-failure",
		})
	})
}
