package board_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/board"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote/promotebench"
)

var (
	benchFlag = flag.Bool("board.bench", false, "run the board's benchmark (ci/bench board)")
	benchDir  = flag.String("board.dir", "", "where to generate the benchmark's repository and store (default: a temporary directory)")
	benchN    = flag.Int("board.requests", 1000, "overview requests to time")
	benchSSE  = flag.Int("board.clients", 100, "concurrent live-update clients")
)

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func timeRequests(t *testing.T, h http.Handler, path string, n int) []time.Duration {
	t.Helper()
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		ds = append(ds, time.Since(start))
		if rec.Code != 200 {
			t.Fatalf("GET %s = %d", path, rec.Code)
		}
	}
	return ds
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// TestBench is `ci/bench board`: 1,000 builds and 10,000 ledger events
// (promotebench's generator: the store's and the ledger's writers), the
// overview's render time (p50, p99) against the JSON twin and a static
// file served by the same handler, and 100 live-update clients on
// 127.0.0.1 each waiting for an appended event.
func TestBench(t *testing.T) {
	if !*benchFlag {
		t.Skip("ci/bench board runs it (-board.bench)")
	}
	ctx := context.Background()
	dir := *benchDir
	if dir == "" {
		dir = t.TempDir()
	}
	start := time.Now()
	if err := promotebench.Generate(ctx, dir, 1000, 10000, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated 1,000 builds and 10,000 events in %v", time.Since(start).Round(time.Millisecond))
	repo := filepath.Join(dir, "repo")
	start = time.Now()
	b, err := board.New(ctx, board.Options{Repo: repo, Store: filepath.Join(dir, "store"), Poll: 100 * time.Millisecond, MaxClients: *benchSSE})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cold := time.Since(start)
	if n := b.Overview().Events; n != 10000 {
		t.Fatalf("overview of %d events, want 10000", n)
	}
	h := b.Handler()
	timeRequests(t, h, "/", 50) // warm up
	html := timeRequests(t, h, "/", *benchN)
	js := timeRequests(t, h, "/api/overview", *benchN)
	static := timeRequests(t, h, "/static/board.css", *benchN)
	fmt.Printf("board: cold load (ledger of 10,000 events, 1,000 manifests, the robot's dry run): %s\n", ms(cold))
	fmt.Printf("board: overview HTML   p50 %s  p99 %s (goal p99 < 50 ms)\n", ms(percentile(html, .5)), ms(percentile(html, .99)))
	fmt.Printf("board: overview JSON   p50 %s  p99 %s\n", ms(percentile(js, .5)), ms(percentile(js, .99)))
	fmt.Printf("board: static file    p50 %s  p99 %s\n", ms(percentile(static, .5)), ms(percentile(static, .99)))
	fmt.Printf("board: overview HTML p99 / JSON twin p99 (baseline: the same value, encoding/json) = %.2fx\n",
		float64(percentile(html, .99))/float64(percentile(js, .99)))

	// Live updates: N clients, one appended event.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go b.Run(rctx)
	srv := httptest.NewServer(h) // 127.0.0.1
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: *benchSSE}}
	got := make(chan time.Time, *benchSSE)
	var wg sync.WaitGroup
	for i := 0; i < *benchSSE; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(srv.URL + "/events")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"reason":"bench live"`) {
					got <- time.Now()
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for b.Clients() < *benchSSE && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.Clients() != *benchSSE {
		t.Fatalf("%d of %d clients connected", b.Clients(), *benchSSE)
	}
	r, err := gitrepo.Open(repo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	appended := time.Now()
	if _, err := ledger.Open(r).Append(ctx, ledger.Event{Kind: ledger.KindHold, Env: "uat", Reason: "bench live", Actor: "bench"}); err != nil {
		t.Fatal(err)
	}
	appendTook := time.Since(appended)
	var lat []time.Duration
	timeout := time.After(10 * time.Second)
	for len(lat) < *benchSSE {
		select {
		case at := <-got:
			lat = append(lat, at.Sub(appended))
		case <-timeout:
			t.Fatalf("only %d of %d clients got the event within 10 s", len(lat), *benchSSE)
		}
	}
	late := 0
	for _, d := range lat {
		if d > 2*time.Second {
			late++
		}
	}
	fmt.Printf("board: %d live clients on 127.0.0.1: event received p50 %s, p99 %s, max %s after the append started; %d later than 2 s (goal 0)\n",
		*benchSSE, ms(percentile(lat, .5)), ms(percentile(lat, .99)), ms(percentile(lat, 1)), late)
	fmt.Printf("board: (the append itself, ledger.Append reading and rewriting its cache of 10,000 events, took %s; max after it returned: %s)\n",
		ms(appendTook), ms(percentile(lat, 1)-appendTook))
	cancel()
	b.Close()
	srv.CloseClientConnections()
	wg.Wait()
}
