package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/log"
)

var fixed = time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)

func newLogger(buf *bytes.Buffer, f log.Format, lvl log.Level) *log.Logger {
	return log.New(buf, log.Options{Level: lvl, Format: f, Now: func() time.Time { return fixed }})
}

func TestLines(t *testing.T) {
	tests := []struct {
		name   string
		format log.Format
		log    func(l *log.Logger)
		want   string
	}{
		{
			name:   "json basic",
			format: log.FormatJSON,
			log:    func(l *log.Logger) { l.Info("listening", "addr", "127.0.0.1:80", "tls", false, "n", 3) },
			want:   `{"time":"2024-05-01T12:00:00.123Z","level":"info","msg":"listening","addr":"127.0.0.1:80","tls":false,"n":3}`,
		},
		{
			name:   "logfmt basic",
			format: log.FormatLogfmt,
			log:    func(l *log.Logger) { l.Info("listening", "addr", "127.0.0.1:80", "tls", false, "n", 3) },
			want:   `time=2024-05-01T12:00:00.123Z level=info msg=listening addr=127.0.0.1:80 tls=false n=3`,
		},
		{
			name:   "json escaping and types",
			format: log.FormatJSON,
			log: func(l *log.Logger) {
				l.Warn("a \"quoted\"\nline", "err", errors.New("boom"), "d", 1500*time.Millisecond, "f", 0.5, "nil", nil, "list", []string{"a", "b"}, "bad\xffutf8", "x\x01")
			},
			want: `{"time":"2024-05-01T12:00:00.123Z","level":"warn","msg":"a \"quoted\"\nline","err":"boom","d":"1.5s","f":0.5,"nil":null,"list":["a","b"],"bad\ufffdutf8":"x\u0001"}`,
		},
		{
			name:   "logfmt quoting",
			format: log.FormatLogfmt,
			log: func(l *log.Logger) {
				l.Error("two words", "empty", "", "eq", "a=b", "q", `say "hi"`, "d", time.Second, "key with space", 1)
			},
			want: `time=2024-05-01T12:00:00.123Z level=error msg="two words" empty="" eq="a=b" q="say \"hi\"" d=1s key_with_space=1`,
		},
		{
			name:   "bad keys are kept",
			format: log.FormatJSON,
			log:    func(l *log.Logger) { l.Info("m", 42, "k", "v", "dangling") },
			want:   `{"time":"2024-05-01T12:00:00.123Z","level":"info","msg":"m","!BADKEY":42,"k":"v","!BADKEY":"dangling"}`,
		},
		{
			name:   "with fields come first",
			format: log.FormatLogfmt,
			log:    func(l *log.Logger) { l.With("svc", "artifactd").With("a", 1).Info("hi", "b", 2) },
			want:   `time=2024-05-01T12:00:00.123Z level=info msg=hi svc=artifactd a=1 b=2`,
		},
		{
			name:   "debug dropped at info",
			format: log.FormatJSON,
			log:    func(l *log.Logger) { l.Debug("hidden") },
			want:   ``,
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(newLogger(&buf, tt.format, log.LevelInfo))
			got := strings.TrimSuffix(buf.String(), "\n")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.format == log.FormatJSON && got != "" && !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    log.Level
		wantErr string
	}{
		{"debug", log.LevelDebug, ""},
		{"INFO", log.LevelInfo, ""},
		{"warning", log.LevelWarn, ""},
		{" error ", log.LevelError, ""},
		{"loud", log.LevelInfo, `unknown log level "loud" (want debug, info, warn or error)`},
	}
	for _, tt := range tests {
		got, err := log.ParseLevel(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseLevel(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != strings.TrimSpace(strings.ToLower(tt.in)) && tt.in != "warning" {
			t.Errorf("String() = %q", got.String())
		}
	}
	var l log.Level
	if err := l.UnmarshalText([]byte("warn")); err != nil || l != log.LevelWarn {
		t.Errorf("UnmarshalText = %v, %v", l, err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]log.Format{"json": log.FormatJSON, "LOGFMT": log.FormatLogfmt, "text": log.FormatLogfmt} {
		got, err := log.ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := log.ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}

func TestContext(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(&buf, log.FormatLogfmt, log.LevelDebug)
	ctx := context.Background()
	if id := log.RequestID(ctx); id != "" {
		t.Fatalf("RequestID(empty) = %q", id)
	}
	log.FromContext(ctx).Error("goes nowhere") // Nop when no logger is stored
	ctx = log.WithRequestID(log.NewContext(ctx, l), "abc123")
	if id := log.RequestID(ctx); id != "abc123" {
		t.Fatalf("RequestID = %q", id)
	}
	log.FromContext(ctx).Debug("handled", "status", 200)
	want := "time=2024-05-01T12:00:00.123Z level=debug msg=handled request_id=abc123 status=200\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestNilAndNop(t *testing.T) {
	var l *log.Logger
	l.Info("no panic")
	l.With("a", 1).Error("still none")
	if l.Enabled(log.LevelError) {
		t.Error("nil logger enabled")
	}
	log.Nop().Error("discarded")
}

func TestConcurrentLinesAreWhole(t *testing.T) {
	var buf bytes.Buffer
	l := log.New(&buf, log.Options{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			sub := l.With("g", g)
			for i := 0; i < 200; i++ {
				sub.Info("line", "i", i, "pad", strings.Repeat("x", 100))
			}
		}(g)
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("got %d lines, want %d", len(lines), 8*200)
	}
	for _, line := range lines {
		var m map[string]interface{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("interleaved line %q: %v", line, err)
		}
	}
}

func BenchmarkInfoJSON(b *testing.B) {
	l := log.New(discard{}, log.Options{}).With("svc", "bench")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Info("request", "method", "GET", "path", "/x", "status", 200, "bytes", 1024, "duration", time.Millisecond)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
