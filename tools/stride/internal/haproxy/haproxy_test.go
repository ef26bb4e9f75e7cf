package haproxy

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestRender(t *testing.T) {
	c := Config{Socket: "/run/env/haproxy.sock", PIDFile: "/run/env/haproxy.pid", Services: []Service{
		{Name: "releaseboard", Port: 8091, Servers: []int{9101, 9102}},
		{Name: "artifactd", Port: 8090, Servers: []int{9001, 9002}, HealthPath: "/healthz"},
	}}
	got := c.Render()
	golden := "testdata/two-services.cfg"
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Render differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestParseStats(t *testing.T) {
	out := "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,hrsp_5xx,\n" +
		"fe_a,FRONTEND,,,1,2,2000,10,0,0,0,0,3,,,,,OPEN,0,\n" +
		"be_a,s1,0,0,1,1,,7,0,0,,0,,1,2,4,1,DRAIN,5,\n" +
		"be_a,BACKEND,0,0,1,1,200,7,0,0,0,0,,1,2,4,1,UP,5,\n\n"
	stats, err := parseStats(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Stat{
		{Proxy: "fe_a", Name: "FRONTEND", Status: "OPEN", Cur: 1, Total: 10, ErrReq: 3},
		{Proxy: "be_a", Name: "s1", Status: "DRAIN", Cur: 1, Total: 7, ErrConn: 1, ErrResp: 2, Retries: 4, Redispatches: 1, Resp5xx: 5},
		{Proxy: "be_a", Name: "BACKEND", Status: "UP", Cur: 1, Total: 7, ErrConn: 1, ErrResp: 2, Retries: 4, Redispatches: 1, Resp5xx: 5},
	}
	if fmt.Sprint(stats) != fmt.Sprint(want) {
		t.Errorf("parseStats:\n got %+v\nwant %+v", stats, want)
	}
	if n := stats[1].Errors(); n != 8 {
		t.Errorf("Errors() = %d, want 8", n)
	}
	if _, err := parseStats("Unknown command\n"); err == nil {
		t.Error("parseStats of a non-CSV answer: no error")
	}
}

// TestRuntime runs a real HAProxy in front of two servers and drives it
// through the runtime API: the health check sees them UP, a drained
// server gets no new requests, maint and ready.
func TestRuntime(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: HAProxy runs in go test ./... (ci/test)")
	}
	if _, err := Path(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	var hits [2]int64
	var servers []int
	for i := range hits {
		i := i
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/readyz" {
				atomic.AddInt64(&hits[i], 1)
			}
			fmt.Fprintln(w, "ok", i)
		}))
		defer ts.Close()
		servers = append(servers, ts.Listener.Addr().(*net.TCPAddr).Port)
	}
	dir, err := os.MkdirTemp("", "hap-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c := Config{Socket: filepath.Join(dir, "s.sock"), PIDFile: filepath.Join(dir, "pid"), Services: []Service{{Name: "a", Port: port, Servers: servers}}}
	cfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(c.Render()), 0o644)
	ctx := context.Background()
	if err := Check(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := Start(ctx, cfg, c.PIDFile); err != nil {
		t.Fatal(err)
	}
	defer Stop(c.PIDFile, 5*time.Second)
	cl := &Client{Socket: c.Socket}
	waitStatus := func(server, want string) {
		t.Helper()
		var st Stat
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if st, err = cl.Server(Backend("a"), server); err == nil && st.Status == want {
				return
			}
		}
		t.Fatalf("%s: status %q (%v), want %s", server, st.Status, err, want)
	}
	waitStatus("s1", "UP")
	waitStatus("s2", "UP")
	if err := cl.SetState(Backend("a"), "s1", Drain); err != nil {
		t.Fatal(err)
	}
	waitStatus("s1", "DRAIN")
	atomic.StoreInt64(&hits[0], 0)
	atomic.StoreInt64(&hits[1], 0)
	for i := 0; i < 10; i++ {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("through the balancer: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	if h0, h1 := atomic.LoadInt64(&hits[0]), atomic.LoadInt64(&hits[1]); h0 != 0 || h1 != 10 {
		t.Errorf("with s1 drained, the servers got %d and %d requests, want 0 and 10", h0, h1)
	}
	if err := cl.SetState(Backend("a"), "s1", Maint); err != nil {
		t.Fatal(err)
	}
	waitStatus("s1", "MAINT")
	if err := cl.SetState(Backend("a"), "s1", Ready); err != nil {
		t.Fatal(err)
	}
	waitStatus("s1", "UP")
	if err := cl.SetState(Backend("a"), "s9", Ready); err == nil || !strings.Contains(err.Error(), "s9") {
		t.Errorf("SetState of an unknown server: %v", err)
	}
}
