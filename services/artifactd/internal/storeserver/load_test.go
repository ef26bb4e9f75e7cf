package storeserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

var (
	loadRequests = flag.Int("load.requests", 96, "downloads in TestLoadDeb")
	loadClients  = flag.Int("load.clients", 32, "concurrent clients in TestLoadDeb")
	loadSeconds  = flag.Duration("load.max", 30*time.Second, "time bound of TestLoadDeb")
)

// TestLoadDeb downloads a 10 MiB .deb through artifactd's full HTTP stack on
// 127.0.0.1 from 32 concurrent clients, checks every body's sha256 against
// the digest, and logs requests/s, throughput and latency percentiles
// (go test -v -run TestLoadDeb ./services/artifactd/internal/storeserver).
// It is bounded in requests and time and only talks to 127.0.0.1.
func TestLoadDeb(t *testing.T) {
	const size = 10 << 20
	deb := make([]byte, size)
	x := uint64(88172645463325252)
	for i := range deb { // incompressible, deterministic
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		deb[i] = byte(x)
	}
	copy(deb, "!<arch>\n")
	f := &fixture{root: t.TempDir()}
	f.build(t, "load1", 1, map[string][]byte{"debs/big_1.0_amd64.deb": deb})
	ts, _ := newServer(t, f.root)
	url := ts.URL + "/builds/load1/debs/big_1.0_amd64.deb"
	sum := sha256.Sum256(deb)
	want := hex.EncodeToString(sum[:])

	ctx, cancel := context.WithTimeout(context.Background(), *loadSeconds)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *loadClients, DisableCompression: true}}
	defer client.CloseIdleConnections()
	jobs := make(chan int)
	var mu sync.Mutex
	var lat []time.Duration
	var failures int
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *loadClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t0 := time.Now()
				ok := download(ctx, client, url, want)
				d := time.Since(t0)
				mu.Lock()
				if ok {
					lat = append(lat, d)
				} else {
					failures++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *loadRequests && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if failures > 0 {
		t.Fatalf("%d of %d downloads failed or had wrong bytes", failures, failures+len(lat))
	}
	if len(lat) == 0 {
		t.Fatal("no download finished")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	rps := float64(len(lat)) / elapsed.Seconds()
	t.Logf("load: %d downloads of a 10 MiB .deb, %d clients, %.2fs: %.1f req/s, %.0f MiB/s, latency p50 %v p90 %v p99 %v max %v",
		len(lat), *loadClients, elapsed.Seconds(), rps, rps*size/(1<<20),
		pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

func download(ctx context.Context, c *http.Client, url, want string) bool {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil || resp.StatusCode != 200 {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == want
}

var loadBuilds = flag.Int("load.builds", 0, "builds in TestLoadBuildsList (0 skips it; ci/bench publish uses 5000)")

// TestLoadBuildsList serves /builds/ of a store with -load.builds builds to
// 8 concurrent clients on 127.0.0.1 for 3 s each way: the cached first page
// against the whole listing read from the manifests on every request (what
// /builds/ did before issue 17), in the same run, and logs requests/s and
// their ratio.
func TestLoadBuildsList(t *testing.T) {
	if *loadBuilds == 0 {
		t.Skip("skipping: -load.builds=N runs it (ci/bench publish)")
	}
	f := &fixture{root: t.TempDir()}
	for i := 1; i <= *loadBuilds; i++ {
		f.build(t, fmt.Sprintf("b%05d", i), i, nil)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(filepath.Join(f.root, "builds"), old, old)
	h := newHandler(t, f.root)
	whole := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.readBuilds(filepath.Join(f.root, "builds"), 0)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		b, _ := json.MarshalIndent(c.builds, "", "  ")
		w.Write(b)
	})
	rate := func(handler http.Handler) float64 {
		ts := httptest.NewServer(handler)
		defer ts.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		defer client.CloseIdleConnections()
		var n int64
		var mu sync.Mutex
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		for c := 0; c < 8; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					resp, err := client.Get(ts.URL + "/builds/")
					if err != nil {
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						n++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return float64(n) / 3
	}
	paged, full := rate(h), rate(whole)
	t.Logf("load: /builds/ of %d builds, 8 clients: a cached page %.0f req/s, the whole listing rebuilt per request %.1f req/s: %.0fx",
		*loadBuilds, paged, full, paged/full)
}
