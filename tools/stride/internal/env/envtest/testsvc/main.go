// Command testsvc is the service the environment tests deploy: an HTTP
// server shaped like the real services (NAME_LISTEN, /healthz, /readyz,
// draining on SIGTERM) whose behaviour its config file sets, so that a
// test can publish a build whose service fails /readyz without touching
// the real services. Config (JSON, -config FILE):
//
//	{"name": "alpha", "version": "B", "ready": true, "crash_after": "0s"}
//
// ready false: /readyz answers 503 (the test knob for a bad build);
// crash_after > 0: the process exits 1 after that long (a crash).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Ready      bool   `json:"ready"`
	CrashAfter string `json:"crash_after"`
}

func main() {
	path := flag.String("config", "", "config file")
	flag.Parse()
	cfg := config{Ready: true}
	if b, err := os.ReadFile(*path); err != nil || json.Unmarshal(b, &cfg) != nil {
		fmt.Fprintf(os.Stderr, "testsvc: read config %s: %v\n", *path, err)
		os.Exit(2)
	}
	listen := os.Getenv(strings.ToUpper(strings.ReplaceAll(cfg.Name, "-", "_")) + "_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsvc: %v\n", err)
		os.Exit(1)
	}
	var draining atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case draining.Load():
			http.Error(w, "draining", http.StatusServiceUnavailable)
		case !cfg.Ready:
			http.Error(w, "not ready: this build's config says ready = false (test knob)", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
			time.Sleep(d)
		}
		fmt.Fprintf(w, "%s %s\n", cfg.Name, cfg.Version)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	if d, err := time.ParseDuration(cfg.CrashAfter); err == nil && d > 0 {
		time.AfterFunc(d, func() { fmt.Fprintln(os.Stderr, "testsvc: crashing (crash_after)"); os.Exit(1) })
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-sig
		draining.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	fmt.Fprintf(os.Stderr, "testsvc %s %s listening on %s\n", cfg.Name, cfg.Version, ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "testsvc: %v\n", err)
		os.Exit(1)
	}
	<-done // in-flight requests have finished
}
