package policy

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
)

// checkOwners lints the OWNERS tree at head when the change touched an
// OWNERS or OWNERS_ALIASES file: every diagnostic in a touched file, and
// every error anywhere (a change to one file can break another, as when a
// team is removed). It returns the findings, or a reason the rule was
// skipped.
func checkOwners(repo *gitrepo.Repo, head plumbing.Hash, changed map[string]bool) ([]Finding, string, error) {
	touched := map[string]bool{}
	for p := range changed {
		base := path.Base(p)
		if (base == "OWNERS" || base == "OWNERS_ALIASES") && !strings.Contains("/"+p, "/testdata/") {
			touched[p] = true
		}
	}
	if len(touched) == 0 {
		return nil, "no OWNERS files changed", nil
	}
	tree, err := owners.LoadAt(repo, head)
	var ds owners.Diagnostics
	if err != nil && !(errors.As(err, &ds) && tree != nil) {
		return nil, "", fmt.Errorf("owners-lint: load OWNERS at %s: %w", shortSHA(head.String()), err)
	}
	var out []Finding
	for _, d := range owners.Lint(tree) {
		if d.Severity != owners.Error && !touched[d.Pos.File] {
			continue
		}
		out = append(out, Finding{Rule: RuleOwnersLint, File: d.Pos.File, Line: d.Pos.Line,
			Message: fmt.Sprintf("%s: %s (%s; see stride owners lint)", d.Severity, d.Msg, d.Code)})
	}
	return out, "", nil
}
