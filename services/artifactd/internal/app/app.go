// Package app is the artifactd process: it loads the configuration (libs/config),
// sets up logging (libs/log), metrics (libs/metrics) and the HTTP server
// (libs/httpserver) around the file handler of internal/server, and runs
// until SIGTERM or SIGINT.
//
// Configuration keys (flag -KEY, env ARTIFACTD_KEY with '-' as '_', or a key
// of the JSON file given by -config / ARTIFACTD_CONFIG):
//
//	listen         address to listen on (default ":8080")
//	root           directory to serve (default "/srv/artifacts")
//	list-dirs      HTML directory listings (default false: directories are 404)
//	store          stride's build store, served under /apt/ (aptly's published
//	               tree), /builds/ and /docs/ (package storeserver); empty: none
//	tls-cert       TLS certificate file; with tls-key, serve HTTPS
//	tls-key        TLS private key file
//	read-timeout, write-timeout, idle-timeout, drain-timeout   durations
//	log-level      debug, info, warn or error (default info)
//	log-format     json or logfmt (default json)
//
// Exit codes: 0 after a clean shutdown (or -version / -h), 1 when serving
// fails (address in use, drain timeout), 2 for bad usage or an invalid
// configuration; the error names the key and where its value came from.
package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/strideci/monorepo/libs/buildinfo"
	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/metrics"
	"github.com/strideci/monorepo/services/artifactd/internal/server"
	"github.com/strideci/monorepo/services/artifactd/internal/storeserver"
)

// Name is the service name, used in messages, metrics and the env prefix.
const Name = "artifactd"

// EnvPrefix prefixes the environment variables of the configuration keys.
const EnvPrefix = "ARTIFACTD_"

// Exit codes.
const (
	ExitOK      = httpserver.ExitOK
	ExitFailure = httpserver.ExitFailure
	ExitUsage   = httpserver.ExitUsage
)

// Config is artifactd's configuration.
type Config struct {
	httpserver.Settings
	Root     string `config:"root" help:"directory of artifacts to serve"`
	ListDirs bool   `config:"list-dirs" help:"serve HTML listings of directories (else they are 404)"`
	Store    string `config:"store" help:"stride build store to serve under /apt/, /builds/ and /docs/ (empty: none)"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Settings: httpserver.DefaultSettings(":8080"), Root: "/srv/artifacts"}
}

// Main runs artifactd with the process environment; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return Run(context.Background(), args, os.LookupEnv, stdout, stderr)
}

// Run runs artifactd until ctx is cancelled or a SIGTERM/SIGINT arrives, and
// returns the exit code. lookupEnv reads the environment.
func Run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	src, code, ok := httpserver.LoadConfig(httpserver.LoadOptions{
		Name: Name, About: "Serves a directory of build artifacts over HTTP, read-only.", EnvPrefix: EnvPrefix, LookupEnv: lookupEnv,
	}, args, &cfg, stdout, stderr)
	if !ok {
		return code
	}

	reg := metrics.NewRegistry()
	bi := buildinfo.Get()
	reg.BuildInfo(Name, bi.Version, bi.Commit, bi.GoVersion)
	files, err := server.New(server.Options{Root: cfg.Root, ListDirs: cfg.ListDirs, Registry: reg})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, src.Errorf("root", "%v", err))
		return ExitUsage
	}

	logger := cfg.NewLogger(stderr).With("service", Name)
	hc := cfg.Settings.Config()
	hc.Logger = logger
	hc.Registry = reg
	hc.Ready = func() error {
		_, err := os.Stat(files.Root())
		return err
	}
	srv := httpserver.New(hc)
	srv.Handle("/", files)
	if cfg.Store != "" {
		st, err := storeserver.New(storeserver.Options{Root: cfg.Store, Registry: reg})
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Name, src.Errorf("store", "%v", err))
			return ExitUsage
		}
		for _, p := range storeserver.Routes {
			srv.Handle(p, st)
		}
	}

	logger.Info("starting", "version", bi.Version, "commit", bi.Commit,
		"root", files.Root(), "list_dirs", cfg.ListDirs, "store", cfg.Store, "config_file", src.File)
	if err := srv.Run(ctx); err != nil {
		logger.Error("server failed", "err", err)
		return ExitFailure
	}
	return ExitOK
}
