// Package metrics exposes a service's Prometheus metrics in the text
// exposition format, on top of github.com/prometheus/client_golang.
//
// NewRegistry returns a Registry that already holds the Go runtime and
// process collectors (go_*, process_*); Handler serves it. HTTP instruments
// request counts, durations and in-flight requests of an http.Handler,
// labelled by a handler name chosen by the caller (never the raw path, which
// would make the label set unbounded):
//
//	reg := metrics.NewRegistry()
//	h := metrics.NewHTTP(reg)
//	mux.Handle("/api/", h.Middleware("api", apiHandler))
//	mux.Handle("/metrics", reg.Handler())
//
// Each Registry is independent, so tests can create as many as they like.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is a Prometheus registry with the Go and process collectors
// registered. The embedded *prometheus.Registry registers further
// collectors (MustRegister, Register).
type Registry struct {
	*prometheus.Registry
}

// NewRegistry returns a Registry holding the Go runtime and process
// collectors.
func NewRegistry() *Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return &Registry{Registry: r}
}

// Handler serves the registry's metrics in the Prometheus text format (or
// OpenMetrics / protobuf when the scraper asks for it). Errors while
// gathering are logged by the handler as HTTP 500s, not hidden.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{
		Registry:          r.Registry, // promhttp_metric_handler_errors_total
		ErrorHandling:     promhttp.HTTPErrorOnError,
		EnableOpenMetrics: false,
	})
}

// BuildInfo registers a constant gauge NAME_build_info{version,commit,goversion} 1,
// the usual way to expose which build is running.
func (r *Registry) BuildInfo(name, version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: name + "_build_info",
		Help: "Build information of " + name + "; the value is always 1.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	r.MustRegister(g)
}

// DefaultBuckets are the request duration histogram buckets, in seconds: from
// 1 ms to 30 s, wide enough for a small JSON reply and for a large download.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// HTTP holds the HTTP server instruments:
//
//	http_requests_total{handler,method,code}              counter
//	http_request_duration_seconds{handler,method,code}    histogram
//	http_requests_in_flight{handler}                      gauge
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

// NewHTTP creates the HTTP instruments and registers them with reg.
func NewHTTP(reg *Registry) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by handler, method and status code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve HTTP requests (until the handler returns), by handler, method and status code.",
			Buckets: DefaultBuckets,
		}, []string{"handler", "method", "code"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "HTTP requests being served, by handler.",
		}, []string{"handler"}),
	}
	reg.MustRegister(h.requests, h.duration, h.inFlight)
	return h
}

// Middleware instruments next under the label handler=name. The wrapped
// ResponseWriter keeps the optional interfaces of the original
// (http.Flusher, io.ReaderFrom, ...), so sendfile and streaming still work.
func (h *HTTP) Middleware(name string, next http.Handler) http.Handler {
	labels := prometheus.Labels{"handler": name}
	return promhttp.InstrumentHandlerInFlight(h.inFlight.With(labels),
		promhttp.InstrumentHandlerDuration(h.duration.MustCurryWith(labels),
			promhttp.InstrumentHandlerCounter(h.requests.MustCurryWith(labels), next)))
}
