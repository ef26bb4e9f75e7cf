// Package buildinfo holds the version and commit a service binary was built
// from, and the time the process started.
//
// Version and Commit are set at link time. With Bazel, the go_binary of each
// service stamps them through x_defs:
//
//	x_defs = {
//	    "github.com/strideci/monorepo/libs/buildinfo.Version": "{STABLE_VERSION}",
//	    "github.com/strideci/monorepo/libs/buildinfo.Commit": "{STABLE_GIT_COMMIT}",
//	}
//
// and with the go tool:
//
//	go build -ldflags "-X github.com/strideci/monorepo/libs/buildinfo.Version=1.2.3 \
//	  -X github.com/strideci/monorepo/libs/buildinfo.Commit=$(git rev-parse HEAD)"
//
// Unstamped builds (go build, go test), and builds stamped with empty values
// (Bazel without --stamp may do that), report "dev" and "unknown".
package buildinfo

import (
	"runtime"
	"time"
)

// Version is the release version, e.g. "0.42.0". Set with -X.
var Version = "dev"

// Commit is the git commit the binary was built from. Set with -X.
var Commit = "unknown"

// started is when the package was initialized, i.e. close to process start.
var started = time.Now()

// Info is a snapshot of the build information, ready for JSON.
type Info struct {
	Version   string    `json:"version"`
	Commit    string    `json:"commit"`
	GoVersion string    `json:"go_version"`
	StartTime time.Time `json:"start_time"`
}

// Get returns the build information of this process.
func Get() Info {
	return Info{Version: version(), Commit: commit(), GoVersion: runtime.Version(), StartTime: started}
}

// String renders "NAME VERSION (commit COMMIT, GOVERSION)", the line printed
// by a service's -version flag.
func String(name string) string {
	return name + " " + version() + " (commit " + commit() + ", " + runtime.Version() + ")"
}

func version() string {
	if Version == "" {
		return "dev"
	}
	return Version
}

func commit() string {
	if Commit == "" {
		return "unknown"
	}
	return Commit
}
