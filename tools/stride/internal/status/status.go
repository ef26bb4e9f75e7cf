package status

import (
	"fmt"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/owners"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Schema is the "schema" of a Status (stride status --format json).
const Schema = "stride.status/v1"

// Where a build is in an environment (EnvStatus.State).
const (
	StateWaiting    = "waiting"     // not there yet
	StatePromoted   = "promoted"    // the environment serves it
	StateReplaced   = "replaced"    // it was there; a newer build replaced it
	StateRolledBack = "rolled back" // it was rolled back from there
	StateHeld       = "held"        // not there, and the environment is held
)

// Status is where a change stands: the builds that contain it and, for
// each, every environment's state with its criteria; and the change's
// OWNERS approval.
type Status struct {
	Schema  string    `json:"schema"`
	Time    time.Time `json:"time"`
	Base    string    `json:"base"`
	Head    string    `json:"head"`
	BaseRev string    `json:"base_rev,omitempty"`
	HeadRev string    `json:"head_rev,omitempty"`
	// Subject is the head commit's subject.
	Subject string `json:"subject,omitempty"`
	Files   int    `json:"files"`
	// Verdict is the status in one line.
	Verdict string `json:"verdict"`
	// Conclusion is the Checks API's: "success" (in the last
	// environment), "failure" (a criterion failed for good, or rolled
	// back), "action_required" (OWNERS approval missing), "" while it
	// moves on (the check run is in progress).
	Conclusion   string   `json:"conclusion,omitempty"`
	Environments []string `json:"environments"`
	Builds       []Build  `json:"builds"`
	Owners       Owners   `json:"owners"`
}

// Build is a published build containing the change.
type Build struct {
	Build   string      `json:"build"`
	Commit  string      `json:"commit"`
	Number  int         `json:"number"`
	Time    time.Time   `json:"time"`
	Version string      `json:"version,omitempty"` // its packages' versions, "hello 0.0.0+g…"
	Envs    []EnvStatus `json:"environments"`
}

// EnvStatus is one build in one environment.
type EnvStatus struct {
	Env   string     `json:"env"`
	State string     `json:"state"`
	Since *time.Time `json:"since,omitempty"`
	// Detail says more in words: who rolled it back and why, the hold,
	// which build replaced it.
	Detail string `json:"detail,omitempty"`
	// Evaluation is the newest evaluation of the build for the
	// environment: the robot's dry run now, else the last recorded.
	Evaluation *Evaluation `json:"evaluation,omitempty"`
	WaitsFor   []string    `json:"waits_for,omitempty"`
}

// Evaluation is an evaluation's criteria with its time.
type Evaluation struct {
	Time time.Time `json:"time"`
	// Recorded: from the ledger (else the dry run made now).
	Recorded bool        `json:"recorded"`
	Actor    string      `json:"actor,omitempty"`
	Verdict  string      `json:"verdict"`
	Criteria []Criterion `json:"criteria"`
}

// Criterion is one criterion's result: status pass, fail, unknown or
// skipped, with ✓ ✗ ? - as Mark.
type Criterion struct {
	Criterion string `json:"criterion"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Mark      string `json:"mark"`
	Evidence  string `json:"evidence"`
}

func evaluationOf(e *ledger.Event, recorded bool) *Evaluation {
	ev := &Evaluation{Time: e.Time, Recorded: recorded, Actor: e.Actor, Verdict: e.Verdict, Criteria: []Criterion{}}
	for _, c := range e.Criteria {
		ev.Criteria = append(ev.Criteria, Criterion{Criterion: c.Criterion, Kind: c.Kind, Status: c.Status, Mark: c.Mark(), Evidence: c.Evidence})
	}
	return ev
}

// Owners is the change's OWNERS approval.
type Owners struct {
	OK       bool `json:"ok"`
	Files    int  `json:"files"`
	Approved int  `json:"approved"`
	Missing  int  `json:"missing"`
	// Blocking are the OWNERS files whose owners still have to approve.
	Blocking []Block `json:"blocking"`
	// Suggested is the smallest set of reviewers found who complete it.
	Suggested []Reviewer `json:"suggested"`
	// Command is the command that says more.
	Command string `json:"command,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Block is one OWNERS file's missing approval.
type Block struct {
	OwnersFile string   `json:"owners_file"`
	Dir        string   `json:"dir"`
	Files      int      `json:"files"`
	Missing    int      `json:"missing"`
	Needs      string   `json:"needs"`
	CanApprove []string `json:"can_approve"`
}

// Reviewer is a suggested reviewer.
type Reviewer struct {
	Email string   `json:"email"`
	Via   []string `json:"via"`
	Files int      `json:"files"`
}

// OwnersOf summarizes an owners check and its suggestion.
func OwnersOf(res *owners.Result, sug *owners.Suggestion) Owners {
	o := Owners{OK: res.OK, Files: res.Summary.Files, Approved: res.Summary.Approved, Missing: res.Summary.Missing,
		Blocking: []Block{}, Suggested: []Reviewer{}}
	for _, d := range res.Dirs {
		if d.Approved {
			continue
		}
		b := Block{OwnersFile: d.OwnersFile, Dir: dirName(d.Dir), Files: d.Files, Missing: d.Missing, Needs: d.Needs, CanApprove: []string{}}
		for _, c := range d.CanApprove {
			b.CanApprove = append(b.CanApprove, c.Entry)
		}
		o.Blocking = append(o.Blocking, b)
	}
	if sug != nil {
		for _, a := range sug.Approvers {
			o.Suggested = append(o.Suggested, Reviewer{Email: a.Email, Via: a.Via, Files: len(a.Files)})
		}
	}
	if !res.OK {
		o.Command = fmt.Sprintf("stride owners suggest --base %s --head %s", Short(res.Base), Short(res.Head))
	}
	return o
}

func dirName(d string) string {
	if d == "" || d == "." {
		return "/"
	}
	return d + "/"
}

// Of is the status of change ch.
func (f *Facts) Of(ch *change.Change) (*Status, error) {
	files, err := ch.Files()
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	base, head := ch.Base.String(), ch.Head.String()
	s := &Status{Schema: Schema, Time: f.Now, Base: base, Head: head, BaseRev: ch.BaseRev, HeadRev: ch.HeadRev, Files: len(files),
		Environments: f.Config.Names(), Builds: []Build{}}
	if c, err := f.Repo.CommitObject(ch.Head); err == nil {
		s.Subject = strings.SplitN(strings.TrimSpace(c.Message), "\n", 2)[0]
	}
	if res, sug, err := f.Owners(base, head); err != nil {
		s.Owners = Owners{Error: err.Error(), Blocking: []Block{}, Suggested: []Reviewer{}}
	} else {
		s.Owners = OwnersOf(res, sug)
	}
	for _, id := range f.Order {
		m := f.Builds[id]
		if f.Contains(m, head) {
			s.Builds = append(s.Builds, f.BuildStatus(m))
		}
	}
	s.Verdict, s.Conclusion = f.verdict(s)
	return s, nil
}

// BuildStatus is where build m is in every environment.
func (f *Facts) BuildStatus(m *store.Manifest) Build {
	b := Build{Build: m.Build, Commit: m.Commit, Number: m.Number, Time: m.Time, Envs: []EnvStatus{}}
	var vs []string
	for _, p := range m.Packages {
		vs = append(vs, p.Name+" "+p.Version)
	}
	b.Version = strings.Join(vs, ", ")
	for _, e := range f.Config.Envs {
		b.Envs = append(b.Envs, f.EnvStatus(e.Name, m.Build))
	}
	return b
}

// EnvStatus is where build is in env.
func (f *Facts) EnvStatus(env, build string) EnvStatus {
	es := f.State.Env(env)
	st := EnvStatus{Env: env}
	at := func(t time.Time) *time.Time { return &t }
	in, out, was := f.State.Entered(env, build)
	switch {
	case es.Build == build:
		st.State, st.Since = StatePromoted, at(in)
		if es.Change != nil && es.Change.Kind == ledger.KindRollback {
			st.Detail = fmt.Sprintf("rolled back to it by %s", es.Change.Actor)
		}
	case es.RolledBack[build] != nil:
		rb := es.RolledBack[build]
		st.State, st.Since = StateRolledBack, at(rb.Time)
		st.Detail = fmt.Sprintf("rolled back from %s by %s: %q", env, rb.Actor, rb.Reason)
	case was:
		st.State, st.Since = StateReplaced, at(out)
		st.Detail = "replaced by build " + Short(es.Build)
	default:
		st.State = StateWaiting
		if h := f.State.Held(env); h != nil {
			st.State, st.Since = StateHeld, at(h.Time)
			st.Detail = fmt.Sprintf("%s held by %s: %q", h.Env, h.Actor, h.Reason)
		}
		if d, ok := f.Live[env]; ok && d.Candidate == build && d.Evaluation != nil {
			st.Evaluation = evaluationOf(d.Evaluation, false)
			st.Evaluation.Time = f.Now
			st.WaitsFor = f.waitsFor(env, d.Evaluation)
		} else if ev := f.State.LastEvaluation(env, build); ev != nil {
			st.Evaluation = evaluationOf(ev, true)
			if ev.Verdict == ledger.VerdictBlocked {
				st.WaitsFor = f.waitsFor(env, ev)
			}
		}
		if len(st.WaitsFor) == 0 {
			if e, ok := f.Config.Env(env); ok && e.After != "" && f.State.Env(e.After).Build != build {
				st.WaitsFor = []string{"promotion to " + e.After}
			} else if st.State == StateWaiting {
				st.WaitsFor = []string{"the robot's next run"}
			}
		}
	}
	return st
}

// verdict is the status's one line and its Checks conclusion.
func (f *Facts) verdict(s *Status) (string, string) {
	if len(s.Builds) == 0 {
		if !s.Owners.OK && s.Owners.Error == "" {
			return fmt.Sprintf("no published build contains %s yet; %d of %d files lack their owners' approval", Short(s.Head), s.Owners.Missing, s.Owners.Files), "action_required"
		}
		return fmt.Sprintf("no published build contains %s yet", Short(s.Head)), ""
	}
	newest := s.Builds[0]
	furthest, fi := "", -1
	for _, b := range s.Builds {
		for i, e := range b.Envs {
			if (e.State == StatePromoted || e.State == StateReplaced) && i > fi {
				furthest, fi = e.Env, i
			}
		}
	}
	if fi == len(s.Environments)-1 {
		return fmt.Sprintf("in %s", furthest), "success"
	}
	var waiting []string
	for _, e := range newest.Envs {
		if e.State == StateRolledBack {
			return fmt.Sprintf("build %s was rolled back from %s", Short(newest.Build), e.Env), "failure"
		}
		if e.State == StateWaiting || e.State == StateHeld {
			if e.Evaluation != nil {
				for _, c := range e.Evaluation.Criteria {
					if c.Status == ledger.StatusFail && (c.Kind == "tests_green" || c.Kind == "perf") {
						return fmt.Sprintf("build %s is blocked at %s: %s %s", Short(newest.Build), e.Env, c.Mark, c.Criterion), "failure"
					}
				}
			}
			if len(waiting) == 0 {
				waiting = append([]string{e.Env + " waits for"}, e.WaitsFor...)
			}
		}
	}
	switch {
	case !s.Owners.OK && s.Owners.Error == "":
		where := "not deployed yet"
		if furthest != "" {
			where = "in " + furthest
		}
		return fmt.Sprintf("%s; %d of %d files lack their owners' approval", where, s.Owners.Missing, s.Owners.Files), "action_required"
	}
	where := "not deployed yet"
	if furthest != "" {
		where = "in " + furthest
	}
	if len(waiting) > 1 {
		return fmt.Sprintf("%s; %s %s", where, waiting[0], strings.Join(waiting[1:], ", ")), ""
	}
	return where, ""
}
