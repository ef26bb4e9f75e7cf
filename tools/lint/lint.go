// Package lint lists the monorepo's own static analyzers. Each lives in a
// package of its own under tools/lint, exports `var Analyzer` (what rules_go's
// nogo needs) and has analysistest-style tests on testdata/src cases:
//
//   - execstderr: git and bazel run through os/exec must keep their stderr
//     for the error;
//   - noprint: no fmt.Print* or print/println in library packages (libs/,
//     internal/);
//   - gitexec: in tools/stride, only package gitrepo starts git;
//   - httptimeout: no http.ListenAndServe, and http.Server literals set read
//     and write (or idle) timeouts;
//   - newstdlib: no standard-library packages, symbols or builtins newer
//     than Go 1.19 (the Bazel toolchain).
//
// They run in the Bazel build through nogo (tools/nogo) and with the host
// Go through cmd/stridelint. docs/quality-gates.md describes the rules.
package lint

import (
	"github.com/strideci/monorepo/tools/lint/execstderr"
	"github.com/strideci/monorepo/tools/lint/gitexec"
	"github.com/strideci/monorepo/tools/lint/httptimeout"
	"github.com/strideci/monorepo/tools/lint/newstdlib"
	"github.com/strideci/monorepo/tools/lint/noprint"
	"golang.org/x/tools/go/analysis"
)

// Analyzers are the monorepo's own analyzers, in name order.
var Analyzers = []*analysis.Analyzer{
	execstderr.Analyzer,
	gitexec.Analyzer,
	httptimeout.Analyzer,
	newstdlib.Analyzer,
	noprint.Analyzer,
}
