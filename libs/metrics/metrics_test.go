package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strideci/monorepo/libs/metrics"
)

func scrape(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	return rec.Body.String()
}

func TestRegistryHasRuntimeCollectors(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.BuildInfo("artifactd", "1.2.3", "abc", "go1.19")
	body := scrape(t, reg)
	for _, want := range []string{
		"go_goroutines ",
		"process_start_time_seconds ",
		`artifactd_build_info{commit="abc",goversion="go1.19",version="1.2.3"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestHTTPMiddleware(t *testing.T) {
	reg := metrics.NewRegistry()
	m := metrics.NewHTTP(reg)
	var sawReaderFrom bool
	h := m.Middleware("files", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawReaderFrom = w.(io.ReaderFrom)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/a", "/b", "/missing"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if !sawReaderFrom {
		t.Error("instrumented ResponseWriter lost io.ReaderFrom")
	}
	body := scrape(t, reg)
	for _, want := range []string{
		`http_requests_total{code="200",handler="files",method="get"} 2`,
		`http_requests_total{code="404",handler="files",method="get"} 1`,
		`http_request_duration_seconds_count{code="200",handler="files",method="get"} 2`,
		`http_requests_in_flight{handler="files"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, grep(body, "http_"))
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
