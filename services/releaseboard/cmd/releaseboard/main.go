// Command releaseboard serves the "can I release?" board: an HTML page and
// a JSON endpoint (/api/info) with the service's build and health. Run
// `releaseboard -h` for its flags; the logic lives in
// services/releaseboard/internal/app.
package main

import (
	"os"

	"github.com/strideci/monorepo/services/releaseboard/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
