package httpserver

import (
	"crypto/tls"
	"io"
	"os"
	"time"

	"github.com/strideci/monorepo/libs/config"
	"github.com/strideci/monorepo/libs/log"
)

// Settings are the configuration keys every service shares: where to listen,
// TLS, timeouts and logging. Embed Settings (untagged) in a service's
// libs/config struct to get the keys listen, tls-cert, tls-key,
// read-timeout, write-timeout, idle-timeout, drain-timeout, log-level and
// log-format.
type Settings struct {
	Listen       string        `config:"listen" help:"TCP address to listen on, host:port (port 0 picks a free port)"`
	TLSCert      string        `config:"tls-cert" help:"TLS certificate file (PEM); with tls-key, serve HTTPS"`
	TLSKey       string        `config:"tls-key" help:"TLS private key file (PEM)"`
	ReadTimeout  time.Duration `config:"read-timeout" help:"maximum time to read a request, body included"`
	WriteTimeout time.Duration `config:"write-timeout" help:"maximum time to write a response"`
	IdleTimeout  time.Duration `config:"idle-timeout" help:"how long an idle keep-alive connection stays open"`
	DrainTimeout time.Duration `config:"drain-timeout" help:"on shutdown, how long in-flight requests may run"`
	LogLevel     log.Level     `config:"log-level" help:"debug, info, warn or error"`
	LogFormat    log.Format    `config:"log-format" help:"json or logfmt"`
}

// DefaultSettings returns the defaults for a service listening on listen.
func DefaultSettings(listen string) Settings {
	return Settings{
		Listen:       listen,
		ReadTimeout:  DefaultReadTimeout,
		WriteTimeout: DefaultWriteTimeout,
		IdleTimeout:  DefaultIdleTimeout,
		DrainTimeout: DefaultDrainTimeout,
		LogLevel:     log.LevelInfo,
		LogFormat:    log.FormatJSON,
	}
}

// Validate checks the settings beyond their types, naming the offending key
// and where its value came from (src).
func (s Settings) Validate(src *config.Sources) error {
	if s.Listen == "" {
		return src.Errorf("listen", "must not be empty")
	}
	switch {
	case s.TLSCert != "" && s.TLSKey == "":
		return src.Errorf("tls-key", "must be set when tls-cert is")
	case s.TLSKey != "" && s.TLSCert == "":
		return src.Errorf("tls-cert", "must be set when tls-key is")
	}
	for _, f := range []struct{ key, path string }{{"tls-cert", s.TLSCert}, {"tls-key", s.TLSKey}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return src.Errorf(f.key, "%v", err)
		}
	}
	if s.TLSCert != "" {
		// A key pair that does not load is a configuration error (exit 2),
		// found before serving rather than as a failure to serve (exit 1).
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			return src.Errorf("tls-key", "load the TLS key pair (tls-cert %s): %v", s.TLSCert, err)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"read-timeout", s.ReadTimeout}, {"write-timeout", s.WriteTimeout}, {"idle-timeout", s.IdleTimeout}, {"drain-timeout", s.DrainTimeout}} {
		if d.v < 0 {
			return src.Errorf(d.key, "must not be negative (0 means the default)")
		}
	}
	return nil
}

// NewLogger returns the logger the settings ask for, writing to w.
func (s Settings) NewLogger(w io.Writer) *log.Logger {
	return log.New(w, log.Options{Level: s.LogLevel, Format: s.LogFormat})
}

// Config returns a server Config from the settings; the caller adds Logger,
// Registry and Ready.
func (s Settings) Config() Config {
	return Config{
		Addr:         s.Listen,
		TLSCertFile:  s.TLSCert,
		TLSKeyFile:   s.TLSKey,
		ReadTimeout:  s.ReadTimeout,
		WriteTimeout: s.WriteTimeout,
		IdleTimeout:  s.IdleTimeout,
		DrainTimeout: s.DrainTimeout,
	}
}
