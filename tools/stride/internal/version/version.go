// Package version holds the build's version and commit, stamped by Bazel's
// workspace status (see tools/bazel/workspace_status.sh and the x_defs of
// //tools/stride/cmd/stride). Unstamped builds (go build, go test) report
// "dev" and "unknown".
package version

// Version is the release version, e.g. "0.42.0". Set with -X.
var Version = "dev"

// Commit is the git commit the binary was built from. Set with -X.
var Commit = "unknown"

// String renders the version line printed by `stride version`.
func String() string {
	return "stride " + Version + " (commit " + Commit + ")"
}
