package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/proctest"
	"github.com/strideci/monorepo/services/releaseboard/internal/board"
)

func TestInvalidConfigExits2NamingTheKey(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgFile, []byte("{\n  \"title\": 42\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"wrong type in file", []string{"-config", cfgFile}, nil,
			`releaseboard: config: key "title" from file ` + cfgFile + `:2: want a string, got number 42`},
		{"empty title", []string{"-title", ""}, nil, `releaseboard: config: key "title" from flag -title: must not be empty`},
		{"bad log format", nil, map[string]string{"RELEASEBOARD_LOG_FORMAT": "xml"},
			`releaseboard: config: key "log-format" from env RELEASEBOARD_LOG_FORMAT: unknown log format "xml" (want json or logfmt)`},
		{"bad timeout", []string{"-idle-timeout", "1 minute"}, nil,
			`releaseboard: config: key "idle-timeout" from flag -idle-timeout: invalid duration "1 minute"`},
		{"missing config file", nil, map[string]string{"RELEASEBOARD_CONFIG": filepath.Join(dir, "nope.json")},
			`releaseboard: config: open ` + filepath.Join(dir, "nope.json") + `: no such file or directory`},
		{"positional argument", []string{"x"}, nil, `releaseboard: unexpected argument "x"`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.args, proctest.LookupEnv(tt.env), &stdout, &stderr)
			if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d and:\n%s", code, stderr.String(), ExitUsage, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if code := Run(context.Background(), []string{"-version"}, proctest.LookupEnv(nil), &stdout, io.Discard); code != 0 || !strings.HasPrefix(stdout.String(), "releaseboard dev (commit unknown") {
		t.Errorf("-version: %d %q", code, stdout.String())
	}
}

// TestRunServesAndStops runs releaseboard in-process on a free port.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr proctest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-listen", "127.0.0.1:0", "-title", "Ship it?"}, proctest.LookupEnv(map[string]string{"RELEASEBOARD_LOG_FORMAT": "json"}), io.Discard, &stderr)
	}()
	addr := proctest.WaitListening(t, &stderr, done)
	resp, err := http.Get("http://" + addr + "/api/info")
	if err != nil {
		t.Fatal(err)
	}
	var info board.Info
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Title != "Ship it?" || info.Schema != board.Schema || !info.Health.OK || info.Version != "dev" {
		t.Errorf("GET /api/info = %+v, %v", info, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
