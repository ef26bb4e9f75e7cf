package cli

import (
	"errors"
	"flag"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/exitcode"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/policy"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/run"
	"github.com/strideci/monorepo/tools/stride/internal/sparse"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Exit codes, stable and documented in `stride help` and docs/stride.md.
const (
	ExitOK       = exitcode.OK       // success (an empty result is success)
	ExitFindings = exitcode.Findings // the command ran and found problems (failed tests, missing approvals, lint errors)
	ExitUsage    = exitcode.Input    // bad usage or bad input (unknown flag, unknown commit, malformed file)
	ExitInternal = exitcode.Infra    // internal or infrastructure error
)

// exitCodeOf is the one place where an error becomes an exit code
// (docs/stride.md: 0 ok, 1 findings, 2 usage or input, 3 infrastructure):
//   - an *ExitError carries its code (Usagef, Exit);
//   - Bazel that cannot start is infrastructure, even inside an input
//     error of the affected computation;
//   - the input's fault: unknown revisions, shallow clones lacking a
//     commit, directories outside a repository, no merge base or default
//     branch, an affected set Bazel cannot compute at head, a run whose
//     head is not checked out, a store object that does not verify, a
//     publish of a run that is missing or not green, bad approvals files
//     and team names (owners), bad policy options, an unknown environment
//     or build (promote), a team or map sparse lacks, a git too old;
//   - a finding: a publish that would replace a build with different
//     packages, records of what environments serve that disagree, a
//     promotion its criteria block;
//   - anything else is infrastructure.
func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if errors.Is(ee.Err, flag.ErrHelp) {
			return ExitOK
		}
		return ee.Code
	}
	var ie *affected.InputError
	var ue *run.UsageError
	switch {
	case errors.Is(err, bazel.ErrStart):
		return ExitInternal
	case errors.Is(err, publish.ErrNotReproducible), errors.Is(err, store.ErrSourcesDisagree),
		errors.Is(err, promote.ErrBlocked), errors.As(err, new(*promote.DeployFailed)), errors.As(err, new(*env.Failure)):
		return ExitFindings
	case errors.As(err, &ie), errors.As(err, &ue),
		errors.Is(err, gitrepo.ErrUnknownRevision), errors.Is(err, gitrepo.ErrShallow),
		errors.Is(err, gitrepo.ErrNotRepository), errors.Is(err, gitrepo.ErrNoMergeBase),
		errors.Is(err, gitrepo.ErrNoDefaultBranch), errors.Is(err, change.ErrHeadNotWorkTree),
		errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrNoStore), errors.Is(err, store.ErrNotFound),
		errors.Is(err, publish.ErrNotGreen), errors.Is(err, publish.ErrNoRun), errors.Is(err, publish.ErrBadInput),
		errors.Is(err, owners.ErrBadApprovals), errors.Is(err, owners.ErrUnknownTeam), errors.Is(err, owners.ErrNoOwnedDirs),
		errors.Is(err, policy.ErrBadInput), errors.Is(err, promote.ErrInput), errors.Is(err, env.ErrNotUp),
		sparse.IsTeamError(err), errors.Is(err, sparse.ErrNoMap), errors.Is(err, sparse.ErrNoTeam), errors.Is(err, sparse.ErrGitTooOld):
		return ExitUsage
	}
	return ExitInternal
}

// runExitCode is the exit code of one pass of the pipeline: its error's
// when it has one, else its report's (0 green, 1 failed, 2 an error of
// the input's, 3 any other error).
func runExitCode(out *run.Outcome, err error) int {
	switch {
	case err != nil:
		return exitCodeOf(err)
	case out == nil || out.Report == nil:
		return ExitInternal
	}
	return out.Report.ExitCode
}
