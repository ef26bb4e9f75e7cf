package storeserver

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// serve runs one request with a logger in its context: the recorder and
// the log.
func serve(h http.Handler, target string) (*httptest.ResponseRecorder, string) {
	var logs bytes.Buffer
	r := httptest.NewRequest("GET", "http://artifacts.example/", nil)
	r.URL = &url.URL{Path: target}
	r = r.WithContext(log.NewContext(r.Context(), log.New(&logs, log.Options{Level: log.LevelDebug})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec, logs.String()
}

func newHandler(t testing.TB, root string) *Handler {
	t.Helper()
	h, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStoreRedirects is issue 17's item 5: /builds/https:evil.example
// answered "Location: https:evil.example/", another site. Redirects are
// relative and only for names that can be builds.
func TestStoreRedirects(t *testing.T) {
	f := &fixture{root: t.TempDir()}
	f.build(t, "abc1", 1, map[string][]byte{"docs/index.html": []byte("x")})
	h := newHandler(t, f.root)
	for _, tc := range []struct {
		path, loc string
		code      int
	}{
		{"/builds/https:evil.example", "", 404},
		{"/builds/http:", "", 404},
		{"/docs/https:evil.example", "", 404},
		{"/builds//evil.example", "", 404},
		{"/builds/abc1", "./abc1/", 301},
		{"/docs/abc1", "./abc1/", 301},
		{"/docs/latest", "./latest/", 301},
	} {
		rec, _ := serve(h, tc.path)
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.loc {
			t.Errorf("GET %s: %d Location %q, want %d %q", tc.path, rec.Code, rec.Header().Get("Location"), tc.code, tc.loc)
		}
	}
}

// TestStoreLongPaths is issue 17's item 6 for the store's areas.
func TestStoreLongPaths(t *testing.T) {
	f := &fixture{root: t.TempDir()}
	f.build(t, "abc1", 1, map[string][]byte{"docs/index.html": []byte("x")})
	h := newHandler(t, f.root)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/builds/" + strings.Repeat("a", 300) + "/", 404},
		{"/builds/abc1/" + strings.Repeat("d", 300), 404},
		{"/docs/abc1/" + strings.Repeat("d/", 3000), 414},
		{"/apt/" + strings.Repeat("x", 1<<20), 414},
		{"/builds/" + strings.Repeat("x", 8<<10), 414},
	} {
		rec, logs := serve(h, tc.path)
		if rec.Code != tc.code || logs != "" {
			t.Errorf("GET (%d bytes): %d, want %d; logs %q", len(tc.path), rec.Code, tc.code, logs)
		}
	}
}

// TestStoreNonRegularFiles is issue 17's item 7 for blobs and manifests: a
// FIFO is a 404 at once, not a request that hangs.
func TestStoreNonRegularFiles(t *testing.T) {
	f := &fixture{root: t.TempDir()}
	content := []byte("will be a fifo")
	f.build(t, "abc1", 1, map[string][]byte{"docs/index.html": content})
	d := digest(content)
	p := filepath.Join(f.root, "blobs", "sha256", d[7:9], d[7:])
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(f.root, "builds", "fifo1.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, f.root)
	for _, path := range []string{"/docs/abc1/", "/builds/fifo1/", "/builds/"} {
		done := make(chan int, 1)
		go func() {
			rec, _ := serve(h, path)
			done <- rec.Code
		}()
		select {
		case code := <-done:
			if want := map[string]int{"/builds/": 200}[path]; code != want && !(want == 0 && code == 404) {
				t.Errorf("GET %s: %d", path, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s hangs", path)
		}
	}
}

// TestBuildsPages is issue 17's item 8: /builds/ is paginated and its
// listing cached until the builds directory changes.
func TestBuildsPages(t *testing.T) {
	f := &fixture{root: t.TempDir()}
	for i := 1; i <= 25; i++ {
		f.build(t, fmt.Sprintf("b%02d", i), i, nil)
	}
	old := time.Now().Add(-time.Minute)
	builds := filepath.Join(f.root, "builds")
	os.Chtimes(builds, old, old)
	h := newHandler(t, f.root)
	var all []string
	next := "/builds/?limit=10"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		u, _ := url.Parse(next)
		r := httptest.NewRequest("GET", "http://artifacts.example"+next, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var page []BuildSummary
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 || rec.Header().Get("X-Total-Count") != "25" {
			t.Fatalf("GET %s: %d %v %s", next, rec.Code, err, rec.Body)
		}
		for _, b := range page {
			all = append(all, b.Build)
		}
		next = ""
		if link := rec.Header().Get("Link"); link != "" {
			ref := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			l, _ := url.Parse(ref)
			next = u.ResolveReference(l).String()
		}
	}
	if len(all) != 25 || all[0] != "b25" || all[24] != "b01" {
		t.Fatalf("pages gave %v", all)
	}
	// Cached: a manifest changed behind the builds directory's back is not
	// seen...
	p := filepath.Join(builds, "b25.json")
	os.Chmod(p, 0o644)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"number": 25`), []byte(`"number": 0`), 1), 0o644)
	rec, _ := serve(h, "/builds/")
	if !strings.Contains(rec.Body.String(), `"build": "b25",`) || strings.Index(rec.Body.String(), "b25") > strings.Index(rec.Body.String(), "b24") {
		t.Fatalf("listing was not cached")
	}
	// ...until the directory changes (a publish adds a manifest).
	f.build(t, "b26", 26, nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://artifacts.example/builds/?limit=1", nil))
	var page []BuildSummary
	json.Unmarshal(rec.Body.Bytes(), &page)
	if len(page) != 1 || page[0].Build != "b26" || rec.Header().Get("X-Total-Count") != "26" {
		t.Fatalf("after a publish: %s", rec.Body)
	}
	for _, bad := range []string{"/builds/?limit=0", "/builds/?limit=5000", "/builds/?limit=x"} {
		r := httptest.NewRequest("GET", "http://artifacts.example"+bad, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 400 {
			t.Errorf("GET %s: %d, want 400", bad, rec.Code)
		}
	}
	if rec, _ := serve(h, "/builds/"); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	r := httptest.NewRequest("GET", "http://artifacts.example/builds/?after=nope", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 404 {
		t.Errorf("after=nope: %d", rec.Code)
	}
}

// BenchmarkBuildsList serves /builds/ of a store with 5,000 builds: the
// first page from the cached listing, against reading every manifest (the
// listing before issue 17, measured in the same run: compare the two).
func BenchmarkBuildsList(b *testing.B) {
	f := &fixture{root: b.TempDir()}
	for i := 1; i <= 5000; i++ {
		f.build(b, fmt.Sprintf("b%05d", i), i, nil)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(filepath.Join(f.root, "builds"), old, old)
	h := newHandler(b, f.root)
	b.Run("page-cached", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/builds/", nil))
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("full-uncached-baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c, err := h.readBuilds(filepath.Join(f.root, "builds"), 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.MarshalIndent(c.builds, "", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
}
