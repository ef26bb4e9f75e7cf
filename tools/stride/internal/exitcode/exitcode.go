// Package exitcode holds stride's exit codes, stable and documented in
// docs/stride.md, for the packages that record them (the run report, the
// hook records) and the CLI, which maps every error to one of them in one
// place (cli.exitCodeOf).
package exitcode

const (
	// OK: success (an empty result is success).
	OK = 0
	// Findings: the command ran and found problems (failed tests, missing
	// approvals, lint errors).
	Findings = 1
	// Input: bad usage or bad input (unknown flag, unknown revision,
	// malformed file, a workspace Bazel cannot load at head).
	Input = 2
	// Infra: an internal or infrastructure error (Bazel, git, aptly or
	// gpg failed to run, a full disk, a run cancelled or killed).
	Infra = 3
)
