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
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/services/releaseboard/internal/board"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

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
			code := Run(context.Background(), tt.args, envFrom(tt.env), &stdout, &stderr)
			if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d and:\n%s", code, stderr.String(), ExitUsage, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if code := Run(context.Background(), []string{"-version"}, envFrom(nil), &stdout, io.Discard); code != 0 || !strings.HasPrefix(stdout.String(), "releaseboard dev (commit unknown") {
		t.Errorf("-version: %d %q", code, stdout.String())
	}
}

// TestRunServesAndStops runs releaseboard in-process on a free port.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-listen", "127.0.0.1:0", "-title", "Ship it?"}, envFrom(map[string]string{"RELEASEBOARD_LOG_FORMAT": "json"}), io.Discard, &stderr)
	}()
	addr := waitListening(t, &stderr, done)
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

func waitListening(t *testing.T, stderr *syncBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening" {
				return m.Addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("Run exited with %d before listening:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line:\n%s", stderr.String())
	return ""
}
