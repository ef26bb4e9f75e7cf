package perf

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/buildinfo"
	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/services/releaseboard/internal/board"
)

func newBoard() *board.Board {
	return board.New(board.Options{
		Title: "Can I release?",
		Build: buildinfo.Info{Version: "1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.19.13", StartTime: time.Now().Add(-time.Hour)},
	})
}

// fullStack wraps the board as the service does: access log (at info, to
// nowhere), request ids, metrics.
func fullStack(b *board.Board) http.Handler {
	s := httpserver.New(httpserver.Config{Logger: log.New(io.Discard, log.Options{})})
	s.Handle("/", http.HandlerFunc(b.ServePage))
	s.Handle("/api/info", http.HandlerFunc(b.ServeInfo))
	return s.Handler()
}

// discardWriter drops the body but keeps its size and the status.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(p)
	return len(p), nil
}

type benchCase struct {
	name, path, contains string
	full                 bool
}

var cases = []benchCase{
	{name: "Page", path: "/", contains: "Can I release?"},
	{name: "PageFullStack", path: "/", contains: "Can I release?", full: true},
	{name: "APIInfo", path: "/api/info", contains: `"schema": "releaseboard.info/v1"`, full: true},
}

func run(tb testing.TB, c benchCase, iterations int, reset func()) {
	b := newBoard()
	var h http.Handler = http.HandlerFunc(b.ServePage)
	if c.full {
		h = fullStack(b)
	}
	req := httptest.NewRequest("GET", c.path, nil)
	w := &discardWriter{h: http.Header{}}
	if reset != nil {
		reset()
	}
	for i := 0; i < iterations; i++ {
		for k := range w.h {
			delete(w.h, k)
		}
		w.code, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.code != 200 || w.n == 0 {
			tb.Fatalf("%s: status %d, %d bytes", c.name, w.code, w.n)
		}
	}
}

// TestSmoke serves each benchmark's request once and checks the body.
func TestSmoke(t *testing.T) {
	for _, c := range cases {
		b := newBoard()
		h := fullStack(b)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), c.contains) {
			t.Errorf("%s: %d, body lacks %q", c.name, rec.Code, c.contains)
		}
		run(t, c, 1, nil)
	}
}

func BenchmarkHandler(b *testing.B) {
	for _, c := range cases {
		c := c
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			run(b, c, b.N, b.ResetTimer)
		})
	}
}

// BenchmarkRender measures the template alone.
func BenchmarkRender(b *testing.B) {
	bd := newBoard()
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := bd.Render(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
