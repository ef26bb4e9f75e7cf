package httpserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]interface{} {
	t.Helper()
	var out []map[string]interface{}
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]interface{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func do(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBuiltinEndpoints(t *testing.T) {
	var ready error
	s := httpserver.New(httpserver.Config{Ready: func() error { return ready }})
	h := s.Handler()
	tests := []struct {
		path     string
		notReady error
		status   int
		body     string
	}{
		{"/healthz", nil, 200, "ok\n"},
		{"/readyz", nil, 200, "ok\n"},
		{"/readyz", errors.New("cache warming"), 503, "not ready: cache warming\n"},
		{"/healthz", errors.New("cache warming"), 200, "ok\n"},
		{"/nothing-here", nil, 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		ready = tt.notReady
		rec := do(t, h, "GET", tt.path, nil)
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("GET %s (ready err %v) = %d %q, want %d %q", tt.path, tt.notReady, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
	rec := do(t, h, "GET", "/metrics", nil)
	for _, want := range []string{
		`http_requests_total{code="200",handler="/healthz",method="get"} 2`,
		`http_requests_total{code="503",handler="/readyz",method="get"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestAccessLogAndRequestID(t *testing.T) {
	var logs syncBuffer
	lg := log.New(&logs, log.Options{Level: log.LevelInfo})
	s := httpserver.New(httpserver.Config{Logger: lg})
	var sawID string
	var sawReaderFrom bool
	s.Handle("/hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawID = log.RequestID(r.Context())
		_, sawReaderFrom = w.(io.ReaderFrom)
		log.FromContext(r.Context()).Info("inside")
		w.WriteHeader(201)
		io.WriteString(w, "hello")
	}))
	h := s.Handler()

	rec := do(t, h, "POST", "/hello", map[string]string{"X-Request-Id": "req-42"})
	if rec.Code != 201 || rec.Header().Get("X-Request-Id") != "req-42" || sawID != "req-42" {
		t.Errorf("got %d, header id %q, context id %q", rec.Code, rec.Header().Get("X-Request-Id"), sawID)
	}
	if !sawReaderFrom {
		t.Error("handler's ResponseWriter is not an io.ReaderFrom (sendfile lost)")
	}
	// An id with spaces is replaced by a generated one.
	rec = do(t, h, "GET", "/hello", map[string]string{"X-Request-Id": "bad id"})
	if id := rec.Header().Get("X-Request-Id"); len(id) != 32 || id != sawID {
		t.Errorf("generated id %q (context %q), want 32 hex digits", id, sawID)
	}
	do(t, h, "GET", "/healthz", nil) // debug level: not logged at info

	lines := logs.lines(t)
	if len(lines) != 4 {
		t.Fatalf("got %d log lines, want 4:\n%s", len(lines), logs.String())
	}
	if lines[0]["msg"] != "inside" || lines[0]["request_id"] != "req-42" {
		t.Errorf("handler line = %v", lines[0])
	}
	acc := lines[1]
	for k, want := range map[string]interface{}{
		"msg": "request", "request_id": "req-42", "method": "POST", "path": "/hello",
		"status": float64(201), "bytes": float64(5), "remote": "192.0.2.1:1234",
	} {
		if acc[k] != want {
			t.Errorf("access line %s = %v, want %v", k, acc[k], want)
		}
	}
	if _, err := time.ParseDuration(acc["duration"].(string)); err != nil {
		t.Errorf("duration %v: %v", acc["duration"], err)
	}
}

func TestPanicIsLoggedAnd500(t *testing.T) {
	var logs syncBuffer
	s := httpserver.New(httpserver.Config{Logger: log.New(&logs, log.Options{})})
	s.Handle("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	rec := do(t, s.Handler(), "GET", "/boom", nil)
	if rec.Code != 500 {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	lines := logs.lines(t)
	if len(lines) != 2 || lines[0]["panic"] != "kaboom" || !strings.Contains(lines[0]["stack"].(string), "server_test.go") || lines[1]["status"] != float64(500) {
		t.Errorf("log lines = %v", lines)
	}
}

// start serves s in the background and returns its base URL and a channel
// with Serve's result.
func start(t *testing.T, s *httpserver.Server, ctx context.Context, scheme string) (string, <-chan error) {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	return scheme + "://" + s.Addr(), done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
		return nil
	}
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	var logs syncBuffer
	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Logger: log.New(&logs, log.Options{}), DrainTimeout: 5 * time.Second})
	entered := make(chan struct{})
	release := make(chan struct{})
	s.Handle("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, done := start(t, s, ctx, "http")
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr = %q, want a bound port", s.Addr())
	}

	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{string(b), err}
	}()
	<-entered
	cancel()
	// While draining, new connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			break
		}
		c.Close() // an accepted, silent connection would hold Shutdown for 5 s
		if time.Now().After(deadline) {
			t.Fatal("listener still open after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if r := <-resc; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request got %q, %v", r.body, r.err)
	}
	if err := wait(t, done); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	var msgs []string
	for _, l := range logs.lines(t) {
		msgs = append(msgs, l["msg"].(string))
	}
	if got := strings.Join(msgs, ","); got != "listening,shutting down,request,stopped" {
		t.Errorf("log messages = %s", got)
	}
}

func TestDrainTimeout(t *testing.T) {
	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", DrainTimeout: 100 * time.Millisecond})
	entered := make(chan struct{})
	s.Handle("/stuck", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // until the connection is closed
	}))
	ctx, cancel := context.WithCancel(context.Background())
	url, done := start(t, s, ctx, "http")
	go func() {
		resp, err := http.Get(url + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	err := wait(t, done)
	if err == nil || !strings.Contains(err.Error(), "drain timeout of 100ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve = %v, want a drain timeout error", err)
	}
}

func TestRunStopsOnSIGTERM(t *testing.T) {
	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0"})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	// Run installs its signal handler before serving; once /healthz answers
	// the signal is safe to send.
	waitHealthy(t, http.DefaultClient, "http://"+s.Addr())
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func waitHealthy(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz never became healthy: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile})
	ctx, cancel := context.WithCancel(context.Background())
	url, done := start(t, s, ctx, "https")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitHealthy(t, client, url)
	resp, err := client.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.StatusCode != 200 {
		t.Errorf("GET /readyz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		cfg  httpserver.Config
		want string
	}{
		{"cert without key", httpserver.Config{Addr: "127.0.0.1:0", TLSCertFile: missing}, "TLS needs both a certificate and a key file"},
		{"missing cert", httpserver.Config{Addr: "127.0.0.1:0", TLSCertFile: missing, TLSKeyFile: missing}, "load TLS key pair " + missing},
		{"address in use", httpserver.Config{Addr: busy.Addr().String()}, "address already in use"},
		{"bad address", httpserver.Config{Addr: "127.0.0.1:http-alt-nope"}, "unknown port"},
	}
	for _, tt := range tests {
		err := httpserver.New(tt.cfg).Listen()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Listen = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a
// pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestAccessLogBoundsPaths is issue 17's item 6 for the access log: a 1 MB
// URL wrote about 3 MB of logs. The path is cut at MaxLoggedPath bytes.
func TestAccessLogBoundsPaths(t *testing.T) {
	var logs syncBuffer
	s := httpserver.New(httpserver.Config{Logger: log.New(&logs, log.Options{})})
	s.Handle("/", http.NotFoundHandler())
	long := "/" + strings.Repeat("a", 1<<20)
	do(t, s.Handler(), "GET", long, nil)
	lines := logs.lines(t)
	if len(lines) != 1 || len(logs.String()) > 2*httpserver.MaxLoggedPath {
		t.Fatalf("%d log lines, %d bytes", len(lines), len(logs.String()))
	}
	want := long[:httpserver.MaxLoggedPath] + fmt.Sprintf("...(+%d bytes)", len(long)-httpserver.MaxLoggedPath)
	if lines[0]["path"] != want {
		t.Errorf("logged path %.80q..., want %.80q...", lines[0]["path"], want)
	}
	if got := httpserver.LogPath("/short"); got != "/short" {
		t.Errorf("LogPath(/short) = %q", got)
	}
}
