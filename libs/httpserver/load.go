package httpserver

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/strideci/monorepo/libs/buildinfo"
	"github.com/strideci/monorepo/libs/config"
)

// Exit codes of a service process, as LoadConfig returns them.
const (
	ExitOK      = 0 // clean shutdown, -version or -h
	ExitFailure = 1 // serving failed
	ExitUsage   = 2 // bad usage or an invalid configuration
)

// LoadOptions describe a service's command line for LoadConfig.
type LoadOptions struct {
	// Name is the service name: the program name in the usage text, the
	// prefix of error messages ("NAME: ...") and of the -version line.
	Name string
	// About is the one-line description in the usage text.
	About string
	// EnvPrefix and LookupEnv are passed to config.Load.
	EnvPrefix string
	LookupEnv func(string) (string, bool)
}

// LoadConfig is a service's start-up: it parses args with a flag set named
// o.Name (with -h and -version), loads cfg (a pointer to a libs/config
// struct holding the defaults, usually embedding Settings) with config.Load,
// rejects positional arguments and calls cfg.Validate. When ok is false the
// caller must exit with code: ExitOK after -version (printed to stdout) or
// -h, ExitUsage for a usage or configuration error, already printed to
// stderr naming the key and where its value came from. Checks of the
// service's own keys belong to the caller, which builds its errors with
// src.Errorf.
func LoadConfig(o LoadOptions, args []string, cfg interface {
	Validate(*config.Sources) error
}, stdout, stderr io.Writer) (src *config.Sources, code int, ok bool) {
	fs := flag.NewFlagSet(o.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\n%s\nEvery flag can also be set in the JSON file named by -config or in the environment.\nExit codes: 0 clean shutdown, 1 serving failed, 2 bad usage or configuration.\n\nFlags:\n", o.Name, o.About)
		fs.PrintDefaults()
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	src, err := config.Load(fs, args, cfg, config.Options{EnvPrefix: o.EnvPrefix, LookupEnv: o.LookupEnv})
	if *showVersion {
		fmt.Fprintln(stdout, buildinfo.String(o.Name))
		return nil, ExitOK, false
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, ExitOK, false
	case err != nil && fs.Parsed():
		fmt.Fprintf(stderr, "%s: %v\n", o.Name, err)
		return nil, ExitUsage, false
	case err != nil: // the flag package already printed it with the usage
		return nil, ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (all settings are flags)\n", o.Name, fs.Arg(0))
		return nil, ExitUsage, false
	}
	if err := cfg.Validate(src); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", o.Name, err)
		return nil, ExitUsage, false
	}
	return src, ExitOK, true
}
