package board_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/board"
	"github.com/strideci/monorepo/tools/stride/internal/promote/promotetest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// scenario is the promotion scenario with a board on it (not yet
// following the ledger).
func scenario(t *testing.T) (*promotetest.Fixture, [3]string, *board.Board) {
	t.Helper()
	f := promotetest.New(t, promotetest.Config, nil)
	ids := f.Scenario()
	return f, ids, open(t, f)
}

func open(t *testing.T, f *promotetest.Fixture) *board.Board {
	t.Helper()
	cfg := t.TempDir() + "/environments.star"
	writeFile(t, cfg, promotetest.Config)
	b, err := board.New(context.Background(), board.Options{Repo: f.Git.Dir, Store: f.Store.Root(), Config: cfg,
		Now: func() time.Time { return f.Clock }, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func get(t *testing.T, url string, v interface{}) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v\n%s", url, err, body)
		}
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestPagesAndTwins: every page and its JSON twin say the same, from the
// scenario's ledger and store.
func TestPagesAndTwins(t *testing.T) {
	_, ids, b := scenario(t)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()

	var ov board.Overview
	get(t, srv.URL+"/api/overview", &ov)
	want := map[string]string{
		"dev":     "up to date",
		"uat":     "waiting for: soak 20m",
		"preprod": "up to date",
		"prod":    "waiting for: approval from @team-payments, soak 21h50m",
	}
	for _, e := range ov.Envs {
		if w := want[e.Env]; !strings.Contains(e.Text, w) {
			t.Errorf("%s: verdict %q, want %q", e.Env, e.Text, w)
		}
	}
	if len(ov.Services) != 1 || ov.Services[0].Service != "hello" || ov.Services[0].Cells[3].Build != ids[0] {
		t.Errorf("services: %+v", ov.Services)
	}
	code, hdr, html := get(t, srv.URL+"/", nil)
	if code != 200 || hdr.Get("Content-Security-Policy") != board.CSP || !strings.Contains(html, "approval from @team-payments") {
		t.Errorf("GET / = %d %q\n%s", code, hdr.Get("Content-Security-Policy"), html)
	}

	var bp board.BuildPage
	get(t, srv.URL+"/api/builds/"+ids[1][:8], &bp)
	if bp.Build != ids[1] || bp.Tests.Total != 2 || bp.Tests.Flaky != 1 || bp.Perf == nil || len(bp.Perf.Trends) != 1 || bp.Owners.OK {
		t.Errorf("build page: %+v", bp)
	}
	if bp.Perf != nil && len(bp.Perf.Trends) == 1 && len(bp.Perf.Trends[0].Points) != 2 {
		t.Errorf("trend: %+v", bp.Perf.Trends[0])
	}
	_, _, html = get(t, srv.URL+"/builds/"+ids[1], nil)
	for _, w := range []string{"<svg", "hello: faster greeting", "//services/hello:flaky_test", "@team-payments", "perf regression accepted"} {
		if !strings.Contains(html, w) {
			t.Errorf("build page lacks %q", w)
		}
	}

	var ep board.EnvPage
	get(t, srv.URL+"/api/envs/prod", &ep)
	if ep.DORA.Deployments != 1 || ep.DORA.LeadTimeMedian == "" || len(ep.History) != 1 || len(ep.DORA.LeadTime.Points) != 1 {
		t.Errorf("env page: %+v", ep.DORA)
	}
	_, _, html = get(t, srv.URL+"/envs/prod", nil)
	if strings.Count(html, "<svg") != 2 {
		t.Errorf("env page: want 2 charts\n%s", html)
	}

	var cp struct {
		Schema string
		Status struct{ Head, Verdict string }
	}
	get(t, srv.URL+"/api/change?base="+ids[1]+"^&head="+ids[1], &cp)
	if cp.Schema != board.ChangeSchema || cp.Status.Head != ids[1] {
		t.Errorf("change: %+v", cp)
	}
	_, _, html = get(t, srv.URL+"/change?base="+ids[1]+"^&head="+ids[1], nil)
	if !strings.Contains(html, "<table>") || !strings.Contains(html, "stride status: ") {
		t.Errorf("change page:\n%s", html)
	}

	for _, bad := range []string{"/builds/ffffffff", "/api/envs/nope", "/nope"} {
		if code, _, _ := get(t, srv.URL+bad, nil); code != 404 {
			t.Errorf("%s = %d, want 404", bad, code)
		}
	}
	if code, _, _ := get(t, srv.URL+"/api/change?head=no-such-rev", nil); code != 400 {
		t.Errorf("bad change = %d, want 400", code)
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("POST / = %v %v", resp.StatusCode, err)
	}
}

// TestLiveEvent: an event appended to the ledger reaches a live-update
// client within 2 s, with the new verdicts.
func TestLiveEvent(t *testing.T) {
	f, _, b := scenario(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for b.Clients() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	f.Hold("prod", "release freeze <b>", true)
	// The event first (with the verdicts as they were), then the
	// verdicts recomputed.
	deadline := time.After(2 * time.Second)
	gotEvent := false
	for {
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, "data: ") {
				continue
			}
			var live board.Live
			if err := json.Unmarshal([]byte(l[6:]), &live); err != nil {
				t.Fatal(err)
			}
			if live.Event != nil && live.Event.Kind == "hold" {
				if live.Event.Reason != "release freeze <b>" {
					t.Errorf("live event: %+v", live.Event)
				}
				gotEvent = true
				t.Logf("event after %v", time.Since(start))
			}
			if gotEvent && live.Event == nil && strings.Contains(live.Verdicts[3].Text, "unhold of prod") {
				t.Logf("verdicts after %v", time.Since(start))
				return
			}
		case <-deadline:
			t.Fatalf("no event and new verdicts within 2 s (event: %v)", gotEvent)
		}
	}
}

// TestEscaping: a commit subject, a reason and a test name with markup
// stay text in every page.
func TestEscaping(t *testing.T) {
	f := promotetest.New(t, promotetest.Config, nil)
	evil := `<script>alert("x")</script>"'><img src=x onerror=alert(1)>`
	id := f.Publish(promotetest.Build{Subject: "hello: " + evil, Payload: "x", NsPerOp: 1000,
		Tests: []report.TestResult{{Label: "//t:" + evil, Status: "FLAKY", Flaky: true}}})
	f.Auto()
	f.Hold("uat", evil, true)
	b := open(t, f)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	for _, p := range []string{"/", "/builds/" + id, "/envs/uat", "/change?base=" + id + "^&head=" + id} {
		_, _, html := get(t, srv.URL+p, nil)
		for _, bad := range []string{"<script>alert", "<img src=x", `"'><`} {
			if strings.Contains(html, bad) {
				t.Errorf("%s contains %q unescaped", p, bad)
			}
		}
		if !strings.Contains(html, "&lt;script&gt;alert(") {
			t.Errorf("%s does not show the markup as text", p)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
