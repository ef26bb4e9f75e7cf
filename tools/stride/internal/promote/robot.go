package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Errors, checked with errors.Is.
var (
	// ErrInput: bad input (exit 2): an unknown environment or build, a
	// build never published, a promotion that skips an environment.
	ErrInput = errors.New("bad input")
	// ErrBlocked: a manual promotion's criteria do not hold (exit 1).
	ErrBlocked = errors.New("criteria do not hold")
)

// inputError is bad input; its text is the message alone.
type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInput }

func inputf(format string, a ...interface{}) error {
	return &inputError{fmt.Sprintf(format, a...)}
}

// Switcher points an environment's APT distribution at a build's snapshot
// (internal/apt's `aptly publish switch`). It must be idempotent.
type Switcher interface {
	Switch(ctx context.Context, env, build string) error
}

// Deployment is what a Deployer gets: the environment, the build it is to
// run, the one it ran, and the build's packages.
type Deployment struct {
	Env       string
	Build     string
	From      string
	Packages  []store.Package
	Instances int
	// Change is the ID of the promotion or rollback being deployed.
	Change string
}

// Deployer makes an environment run a build once its APT distribution
// serves it (issue "environments that run"). It must be idempotent: a
// deploy interrupted by a crash is run again. Without one, the switch is
// the deployment.
type Deployer interface {
	Deploy(ctx context.Context, d Deployment) error
}

// DetailDeployer is a Deployer that also says what its deploy did
// ("4 instances run 7c1d0e2f3a4b in 3.1s: 2 replaced, 2 unchanged"),
// recorded as the deploy step's detail instead of "deployed".
type DetailDeployer interface {
	Deployer
	DeployDetail(ctx context.Context, d Deployment) (string, error)
}

// ErrNotRunning is what a Deployer returns (wrapped, with why) when the
// environment runs nothing it deploys to (a local environment that is not
// up): the deploy step is recorded as done with that explanation, and the
// switch is the deployment.
var ErrNotRunning = errors.New("the environment is not running")

// DeployFailed is what a Deployer returns when the build must not stay in
// the environment (it failed its health checks during or after the
// deploy). The deploy step is recorded as failed with Reason, and the
// environment is rolled back by itself to the build it ran before (a
// rollback event with manual false, by "watch (ACTOR)"), unless the change
// was itself a rollback. A failed deploy is final: later runs do not
// retry it.
type DeployFailed struct{ Reason string }

func (e *DeployFailed) Error() string { return e.Reason }

// Options configure the robot and the manual commands.
type Options struct {
	Config *Config
	Repo   *gitrepo.Repo
	Ledger *ledger.Ledger
	Store  store.Store
	// Switcher switches APT distributions; nil records no switch step
	// (--no-apt).
	Switcher Switcher
	// Deployer, when set, deploys each promotion after the switch.
	Deployer Deployer
	// Actor is who acts, recorded in every event.
	Actor string
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Traffic, when set, is what each environment's balancer saw: the
	// healthy() criterion's error rate over the soak (internal/env).
	Traffic TrafficSource
	// HTTP and HealthTimeout are the health checks' client and timeout.
	HTTP          *http.Client
	HealthTimeout time.Duration
	// Hook, when set, is called at each crash point: "recorded" (a
	// promotion or rollback is in the ledger, nothing switched yet),
	// "switched" (the switch is done, not yet recorded), "deployed".
	// Tests kill the process there.
	Hook func(point string)
	// Log receives a line per action (nil: discarded).
	Log io.Writer
	// Automatic marks Rollback's event as not a person's (manual false):
	// for a deployer's watch that rolls back on bad health.
	Automatic bool
}

type robot struct {
	o      Options
	builds map[string]*store.Manifest
	ids    []string // published builds, newest first
}

func newRobot(o Options) *robot {
	if o.Now == nil {
		o.Now = time.Now
	} else if o.Ledger != nil && o.Ledger.Now == nil {
		o.Ledger.Now = o.Now // events carry the robot's clock
	}
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = 5 * time.Second
	}
	if o.Actor == "" {
		o.Actor = "stride"
	}
	return &robot{o: o}
}

func (r *robot) now() time.Time { return r.o.Now() }

func (r *robot) logf(format string, a ...interface{}) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, format+"\n", a...)
	}
}

func (r *robot) hook(point string) {
	if r.o.Hook != nil {
		r.o.Hook(point)
	}
}

// loadBuilds reads every published build's manifest, newest first (by
// commit count, then time).
func (r *robot) loadBuilds(ctx context.Context) error {
	if r.builds != nil {
		return nil
	}
	ids, err := r.o.Store.Builds(ctx)
	if err != nil {
		return err
	}
	r.builds = map[string]*store.Manifest{}
	for _, id := range ids {
		m, err := r.o.Store.Manifest(ctx, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return err
		}
		r.builds[id] = m
		r.ids = append(r.ids, id)
	}
	sort.Slice(r.ids, func(i, j int) bool {
		a, b := r.builds[r.ids[i]], r.builds[r.ids[j]]
		if a.Number != b.Number {
			return a.Number > b.Number
		}
		return a.Time.After(b.Time)
	})
	return nil
}

// resolveBuild finds a published build by id or unique prefix.
func (r *robot) resolveBuild(ctx context.Context, id string) (*store.Manifest, error) {
	if err := r.loadBuilds(ctx); err != nil {
		return nil, err
	}
	if m, ok := r.builds[id]; ok {
		return m, nil
	}
	var found []string
	for _, b := range r.ids {
		if len(id) >= 4 && strings.HasPrefix(b, id) {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return nil, inputf("build %q is not published (stride store ls lists the published builds)", id)
	case 1:
		return r.builds[found[0]], nil
	}
	return nil, inputf("build %q is ambiguous: %d published builds start with it", id, len(found))
}

func (r *robot) env(name string) (*Env, error) {
	e, ok := r.o.Config.Env(name)
	if !ok {
		return nil, inputf("unknown environment %q (%s declares %s)", name, r.o.Config.Path, strings.Join(r.o.Config.Names(), ", "))
	}
	return e, nil
}

// Decision is what the robot decided for one environment.
type Decision struct {
	Env string `json:"env"`
	// Current is the build the environment serves; Candidate the build
	// that would be promoted next ("" when none).
	Current   string `json:"current,omitempty"`
	Candidate string `json:"candidate,omitempty"`
	// Action: "promoted", "blocked", "would promote" (dry run), "up to
	// date", "no candidate".
	Action string `json:"action"`
	// Why says in plain words why nothing moved (the excuse's headline).
	Why string `json:"why,omitempty"`
	// Evaluation is the evaluation made (recorded or not).
	Evaluation *ledger.Event `json:"evaluation,omitempty"`
}

// Result is what a run of the robot did.
type Result struct {
	DryRun    bool           `json:"dry_run"`
	Decisions []Decision     `json:"decisions"`
	Recorded  []ledger.Event `json:"recorded"`
}

// Decision actions.
const (
	ActionPromoted     = "promoted"
	ActionWouldPromote = "would promote"
	ActionBlocked      = "blocked"
	ActionUpToDate     = "up to date"
	ActionNoCandidate  = "no candidate"
)

// Auto is `stride promote --auto`: for each environment in order, it
// finds the next build (the newest published build for the first
// environment, else the build the previous environment serves), evaluates
// its criteria and, when confirm is set and all hold, records the
// evaluation and the promotion in one ledger append and realizes it
// (switch, deploy), recording each step. A blocked evaluation is recorded
// when its outcome differs from the last one recorded for the build and
// environment, so a robot on a timer does not fill the ledger. Before
// that, with confirm, it completes the steps of any promotion or rollback
// a crash interrupted. Robots on one machine take turns (the ledger's
// lock); robots on several are kept apart by the ledger's
// compare-and-swap.
func Auto(ctx context.Context, o Options, confirm bool) (*Result, error) {
	r := newRobot(o)
	res := &Result{DryRun: !confirm, Decisions: []Decision{}, Recorded: []ledger.Event{}}
	if confirm {
		unlock := r.o.Ledger.Lock()
		defer unlock()
		if err := r.repair(ctx, res); err != nil {
			return res, err
		}
	}
	if err := r.loadBuilds(ctx); err != nil {
		return res, err
	}
	for _, env := range r.o.Config.Envs {
		log, err := r.o.Ledger.Read()
		if err != nil {
			return res, err
		}
		d, err := r.autoEnv(ctx, env, log.State(), confirm, res)
		if err != nil {
			return res, err
		}
		res.Decisions = append(res.Decisions, d)
	}
	return res, nil
}

func (r *robot) autoEnv(ctx context.Context, env *Env, st *ledger.State, confirm bool, res *Result) (Decision, error) {
	es := st.Env(env.Name)
	d := Decision{Env: env.Name, Current: es.Build}
	var cand *store.Manifest
	if env.After == "" {
		for _, id := range r.ids {
			if _, bad := es.RolledBack[id]; !bad {
				cand = r.builds[id]
				break
			}
		}
		if cand == nil {
			d.Action, d.Why = ActionNoCandidate, "no build is published (stride run --publish)"
			return d, nil
		}
	} else {
		prev := st.Env(env.After)
		if prev.Build == "" {
			d.Action, d.Why = ActionNoCandidate, env.After+" serves no build yet"
			return d, nil
		}
		m, ok := r.builds[prev.Build]
		if !ok {
			d.Action, d.Why = ActionNoCandidate, fmt.Sprintf("%s serves build %s, which is no longer in the store", env.After, short(prev.Build))
			return d, nil
		}
		cand = m
	}
	d.Candidate = cand.Build
	if cand.Build == es.Build {
		d.Action, d.Why = ActionUpToDate, fmt.Sprintf("serves %s, the newest build %s", short(es.Build), fromWhere(env))
		return d, nil
	}
	if rb, bad := es.RolledBack[cand.Build]; bad {
		d.Action, d.Why = ActionBlocked, fmt.Sprintf("build %s was rolled back from %s by %s at %s (%q); only a manual promotion takes it there again",
			short(cand.Build), env.Name, rb.Actor, rb.Time.UTC().Format(time.RFC3339), rb.Reason)
		return d, nil
	}
	var cur *store.Manifest
	if es.Build != "" {
		cur = r.builds[es.Build]
		if cur != nil && cur.Number > cand.Number {
			d.Action, d.Why = ActionBlocked, fmt.Sprintf("build %s is older than the %s it serves (commit %d < %d)", short(cand.Build), short(cur.Build), cand.Number, cur.Number)
			return d, nil
		}
	}
	c := &candidate{env: env, build: cand, current: cur, state: st}
	if cur != nil {
		c.changed = changedServices(cand, cur)
	} else {
		c.changed = changedServices(cand, nil)
	}
	ev := r.evaluate(ctx, c)
	d.Evaluation = &ev
	if ev.Verdict != ledger.VerdictPass {
		d.Action, d.Why = ActionBlocked, blockedWhy(ev)
		if confirm {
			rec, err := r.recordBlocked(ctx, ev, es.Build)
			if err != nil {
				return d, err
			}
			res.Recorded = append(res.Recorded, rec...)
		}
		return d, nil
	}
	if !confirm {
		d.Action = ActionWouldPromote
		return d, nil
	}
	prom := ledger.Event{Kind: ledger.KindPromotion, Env: env.Name, Build: cand.Build, From: es.Build, Actor: r.o.Actor}
	rec, err := r.recordChange(ctx, &ev, prom, func(st *ledger.State) bool {
		// Still the same decision on the ledger as it is now?
		now := st.Env(env.Name)
		if now.Build != es.Build || st.Held(env.Name) != nil {
			return false
		}
		if env.After != "" && st.Env(env.After).Build != cand.Build {
			return false
		}
		_, bad := now.RolledBack[cand.Build]
		return !bad
	})
	if err != nil {
		return d, err
	}
	if rec == nil {
		d.Action, d.Why = ActionUpToDate, "another robot acted first"
		return d, nil
	}
	res.Recorded = append(res.Recorded, rec...)
	d.Action = ActionPromoted
	d.Evaluation = &rec[0]
	r.logf("promoted %s to %s", short(cand.Build), env.Name)
	steps, err := r.realize(ctx, &rec[len(rec)-1], false)
	res.Recorded = append(res.Recorded, steps...)
	return d, err
}

func fromWhere(env *Env) string {
	if env.After == "" {
		return "published"
	}
	return "in " + env.After
}

// blockedWhy is an evaluation's headline: its blocking criteria.
func blockedWhy(ev ledger.Event) string {
	var w []string
	for _, c := range ev.Criteria {
		if c.Blocks() {
			w = append(w, fmt.Sprintf("%s %s: %s", c.Mark(), c.Criterion, c.Evidence))
		}
	}
	return strings.Join(w, "; ")
}

// sameOutcome reports whether two evaluations have the same criteria with
// the same statuses (evidence such as elapsed time may differ).
func sameOutcome(a, b *ledger.Event) bool {
	if a == nil || b == nil || a.Verdict != b.Verdict || len(a.Criteria) != len(b.Criteria) {
		return false
	}
	for i := range a.Criteria {
		if a.Criteria[i].Criterion != b.Criteria[i].Criterion || a.Criteria[i].Status != b.Criteria[i].Status {
			return false
		}
	}
	return true
}

// recordBlocked records a blocked evaluation unless the ledger's last
// evaluation of the build for the environment had the same outcome (and
// the environment still serves the same build).
func (r *robot) recordBlocked(ctx context.Context, ev ledger.Event, current string) ([]ledger.Event, error) {
	return r.o.Ledger.Update(ctx, func(log *ledger.Log) ([]ledger.Event, error) {
		st := log.State()
		if st.Env(ev.Env).Build != current {
			return nil, nil
		}
		if sameOutcome(st.LastEvaluation(ev.Env, ev.Build), &ev) {
			return nil, nil
		}
		return []ledger.Event{ev}, nil
	})
}

// recordChange appends an evaluation (if any) and the promotion or
// rollback it allows in one append, if still is true of the ledger it is
// appended to. It returns nil when it was not.
func (r *robot) recordChange(ctx context.Context, ev *ledger.Event, change ledger.Event, still func(*ledger.State) bool) ([]ledger.Event, error) {
	rec, err := r.o.Ledger.Update(ctx, func(log *ledger.Log) ([]ledger.Event, error) {
		if !still(log.State()) {
			return nil, nil
		}
		ch := change
		if ev == nil {
			return []ledger.Event{ch}, nil
		}
		e := *ev
		e.ID = ledger.NewID()
		ch.Evaluation = e.ID
		return []ledger.Event{e, ch}, nil
	})
	if err != nil || len(rec) == 0 {
		return nil, err
	}
	r.hook("recorded")
	return rec, nil
}

// steps are the steps that realize a change, in order.
func (r *robot) steps() []string {
	var s []string
	if r.o.Switcher != nil {
		s = append(s, ledger.StepSwitch)
	}
	if r.o.Deployer != nil {
		s = append(s, ledger.StepDeploy)
	}
	return s
}

// realize runs the steps of a promotion or rollback that are not recorded
// as done and records each. repaired marks steps a later run completes.
func (r *robot) realize(ctx context.Context, ch *ledger.Event, repaired bool) ([]ledger.Event, error) {
	var out []ledger.Event
	for _, step := range r.steps() {
		log, err := r.o.Ledger.Read()
		if err != nil {
			return out, err
		}
		es := log.State().Env(ch.Env)
		if es.Change == nil || es.Change.ID != ch.ID {
			return out, nil // superseded: a newer change will be realized instead
		}
		if es.Done[step] != nil {
			continue
		}
		if step == ledger.StepDeploy && es.Failed[step] != nil {
			return out, nil // final: the environment was rolled back
		}
		var stepErr error
		detail := ""
		switch step {
		case ledger.StepSwitch:
			stepErr = r.o.Switcher.Switch(ctx, ch.Env, ch.Build)
			detail = fmt.Sprintf("APT distribution %s serves build-%s", ch.Env, short(ch.Build))
			if stepErr == nil {
				r.hook("switched")
			}
		case ledger.StepDeploy:
			d := Deployment{Env: ch.Env, Build: ch.Build, From: ch.From, Change: ch.ID}
			if e, ok := r.o.Config.Env(ch.Env); ok {
				d.Instances = e.Instances
			}
			if m, err := r.o.Store.Manifest(ctx, ch.Build); err == nil {
				d.Packages = m.Packages
			}
			detail = "deployed"
			if dd, ok := r.o.Deployer.(DetailDeployer); ok {
				var said string
				if said, stepErr = dd.DeployDetail(ctx, d); said != "" {
					detail = said
				}
			} else {
				stepErr = r.o.Deployer.Deploy(ctx, d)
			}
			if errors.Is(stepErr, ErrNotRunning) {
				detail, stepErr = stepErr.Error(), nil
			}
			if stepErr == nil {
				r.hook("deployed")
			}
		}
		status := ledger.StepDone
		if stepErr != nil {
			status, detail = ledger.StepFailed, stepErr.Error()
		}
		if repaired {
			detail += fmt.Sprintf(" (completed after an interrupted run; the %s was recorded at %s)", ch.Kind, ch.Time.UTC().Format(time.RFC3339))
		}
		rec, err := r.o.Ledger.Update(ctx, func(log *ledger.Log) ([]ledger.Event, error) {
			es := log.State().Env(ch.Env)
			if es.Change == nil || es.Change.ID != ch.ID || es.Done[step] != nil {
				return nil, nil
			}
			return []ledger.Event{{Kind: ledger.KindStep, Env: ch.Env, Build: ch.Build, Of: ch.ID, Step: step,
				Status: status, Detail: detail, Repaired: repaired, Actor: r.o.Actor}}, nil
		})
		if err != nil {
			return out, err
		}
		out = append(out, rec...)
		var failed *DeployFailed
		if errors.As(stepErr, &failed) && ch.From != "" && ch.Kind == ledger.KindPromotion {
			rb, err := r.autoRollback(ctx, ch, failed.Reason)
			out = append(out, rb...)
			if err != nil {
				return out, err
			}
			return out, nil
		}
		if stepErr != nil {
			return out, fmt.Errorf("%s of %s to %s: %w", step, short(ch.Build), ch.Env, stepErr)
		}
		r.logf("%s %s: %s", ch.Env, step, detail)
	}
	return out, nil
}

// repair completes the steps of each environment's latest change that a
// crash interrupted.
func (r *robot) repair(ctx context.Context, res *Result) error {
	log, err := r.o.Ledger.Read()
	if err != nil {
		return err
	}
	st := log.State()
	for _, env := range r.o.Config.Envs {
		es := st.Env(env.Name)
		if es.Change == nil {
			continue
		}
		pending := false
		for _, s := range r.steps() {
			pending = pending || (es.Done[s] == nil && es.Failed[s] == nil)
		}
		if !pending {
			continue
		}
		r.logf("repairing %s: the %s of %s was not completed", env.Name, es.Change.Kind, short(es.Change.Build))
		rec, err := r.realize(ctx, es.Change, true)
		res.Recorded = append(res.Recorded, rec...)
		if err != nil {
			return err
		}
	}
	return nil
}

// autoRollback puts env back on the build the change replaced after its
// deploy failed: a rollback event (manual false) by "watch (ACTOR)" with
// the reason, then its switch and deploy. The caller holds the ledger lock.
func (r *robot) autoRollback(ctx context.Context, ch *ledger.Event, reason string) ([]ledger.Event, error) {
	r.logf("%s: rolling back from %s to %s: %s", ch.Env, short(ch.Build), short(ch.From), reason)
	rb := ledger.Event{Kind: ledger.KindRollback, Env: ch.Env, Build: ch.From, From: ch.Build,
		Actor: "watch (" + r.o.Actor + ")", Reason: "deploy failed: " + reason, Manual: false}
	id := ch.ID
	rec, err := r.recordChange(ctx, nil, rb, func(st *ledger.State) bool {
		es := st.Env(ch.Env)
		return es.Change != nil && es.Change.ID == id
	})
	if err != nil || len(rec) == 0 {
		return rec, err
	}
	steps, err := r.realize(ctx, &rec[0], false)
	return append(rec, steps...), err
}

// TrafficSource reads what an environment's balancer counted (the local
// deployer's HAProxy: env.TrafficSource). ok is false when the
// environment does not run behind a local balancer; healthy() then relies
// on the health URLs alone.
type TrafficSource interface {
	Traffic(env string, since time.Time) (perService map[string]Traffic, ok bool, err error)
}

// Traffic is one service's requests through a balancer over [From, To].
// From is later than asked when the balancer was sampled only later.
type Traffic struct {
	Requests, Errors int64
	From, To         time.Time
}
