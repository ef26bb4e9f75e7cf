package httpserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/strideci/monorepo/libs/log"
)

// accessLog wraps next with request ids, panic recovery and the access log.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := log.WithRequestID(log.NewContext(r.Context(), s.log), id)
		r = r.WithContext(ctx)
		rw := &responseWriter{ResponseWriter: w}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "request_id", id, "method", r.Method, "path", LogPath(r.URL.Path),
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rw.wroteHeader {
					http.Error(rw, "internal server error", http.StatusInternalServerError)
				}
			}
			level := log.LevelInfo
			switch r.URL.Path {
			case HealthPath, ReadyPath, MetricsPath:
				level = log.LevelDebug
			}
			if !s.log.Enabled(level) {
				return
			}
			status := rw.status
			if !rw.wroteHeader {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			s.log.Log(level, "request",
				"request_id", id,
				"method", r.Method,
				"path", LogPath(r.URL.Path),
				"status", status,
				"bytes", rw.bytes,
				"duration", time.Since(start),
				"remote", r.RemoteAddr,
			)
		}()
		next.ServeHTTP(rw, r)
	})
}

// MaxLoggedPath bounds how much of a request's path the access log writes:
// a longer path is cut there and the number of bytes left out is added.
const MaxLoggedPath = 512

// LogPath is what the logs write of a request path: at most MaxLoggedPath
// bytes of it, then "...(+N bytes)".
func LogPath(p string) string {
	if len(p) <= MaxLoggedPath {
		return p
	}
	return fmt.Sprintf("%s...(+%d bytes)", p[:MaxLoggedPath], len(p)-MaxLoggedPath)
}

// responseWriter records the status and body size. It implements the
// optional interfaces net/http's own writer has (io.ReaderFrom for sendfile,
// http.Flusher, http.Hijacker), delegating to the wrapped writer.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 { // 1xx are interim responses
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom lets io.Copy (and http.ServeContent) use sendfile.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wroteHeader {
			w.status, w.wroteHeader = http.StatusOK, true
		}
		f.Flush()
	}
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("httpserver: connection cannot be hijacked")
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides every method but Write, so io.Copy does not recurse into
// ReadFrom.
type writerOnly struct{ io.Writer }
