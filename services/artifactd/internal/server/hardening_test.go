package server

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/log"
)

// serveLogged runs one request through h with a logger in its context and
// returns the recorder and what was logged.
func serveLogged(h http.Handler, method, target string) (*httptest.ResponseRecorder, string) {
	var logs bytes.Buffer
	l := log.New(&logs, log.Options{Level: log.LevelDebug, Format: log.FormatJSON})
	r := httptest.NewRequest(method, "http://artifacts.example"+"/x", nil)
	r.URL = &url.URL{Path: target}
	r = r.WithContext(log.NewContext(r.Context(), l))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec, logs.String()
}

// SameOrigin reports whether a Location answered to a request for reqURL
// stays on reqURL's scheme, host and port once a browser resolves it.
func sameOrigin(reqURL, location string) bool {
	base, err := url.Parse(reqURL)
	if err != nil {
		return false
	}
	loc, err := url.Parse(location)
	if err != nil {
		return false
	}
	got := base.ResolveReference(loc)
	return got.Scheme == base.Scheme && got.Host == base.Host
}

// TestRedirectsStayOnOrigin is issue 17's item 5 for the file handler: a
// directory named like a URL ("https:evil.example") was redirected to
// "https:evil.example/", another site.
func TestRedirectsStayOnOrigin(t *testing.T) {
	root, _ := tree(t)
	for _, name := range []string{"https:evil.example", "http:", "javascript:alert(1)"} {
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(Options{Root: root, ListDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/https:evil.example", "/http:", "/javascript:alert(1)", "/sub", "/pool"} {
		rec, _ := serveLogged(h, "GET", p)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusMovedPermanently || !sameOrigin("https://artifacts.example"+p, loc) {
			t.Errorf("GET %s: %d Location %q: leaves the origin", p, rec.Code, loc)
		}
		u, _ := url.Parse("https://artifacts.example" + p)
		l, _ := url.Parse(loc)
		if got := u.ResolveReference(l).Path; got != p+"/" {
			t.Errorf("GET %s: Location %q resolves to %q, want %q", p, loc, got, p+"/")
		}
	}
}

// TestLongPaths is issue 17's item 6: long URLs gave 500 and an error log.
func TestLongPaths(t *testing.T) {
	h := newHandler(t, true)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/" + strings.Repeat("a", 300), 404},
		{"/sub/" + strings.Repeat("b", 256) + "/x", 404},
		{"/" + strings.Repeat("a/", 4000), 414},
		{"/" + strings.Repeat("x", 8<<10), 414},
		{"/" + strings.Repeat("x", 1<<20), 414},
		{"/" + strings.Repeat("a/", 2000) + "b", 404}, // 4 KB, short segments: ENAMETOOLONG
	} {
		rec, logs := serveLogged(h, "GET", tc.path)
		if rec.Code != tc.code || logs != "" {
			t.Errorf("GET (%d bytes): %d, want %d; logs %q", len(tc.path), rec.Code, tc.code, logs)
		}
	}
}

// TestNonRegularFiles is issue 17's item 7: a FIFO in the tree made each GET
// hang forever (and held up shutdown). Sockets and FIFOs are 404 at once.
func TestNonRegularFiles(t *testing.T) {
	root, _ := tree(t)
	if err := syscall.Mkfifo(filepath.Join(root, "pool", "fifo.deb"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sock := filepath.Join(root, "s.sock")
	if len(sock) < 100 {
		if ln, err := net.Listen("unix", sock); err == nil {
			defer ln.Close()
		}
	}
	h, err := New(Options{Root: root, ListDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/pool/fifo.deb", "/s.sock"} {
		done := make(chan int, 1)
		go func() {
			rec, _ := serveLogged(h, "GET", p)
			done <- rec.Code
		}()
		select {
		case code := <-done:
			if code != 404 && !(p == "/s.sock" && len(sock) >= 100) {
				t.Errorf("GET %s: %d, want 404", p, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s hangs", p)
		}
	}
	// The listing still works and the FIFO opens nowhere.
	if rec, _ := serveLogged(h, "GET", "/pool/"); rec.Code != 200 {
		t.Errorf("GET /pool/: %d", rec.Code)
	}
}
