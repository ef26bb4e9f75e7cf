// Package haproxy writes the configuration of the HAProxy that balances a
// local environment's services, starts and stops it, and talks to its
// runtime API (a UNIX socket): server states and statistics.
package haproxy

import (
	"fmt"
	"sort"
	"strings"
)

// Config is the balancer of one environment: a frontend per service on
// 127.0.0.1, each with a backend of the service's instances.
type Config struct {
	// Socket is the runtime API's UNIX socket; PIDFile where HAProxy
	// writes its process id.
	Socket, PIDFile string
	// Services are the frontends, by service name.
	Services []Service
}

// Service is one frontend and its backend.
type Service struct {
	Name string
	// Port is the frontend's port on 127.0.0.1.
	Port int
	// Servers are the instances' ports, server i+1 on Servers[i].
	Servers []int
	// HealthPath is checked on each server (default /readyz).
	HealthPath string
}

// Backend and ServerName are how a service and its instance are named in
// HAProxy's runtime API.
func Backend(service string) string { return "be_" + service }

// ServerName names instance slot (1-based).
func ServerName(slot int) string { return fmt.Sprintf("s%d", slot) }

// Render returns the configuration text. Requests that fail to connect
// are retried on another server (retry-on conn-failure, redispatch), the
// servers are checked every 500 ms, and each request uses its own
// connection to the server (http-server-close), so a drained server's
// connections end with their requests.
func (c *Config) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by stride env (docs/environments.md); rewritten by each deploy.
global
    stats socket %s mode 600 level admin
    pidfile %s
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout queue 10s
    option http-server-close
    option redispatch 1
    retries 3
    retry-on conn-failure empty-response response-timeout
    default-server inter 500 fall 2 rise 1
`, c.Socket, c.PIDFile)
	svcs := append([]Service(nil), c.Services...)
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	for _, s := range svcs {
		path := s.HealthPath
		if path == "" {
			path = "/readyz"
		}
		fmt.Fprintf(&b, "\nfrontend fe_%s\n    bind 127.0.0.1:%d\n    default_backend %s\n", s.Name, s.Port, Backend(s.Name))
		fmt.Fprintf(&b, "\nbackend %s\n    balance roundrobin\n    option httpchk GET %s\n", Backend(s.Name), path)
		for i, p := range s.Servers {
			fmt.Fprintf(&b, "    server %s 127.0.0.1:%d check\n", ServerName(i+1), p)
		}
	}
	return b.String()
}
