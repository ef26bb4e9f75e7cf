package storeserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/strideci/monorepo/libs/log"
)

// FuzzPaths sends arbitrary paths to the store's handler (which serves
// /apt/ through package server's file handler): nothing panics or hangs (a
// FIFO sits in the tree), nothing outside the store is served, no answer
// is a 500 or logs an error, and every redirect stays on the origin.
//
//	go test -run='^$' -fuzz=FuzzPaths -fuzztime=10m -parallel=1 ./services/artifactd/internal/storeserver/
func FuzzPaths(f *testing.F) {
	base := f.TempDir()
	root := filepath.Join(base, "store")
	fx := &fixture{root: root}
	fx.build(f, "abc1", 1, map[string][]byte{"debs/hello_1_amd64.deb": []byte("!<arch>\nhello"), "docs/index.html": []byte("<h1>docs</h1>"), "docs/a/b.html": []byte("b")})
	public := filepath.Join(root, "aptly", "public")
	for name, content := range map[string]string{
		"dists/dev/Release":               "Origin: stride\n",
		"pool/main/h/hello/hello_1.deb":   "!<arch>\nhello",
		"stride-archive-keyring.gpg":      "key",
		"https:evil.example/x":            "x",
		"../outside/secret.txt":           "top secret",
		"dists/dev/main/binary-amd64/x.y": "y",
	} {
		p := filepath.Join(public, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.Symlink("../../outside/secret.txt", filepath.Join(public, "escape.txt"))
	os.Symlink("../outside", filepath.Join(public, "escape-dir"))
	if err := syscall.Mkfifo(filepath.Join(public, "pool", "fifo.deb"), 0o644); err != nil {
		f.Skipf("mkfifo: %v", err)
	}
	h := newHandler(f, root)
	for _, s := range []string{
		"/builds/", "/builds/abc1", "/builds/abc1/", "/builds/abc1/debs/hello_1_amd64.deb", "/docs/latest", "/docs/abc1/a/b.html",
		"/apt/dists/dev", "/apt/dists/dev/Release", "/apt/pool/fifo.deb", "/apt/escape.txt", "/apt/escape-dir/secret.txt",
		"/apt/https:evil.example", "/builds/https:evil.example", "/builds//evil.example", "/apt/../outside/secret.txt",
		"/apt/" + strings.Repeat("a", 300), "/builds/abc1/%2e%2e/x", "/apt/dists/dev/\x00", "/apt/dists\\dev", "/x?y#z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) > 16<<10 {
			return
		}
		if !strings.HasPrefix(p, "/") { // net/http only passes paths that start with one
			p = "/" + p
		}
		var logs bytes.Buffer
		r := httptest.NewRequest("GET", "http://artifacts.example/", nil)
		r.URL = &url.URL{Path: p}
		r = r.WithContext(log.NewContext(r.Context(), log.New(&logs, log.Options{Level: log.LevelDebug})))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("GET %q: %d %s", p, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "top secret") {
			t.Fatalf("GET %q served a file outside the store", p)
		}
		if strings.Contains(logs.String(), `"level":"error"`) {
			t.Fatalf("GET %q logged an error: %s", p, logs.String())
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			if rec.Code != http.StatusMovedPermanently {
				t.Fatalf("GET %q: Location with %d", p, rec.Code)
			}
			base, _ := url.Parse("https://artifacts.example" + (&url.URL{Path: p}).EscapedPath())
			l, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("GET %q: Location %q: %v", p, loc, err)
			}
			if got := base.ResolveReference(l); got.Scheme != "https" || got.Host != "artifacts.example" {
				t.Fatalf("GET %q: Location %q leaves the origin (%s)", p, loc, got)
			}
		}
	})
}
