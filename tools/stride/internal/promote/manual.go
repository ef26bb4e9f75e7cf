package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Manual is a person's promotion request.
type Manual struct {
	Build, Env, Reason string
	// Override promotes despite failing criteria, except owners_approved:
	// an environment that requires it still needs the approval.
	Override bool
}

// Outcome is what a manual command did.
type Outcome struct {
	// Done is false when nothing had to change (the environment already
	// serves the build).
	Done       bool           `json:"done"`
	Message    string         `json:"message"`
	Evaluation *ledger.Event  `json:"evaluation,omitempty"`
	Recorded   []ledger.Event `json:"recorded"`
}

// Promote is `stride promote BUILD --to ENV`: the build must be published
// and, unless ENV is the first environment, have reached the environment
// before it. Its criteria are evaluated and recorded; when they do not
// hold (and no override allows it) the error wraps ErrBlocked.
func Promote(ctx context.Context, o Options, req Manual) (*Outcome, error) {
	r := newRobot(o)
	if strings.TrimSpace(req.Reason) == "" {
		return nil, inputf("a manual promotion needs --reason")
	}
	env, err := r.env(req.Env)
	if err != nil {
		return nil, err
	}
	m, err := r.resolveBuild(ctx, req.Build)
	if err != nil {
		return nil, err
	}
	unlock := r.o.Ledger.Lock()
	defer unlock()
	out := &Outcome{Recorded: []ledger.Event{}}
	if err := r.repair(ctx, &Result{}); err != nil {
		return nil, err
	}
	log, err := r.o.Ledger.Read()
	if err != nil {
		return nil, err
	}
	st := log.State()
	es := st.Env(env.Name)
	if env.After != "" {
		if _, _, ok := st.Entered(env.After, m.Build); !ok {
			return nil, inputf("build %s was never in %s: promoting it to %s would skip %s", short(m.Build), env.After, env.Name, env.After)
		}
	}
	if es.Build == m.Build {
		out.Message = fmt.Sprintf("%s already serves build %s", env.Name, short(m.Build))
		return out, nil
	}
	var cur *store.Manifest
	if es.Build != "" {
		cur, _ = r.o.Store.Manifest(ctx, es.Build)
	}
	c := &candidate{env: env, build: m, current: cur, state: st, changed: changedServices(m, cur)}
	ev := r.evaluate(ctx, c)
	ev.Actor, ev.Reason = r.o.Actor, req.Reason
	out.Evaluation = &ev
	if ev.Verdict != ledger.VerdictPass {
		var owners *ledger.CriterionResult
		for i := range ev.Criteria {
			if ev.Criteria[i].Kind == OwnersApproved && ev.Criteria[i].Blocks() {
				owners = &ev.Criteria[i]
			}
		}
		if !req.Override || owners != nil {
			rec, err := r.o.Ledger.Append(ctx, ev)
			if err != nil {
				return nil, err
			}
			out.Recorded = append(out.Recorded, rec...)
			if req.Override {
				return out, fmt.Errorf("%w: an override of %s still needs the OWNERS approval: %s", ErrBlocked, env.Name, owners.Evidence)
			}
			return out, fmt.Errorf("%w for build %s in %s (--override to promote anyway): %s", ErrBlocked, short(m.Build), env.Name, blockedWhy(ev))
		}
	}
	prom := ledger.Event{Kind: ledger.KindPromotion, Env: env.Name, Build: m.Build, From: es.Build, Actor: r.o.Actor,
		Reason: req.Reason, Manual: true, Override: ev.Verdict != ledger.VerdictPass}
	rec, err := r.recordChange(ctx, &ev, prom, func(st *ledger.State) bool { return st.Env(env.Name).Build == es.Build })
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%s changed while promoting (another promotion was recorded first); run the command again", env.Name)
	}
	out.Recorded = append(out.Recorded, rec...)
	out.Done = true
	out.Message = fmt.Sprintf("promoted build %s to %s", short(m.Build), env.Name)
	if prom.Override {
		out.Message += " (override)"
	}
	steps, err := r.realize(ctx, &rec[len(rec)-1], false)
	out.Recorded = append(out.Recorded, steps...)
	return out, err
}

// Rollback is `stride rollback ENV [--to BUILD]`: the environment goes
// back to BUILD (default: the newest build it served before the current
// one that was not itself rolled back from it). The build rolled back
// from is not promoted there again by the robot.
func Rollback(ctx context.Context, o Options, envName, to, reason string) (*Outcome, error) {
	r := newRobot(o)
	env, err := r.env(envName)
	if err != nil {
		return nil, err
	}
	unlock := r.o.Ledger.Lock()
	defer unlock()
	if err := r.repair(ctx, &Result{}); err != nil {
		return nil, err
	}
	log, err := r.o.Ledger.Read()
	if err != nil {
		return nil, err
	}
	es := log.State().Env(env.Name)
	if es.Build == "" {
		return nil, inputf("%s serves no build: nothing to roll back", env.Name)
	}
	target := ""
	if to != "" {
		m, err := r.resolveBuild(ctx, to)
		if err != nil {
			return nil, err
		}
		served := false
		for _, h := range es.History {
			served = served || h.Build == m.Build
		}
		if !served {
			return nil, inputf("build %s never served %s: a rollback goes back to a build it served (stride ledger log --env %s)", short(m.Build), env.Name, env.Name)
		}
		if m.Build == es.Build {
			return nil, inputf("%s serves build %s already", env.Name, short(m.Build))
		}
		target = m.Build
	} else {
		for i := len(es.History) - 1; i >= 0; i-- {
			b := es.History[i].Build
			if _, bad := es.RolledBack[b]; b != es.Build && !bad {
				target = b
				break
			}
		}
		if target == "" {
			return nil, inputf("%s served no earlier good build to go back to", env.Name)
		}
		if _, err := r.o.Store.Manifest(ctx, target); err != nil {
			return nil, inputf("build %s, which %s served before, is no longer in the store: %v", short(target), env.Name, err)
		}
	}
	if reason == "" {
		reason = "rollback"
	}
	rb := ledger.Event{Kind: ledger.KindRollback, Env: env.Name, Build: target, From: es.Build, Actor: r.o.Actor, Reason: reason, Manual: !r.o.Automatic}
	cur := es.Build
	rec, err := r.recordChange(ctx, nil, rb, func(st *ledger.State) bool { return st.Env(env.Name).Build == cur })
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%s changed while rolling back; run the command again", env.Name)
	}
	out := &Outcome{Done: true, Recorded: rec, Message: fmt.Sprintf("rolled %s back from %s to %s", env.Name, short(cur), short(target))}
	steps, err := r.realize(ctx, &rec[0], false)
	out.Recorded = append(out.Recorded, steps...)
	return out, err
}

// Hold records a hold on env ("all": a freeze of every environment), or
// with hold false, lifts it.
func Hold(ctx context.Context, o Options, envName, reason string, hold bool) (*Outcome, error) {
	r := newRobot(o)
	if envName != ledger.HoldAll {
		if _, err := r.env(envName); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(reason) == "" {
		return nil, inputf("a hold or unhold needs --reason")
	}
	kind := ledger.KindHold
	if !hold {
		kind = ledger.KindUnhold
	}
	var state string
	rec, err := r.o.Ledger.Update(ctx, func(log *ledger.Log) ([]ledger.Event, error) {
		held := log.State().Env(envName).Hold != nil
		if held == hold {
			state = map[bool]string{true: "is held already", false: "is not held"}[held]
			return nil, nil
		}
		return []ledger.Event{{Kind: kind, Env: envName, Actor: r.o.Actor, Reason: reason}}, nil
	})
	if err != nil {
		return nil, err
	}
	if len(rec) == 0 {
		return &Outcome{Message: envName + " " + state, Recorded: []ledger.Event{}}, nil
	}
	msg := envName + " is held: the robot promotes nothing into it"
	if envName == ledger.HoldAll {
		msg = "every environment is frozen"
	}
	if !hold {
		msg = envName + " is no longer held"
	}
	return &Outcome{Done: true, Message: msg, Recorded: rec}, nil
}
