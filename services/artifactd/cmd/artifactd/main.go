// Command artifactd serves a directory of build artifacts (.deb packages,
// APT indexes, reports) over HTTP, read-only, with strong ETags and range
// requests. Run `artifactd -h` for its flags; the logic lives in
// services/artifactd/internal/app.
package main

import (
	"os"

	"github.com/strideci/monorepo/services/artifactd/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
