package storeserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"net/http"
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
