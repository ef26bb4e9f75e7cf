package board

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/libs/buildinfo"
)

var (
	started = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	now     = started.Add(90*time.Minute + 5*time.Second)
)

func testBoard(health error) *Board {
	return New(Options{
		Title: `Can I <release>?`,
		Build: buildinfo.Info{Version: "1.2.3", Commit: "abc123", GoVersion: "go1.19.13", StartTime: started},
		Health: func() error {
			return health
		},
		Now: func() time.Time { return now },
	})
}

func TestInfoJSON(t *testing.T) {
	tests := []struct {
		name   string
		health error
		want   Health
	}{
		{"healthy", nil, Health{OK: true, Status: "ok"}},
		{"failing", errors.New("ledger unreachable"), Health{OK: false, Status: "failing", Error: "ledger unreachable"}},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		testBoard(tt.health).ServeInfo(rec, httptest.NewRequest("GET", "/api/info", nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %q", tt.name, rec.Code, rec.Header().Get("Content-Type"))
		}
		var got Info
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := Info{Schema: "releaseboard.info/v1", Service: "releaseboard", Title: "Can I <release>?", Version: "1.2.3", Commit: "abc123",
			GoVersion: "go1.19.13", StartTime: started, UptimeSeconds: 5405, Health: tt.want}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: info (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestInfoGolden pins the JSON document's exact form.
func TestInfoGolden(t *testing.T) {
	rec := httptest.NewRecorder()
	testBoard(nil).ServeInfo(rec, httptest.NewRequest("GET", "/api/info", nil))
	golden(t, "info.golden.json", rec.Body.String())
}

// TestPageGolden pins the rendered page.
func TestPageGolden(t *testing.T) {
	rec := httptest.NewRecorder()
	testBoard(errors.New("disk <full>")).ServePage(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"<title>Can I &lt;release&gt;?</title>",
		`Failing: disk &lt;full&gt;`,
		`<td id="version">1.2.3</td>`,
		"(up 1h30m5s)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	golden(t, "page.golden.html", body)
}

func TestHeadersAndRoutes(t *testing.T) {
	b := testBoard(nil)
	tests := []struct {
		method, path string
		serve        func(*Board) func(w *httptest.ResponseRecorder, path, method string)
		status       int
		header       map[string]string
		emptyBody    bool
	}{
		{"GET", "/", pageReq, 200, map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}, false},
		{"HEAD", "/", pageReq, 200, map[string]string{"Content-Type": "text/html; charset=utf-8"}, true},
		{"POST", "/", pageReq, 405, map[string]string{"Allow": "GET, HEAD"}, false},
		{"GET", "/other", pageReq, 404, nil, false},
		{"HEAD", "/api/info", apiReq, 200, map[string]string{"Content-Type": "application/json"}, true},
		{"DELETE", "/api/info", apiReq, 405, map[string]string{"Allow": "GET, HEAD"}, false},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		tt.serve(b)(rec, tt.path, tt.method)
		if rec.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		for k, v := range tt.header {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, got, v)
			}
		}
		if tt.emptyBody && rec.Body.Len() != 0 {
			t.Errorf("%s %s: body not empty", tt.method, tt.path)
		}
	}
	rec := httptest.NewRecorder()
	b.ServePage(rec, httptest.NewRequest("GET", "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func pageReq(b *Board) func(*httptest.ResponseRecorder, string, string) {
	return func(w *httptest.ResponseRecorder, path, method string) {
		b.ServePage(w, httptest.NewRequest(method, path, nil))
	}
}

func apiReq(b *Board) func(*httptest.ResponseRecorder, string, string) {
	return func(w *httptest.ResponseRecorder, path, method string) {
		b.ServeInfo(w, httptest.NewRequest(method, path, nil))
	}
}

// golden compares got with testdata/name; with UPDATE_GOLDEN=1 it rewrites
// the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; UPDATE_GOLDEN=1 rewrites it):\n%s", p, diff)
	}
}
