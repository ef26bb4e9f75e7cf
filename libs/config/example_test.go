package config_test

import (
	"flag"
	"fmt"
	"time"

	"github.com/strideci/monorepo/libs/config"
)

func ExampleLoad() {
	type Config struct {
		Listen string        `config:"listen" help:"address to listen on"`
		Drain  time.Duration `config:"drain-timeout" help:"shutdown grace period"`
	}
	cfg := Config{Listen: ":8080", Drain: 10 * time.Second} // the defaults
	env := map[string]string{"EXAMPLE_DRAIN_TIMEOUT": "30s"}
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	src, err := config.Load(fs, []string{"-listen", "127.0.0.1:9000"}, &cfg, config.Options{
		EnvPrefix: "EXAMPLE_",
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Listen, "from", src.Origin("listen"))
	fmt.Println(cfg.Drain, "from", src.Origin("drain-timeout"))

	env["EXAMPLE_DRAIN_TIMEOUT"] = "soon"
	_, err = config.Load(flag.NewFlagSet("example", flag.ContinueOnError), nil, &cfg, config.Options{
		EnvPrefix: "EXAMPLE_",
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	fmt.Println(err)
	// Output:
	// 127.0.0.1:9000 from flag -listen
	// 30s from env EXAMPLE_DRAIN_TIMEOUT
	// config: key "drain-timeout" from env EXAMPLE_DRAIN_TIMEOUT: invalid duration "soon"
}
