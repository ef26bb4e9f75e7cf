package storeserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/libs/metrics"
)

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// fixture lays out a store as stride writes it (docs/store.md): blobs under
// blobs/sha256/xx/, manifests under builds/, aptly's tree under aptly/public.
type fixture struct {
	root string
}

func (f *fixture) blob(t testing.TB, content []byte) string {
	t.Helper()
	d := digest(content)
	p := filepath.Join(f.root, "blobs", "sha256", d[7:9], d[7:])
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, content, 0o444); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) build(t testing.TB, id string, number int, files map[string][]byte) {
	t.Helper()
	m := Manifest{Schema: ManifestSchema, Build: id, Commit: id, Number: number, Time: time.Date(2024, 5, 1, 0, 0, number, 0, time.UTC),
		Packages: []Package{{Name: "hello", Version: fmt.Sprintf("0.%d.0+g%s", number, id)}}}
	for name, content := range files {
		m.Artifacts = append(m.Artifacts, Artifact{Name: name, Kind: "x", Digest: f.blob(t, content), Size: int64(len(content))})
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	os.MkdirAll(filepath.Join(f.root, "builds"), 0o755)
	if err := os.WriteFile(filepath.Join(f.root, "builds", id+".json"), b, 0o444); err != nil {
		t.Fatal(err)
	}
}

func newServer(t testing.TB, root string) (*httptest.Server, *metrics.Registry) {
	t.Helper()
	s := httpserver.New(httpserver.Config{Logger: log.New(io.Discard, log.Options{})})
	h, err := New(Options{Root: root, Registry: s.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Routes {
		s.Handle(p, h)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, s.Registry()
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestServeStore(t *testing.T) {
	f := &fixture{root: t.TempDir()}
	deb := []byte("!<arch>\n" + strings.Repeat("d", 1000))
	f.build(t, "aaa1", 1, map[string][]byte{"debs/hello_0.1.0+gaaa1_amd64.deb": deb, "docs/index.html": []byte("<h1>old</h1>")})
	f.build(t, "bbb2", 2, map[string][]byte{"debs/hello_0.1.0+gaaa1_amd64.deb": deb, "docs/index.html": []byte("<h1>docs</h1>"), "docs/guide/a.html": []byte("A"), "test/junit.xml": []byte("<testsuites/>")})
	os.MkdirAll(filepath.Join(f.root, "aptly", "public", "dists", "dev"), 0o755)
	os.WriteFile(filepath.Join(f.root, "aptly", "public", "dists", "dev", "InRelease"), []byte("signed"), 0o644)
	ts, reg := newServer(t, f.root)

	tests := []struct {
		path   string
		header map[string]string
		code   int
		ctype  string
		body   string // prefix
		etag   string
	}{
		{path: "/builds/bbb2/debs/hello_0.1.0+gaaa1_amd64.deb", code: 200, ctype: "application/vnd.debian.binary-package", body: "!<arch>", etag: `"` + digest(deb)[7:] + `"`},
		{path: "/builds/bbb2/debs/hello_0.1.0+gaaa1_amd64.deb", header: map[string]string{"Range": "bytes=0-6"}, code: 206, body: "!<arch>"},
		{path: "/builds/bbb2/debs/hello_0.1.0+gaaa1_amd64.deb", header: map[string]string{"If-None-Match": `"` + digest(deb)[7:] + `"`}, code: 304},
		{path: "/builds/bbb2/test/junit.xml", code: 200, ctype: "application/xml", body: "<testsuites/>"},
		{path: "/builds/bbb2/", code: 200, ctype: "application/json", body: "{"},
		{path: "/builds/bbb2/manifest.json", code: 200, ctype: "application/json", body: "{"},
		{path: "/builds/bbb2/nope.txt", code: 404},
		{path: "/builds/zzz9/", code: 404},
		{path: "/builds/..%2f..%2fetc/passwd", code: 404},
		{path: "/docs/bbb2/", code: 200, ctype: "text/html; charset=utf-8", body: "<h1>docs</h1>"},
		{path: "/docs/bbb2/guide/a.html", code: 200, body: "A"},
		{path: "/docs/latest/", code: 200, body: "<h1>docs</h1>"},
		{path: "/docs/aaa1/", code: 200, body: "<h1>old</h1>"},
		{path: "/apt/dists/dev/InRelease", code: 200, ctype: "text/plain; charset=utf-8", body: "signed"},
		{path: "/apt/dists/none/InRelease", code: 404},
	}
	for _, tc := range tests {
		resp, body := get(t, ts.URL+tc.path, tc.header)
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d (%s)", tc.path, resp.StatusCode, tc.code, body)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if !strings.HasPrefix(body, tc.body) || (tc.code == 206 && body != tc.body) {
			t.Errorf("GET %s: body %.40q, want %q", tc.path, body, tc.body)
		}
		if tc.etag != "" && resp.Header.Get("ETag") != tc.etag {
			t.Errorf("GET %s: ETag %s, want %s", tc.path, resp.Header.Get("ETag"), tc.etag)
		}
	}
	resp, body := get(t, ts.URL+"/builds/", nil)
	var list []BuildSummary
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list) != 2 || list[0].Build != "bbb2" {
		t.Errorf("GET /builds/ = %d %v %s", resp.StatusCode, err, body)
	}

	// A damaged blob is refused, and counted.
	p := filepath.Join(f.root, "blobs", "sha256", digest(deb)[7:9], digest(deb)[7:])
	os.Chmod(p, 0o644)
	bad := append([]byte{}, deb...)
	bad[10] = 'X'
	os.WriteFile(p, bad, 0o644)
	future := time.Now().Add(time.Hour)
	os.Chtimes(p, future, future)
	resp, body = get(t, ts.URL+"/builds/aaa1/debs/hello_0.1.0+gaaa1_amd64.deb", nil)
	if resp.StatusCode != 500 || strings.Contains(body, "!<arch>") {
		t.Errorf("corrupt blob served: %d %.40q", resp.StatusCode, body)
	}
	if got := mustCounter(t, reg, "artifactd_store_corrupt_blobs_total").value(); got != 1 {
		t.Errorf("corrupt counter = %v, want 1", got)
	}
	resp, body = get(t, ts.URL+"/metrics", nil)
	for _, want := range []string{`artifactd_store_requests_total{area="builds",result="ok"}`, `artifactd_store_requests_total{area="builds",result="corrupt"} 1`, `artifactd_store_requests_total{area="apt",result="not_found"} 1`, `http_requests_total{code="200",handler="/docs/",method="get"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func mustCounter(t *testing.T, reg *metrics.Registry, name string) *counterFromRegistry {
	return &counterFromRegistry{t, reg, name}
}

// counterFromRegistry reads one metric's value through Gather.
type counterFromRegistry struct {
	t    *testing.T
	reg  *metrics.Registry
	name string
}

func (c *counterFromRegistry) value() float64 {
	mfs, err := c.reg.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == c.name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// TestStrideGoldenManifest decodes the golden manifest of stride's store
// package: the schema artifactd reads is the one stride writes.
func TestStrideGoldenManifest(t *testing.T) {
	b, err := os.ReadFile("../../../../tools/stride/internal/store/testdata/manifest.golden.json")
	if os.IsNotExist(err) {
		t.Skip("stride's golden manifest is not in this sandbox")
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) == 0 || len(m.Packages) == 0 || m.Number == 0 || m.Build == "" {
		t.Errorf("decoded %+v", m)
	}
}
