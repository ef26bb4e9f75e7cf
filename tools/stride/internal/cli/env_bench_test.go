package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/env/envtest"
)

// benchEnv turns TestEnvBench on (ci/bench env).
const benchEnv = "STRIDE_ENV_BENCH"

// sample is one request's start and latency (0: failed).
type sample struct {
	at  time.Time
	lat time.Duration
}

// load sends requests to urls, clients per URL, each one after the other
// with a pause, until stop; it returns every request's sample.
func load(urls []string, clients int, pause time.Duration, stop <-chan struct{}) func() []sample {
	var mu sync.Mutex
	var all []sample
	var wg sync.WaitGroup
	for _, u := range urls {
		for c := 0; c < clients; c++ {
			u := u
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := &http.Client{Timeout: 10 * time.Second}
				var mine []sample
				for {
					select {
					case <-stop:
						mu.Lock()
						all = append(all, mine...)
						mu.Unlock()
						return
					default:
					}
					t := time.Now()
					resp, err := cl.Get(u)
					s := sample{at: t}
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 200 {
							s.lat = time.Since(t)
						}
					}
					mine = append(mine, s)
					time.Sleep(pause)
				}
			}()
		}
	}
	return func() []sample { wg.Wait(); return all }
}

// p99 of the samples that started in [from, to): the 99th percentile
// latency, the count and the failures.
func p99(all []sample, from, to time.Time) (time.Duration, int, int) {
	var lats []time.Duration
	failed := 0
	for _, s := range all {
		if s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		if s.lat == 0 {
			failed++
			continue
		}
		lats = append(lats, s.lat)
	}
	if len(lats) == 0 {
		return 0, 0, failed
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return lats[(len(lats)*99)/100], len(lats) + failed, failed
}

// TestEnvBench is `ci/bench env`: a rolling deploy of 2 instances of each
// of the repository's services (artifactd and releaseboard, built with the
// go tool and packaged with their real units and configs) behind HAProxy,
// under steady loopback traffic. It prints the deploy's wall time and its
// parts (install, drain, start, readiness) and the p99 latency through
// the balancer during the deploy against the same traffic before it.
func TestEnvBench(t *testing.T) {
	if os.Getenv(benchEnv) == "" {
		t.Skip("a benchmark: ci/bench env runs it (" + benchEnv + "=1)")
	}
	requireEnv(t)
	repoRoot, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	reps := 3
	if n, err := strconv.Atoi(os.Getenv("STRIDE_ENV_BENCH_REPS")); err == nil && n > 0 {
		reps = n
	}
	f := newEnvFixture(t, "environment(name = \"uat\", instances = 2)\n")
	l, _ := env.Open(f.root, "uat")
	os.MkdirAll(l.Dir, 0o755)
	served := filepath.Join(f.root, "artifacts")
	os.MkdirAll(served, 0o755)
	os.WriteFile(filepath.Join(served, "hello.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(l.ServiceEnvFile("artifactd"), []byte("ARTIFACTD_ROOT="+served+"\n"), 0o644)
	build := func(stamp string) string {
		dir := t.TempDir()
		return f.buildDebs([]string{envtest.Real(t, repoRoot, dir, "artifactd", stamp), envtest.Real(t, repoRoot, dir, "releaseboard", stamp)})
	}
	f.stride(0, "env", "up", "uat")
	first := build("0")
	f.stride(0, "env", "deploy", "uat", first, "--watch", "0s")
	f.checkRuns("uat", first, 4)
	st := f.status("uat")
	urls := []string{"http://" + st.Balancer.Frontends["artifactd"] + "/hello.txt", "http://" + st.Balancer.Frontends["releaseboard"] + "/api/info"}
	var walls []time.Duration
	var sum env.Timings
	var ratios []float64
	for r := 1; r <= reps; r++ {
		next := build(fmt.Sprint(r))
		stop := make(chan struct{})
		wait := load(urls, 2, 2*time.Millisecond, stop)
		t0 := time.Now()
		time.Sleep(3 * time.Second) // the baseline: the same traffic before the deploy
		t1 := time.Now()
		f.stride(0, "env", "deploy", "uat", next, "--watch", "0s")
		t2 := time.Now()
		close(stop)
		all := wait()
		before, nb, fb := p99(all, t0, t1)
		during, nd, fd := p99(all, t1, t2)
		st := f.status("uat")
		tm := st.Deploy.Timings
		walls = append(walls, tm.Total)
		sum.Install += tm.Install
		sum.Drain += tm.Drain
		sum.Start += tm.Start
		sum.Readiness += tm.Readiness
		sum.Total += tm.Total
		ratio := float64(during) / float64(before)
		ratios = append(ratios, ratio)
		fmt.Printf("bench env: rep %d: stride env deploy %v; the deploy itself %v: install %v, drain %v, start %v, readiness %v; p99 before %v (%d requests, %d failed), during %v (%d requests, %d failed): ratio %.2f\n",
			r, t2.Sub(t1).Round(time.Millisecond), tm.Total.Round(time.Millisecond), tm.Install.Round(time.Millisecond), tm.Drain.Round(time.Millisecond), tm.Start.Round(time.Millisecond),
			tm.Readiness.Round(time.Millisecond), before.Round(10*time.Microsecond), nb, fb, during.Round(10*time.Microsecond), nd, fd, ratio)
		f.checkRuns("uat", next, 4)
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	sort.Float64s(ratios)
	n := time.Duration(reps)
	parts := []struct {
		name string
		d    time.Duration
	}{{"install", sum.Install / n}, {"drain", sum.Drain / n}, {"start", sum.Start / n}, {"readiness", sum.Readiness / n}}
	sort.Slice(parts, func(i, j int) bool { return parts[i].d > parts[j].d })
	fmt.Printf("bench env: median wall %v over %d deploys; mean parts: ", walls[reps/2].Round(time.Millisecond), reps)
	for _, p := range parts {
		fmt.Printf("%s %v (%.0f%%) ", p.name, p.d.Round(time.Millisecond), 100*float64(p.d)/float64(sum.Total/n))
	}
	fmt.Printf("; dominated by %s; median p99 ratio during/before %.2f\n", parts[0].name, ratios[reps/2])
}
