package srv

import (
	"net"
	"net/http"
	"time"
)

func good(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

// A streaming server bounds idle connections instead of writes.
func goodStreaming(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadTimeout: time.Minute, IdleTimeout: time.Minute}
}

// (*http.Server).ListenAndServe and Serve use the Server's timeouts.
func goodMethods(ln net.Listener, h http.Handler) error {
	s := good(h)
	go s.ListenAndServe()
	return s.Serve(ln)
}

// Handlers bound their work by the request's context.
func handler(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(time.Millisecond):
	}
}

var _ = http.TimeoutHandler(http.HandlerFunc(handler), time.Second, "timeout")
