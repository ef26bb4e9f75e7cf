// Package app is the releaseboard process: it loads the configuration
// (libs/config), sets up logging, metrics and the HTTP server
// (libs/httpserver) around the board of internal/board, and runs until
// SIGTERM or SIGINT.
//
// Configuration keys (flag -KEY, env RELEASEBOARD_KEY with '-' as '_', or a
// key of the JSON file given by -config / RELEASEBOARD_CONFIG):
//
//	listen         address to listen on (default ":8081")
//	title          the page's heading (default "Can I release?")
//	repo           the git repository whose promotion ledger
//	               (refs/stride/ledger) the board shows; with store, the
//	               board of tools/stride/board is served at / (else only
//	               the service's own build and health)
//	store          stride's build store directory (read-only)
//	environments   the environments file (default: the repository's
//	               ci/environments.star, from its work tree or HEAD)
//	tls-cert       TLS certificate file; with tls-key, serve HTTPS
//	tls-key        TLS private key file
//	read-timeout, write-timeout, idle-timeout, drain-timeout   durations
//	log-level      debug, info, warn or error (default info)
//	log-format     json or logfmt (default json)
//
// Routes: GET / (the page), GET /api/info (JSON, schema
// releaseboard.info/v1), and the /healthz, /readyz and /metrics of
// libs/httpserver. With repo and store: the board's pages, /api/...
// twins and /events (tools/stride/board), and the service's own page
// moves to /about.
//
// Exit codes: 0 after a clean shutdown (or -version / -h), 1 when serving
// fails, 2 for bad usage or an invalid configuration; the error names the
// key and where its value came from.
package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/strideci/monorepo/libs/buildinfo"
	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/metrics"
	"github.com/strideci/monorepo/services/releaseboard/internal/board"
	strideboard "github.com/strideci/monorepo/tools/stride/board"
)

// Name is the service name, used in messages and metrics.
const Name = "releaseboard"

// EnvPrefix prefixes the environment variables of the configuration keys.
const EnvPrefix = "RELEASEBOARD_"

// Exit codes.
const (
	ExitOK      = httpserver.ExitOK
	ExitFailure = httpserver.ExitFailure
	ExitUsage   = httpserver.ExitUsage
)

// Config is releaseboard's configuration.
type Config struct {
	httpserver.Settings
	Title        string `config:"title" help:"heading of the page"`
	Repo         string `config:"repo" help:"git repository whose promotion ledger the board shows (with store)"`
	Store        string `config:"store" help:"stride's build store directory, read-only (with repo)"`
	Environments string `config:"environments" help:"environments file (default: the repository's ci/environments.star)"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Settings: httpserver.DefaultSettings(":8081"), Title: "Can I release?"}
}

// Main runs releaseboard with the process environment; it returns the exit
// code.
func Main(args []string, stdout, stderr io.Writer) int {
	return Run(context.Background(), args, os.LookupEnv, stdout, stderr)
}

// Run runs releaseboard until ctx is cancelled or a SIGTERM/SIGINT arrives,
// and returns the exit code. lookupEnv reads the environment.
func Run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	src, code, ok := httpserver.LoadConfig(httpserver.LoadOptions{
		Name: Name, About: "Serves the \"can I release?\" board.", EnvPrefix: EnvPrefix, LookupEnv: lookupEnv,
	}, args, &cfg, stdout, stderr)
	if !ok {
		return code
	}
	if cfg.Title == "" {
		fmt.Fprintf(stderr, "%s: %v\n", Name, src.Errorf("title", "must not be empty"))
		return ExitUsage
	}

	reg := metrics.NewRegistry()
	bi := buildinfo.Get()
	reg.BuildInfo(Name, bi.Version, bi.Commit, bi.GoVersion)
	logger := cfg.NewLogger(stderr).With("service", Name)
	// Nothing can make the board unready yet; data sources will.
	ready := func() error { return nil }
	hc := cfg.Settings.Config()
	hc.Logger = logger
	hc.Registry = reg
	hc.Ready = ready
	if (cfg.Repo == "") != (cfg.Store == "") {
		fmt.Fprintf(stderr, "%s: %v\n", Name, src.Errorf("repo", "repo and store go together"))
		return ExitUsage
	}
	srv := httpserver.New(hc)
	b := board.New(board.Options{Title: cfg.Title, Build: bi, Health: ready})
	srv.Handle("/api/info", http.HandlerFunc(b.ServeInfo))
	if cfg.Repo == "" {
		srv.Handle("/", http.HandlerFunc(b.ServePage))
	} else {
		sb, err := strideboard.New(ctx, strideboard.Options{Repo: cfg.Repo, Store: cfg.Store, Config: cfg.Environments, Title: cfg.Title})
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Name, err)
			return ExitUsage
		}
		defer sb.Close()
		// The board follows the ledger until a signal stops the server;
		// then its live-update streams end, so the drain does not wait
		// for them.
		bctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
		defer stop()
		go sb.Run(bctx)
		srv.Handle("/", sb.Handler())
		srv.Handle("/about", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.URL.Path = "/"
			b.ServePage(w, r)
		}))
	}

	logger.Info("starting", "version", bi.Version, "commit", bi.Commit, "config_file", src.File)
	if err := srv.Run(ctx); err != nil {
		logger.Error("server failed", "err", err)
		return ExitFailure
	}
	return ExitOK
}
