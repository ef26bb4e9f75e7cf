package perf

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/services/artifactd/internal/server"
)

const fileSize = 1 << 20 // 1 MiB

// fixture writes a 1 MiB file and returns the root and the file's ETag.
func fixture(tb testing.TB) (root, etag string) {
	tb.Helper()
	root = tb.TempDir()
	content := make([]byte, fileSize)
	if _, err := rand.Read(content); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "big.deb"), content, 0o644); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return root, `"` + hex.EncodeToString(sum[:]) + `"`
}

func newHandler(tb testing.TB, root string) *server.Handler {
	tb.Helper()
	h, err := server.New(server.Options{Root: root})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// fullStack wraps the handler as artifactd does: access log (at info, to
// nowhere), request ids, metrics.
func fullStack(h http.Handler) http.Handler {
	s := httpserver.New(httpserver.Config{Logger: log.New(io.Discard, log.Options{})})
	s.Handle("/", h)
	return s.Handler()
}

// discardWriter is a ResponseWriter that counts and drops the body; like
// net/http's it is an io.ReaderFrom, so ServeContent copies as in production.
type discardWriter struct {
	h    http.Header
	code int
	n    int64
}

func (w *discardWriter) reset() {
	for k := range w.h {
		delete(w.h, k)
	}
	w.code, w.n = 0, 0
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += int64(len(p))
	return len(p), nil
}
func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = 200
	}
	n, err := io.Copy(io.Discard, r)
	w.n += n
	return n, err
}

type benchCase struct {
	name      string
	header    map[string]string
	wantCode  int
	wantBytes int64
	full      bool // through the httpserver middleware
	cold      bool // a new handler (empty digest cache) per request
}

func cases(etag string) []benchCase {
	return []benchCase{
		{name: "Serve1MiB", wantCode: 200, wantBytes: fileSize},
		{name: "Serve1MiBFullStack", wantCode: 200, wantBytes: fileSize, full: true},
		{name: "Serve1MiBColdDigest", wantCode: 200, wantBytes: fileSize, cold: true},
		{name: "NotModified", header: map[string]string{"If-None-Match": etag}, wantCode: 304},
		{name: "Range4KiB", header: map[string]string{"Range": "bytes=4096-8191"}, wantCode: 206, wantBytes: 4096},
	}
}

func run(tb testing.TB, c benchCase, root, etag string, iterations int, reset func()) {
	h := http.Handler(newHandler(tb, root))
	if c.full {
		h = fullStack(h)
	}
	req := httptest.NewRequest("GET", "/big.deb", nil)
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	w := &discardWriter{h: http.Header{}}
	if reset != nil {
		reset()
	}
	for i := 0; i < iterations; i++ {
		if c.cold {
			h = newHandler(tb, root)
		}
		w.reset()
		h.ServeHTTP(w, req)
		if w.code != c.wantCode || w.n != c.wantBytes || w.h.Get("ETag") != etag {
			tb.Fatalf("%s: got %d, %d bytes, ETag %s; want %d, %d bytes, ETag %s", c.name, w.code, w.n, w.h.Get("ETag"), c.wantCode, c.wantBytes, etag)
		}
	}
}

// TestSmoke runs every benchmark's request once.
func TestSmoke(t *testing.T) {
	root, etag := fixture(t)
	for _, c := range cases(etag) {
		run(t, c, root, etag, 1, nil)
	}
}

func BenchmarkHandler(b *testing.B) {
	root, etag := fixture(b)
	for _, c := range cases(etag) {
		c := c
		b.Run(c.name, func(b *testing.B) {
			if c.wantBytes > 0 {
				b.SetBytes(c.wantBytes)
			}
			b.ReportAllocs()
			run(b, c, root, etag, b.N, b.ResetTimer)
		})
	}
}
