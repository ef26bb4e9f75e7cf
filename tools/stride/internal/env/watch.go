package env

import (
	"context"
	"fmt"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
)

// watch probes each deployed instance's /healthz and /readyz and reads
// the balancer's error counters of the deployed services until the watch
// window ends. It fails when an instance fails two probes in a row,
// crashes, or HAProxy counts connection or response errors or 5xx
// answers during the window.
func (d *deployer) watch(ctx context.Context, spec *Spec, services []Unpacked) error {
	d.logf("watching for %v", d.o.Watch)
	base, err := d.errorCounts(services)
	if err != nil {
		return err
	}
	restarts := d.restarts
	fails := map[string]int{}
	end := time.Now().Add(d.o.Watch)
	for time.Now().Before(end) {
		for _, u := range services {
			ss, _ := spec.Service(u.Package.Name)
			for slot := 1; slot <= d.o.Instances; slot++ {
				k := key(u.Package.Name, slot)
				if in, ok := d.instance(k); ok && in.Restarts > restarts[k] {
					return &Failure{Reason: fmt.Sprintf("during the watch, %s %s crashed (%s)", k, u.Package.Version, in.LastExit)}
				}
				bad := ""
				for _, path := range []string{"/healthz", "/readyz"} {
					url := fmt.Sprintf("http://127.0.0.1:%d%s", ss.Ports[slot-1], path)
					code, body, err := d.get(url)
					if err != nil {
						bad = err.Error()
					} else if code != 200 {
						bad = fmt.Sprintf("%s answered %d %s", url, code, body)
					}
				}
				if bad == "" {
					fails[k] = 0
					continue
				}
				if fails[k]++; fails[k] >= 2 {
					return &Failure{Reason: fmt.Sprintf("during the watch, %s %s failed its health check twice: %s", k, u.Package.Version, bad)}
				}
			}
		}
		now, err := d.errorCounts(services)
		if err != nil {
			return err
		}
		for be, n := range now {
			if n > base[be] {
				return &Failure{Reason: fmt.Sprintf("during the watch, HAProxy counted %d failed requests on %s (connection or response errors, 5xx)", n-base[be], be)}
			}
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// errorCounts returns each deployed service's backend error count.
func (d *deployer) errorCounts(services []Unpacked) (map[string]int64, error) {
	stats, err := d.hap.Stats()
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, u := range services {
		want[haproxy.Backend(u.Package.Name)] = true
	}
	out := map[string]int64{}
	for _, s := range stats {
		if want[s.Proxy] && s.Name == "BACKEND" {
			out[s.Proxy] = s.ErrConn + s.ErrResp + s.Resp5xx
		}
	}
	return out, nil
}
