package ledger

import (
	"sort"
	"strings"
	"time"
)

// EnvState is what the ledger says of one environment.
type EnvState struct {
	Env string `json:"env"`
	// Build is the build the environment serves ("" before its first
	// promotion), and Since when it got it; Change is the promotion or
	// rollback that put it there.
	Build  string    `json:"build,omitempty"`
	Since  time.Time `json:"since,omitempty"`
	Change *Event    `json:"change,omitempty"`
	// Hold is the hold in force, if any.
	Hold *Event `json:"hold,omitempty"`
	// Pending are the steps of Change not yet recorded as done, in order
	// ("switch", "deploy"), given the steps the caller's environment has.
	Done map[string]*Event `json:"done_steps,omitempty"`
	// Failed are the steps of Change recorded as failed (the latest
	// failure of each), unless recorded as done later.
	Failed map[string]*Event `json:"failed_steps,omitempty"`
	// RolledBack maps the builds rolled back from this environment to the
	// rollback: the robot does not promote them here again.
	RolledBack map[string]*Event `json:"rolled_back,omitempty"`
	// History is every build the environment served, oldest first, with
	// the promotion or rollback that put it there.
	History []*Event `json:"-"`
}

// State is the ledger folded into each environment's state.
type State struct {
	Envs map[string]*EnvState
	byID map[string]*Event
	log  *Log
}

// HoldAll is the environment name of a hold on every environment (a
// freeze).
const HoldAll = "all"

// State derives every environment's state from the log.
func (l *Log) State() *State {
	s := &State{Envs: map[string]*EnvState{}, byID: map[string]*Event{}, log: l}
	for i := range l.Events {
		e := &l.Events[i]
		s.byID[e.ID] = e
		if e.Env == "" {
			continue
		}
		es := s.Env(e.Env)
		switch e.Kind {
		case KindPromotion, KindRollback:
			if e.Kind == KindRollback && e.From != "" {
				es.RolledBack[e.From] = e
			}
			es.Build, es.Since, es.Change = e.Build, e.Time, e
			es.Done = map[string]*Event{}
			es.Failed = map[string]*Event{}
			es.History = append(es.History, e)
		case KindStep:
			if es.Change != nil && e.Of == es.Change.ID {
				switch e.Status {
				case StepDone:
					es.Done[e.Step] = e
					delete(es.Failed, e.Step)
				case StepFailed:
					es.Failed[e.Step] = e
				}
			}
		case KindHold:
			es.Hold = e
		case KindUnhold:
			es.Hold = nil
		}
	}
	return s
}

// Env returns the state of an environment (an empty one if the ledger
// never named it).
func (s *State) Env(name string) *EnvState {
	es, ok := s.Envs[name]
	if !ok {
		es = &EnvState{Env: name, Done: map[string]*Event{}, Failed: map[string]*Event{}, RolledBack: map[string]*Event{}}
		s.Envs[name] = es
	}
	return es
}

// Event returns the event with id.
func (s *State) Event(id string) (*Event, bool) {
	e, ok := s.byID[id]
	return e, ok
}

// Held returns the hold in force on env: its own, or a freeze of all.
func (s *State) Held(env string) *Event {
	if es, ok := s.Envs[env]; ok && es.Hold != nil {
		return es.Hold
	}
	if es, ok := s.Envs[HoldAll]; ok && es.Hold != nil {
		return es.Hold
	}
	return nil
}

// Entered returns when build entered env (the latest promotion or rollback
// to it) and when it left (zero if it is still there); ok is false if it
// never was there.
func (s *State) Entered(env, build string) (in, out time.Time, ok bool) {
	es, found := s.Envs[env]
	if !found {
		return in, out, false
	}
	for i := len(es.History) - 1; i >= 0; i-- {
		if es.History[i].Build == build {
			in, ok = es.History[i].Time, true
			if i+1 < len(es.History) {
				out = es.History[i+1].Time
			}
			return in, out, ok
		}
	}
	return in, out, false
}

// LastEvaluation returns the newest evaluation of build for env.
func (s *State) LastEvaluation(env, build string) *Event {
	evs := s.log.Events
	for i := len(evs) - 1; i >= 0; i-- {
		if e := &evs[i]; e.Kind == KindEvaluation && e.Env == env && e.Build == build {
			return e
		}
	}
	return nil
}

// Filter returns the events about env (if not empty; a freeze counts for
// every environment) and build (a prefix of the build id, if not empty),
// oldest first.
func (l *Log) Filter(env, build string) []Event {
	var out []Event
	for _, e := range l.Events {
		if env != "" && e.Env != env && !(e.Env == HoldAll && (e.Kind == KindHold || e.Kind == KindUnhold)) {
			continue
		}
		if build != "" && !strings.HasPrefix(e.Build, build) && !strings.HasPrefix(e.From, build) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Keep is what the store must keep for the environments, with why: the
// build each one serves, and the build a rollback of it would go back to
// (the newest earlier build it served that was not rolled back from it).
// A nil State keeps nothing.
func (s *State) Keep() map[string]string {
	if s == nil {
		return nil
	}
	keep := map[string]string{}
	add := func(build, why string) {
		if _, ok := keep[build]; !ok && build != "" {
			keep[build] = why
		}
	}
	names := make([]string, 0, len(s.Envs))
	for n := range s.Envs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		es := s.Envs[n]
		add(es.Build, "the ledger: "+n+" serves it")
		for i := len(es.History) - 1; i >= 0; i-- {
			b := es.History[i].Build
			if _, bad := es.RolledBack[b]; b != es.Build && !bad {
				add(b, "the ledger: a rollback of "+n+" goes back to it")
				break
			}
		}
	}
	return keep
}

// Serving maps each environment the ledger has put a build in to that
// build (nil for a nil State).
func (s *State) Serving() map[string]string {
	if s == nil {
		return nil
	}
	out := map[string]string{}
	for name, es := range s.Envs {
		if es.Build != "" {
			out[name] = es.Build
		}
	}
	return out
}
