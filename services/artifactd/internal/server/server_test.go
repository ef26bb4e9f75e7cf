package server

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/metrics"
)

// tree creates the test root and a directory outside it, and returns the
// root and the outside directory.
func tree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	files := map[string]string{
		"root/pool/hello_1.0_amd64.deb": "!<arch>\ndebian-binary...",
		"root/notes.md":                 "# Notes\n",
		"root/index.json":               `{"a":1}`,
		"root/Release.gpg":              "-----BEGIN PGP SIGNATURE-----",
		"root/sub/b.txt":                "0123456789abcdef",
		"root/.hidden":                  "secret",
		"root/sub/.git/config":          "secret",
		"outside/secret.txt":            "top secret",
	}
	for name, content := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"root/latest.deb":  "pool/hello_1.0_amd64.deb", // inside: followed
		"root/escape.txt":  "../outside/secret.txt",    // outside: 404
		"root/escape-dir":  "../outside",               // outside: 404
		"root/sub/up-root": "..",                       // inside
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func newHandler(t *testing.T, listDirs bool) *Handler {
	t.Helper()
	root, _ := tree(t)
	h, err := New(Options{Root: root, ListDirs: listDirs})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type request struct {
	method string
	path   string
	header map[string]string
}

type want struct {
	status  int
	body    string            // exact, when non-empty
	contain []string          // substrings of the body
	absent  []string          // not in the body
	header  map[string]string // exact header values ("" = must be absent)
}

func check(t *testing.T, h http.Handler, req request, w want) {
	t.Helper()
	method := req.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, "http://x"+req.path, nil)
	if strings.Contains(req.path, "..") || strings.Contains(req.path, "\\") {
		r.URL.Path = req.path // httptest would not keep it raw otherwise
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	label := method + " " + req.path
	if rec.Code != w.status {
		t.Errorf("%s: status %d, want %d (body %q)", label, rec.Code, w.status, rec.Body.String())
	}
	if w.body != "" && rec.Body.String() != w.body {
		t.Errorf("%s: body %q, want %q", label, rec.Body.String(), w.body)
	}
	for _, s := range w.contain {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("%s: body lacks %q:\n%s", label, s, rec.Body.String())
		}
	}
	for _, s := range w.absent {
		if strings.Contains(rec.Body.String(), s) {
			t.Errorf("%s: body has %q", label, s)
		}
	}
	for k, v := range w.header {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", label, k, got, v)
		}
	}
}

func TestServeFiles(t *testing.T) {
	h := newHandler(t, false)
	deb := "!<arch>\ndebian-binary..."
	b := "0123456789abcdef"
	tests := []struct {
		req  request
		want want
	}{
		{request{path: "/pool/hello_1.0_amd64.deb"}, want{status: 200, body: deb, header: map[string]string{
			"Content-Type": "application/vnd.debian.binary-package", "ETag": sha(deb), "Cache-Control": "no-cache",
			"X-Content-Type-Options": "nosniff", "Content-Length": fmt.Sprint(len(deb)), "Accept-Ranges": "bytes",
		}}},
		{request{method: "HEAD", path: "/sub/b.txt"}, want{status: 200, header: map[string]string{
			"Content-Type": "text/plain; charset=utf-8", "ETag": sha(b), "Content-Length": "16"}}},
		{request{path: "/notes.md"}, want{status: 200, header: map[string]string{"Content-Type": "text/markdown; charset=utf-8"}}},
		{request{path: "/index.json"}, want{status: 200, header: map[string]string{"Content-Type": "application/json"}}},
		{request{path: "/Release.gpg"}, want{status: 200, header: map[string]string{"Content-Type": "application/pgp-signature"}}},
		{request{path: "/latest.deb"}, want{status: 200, body: deb, header: map[string]string{"ETag": sha(deb)}}},
		{request{path: "/sub/up-root/notes.md"}, want{status: 200, body: "# Notes\n"}},

		// Conditional and range requests.
		{request{path: "/sub/b.txt", header: map[string]string{"If-None-Match": sha(b)}}, want{status: 304, body: "", header: map[string]string{"ETag": sha(b)}}},
		{request{path: "/sub/b.txt", header: map[string]string{"If-None-Match": `"other", ` + sha(b)}}, want{status: 304}},
		{request{path: "/sub/b.txt", header: map[string]string{"If-None-Match": `"other"`}}, want{status: 200, body: b}},
		{request{path: "/sub/b.txt", header: map[string]string{"Range": "bytes=2-5"}}, want{status: 206, body: "2345", header: map[string]string{"Content-Range": "bytes 2-5/16", "ETag": sha(b)}}},
		{request{path: "/sub/b.txt", header: map[string]string{"Range": "bytes=-3"}}, want{status: 206, body: "def"}},
		{request{path: "/sub/b.txt", header: map[string]string{"Range": "bytes=10-", "If-Range": sha(b)}}, want{status: 206, body: "abcdef"}},
		{request{path: "/sub/b.txt", header: map[string]string{"Range": "bytes=10-", "If-Range": `"stale"`}}, want{status: 200, body: b}},
		{request{path: "/sub/b.txt", header: map[string]string{"Range": "bytes=99-"}}, want{status: 416}},
		{request{path: "/sub/b.txt", header: map[string]string{"If-Match": `"stale"`}}, want{status: 412}},

		// Methods.
		{request{method: "POST", path: "/sub/b.txt"}, want{status: 405, header: map[string]string{"Allow": "GET, HEAD"}}},
		{request{method: "PUT", path: "/new.deb"}, want{status: 405}},
		{request{method: "DELETE", path: "/sub/b.txt"}, want{status: 405}},

		// Not found, hidden, outside.
		{request{path: "/nope.deb"}, want{status: 404}},
		{request{path: "/sub/b.txt/"}, want{status: 404}},
		{request{path: "/sub/b.txt/x"}, want{status: 404}},
		{request{path: "/.hidden"}, want{status: 404}},
		{request{path: "/sub/.git/config"}, want{status: 404}},
		{request{path: "/escape.txt"}, want{status: 404, absent: []string{"top secret"}}},
		{request{path: "/escape-dir/secret.txt"}, want{status: 404, absent: []string{"top secret"}}},
		{request{path: "/../outside/secret.txt"}, want{status: 400, absent: []string{"top secret"}}},
		{request{path: "/sub/../../outside/secret.txt"}, want{status: 400}},
		{request{path: "/..\\outside\\secret.txt"}, want{status: 400}},

		// Directories are 404 without listings.
		{request{path: "/"}, want{status: 404}},
		{request{path: "/sub/"}, want{status: 404}},
		{request{path: "/sub"}, want{status: 404}},
	}
	for _, tt := range tests {
		check(t, h, tt.req, tt.want)
	}
}

func TestDirectoryListing(t *testing.T) {
	h := newHandler(t, true)
	tests := []struct {
		req  request
		want want
	}{
		{request{path: "/"}, want{status: 200,
			contain: []string{"Index of /", `<a href="pool/">pool/</a>`, `<a href="sub/">sub/</a>`, `<a href="latest.deb">latest.deb</a>`, `<a href="notes.md">notes.md</a>`},
			absent:  []string{".hidden", "escape", "../"},
			header:  map[string]string{"Content-Type": "text/html; charset=utf-8", "ETag": ""}}},
		{request{path: "/sub/"}, want{status: 200, contain: []string{`<a href="../">../</a>`, `<a href="b.txt">b.txt</a>`, `<a href="up-root/">up-root/</a>`, ">16<"}, absent: []string{".git"}}},
		{request{path: "/sub"}, want{status: 301, header: map[string]string{"Location": "./sub/"}}},
		{request{path: "/sub?x=1"}, want{status: 301, header: map[string]string{"Location": "./sub/?x=1"}}},
		{request{method: "HEAD", path: "/sub/"}, want{status: 200, body: ""}},
		{request{path: "/escape-dir/"}, want{status: 404}},
	}
	for _, tt := range tests {
		check(t, h, tt.req, tt.want)
	}
}

// TestTraversalOverTheWire sends raw request lines, which no client library
// would, to a real server running the handler.
func TestTraversalOverTheWire(t *testing.T) {
	h := newHandler(t, true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, target := range []string{
		"/../outside/secret.txt",
		"/%2e%2e/outside/secret.txt",
		"/sub/%2e%2e/%2e%2e/outside/secret.txt",
		"/..%2foutside%2fsecret.txt",
		"/sub/..%5c..%5coutside%5csecret.txt",
		"/escape.txt",
		"//etc/passwd",
		"/%00",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode == 200 || strings.Contains(string(body), "top secret") || strings.Contains(string(body), "root:") {
			t.Errorf("GET %s = %d %q: escaped the root", target, resp.StatusCode, body)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.deb":         "application/vnd.debian.binary-package",
		"A.DEB":         "application/vnd.debian.binary-package",
		"x.json":        "application/json",
		"README.md":     "text/markdown; charset=utf-8",
		"index.html":    "text/html; charset=utf-8",
		"feed.xml":      "application/xml",
		"key.gpg":       "application/pgp-keys",
		"x.deb.asc":     "application/pgp-signature",
		"dists/Release": "text/plain; charset=utf-8",
		"InRelease":     "text/plain; charset=utf-8",
		"Packages.gz":   "application/gzip",
		"Release.gpg":   "application/pgp-signature",
		"blob":          "application/octet-stream",
		"x.unknownext":  "application/octet-stream",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestDigestCache(t *testing.T) {
	root, _ := tree(t)
	reg := metrics.NewRegistry()
	h, err := New(Options{Root: root, CacheEntries: 2, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	get := func(p string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s = %d", p, rec.Code)
		}
		return rec.Header().Get("ETag")
	}
	e1 := get("/sub/b.txt")
	if got := get("/sub/b.txt"); got != e1 {
		t.Errorf("ETag changed without a change: %s, %s", e1, got)
	}
	if hits, misses := value(t, reg, "artifactd_digest_cache_hits_total"), value(t, reg, "artifactd_digest_cache_misses_total"); hits != 1 || misses != 1 {
		t.Errorf("hits %v misses %v, want 1 and 1", hits, misses)
	}
	// A new version (content and mtime) gets a new ETag.
	p := filepath.Join(root, "sub", "b.txt")
	if err := os.WriteFile(p, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	if got := get("/sub/b.txt"); got != sha("changed") {
		t.Errorf("after change ETag = %s, want %s", got, sha("changed"))
	}
	// The cache is bounded.
	get("/notes.md")
	get("/index.json")
	if n := h.digests.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
	if n := value(t, reg, "artifactd_digest_cache_entries"); n != 2 {
		t.Errorf("entries gauge = %v, want 2", n)
	}
}

// value returns the value of the unlabelled counter or gauge name in reg.
func value(t *testing.T, reg *metrics.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestNewErrors(t *testing.T) {
	root, _ := tree(t)
	for _, tt := range []struct{ root, want string }{
		{filepath.Join(root, "missing"), "no such file or directory"},
		{filepath.Join(root, "notes.md"), "not a directory"},
	} {
		if _, err := New(Options{Root: tt.root}); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.root) {
			t.Errorf("New(%s) = %v, want error naming it and %q", tt.root, err, tt.want)
		}
	}
}
