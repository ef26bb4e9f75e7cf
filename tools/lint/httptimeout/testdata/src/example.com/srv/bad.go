package srv

import (
	"net"
	"net/http"
	"time"
)

func badListen(h http.Handler) error {
	return http.ListenAndServe(":8080", h) // want `http.ListenAndServe serves without timeouts`
}

func badTLS(h http.Handler) error {
	return http.ListenAndServeTLS(":8443", "cert.pem", "key.pem", h) // want `http.ListenAndServeTLS serves without timeouts`
}

func badServe(ln net.Listener, h http.Handler) error {
	return http.Serve(ln, h) // want `http.Serve serves without timeouts`
}

var serve = http.Serve // want `http.Serve serves without timeouts`

func badEmpty(h http.Handler) *http.Server {
	return &http.Server{Addr: ":8080", Handler: h} // want `http.Server without ReadHeaderTimeout \(or ReadTimeout\) and WriteTimeout \(or IdleTimeout\)`
}

func badNoWrite(h http.Handler) http.Server {
	return http.Server{Handler: h, ReadHeaderTimeout: time.Second} // want `http.Server without WriteTimeout \(or IdleTimeout\):`
}

func badNoRead(h http.Handler) *http.Server {
	return &http.Server{Handler: h, WriteTimeout: time.Minute} // want `http.Server without ReadHeaderTimeout \(or ReadTimeout\):`
}

func badInSlice() []*http.Server {
	return []*http.Server{{Addr: ":1"}} // want `http.Server without ReadHeaderTimeout`
}
