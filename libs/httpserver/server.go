// Package httpserver runs a service's HTTP server with the pieces every
// service needs:
//
//   - graceful shutdown when the context is cancelled or, in Run, on SIGTERM
//     or SIGINT: the listener closes, /readyz turns 503, in-flight requests
//     get Config.DrainTimeout to finish, then the remaining connections are
//     closed and Serve returns an error saying so;
//   - GET /healthz: 200 "ok" while the process serves;
//   - GET /readyz: 200 when Config.Ready returns nil, 503 with its error
//     otherwise (and while draining);
//   - GET /metrics: the libs/metrics registry, including request counts and
//     durations for every handler registered with Handle;
//   - an access log line per request through libs/log (method, path, status,
//     bytes, duration, remote address, request id), at debug level for the
//     three endpoints above and info level for the rest;
//   - a request id taken from the X-Request-Id header when it is sane, or
//     generated, echoed in the response's X-Request-Id and carried in the
//     request context (log.RequestID, log.FromContext);
//   - panics in handlers logged with their stack and answered with 500;
//   - read, read-header, write and idle timeouts, and optional TLS from a
//     certificate and key file.
//
// Listen binds the address before serving, so ":0" or "127.0.0.1:0" picks a
// free port that Addr reports; Serve logs a "listening" line with the bound
// address (field "addr"), which tests of the built binaries read.
//
// The builtin paths take precedence over patterns registered with Handle
// ("/" does not shadow them).
package httpserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/libs/metrics"
)

// Default timeouts, used when the Config field is zero. A negative Config
// value means "no timeout".
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 5 * time.Minute // large downloads on slow links
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultDrainTimeout      = 10 * time.Second
)

// The builtin endpoints.
const (
	HealthPath  = "/healthz"
	ReadyPath   = "/readyz"
	MetricsPath = "/metrics"
)

// RequestIDHeader is the header that carries request ids in and out.
const RequestIDHeader = "X-Request-Id"

// Config configures a Server. The zero value serves plain HTTP on a free
// port of all interfaces with the default timeouts.
type Config struct {
	// Addr is the TCP address to listen on, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// TLSCertFile and TLSKeyFile, both or neither, turn on HTTPS.
	TLSCertFile string
	TLSKeyFile  string
	// Timeouts; zero means the default above, negative means none.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// DrainTimeout bounds the wait for in-flight requests on shutdown.
	DrainTimeout time.Duration
	// Logger receives the access log and the server's own messages; nil
	// means log.Nop().
	Logger *log.Logger
	// Registry is served on /metrics and receives the HTTP instruments; nil
	// means a new metrics.NewRegistry(). Give each Server its own Registry:
	// a second Server on the same one panics on duplicate metrics.
	Registry *metrics.Registry
	// Ready reports readiness for /readyz: nil when ready, else why not. A
	// nil Ready means always ready.
	Ready func() error
}

// Server is an HTTP server; create it with New, add handlers with Handle,
// then Run (or Listen and Serve).
type Server struct {
	cfg      Config
	log      *log.Logger
	reg      *metrics.Registry
	httpm    *metrics.HTTP
	mux      *http.ServeMux
	handler  http.Handler
	srv      *http.Server
	draining atomic.Bool

	mu sync.Mutex
	ln net.Listener
}

// New returns a Server for cfg with the builtin endpoints registered.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = log.Nop()
	}
	if s.reg == nil {
		s.reg = metrics.NewRegistry()
	}
	s.httpm = metrics.NewHTTP(s.reg)
	s.Handle(HealthPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	}))
	s.Handle(ReadyPath, http.HandlerFunc(s.serveReady))
	s.Handle(MetricsPath, s.reg.Handler())
	s.handler = s.accessLog(s.mux)
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: timeout(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       timeout(cfg.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      timeout(cfg.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       timeout(cfg.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          stdlog.New(&errorLogWriter{s.log}, "", 0),
	}
	return s
}

func timeout(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Handle registers h for pattern (http.ServeMux syntax), instrumented with
// the metrics label handler=pattern. It must be called before Serve.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.httpm.Middleware(pattern, h))
}

// Handler returns the server's complete handler (access log, request ids,
// panic recovery, builtin endpoints and registered handlers), for tests with
// httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the metrics registry served on /metrics.
func (s *Server) Registry() *metrics.Registry { return s.reg }

// Logger returns the server's logger.
func (s *Server) Logger() *log.Logger { return s.log }

// Listen binds the configured address (and loads the TLS key pair, so that a
// bad certificate fails here rather than on the first connection).
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("httpserver: already listening")
	}
	c := s.cfg
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("httpserver: TLS needs both a certificate and a key file")
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("httpserver: load TLS key pair %s, %s: %w", c.TLSCertFile, c.TLSKeyFile, err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("httpserver: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address ("127.0.0.1:41234"), or "" before Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// TLS reports whether the server serves HTTPS.
func (s *Server) TLS() bool { return s.cfg.TLSCertFile != "" }

// Serve listens (unless Listen was called), serves until ctx is cancelled,
// then drains: it returns nil when every in-flight request finished within
// the drain timeout, and an error otherwise or when serving failed.
func (s *Server) Serve(ctx context.Context) error {
	if s.Addr() == "" {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	s.log.Info("listening", "addr", ln.Addr().String(), "tls", s.TLS())

	errc := make(chan error, 1)
	go func() {
		if s.TLS() {
			errc <- s.srv.ServeTLS(ln, "", "")
		} else {
			errc <- s.srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		// Serve returned before any shutdown: the listener failed.
		return fmt.Errorf("httpserver: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	drain := timeout(s.cfg.DrainTimeout, DefaultDrainTimeout)
	s.draining.Store(true)
	s.log.Info("shutting down", "drain_timeout", drain)
	dctx := context.Background()
	if drain > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(dctx, drain)
		defer cancel()
	}
	err := s.srv.Shutdown(dctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("httpserver: serve %s: %w", ln.Addr(), serr)
	}
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("httpserver: requests still running after the drain timeout of %s were cut off: %w", drain, err)
	}
	s.log.Info("stopped")
	return nil
}

// Run is Serve with SIGTERM and SIGINT cancelling the context. The signal
// handlers are installed before the address is bound, so a signal sent once
// the server answers is always handled.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigc)
	go func() {
		select {
		case sig := <-sigc:
			s.log.Info("signal received", "signal", sig.String())
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.Serve(ctx)
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "shutting down")
		return
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

// errorLogWriter turns net/http's own error lines (TLS handshake errors,
// ...) into warn lines of the server's logger.
type errorLogWriter struct{ l *log.Logger }

func (e *errorLogWriter) Write(p []byte) (int, error) {
	e.l.Warn(strings.TrimSpace(string(p)), "component", "net/http")
	return len(p), nil
}

// validRequestID accepts ids of 1 to 128 visible ASCII characters.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f || id[i] == '"' || id[i] == '\\' {
			return false
		}
	}
	return true
}

// NewRequestID returns a random 128-bit id in hex.
func NewRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}
