// Package remotecache connects stride's Bazel commands to a shared remote
// cache (Bazel's remote caching protocol over gRPC or HTTP, as served by
// bazel-remote): it checks the cache answers before a run relies on it
// and gives the Bazel flags that use it.
//
// An unreachable or misconfigured cache must not fail a run: Probe says
// why, the run goes on without the cache and its report records it.
package remotecache

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Parse checks a cache URL: grpc://, grpcs://, http:// or https:// with a
// host. Credentials in the URL (https://user:pass@host) are allowed; use
// Redact before printing it.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("remote cache %q: %w", Redact(raw), err)
	}
	switch u.Scheme {
	case "grpc", "grpcs", "http", "https":
	default:
		return nil, fmt.Errorf("remote cache %q: want grpc://, grpcs://, http:// or https://HOST[:PORT]", Redact(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("remote cache %q: no host", Redact(raw))
	}
	return u, nil
}

// Redact hides the password of a URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Probe checks that the cache's address accepts connections within
// timeout. It does not check credentials or the protocol: Bazel reports
// those, and falls back to building locally.
func Probe(ctx context.Context, u *url.URL, timeout time.Duration) error {
	host := u.Host
	if u.Port() == "" {
		switch u.Scheme {
		case "http":
			host = net.JoinHostPort(u.Hostname(), "80")
		case "https", "grpcs":
			host = net.JoinHostPort(u.Hostname(), "443")
		default:
			host = net.JoinHostPort(u.Hostname(), "9092") // bazel-remote's gRPC default
		}
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("remote cache %s does not answer: %w", Redact(u.String()), err)
	}
	return c.Close()
}

// Flags are the Bazel flags that use the cache. ReadOnly (laptops) reads
// without uploading local results.
func Flags(u *url.URL, readOnly bool) []string {
	f := []string{"--remote_cache=" + u.String()}
	if readOnly {
		f = append(f, "--noremote_upload_local_results")
	}
	return f
}
