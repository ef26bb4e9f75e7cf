package run

import (
	"context"
	"fmt"

	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// Pipeline is the push pipeline as `stride run`, the hooks and `stride
// watch` run it: Run (the affected set, one build and one test of it, the
// owners and policy checks beside them, the report) and then, for a green
// run, Publish.
type Pipeline struct {
	Options
	// Publish, when set, publishes a green run from its report directory
	// (what `stride publish --run DIR` does).
	Publish func(ctx context.Context, runDir string) error
}

// Outcome is what one pass of the pipeline did.
type Outcome struct {
	// Report is the final report; nil when none could be written.
	Report *report.Report
	// Dir is the report's directory.
	Dir string
	// Published: the run was green and Publish succeeded.
	Published bool
}

// PublishError is the failure of the publish step of a green run.
type PublishError struct{ Err error }

func (e *PublishError) Error() string { return "publish: " + e.Err.Error() }
func (e *PublishError) Unwrap() error { return e.Err }

// Run runs the pipeline once. Its error is Run's (a *UsageError for bad
// input; the report could not be written) or a *PublishError; the
// outcome holds what was done either way.
func (p *Pipeline) Run(ctx context.Context) (*Outcome, error) {
	rep, err := Run(ctx, p.Options)
	out := &Outcome{Report: rep, Dir: p.OutDir}
	if rep == nil {
		if err == nil {
			err = fmt.Errorf("run: no report")
		}
		return out, err
	}
	if out.Dir == "" {
		out.Dir = RunDir(rep.Workspace, rep.Head.SHA)
	}
	if err != nil || rep.Status != report.StatusGreen || p.Publish == nil {
		return out, err
	}
	if perr := p.Publish(ctx, out.Dir); perr != nil {
		return out, &PublishError{perr}
	}
	out.Published = true
	return out, nil
}
