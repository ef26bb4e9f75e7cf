package env

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// ErrNotUp: the environment's supervisor does not run (stride env up).
var ErrNotUp = errors.New("the environment is not up")

// Failure is a deploy whose new version did not become ready, or did not
// stay healthy during the watch: the build must not stay (the caller rolls
// back).
type Failure struct{ Reason string }

func (f *Failure) Error() string { return f.Reason }

// DeployOptions are a deploy's inputs.
type DeployOptions struct {
	Layout *Layout
	// Build is deployed; From is the build the environment ran (recorded);
	// Change the promotion or rollback being deployed, if any.
	Build, From, Change string
	Packages            []store.Package
	// Instances per service (default 2).
	Instances int
	APT       APTSource
	// Watch is how long to watch health and the balancer's error counts
	// after the deploy (0: no watch).
	Watch time.Duration
	// ReadyTimeout bounds the wait for a new instance's /readyz (default
	// 30s); DrainTimeout the wait for a drained instance's connections
	// (default 30s).
	ReadyTimeout, DrainTimeout time.Duration
	// By says who deploys, recorded.
	By string
	// Log gets a line per step (nil: discarded).
	Log io.Writer
	// Hook is called at crash points ("drained": an instance is drained,
	// not yet stopped; "started": the new version runs, not yet ready).
	// Tests kill the process there.
	Hook func(point string)
}

type deployer struct {
	o      DeployOptions
	l      *Layout
	hap    *haproxy.Client
	rec    *Record
	client *http.Client
	// restarts are each instance's crash count when its new version was
	// started (the watch fails on a crash after that).
	restarts map[string]int
}

func (d *deployer) logf(format string, a ...interface{}) {
	if d.o.Log != nil {
		fmt.Fprintf(d.o.Log, "%s: %s\n", d.l.Name, fmt.Sprintf(format, a...))
	}
}

func (d *deployer) hook(point string) {
	if d.o.Hook != nil {
		d.o.Hook(point)
	}
}

func (d *deployer) save() error { return writeJSON(d.l.Record(), d.rec) }

// lock takes the environment's deploy lock (an flock, released if the
// process dies), waiting for another deploy to finish.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Deploy makes the environment run the build: it installs the build's
// packages (install), adds new services to the balancer, then replaces
// the instances one at a time — drain in HAProxy, wait for the instance's
// connections to end, maintenance, start the new version (the supervisor
// stops the old one with SIGTERM first), wait for /readyz, ready, wait
// until HAProxy sees it UP — and watches the environment for o.Watch.
// Every step is in deploy.json before it is taken. A deploy interrupted
// (kill -9) is taken over by the next one, which converges every instance
// to its build: instances already there are only made ready again. A
// *Failure is returned when the build is unhealthy; the instance that
// failed is left in maintenance (and deploy.json says so) until the
// caller deploys the previous build.
func Deploy(ctx context.Context, o DeployOptions) (*Record, error) {
	l := o.Layout
	if o.Instances <= 0 {
		o.Instances = 2
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 30 * time.Second
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.By == "" {
		o.By = fmt.Sprintf("stride (pid %d)", os.Getpid())
	}
	if _, up := Up(l); !up {
		return nil, fmt.Errorf("%s: %w (stride env up %s)", l.Name, ErrNotUp, l.Name)
	}
	unlock, err := lock(ctx, l.DeployLock())
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	d := &deployer{o: o, l: l, hap: &haproxy.Client{Socket: l.HAProxySocket()}, restarts: map[string]int{},
		client: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	d.rec = &Record{Build: o.Build, From: o.From, Change: o.Change, By: o.By, Started: start.UTC(), Phase: PhaseRolling}
	var prev Record
	if ok, _ := readJSON(l.Record(), &prev); ok && (prev.Phase == PhaseRolling || prev.Phase == PhaseWatch) {
		d.rec.Resumed = fmt.Sprintf("deploy of %s by %s at %s, interrupted while %s", short(prev.Build), prev.By, prev.Started.Format(time.RFC3339), prev.Phase)
		if d.rec.From == "" {
			d.rec.From = prev.From
		}
		d.logf("taking over the interrupted %s", d.rec.Resumed)
	}
	err = d.run(ctx)
	d.rec.Timings.Total = time.Since(start)
	d.rec.Finished = time.Now().UTC()
	if err != nil {
		d.rec.Phase, d.rec.Error = PhaseFailed, err.Error()
	} else {
		d.rec.Phase = PhaseDone
	}
	if serr := d.save(); serr != nil && err == nil {
		err = serr
	}
	return d.rec, err
}

func (d *deployer) run(ctx context.Context) error {
	t0 := time.Now()
	units, err := install(ctx, d.l, d.o.APT, d.o.Packages)
	if err != nil {
		return err
	}
	d.rec.Timings.Install = time.Since(t0)
	var services []Unpacked
	for _, u := range units {
		if u.Command != nil {
			services = append(services, u)
		}
	}
	sort.Slice(services, func(i, j int) bool { return services[i].Package.Name < services[j].Package.Name })
	spec, err := d.balancer(ctx, services)
	if err != nil {
		return err
	}
	var desired Desired
	if _, err := readJSON(d.l.Desired(), &desired); err != nil {
		return err
	}
	for _, u := range services {
		for slot := 1; slot <= d.o.Instances; slot++ {
			cur, _ := desired.Find(u.Package.Name, slot)
			d.rec.Slots = append(d.rec.Slots, SlotRecord{Service: u.Package.Name, Slot: slot, From: cur.Version, To: u.Package.Version, Phase: SlotPending})
		}
	}
	if err := d.save(); err != nil {
		return err
	}
	d.logf("deploying %s: %d services, %d instances each (install %v)", short(d.o.Build), len(services), d.o.Instances, d.rec.Timings.Install.Round(time.Millisecond))
	i := 0
	for _, u := range services {
		ss, _ := spec.Service(u.Package.Name)
		for slot := 1; slot <= d.o.Instances; slot++ {
			if err := d.slot(ctx, &desired, u, ss, slot, &d.rec.Slots[i]); err != nil {
				return err
			}
			i++
		}
	}
	if d.o.Watch > 0 {
		d.rec.Phase = PhaseWatch
		if err := d.save(); err != nil {
			return err
		}
		t := time.Now()
		err := d.watch(ctx, spec, services)
		d.rec.Timings.Watch = time.Since(t)
		if err != nil {
			return err
		}
	}
	return nil
}

// slot replaces one instance.
func (d *deployer) slot(ctx context.Context, desired *Desired, u Unpacked, ss *ServiceSpec, slot int, sr *SlotRecord) error {
	be, srv := haproxy.Backend(u.Package.Name), haproxy.ServerName(slot)
	want := Want{Service: u.Package.Name, Slot: slot, Port: ss.Ports[slot-1], Version: u.Package.Version, Build: d.o.Build,
		Root: u.Root, Command: u.Command,
		Env: []string{fmt.Sprintf("%s=127.0.0.1:%d", listenEnv(u.Package.Name), ss.Ports[slot-1]), "STRIDE_ENV=" + d.l.Name,
			"STRIDE_INSTANCE=" + key(u.Package.Name, slot), "STRIDE_PACKAGE_ROOT=" + u.Root}}
	cur, had := desired.Find(u.Package.Name, slot)
	why := fmt.Sprintf("deploy of %s", short(d.o.Build))
	if d.o.Change != "" {
		why += " (change " + d.o.Change + ")"
	}
	same := had && cur.Version == want.Version && cur.Root == want.Root
	if same {
		if st, err := d.hap.Server(be, srv); err == nil && st.Status == "UP" {
			if in, ok := d.instance(want.Key()); ok && in.State == StateRunning && in.Version == want.Version {
				d.restarts[want.Key()] = in.Restarts
				sr.Phase, sr.Detail = SlotSkipped, "runs "+want.Version+" already"
				return d.save()
			}
		}
	}
	if had && !same {
		sr.Phase, sr.Detail = SlotDraining, "drained for the "+why
		if err := d.save(); err != nil {
			return err
		}
		t := time.Now()
		if err := d.hap.SetState(be, srv, haproxy.Drain); err != nil {
			return err
		}
		d.waitDrained(ctx, be, srv)
		d.rec.Timings.Drain += time.Since(t)
		d.hook("drained")
	}
	sr.Phase, sr.Detail = SlotStarting, "in maintenance for the "+why
	if err := d.save(); err != nil {
		return err
	}
	if err := d.hap.SetState(be, srv, haproxy.Maint); err != nil {
		return err
	}
	t := time.Now()
	var before int
	if in, ok := d.instance(want.Key()); ok {
		before = in.Restarts
	}
	d.restarts[want.Key()] = before
	desired.Set(want)
	if err := writeJSON(d.l.Desired(), desired); err != nil {
		return err
	}
	if err := d.waitStarted(ctx, want); err != nil {
		return d.fail(sr, err)
	}
	d.rec.Timings.Start += time.Since(t)
	d.hook("started")
	t = time.Now()
	if err := d.waitReady(ctx, want, before); err != nil {
		return d.fail(sr, err)
	}
	if err := d.hap.SetState(be, srv, haproxy.Ready); err != nil {
		return err
	}
	if err := d.waitUp(ctx, be, srv); err != nil {
		return d.fail(sr, err)
	}
	d.rec.Timings.Readiness += time.Since(t)
	sr.Phase, sr.Detail = SlotDone, ""
	d.logf("%s runs %s (port %d)", want.Key(), want.Version, want.Port)
	return d.save()
}

func (d *deployer) fail(sr *SlotRecord, err error) error {
	sr.Phase = SlotFailed
	sr.Detail = err.Error() + "; left in maintenance until the previous build is deployed again"
	d.save()
	return &Failure{Reason: fmt.Sprintf("%s/%d %s did not become ready: %v", sr.Service, sr.Slot, sr.To, err)}
}

// instance returns what the supervisor says of an instance.
func (d *deployer) instance(k string) (Instance, bool) {
	var st Status
	if _, err := readJSON(d.l.Status(), &st); err != nil {
		return Instance{}, false
	}
	for _, in := range st.Instances {
		if in.Key() == k {
			return in, true
		}
	}
	return Instance{}, false
}

func (d *deployer) waitDrained(ctx context.Context, be, srv string) {
	deadline := time.Now().Add(d.o.DrainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st, err := d.hap.Server(be, srv); err != nil || st.Cur == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.logf("%s/%s still had connections after %v; stopping it anyway (it drains on SIGTERM)", be, srv, d.o.DrainTimeout)
}

// waitStarted waits until the supervisor runs want.
func (d *deployer) waitStarted(ctx context.Context, want Want) error {
	deadline := time.Now().Add(StopTimeout + d.o.ReadyTimeout)
	for time.Now().Before(deadline) {
		if in, ok := d.instance(want.Key()); ok && in.Version == want.Version && in.Build == want.Build && in.PID > 0 && in.State == StateRunning {
			return nil
		}
		if _, up := Up(d.l); !up {
			return fmt.Errorf("%s: %w", d.l.Name, ErrNotUp)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the supervisor did not start %s %s within %v", want.Key(), want.Version, StopTimeout+d.o.ReadyTimeout)
}

// waitReady polls the instance's /readyz until 200, or it crashes, or
// ReadyTimeout.
func (d *deployer) waitReady(ctx context.Context, want Want, restarts int) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", want.Port)
	deadline := time.Now().Add(d.o.ReadyTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		code, body, err := d.get(url)
		switch {
		case err == nil && code == 200:
			return nil
		case err == nil:
			last = fmt.Sprintf("%s answered %d %s", url, code, body)
		default:
			last = err.Error()
		}
		if in, ok := d.instance(want.Key()); ok && (in.Restarts > restarts || in.State == StateCrashed) {
			return fmt.Errorf("it crashed (%s)", in.LastExit)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("after %v: %s", d.o.ReadyTimeout, last)
}

func (d *deployer) get(url string) (int, string, error) {
	resp, err := d.client.Get(url)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return 0, "", fmt.Errorf("%s: %v", url, op.Err)
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// waitUp waits until HAProxy's check sees the server UP.
func (d *deployer) waitUp(ctx context.Context, be, srv string) error {
	deadline := time.Now().Add(d.o.ReadyTimeout)
	status := ""
	for time.Now().Before(deadline) {
		st, err := d.hap.Server(be, srv)
		if err == nil && st.Status == "UP" {
			return nil
		}
		status = st.Status
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("HAProxy's health check did not see %s/%s UP within %v (status %q)", be, srv, d.o.ReadyTimeout, status)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// balancer adds the services the environment does not balance yet (ports
// picked free on 127.0.0.1) and, when it did, rewrites haproxy.cfg and
// (re)starts HAProxy; it waits until the runtime API answers.
func (d *deployer) balancer(ctx context.Context, services []Unpacked) (*Spec, error) {
	spec := &Spec{Env: d.l.Name, Instances: d.o.Instances}
	if _, err := readJSON(d.l.Spec(), spec); err != nil {
		return nil, err
	}
	changed := false
	for _, u := range services {
		ss, ok := spec.Service(u.Package.Name)
		if !ok {
			spec.Services = append(spec.Services, ServiceSpec{Name: u.Package.Name})
			ss = &spec.Services[len(spec.Services)-1]
			changed = true
		}
		if ss.Port == 0 {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			ss.Port, changed = p, true
		}
		for len(ss.Ports) < d.o.Instances {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			ss.Ports, changed = append(ss.Ports, p), true
		}
	}
	if _, err := os.Stat(d.l.HAProxyConfig()); err != nil {
		changed = true
	}
	if changed {
		cfg := haproxy.Config{Socket: d.l.HAProxySocket(), PIDFile: d.l.HAProxyPID()}
		for _, s := range spec.Services {
			cfg.Services = append(cfg.Services, haproxy.Service{Name: s.Name, Port: s.Port, Servers: s.Ports})
		}
		tmp := d.l.HAProxyConfig() + ".new"
		if err := atomicfile.Write(tmp, []byte(cfg.Render())); err != nil {
			return nil, err
		}
		if err := haproxy.Check(ctx, tmp); err != nil {
			return nil, err
		}
		if err := writeJSON(d.l.Spec(), spec); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, d.l.HAProxyConfig()); err != nil {
			return nil, err
		}
		if _, running := haproxy.Running(d.l.HAProxyPID()); running {
			if err := haproxy.Start(ctx, d.l.HAProxyConfig(), d.l.HAProxyPID()); err != nil {
				return nil, err
			}
		}
		d.logf("balancer: %s", frontends(spec))
	}
	// The supervisor starts HAProxy if it does not run; wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		stats, err := d.hap.Stats()
		if err == nil && hasBackends(stats, spec) {
			return spec, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("HAProxy of %s did not answer on %s: %v (see %s)", d.l.Name, d.l.HAProxySocket(), err, d.l.SupervisorLog())
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

func hasBackends(stats []haproxy.Stat, spec *Spec) bool {
	have := map[string]bool{}
	for _, s := range stats {
		have[s.Proxy+"/"+s.Name] = true
	}
	for _, s := range spec.Services {
		for i := range s.Ports {
			if !have[haproxy.Backend(s.Name)+"/"+haproxy.ServerName(i+1)] {
				return false
			}
		}
	}
	return true
}

func frontends(spec *Spec) string {
	var parts []string
	for _, s := range spec.Services {
		parts = append(parts, fmt.Sprintf("%s on 127.0.0.1:%d", s.Name, s.Port))
	}
	return strings.Join(parts, ", ")
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
