// Package ledger is stride's audit trail and the source of truth of what
// each environment serves: an append-only chain of events on the git ref
// refs/stride/ledger. Each event is one commit whose tree holds one file,
// event.json (schema stride.ledger-event/v1), and whose parent is the
// previous event. Appends move the ref with a compare-and-swap (`git
// update-ref REF NEW OLD`), so concurrent writers on one repository never
// lose or double an event: the loser of a race re-reads the ledger,
// decides again and retries (Update).
//
// Readers never need a checkout. What an environment serves, whether it is
// held, and which builds were rolled back from it are derived from the
// events (State), never from a second file. A cache of the parsed events,
// keyed by the commit it was read up to, lives in the git directory
// (stride/ledger-cache.gob); it is checked against the chain on every read
// and safe to delete.
package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Ref is the ledger's git ref.
const Ref = "refs/stride/ledger"

// Schema is every event's "schema".
const Schema = "stride.ledger-event/v1"

// EventFile is the one file of an event commit's tree.
const EventFile = "event.json"

// Event kinds.
const (
	// Evaluation: a build's criteria for an environment, each with its
	// evidence, and the verdict.
	KindEvaluation = "evaluation"
	// Promotion: the environment now serves Build (it served From). It
	// names the evaluation that allowed it.
	KindPromotion = "promotion"
	// Rollback: the environment goes back to Build from From, which is
	// not promoted there again automatically.
	KindRollback = "rollback"
	// Step: one step that realizes a promotion or rollback (Of): "switch"
	// (the APT distribution) or "deploy" (the environment's deployer).
	KindStep = "step"
	// Hold and Unhold: a person stops or allows promotions into Env.
	KindHold   = "hold"
	KindUnhold = "unhold"
)

// Verdicts of an evaluation.
const (
	VerdictPass    = "pass"    // every criterion holds
	VerdictBlocked = "blocked" // a criterion fails or is unknown
)

// Criterion statuses.
const (
	StatusPass    = "pass"    // ✓
	StatusFail    = "fail"    // ✗
	StatusUnknown = "unknown" // could not be evaluated: blocks
	StatusSkipped = "skipped" // not relevant to this build (its affected set)
)

// Steps and their statuses.
const (
	StepSwitch = "switch"
	StepDeploy = "deploy"

	StepDone   = "done"
	StepFailed = "failed"
)

// Event is one ledger event (schema stride.ledger-event/v1). Which fields
// are set depends on Kind; docs/promote.md has an example of each.
type Event struct {
	Schema string    `json:"schema"`
	ID     string    `json:"id"` // unique; other events refer to it
	Kind   string    `json:"kind"`
	Time   time.Time `json:"time"`
	// Actor is who acted: "robot (USER@HOST)" for stride promote --auto,
	// else the person's USER@HOST or email.
	Actor  string `json:"actor"`
	Env    string `json:"env,omitempty"`
	Build  string `json:"build,omitempty"`
	Reason string `json:"reason,omitempty"`

	// From is the build the environment served before a promotion or
	// rollback ("" for its first).
	From string `json:"from,omitempty"`
	// Evaluation is the ID of the evaluation that allowed a promotion.
	Evaluation string `json:"evaluation,omitempty"`
	// Override: a person promoted despite the criteria.
	Override bool `json:"override,omitempty"`
	// Manual: a person asked for this promotion (not the robot).
	Manual bool `json:"manual,omitempty"`

	// Verdict and Criteria are an evaluation's.
	Verdict  string            `json:"verdict,omitempty"`
	Criteria []CriterionResult `json:"criteria,omitempty"`

	// Of, Step, Status, Detail and Repaired are a step's: Of is the ID of
	// the promotion or rollback; Repaired says the step was completed by a
	// later run after the one that recorded Of was interrupted.
	Of       string `json:"of,omitempty"`
	Step     string `json:"step,omitempty"`
	Status   string `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Repaired bool   `json:"repaired,omitempty"`

	// Commit and Seq are set by the reader: the event's commit and its
	// position in the ledger (0 for the first event). Not stored.
	Commit string `json:"commit,omitempty"`
	Seq    int    `json:"seq"`
}

// CriterionResult is one criterion evaluated for a build and environment.
type CriterionResult struct {
	// Criterion is the criterion as written, e.g. "soak(hours = 2)".
	Criterion string `json:"criterion"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	// Evidence says in plain words what was found, e.g. "in uat for 2h13m
	// (since 2026-12-03T10:00:00Z); needs 2h".
	Evidence string `json:"evidence"`
}

// Blocks reports whether the result stops a promotion.
func (c CriterionResult) Blocks() bool {
	return c.Status == StatusFail || c.Status == StatusUnknown
}

// Mark is the result as one character: ✓ ✗ ? or -.
func (c CriterionResult) Mark() string {
	switch c.Status {
	case StatusPass:
		return "✓"
	case StatusFail:
		return "✗"
	case StatusSkipped:
		return "-"
	}
	return "?"
}

// marshal is the stored form of an event: indented JSON without the
// reader's fields.
func (e Event) marshal() ([]byte, error) {
	e.Commit, e.Seq = "", 0
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return buf.Bytes(), nil
}

// subject is the event commit's message subject, for `git log`.
func (e Event) subject() string {
	s := e.Kind
	if e.Step != "" {
		s += " " + e.Step + " " + e.Status
	}
	if e.Env != "" {
		s += " " + e.Env
	}
	if e.Build != "" {
		s += " " + short(e.Build)
	}
	if e.Verdict != "" {
		s += " " + e.Verdict
	}
	return s
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// parseEvent decodes a stored event and checks its schema and kind.
func parseEvent(name string, b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%s: %w", name, err)
	}
	if e.Schema != Schema {
		return e, fmt.Errorf("%s: schema %q, want %q", name, e.Schema, Schema)
	}
	if e.ID == "" {
		return e, fmt.Errorf("%s: no id", name)
	}
	switch e.Kind {
	case KindEvaluation, KindPromotion, KindRollback, KindStep, KindHold, KindUnhold:
	default:
		return e, fmt.Errorf("%s: unknown kind %q", name, e.Kind)
	}
	return e, nil
}
