package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/proctest"
)

func TestInvalidConfigExits2NamingTheKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := write("unknown.json", "{\n  \"root\": \"/srv\",\n  \"rot\": \"/srv\"\n}\n")
	badDur := write("baddur.json", "{\n  \"drain-timeout\": \"soon\"\n}\n")
	notDir := write("file.txt", "x")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"missing root", []string{"-root", filepath.Join(dir, "nope")}, nil,
			`artifactd: config: key "root" from flag -root: lstat ` + filepath.Join(dir, "nope") + `: no such file or directory`},
		{"root is a file", nil, map[string]string{"ARTIFACTD_ROOT": notDir},
			`artifactd: config: key "root" from env ARTIFACTD_ROOT: ` + notDir + ` is not a directory`},
		{"bad log level", []string{"-root", dir}, map[string]string{"ARTIFACTD_LOG_LEVEL": "loud"},
			`artifactd: config: key "log-level" from env ARTIFACTD_LOG_LEVEL: unknown log level "loud" (want debug, info, warn or error)`},
		{"bad duration flag", []string{"-root", dir, "-drain-timeout", "x"}, nil,
			`artifactd: config: key "drain-timeout" from flag -drain-timeout: invalid duration "x"`},
		{"bad duration in file", []string{"-config", badDur}, nil,
			`artifactd: config: key "drain-timeout" from file ` + badDur + `:2: invalid duration "soon"`},
		{"unknown key in file", nil, map[string]string{"ARTIFACTD_CONFIG": unknown},
			`artifactd: config: file ` + unknown + `:3: unknown key "rot"`},
		{"cert without key", []string{"-root", dir, "-tls-cert", notDir}, nil,
			`artifactd: config: key "tls-key" from default: must be set when tls-cert is`},
		// Issue 17, item 9: an invalid key pair exited 1, as if serving failed.
		{"invalid key pair", []string{"-root", dir, "-tls-cert", notDir, "-tls-key", notDir}, nil,
			`artifactd: config: key "tls-key" from flag -tls-key: load the TLS key pair (tls-cert ` + notDir + `): tls: failed to find any PEM data in certificate input`},
		{"positional argument", []string{"-root", dir, "serve"}, nil,
			`artifactd: unexpected argument "serve" (all settings are flags)`},
		{"unknown flag", []string{"-rot", dir}, nil, "flag provided but not defined: -rot"},
		{"missing store", []string{"-root", dir, "-store", filepath.Join(dir, "nostore")}, nil,
			`artifactd: config: key "store" from flag -store: stat ` + filepath.Join(dir, "nostore") + `: no such file or directory`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.args, proctest.LookupEnv(tt.env), &stdout, &stderr)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), tt.want)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"-version"}, proctest.LookupEnv(nil), &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "artifactd dev (commit unknown") {
		t.Errorf("-version: %d %q %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := Run(context.Background(), []string{"-h"}, proctest.LookupEnv(nil), &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-root string") {
		t.Errorf("-h: %d %q", code, stderr.String())
	}
}

// TestRunServesAndStops runs artifactd in-process on a free port.
func TestRunServesAndStops(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.json"), []byte(`{"ok":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr proctest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-listen", "127.0.0.1:0", "-root", root}, proctest.LookupEnv(nil), io.Discard, &stderr)
	}()
	addr := proctest.WaitListening(t, &stderr, done)
	resp, err := http.Get("http://" + addr + "/a.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /a.json = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d, want 0\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(stderr.String(), `"msg":"request"`) || !strings.Contains(stderr.String(), `"path":"/a.json"`) {
		t.Errorf("no access log line:\n%s", stderr.String())
	}
}
