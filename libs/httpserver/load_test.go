package httpserver_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strideci/monorepo/libs/httpserver"
)

func TestLoadConfig(t *testing.T) {
	type config struct {
		httpserver.Settings
		Title string `config:"title"`
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOK     bool
		wantStdout string // prefix
		wantStderr string // substring
	}{
		{"defaults", nil, nil, httpserver.ExitOK, true, "", ""},
		{"version", []string{"-version"}, nil, httpserver.ExitOK, false, "svc dev (commit ", ""},
		{"help", []string{"-h"}, nil, httpserver.ExitOK, false, "", "Usage: svc [flags]\n\nServes things.\n"},
		{"unknown flag", []string{"-nope"}, nil, httpserver.ExitUsage, false, "", "flag provided but not defined: -nope"},
		{"bad value", []string{"-drain-timeout", "x"}, nil, httpserver.ExitUsage, false, "",
			`svc: config: key "drain-timeout" from flag -drain-timeout: invalid duration "x"`},
		{"positional", []string{"serve"}, nil, httpserver.ExitUsage, false, "", `svc: unexpected argument "serve" (all settings are flags)`},
		{"invalid settings", nil, map[string]string{"SVC_LISTEN": ""}, httpserver.ExitUsage, false, "",
			`svc: config: key "listen" from env SVC_LISTEN: must not be empty`},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{Settings: httpserver.DefaultSettings(":0")}
			var stdout, stderr bytes.Buffer
			src, code, ok := httpserver.LoadConfig(httpserver.LoadOptions{
				Name: "svc", About: "Serves things.", EnvPrefix: "SVC_",
				LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok },
			}, tt.args, &cfg, &stdout, &stderr)
			if code != tt.wantCode || ok != tt.wantOK || (src != nil) != tt.wantOK {
				t.Errorf("LoadConfig = %v, %d, %v; want code %d, ok %v", src, code, ok, tt.wantCode, tt.wantOK)
			}
			if !strings.HasPrefix(stdout.String(), tt.wantStdout) || (tt.wantStdout == "") != (stdout.Len() == 0) {
				t.Errorf("stdout %q, want prefix %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "") != (stderr.Len() == 0) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
