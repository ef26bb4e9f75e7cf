package httpserver_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strideci/monorepo/libs/config"
	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
)

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // "" for valid
	}{
		{"defaults", nil, nil, ""},
		{"flags", []string{"-listen", "127.0.0.1:0", "-log-level", "debug", "-log-format", "logfmt", "-drain-timeout", "1s"}, nil, ""},
		{"bad level from env", nil, map[string]string{"SVC_LOG_LEVEL": "loud"}, `config: key "log-level" from env SVC_LOG_LEVEL: unknown log level "loud" (want debug, info, warn or error)`},
		{"bad format flag", []string{"-log-format", "xml"}, nil, `config: key "log-format" from flag -log-format: unknown log format "xml" (want json or logfmt)`},
		{"bad duration", []string{"-drain-timeout", "x"}, nil, `config: key "drain-timeout" from flag -drain-timeout: invalid duration "x"`},
		{"negative timeout", []string{"-read-timeout=-1s"}, nil, `config: key "read-timeout" from flag -read-timeout: must not be negative (0 means the default)`},
		{"empty listen", nil, map[string]string{"SVC_LISTEN": ""}, `config: key "listen" from env SVC_LISTEN: must not be empty`},
		{"cert without key", []string{"-tls-cert", cert}, nil, `config: key "tls-key" from default: must be set when tls-cert is`},
		{"missing key file", []string{"-tls-cert", cert}, map[string]string{"SVC_TLS_KEY": missing}, `config: key "tls-key" from env SVC_TLS_KEY: stat ` + missing + `: no such file or directory`},
		{"invalid key pair", []string{"-tls-cert", cert, "-tls-key", cert}, nil, `config: key "tls-key" from flag -tls-key: load the TLS key pair (tls-cert ` + cert + `): tls: failed to find any PEM data in certificate input`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			s := httpserver.DefaultSettings(":8080")
			fs := flag.NewFlagSet("svc", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			src, err := config.Load(fs, tt.args, &s, config.Options{EnvPrefix: "SVC_", LookupEnv: func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			}})
			if err == nil {
				err = s.Validate(src)
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSettingsConfig(t *testing.T) {
	s := httpserver.DefaultSettings("127.0.0.1:0")
	s.LogLevel = log.LevelDebug
	c := s.Config()
	if c.Addr != "127.0.0.1:0" || c.DrainTimeout != 10*time.Second || c.WriteTimeout != httpserver.DefaultWriteTimeout {
		t.Errorf("Config() = %+v", c)
	}
	if l := s.NewLogger(io.Discard); l.Level() != log.LevelDebug {
		t.Errorf("logger level = %v", l.Level())
	}
}
