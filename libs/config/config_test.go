package config_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/libs/config"
)

// color is a TextUnmarshaler, like log.Level.
type color string

func (c *color) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "red", "green":
		*c = color(s)
		return nil
	default:
		return fmt.Errorf("unknown color %q", s)
	}
}

type testConfig struct {
	Listen  string        `config:"listen" help:"address to listen on"`
	Debug   bool          `config:"debug"`
	Workers int           `config:"workers"`
	Ratio   float64       `config:"ratio"`
	Drain   time.Duration `config:"drain-timeout"`
	Peers   []string      `config:"peers"`
	Color   color         `config:"color"`
	Skipped string        `config:"-"`
	Untaged string
}

func defaults() testConfig {
	return testConfig{Listen: ":8080", Workers: 2, Drain: 10 * time.Second, Color: "red"}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{
  "listen": "127.0.0.1:9000",
  "workers": 8,
  "drain-timeout": "30s",
  "peers": ["a", "b"],
  "debug": true,
  "ratio": 0.25,
  "color": "green"
}
`)
	partial := write("partial.json", `{"listen": "file:1", "workers": 3}`)
	unknown := write("unknown.json", "{\n  \"listen\": \"x\",\n  \"lisen\": \"y\"\n}\n")
	wrongType := write("wrongtype.json", "{\n  \"listen\": 8080\n}\n")
	badDur := write("baddur.json", "{\n\n  \"drain-timeout\": \"x\"\n}")
	badSyntax := write("syntax.json", "{\n  \"listen\": \"x\",\n  \"workers\": ,\n}")
	dup := write("dup.json", "{\"listen\": \"a\",\n\"listen\": \"b\"}")
	trailing := write("trailing.json", `{"listen": "a"} {}`)
	array := write("array.json", `["listen"]`)
	badElem := write("badelem.json", `{"peers": ["a", 1]}`)
	fracInt := write("frac.json", `{"workers": 1.5}`)
	badColor := write("color.json", `{"color": "blue"}`)
	missing := filepath.Join(dir, "missing.json")

	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		defaultFile string
		want        func(c *testConfig)     // edits defaults() into the expected config
		origins     map[string]string       // key → expected origin
		wantErr     string                  // exact error text
		check       func(*testing.T, error) // extra checks on the error
	}{
		{
			name:    "defaults only",
			want:    func(c *testConfig) {},
			origins: map[string]string{"listen": "default", "workers": "default"},
		},
		{
			name: "file",
			args: []string{"-config", good},
			want: func(c *testConfig) {
				*c = testConfig{Listen: "127.0.0.1:9000", Workers: 8, Drain: 30 * time.Second, Peers: []string{"a", "b"}, Debug: true, Ratio: 0.25, Color: "green"}
			},
			origins: map[string]string{"listen": "file " + good + ":2", "color": "file " + good + ":8"},
		},
		{
			name: "env beats file, flag beats env",
			args: []string{"-config", partial, "-listen", "flag:1"},
			env:  map[string]string{"TEST_LISTEN": "env:1", "TEST_WORKERS": "5", "TEST_PEERS": " x, y ,,z", "TEST_DRAIN_TIMEOUT": "1m"},
			want: func(c *testConfig) {
				c.Listen, c.Workers, c.Peers, c.Drain = "flag:1", 5, []string{"x", "y", "z"}, time.Minute
			},
			origins: map[string]string{"listen": "flag -listen", "workers": "env TEST_WORKERS", "debug": "default"},
		},
		{
			name: "file named by env",
			env:  map[string]string{"TEST_CONFIG": partial},
			want: func(c *testConfig) { c.Listen, c.Workers = "file:1", 3 },
		},
		{
			name:        "default file used when present",
			defaultFile: partial,
			want:        func(c *testConfig) { c.Listen, c.Workers = "file:1", 3 },
		},
		{
			name:        "default file may be missing",
			defaultFile: missing,
			want:        func(c *testConfig) {},
		},
		{
			name: "flag beats default file",
			args: []string{"-workers=9"}, defaultFile: partial,
			want: func(c *testConfig) { c.Listen, c.Workers = "file:1", 9 },
		},
		{
			name: "bool flag alone, repeated list flag, text flag",
			args: []string{"-debug", "-peers", "a,b", "-peers", "c", "-color", "green"},
			want: func(c *testConfig) { c.Debug, c.Peers, c.Color = true, []string{"a", "b", "c"}, "green" },
		},
		{
			name: "bool flag false overrides env",
			args: []string{"-debug=false"},
			env:  map[string]string{"TEST_DEBUG": "true"},
			want: func(c *testConfig) {},
		},
		{
			name:    "explicit missing file",
			args:    []string{"-config", missing},
			wantErr: "config: open " + missing + ": no such file or directory",
		},
		{
			name:    "unknown key in file",
			args:    []string{"-config", unknown},
			wantErr: "config: file " + unknown + `:3: unknown key "lisen" (known keys: color, debug, drain-timeout, listen, peers, ratio, workers)`,
		},
		{
			name:    "wrong JSON type",
			args:    []string{"-config", wrongType},
			wantErr: `config: key "listen" from file ` + wrongType + `:2: want a string, got number 8080`,
		},
		{
			name:    "invalid duration in file",
			args:    []string{"-config", badDur},
			wantErr: `config: key "drain-timeout" from file ` + badDur + `:3: invalid duration "x"`,
		},
		{
			name:    "syntax error with line and column",
			args:    []string{"-config", badSyntax},
			wantErr: "config: file " + badSyntax + ":3:14: invalid character ',' looking for beginning of value",
		},
		{
			name:    "repeated key",
			args:    []string{"-config", dup},
			wantErr: "config: file " + dup + `:2: key "listen" repeated (first on line 1)`,
		},
		{
			name:    "data after object",
			args:    []string{"-config", trailing},
			wantErr: "config: file " + trailing + ":1:17: data after the top-level object",
		},
		{
			name:    "top level not an object",
			args:    []string{"-config", array},
			wantErr: "config: file " + array + ": want a JSON object at the top level",
		},
		{
			name:    "bad list element",
			args:    []string{"-config", badElem},
			wantErr: `config: key "peers" from file ` + badElem + `:1: want an array of strings, element 1 is number 1`,
		},
		{
			name:    "fraction for int",
			args:    []string{"-config", fracInt},
			wantErr: `config: key "workers" from file ` + fracInt + `:1: want an integer, got number 1.5`,
		},
		{
			name:    "text unmarshaler error in file",
			args:    []string{"-config", badColor},
			wantErr: `config: key "color" from file ` + badColor + `:1: unknown color "blue"`,
		},
		{
			name:    "invalid duration in env",
			env:     map[string]string{"TEST_DRAIN_TIMEOUT": "x"},
			wantErr: `config: key "drain-timeout" from env TEST_DRAIN_TIMEOUT: invalid duration "x"`,
			check: func(t *testing.T, err error) {
				var ce *config.Error
				if !errors.As(err, &ce) || ce.Key != "drain-timeout" || ce.Source != "env TEST_DRAIN_TIMEOUT" {
					t.Errorf("errors.As(*config.Error) = %+v", ce)
				}
			},
		},
		{
			name:    "invalid int in env",
			env:     map[string]string{"TEST_WORKERS": "many"},
			wantErr: `config: key "workers" from env TEST_WORKERS: invalid integer "many"`,
		},
		{
			name:    "invalid bool in env",
			env:     map[string]string{"TEST_DEBUG": "yes please"},
			wantErr: `config: key "debug" from env TEST_DEBUG: invalid boolean "yes please"`,
		},
		{
			name:    "invalid float in flag",
			args:    []string{"-ratio", "half"},
			wantErr: `config: key "ratio" from flag -ratio: invalid number "half"`,
		},
		{
			name:    "invalid bool in flag",
			args:    []string{"-debug=maybe"},
			wantErr: `config: key "debug" from flag -debug: invalid boolean "maybe"`,
		},
		{
			name:    "invalid text in flag beats valid env",
			args:    []string{"-color", "blue"},
			env:     map[string]string{"TEST_COLOR": "green"},
			wantErr: `config: key "color" from flag -color: unknown color "blue"`,
		},
		{
			name:    "unknown flag",
			args:    []string{"-nope"},
			wantErr: "flag provided but not defined: -nope",
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg := defaults()
			src, err := config.Load(fs, tt.args, &cfg, config.Options{
				EnvPrefix:   "TEST_",
				DefaultFile: tt.defaultFile,
				LookupEnv: func(k string) (string, bool) {
					v, ok := tt.env[k]
					return v, ok
				},
			})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load succeeded, want error %q", tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
				}
				if tt.check != nil {
					tt.check(t, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults()
			tt.want(&want)
			if diff := cmp.Diff(want, cfg); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			for key, o := range tt.origins {
				if got := src.Origin(key); got != o {
					t.Errorf("Origin(%q) = %q, want %q", key, got, o)
				}
			}
		})
	}
}

func TestSourcesErrorf(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg := defaults()
	src, err := config.Load(fs, []string{"-listen", "nowhere"}, &cfg, config.Options{EnvPrefix: "TEST_", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	got := src.Errorf("listen", "missing port in %q", cfg.Listen).Error()
	want := `config: key "listen" from flag -listen: missing port in "nowhere"`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := src.Errorf("workers", "too few").Error(); got != `config: key "workers" from default: too few` {
		t.Errorf("got %s", got)
	}
}

func TestUsageShowsEnvAndDefaults(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	cfg := defaults()
	_, err := config.Load(fs, []string{"-h"}, &cfg, config.Options{EnvPrefix: "TEST_"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{
		"-listen string\n    \taddress to listen on (string, env TEST_LISTEN) (default :8080)",
		"-drain-timeout duration\n    \t(duration, env TEST_DRAIN_TIMEOUT) (default 10s)",
		"configuration file (JSON) (env TEST_CONFIG)\n",
		"-debug\n    \t(env TEST_DEBUG)\n",
		"-color color\n    \t(color, env TEST_COLOR) (default red)\n",
		"-peers list\n    \t(list, env TEST_PEERS)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadDestinations(t *testing.T) {
	type unsupported struct {
		M map[string]string `config:"m"`
	}
	type dupKey struct {
		A string `config:"a"`
		B string `config:"a"`
	}
	tests := []struct {
		name string
		dst  interface{}
		want string
	}{
		{"not a pointer", testConfig{}, "config: destination must be a pointer to a struct, not config_test.testConfig"},
		{"unsupported type", &unsupported{}, `config: field M (key "m"): unsupported type map[string]string`},
		{"duplicate key", &dupKey{}, `config: key "a" used twice`},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		_, err := config.Load(fs, nil, tt.dst, config.Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestEnvName(t *testing.T) {
	if got := config.EnvName("ARTIFACTD_", "tls.cert-file"); got != "ARTIFACTD_TLS_CERT_FILE" {
		t.Errorf("EnvName = %q", got)
	}
}

type Shared struct {
	Listen string `config:"listen"`
	Level  color  `config:"level"`
}

type service struct {
	Shared
	Root string `config:"root"`
}

func TestEmbeddedStructsAreFlattened(t *testing.T) {
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	cfg := service{Shared: Shared{Listen: ":1", Level: "red"}}
	env := map[string]string{"SVC_LEVEL": "green"}
	_, err := config.Load(fs, []string{"-root", "/srv"}, &cfg, config.Options{EnvPrefix: "SVC_", LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := service{Shared: Shared{Listen: ":1", Level: "green"}, Root: "/srv"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	type clash struct {
		Shared
		Other string `config:"listen"`
	}
	if _, err := config.Load(flag.NewFlagSet("x", flag.ContinueOnError), nil, &clash{}, config.Options{}); err == nil || err.Error() != `config: key "listen" used twice` {
		t.Errorf("clash: err = %v", err)
	}
}
