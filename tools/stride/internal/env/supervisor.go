package env

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
)

// ErrUp: the environment's supervisor runs already.
var ErrUp = errors.New("the environment is up already")

// StopTimeout is how long an instance may take to drain and exit after
// SIGTERM before it is killed.
const StopTimeout = 30 * time.Second

// Up reports whether the environment's supervisor runs: it holds an
// exclusive lock on supervisor.pid while it lives (a stale file does not
// count).
func Up(l *Layout) (pid int, up bool) {
	f, err := os.Open(l.SupervisorPID())
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, false
	}
	b, _ := io.ReadAll(f)
	pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, true
}

// proc is one instance the supervisor runs.
type proc struct {
	want     Want
	pid      int
	running  bool
	stopping bool
	state    string
	restarts int
	lastExit string
	since    time.Time
	next     time.Time // when a crashed instance starts again
	backoff  time.Duration
}

type exit struct {
	key string
	pid int
	err error
}

// supervisor keeps the processes of desired.json running.
type supervisor struct {
	l        *Layout
	log      io.Writer
	procs    map[string]*proc
	exits    chan exit
	balancer Balancer
	last     []byte
	build    string
	sampled  time.Time // the last traffic sample (traffic.go)
	traffic  *lineLog
}

// Supervise runs the environment's supervisor until ctx is done: it
// starts the instances desired.json names (and HAProxy, once a deploy
// wrote its configuration), restarts an instance that exits on its own
// after a back-off (100 ms doubling to 5 s), counting the restarts in
// status.json, and replaces an instance whose desired version changes
// (SIGTERM, up to StopTimeout, then SIGKILL). When ctx is done it stops
// every instance and HAProxy. Only one supervisor runs per environment
// (ErrUp).
func Supervise(ctx context.Context, l *Layout, log io.Writer) error {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(l.SupervisorPID(), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("%s: %w", l.Name, ErrUp)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	s := &supervisor{l: l, log: log, procs: map[string]*proc{}, exits: make(chan exit, 64)}
	s.killOrphans()
	s.logf("supervising %s (pid %d)", l.Name, os.Getpid())
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		s.reconcile()
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case e := <-s.exits:
			s.exited(e)
		case <-tick.C:
		}
	}
}

func (s *supervisor) logf(format string, a ...interface{}) {
	fmt.Fprintf(s.log, "%s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), fmt.Sprintf(format, a...))
}

// killOrphans kills the instances a supervisor killed with SIGKILL left
// behind: the processes status.json names whose working directory is
// their instance's directory.
func (s *supervisor) killOrphans() {
	var old Status
	if ok, _ := readJSON(s.l.Status(), &old); !ok {
		return
	}
	for _, in := range old.Instances {
		if in.PID <= 0 {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", in.PID)); err == nil && cwd == s.l.InstanceDir(in.Service, in.Slot) {
			s.logf("killing %s (pid %d), left running by the previous supervisor", in.Key(), in.PID)
			syscall.Kill(-in.PID, syscall.SIGKILL)
			syscall.Kill(in.PID, syscall.SIGKILL)
		}
	}
}

func (s *supervisor) reconcile() {
	var d Desired
	if _, err := readJSON(s.l.Desired(), &d); err != nil {
		s.logf("%v", err)
	}
	now := time.Now()
	wanted := map[string]bool{}
	for _, w := range d.Instances {
		wanted[w.Key()] = true
		p := s.procs[w.Key()]
		switch {
		case p == nil:
			p = &proc{want: w}
			s.procs[w.Key()] = p
			s.start(p)
		case p.running && !reflect.DeepEqual(p.want, w):
			s.stop(p, "replaced by version "+w.Version)
		case !p.running && !reflect.DeepEqual(p.want, w):
			p.want, p.restarts, p.backoff = w, 0, 0
			s.start(p)
		case !p.running && p.state == StateCrashed && !now.Before(p.next):
			s.start(p)
		}
	}
	for k, p := range s.procs {
		if wanted[k] {
			continue
		}
		if p.running {
			s.stop(p, "no longer desired")
		} else {
			delete(s.procs, k)
		}
	}
	s.balance()
	s.sampleTraffic()
	s.writeStatus()
}

// balance starts HAProxy when a deploy has configured it and it does not
// run (at start, or after it died).
func (s *supervisor) balance() {
	if _, err := os.Stat(s.l.HAProxyConfig()); err != nil {
		return
	}
	pid, ok := haproxy.Running(s.l.HAProxyPID())
	if !ok {
		if s.balancer.PID != 0 {
			s.balancer.Restarts++
			s.logf("haproxy (pid %d) is gone; starting it again", s.balancer.PID)
		}
		if err := haproxy.Start(context.Background(), s.l.HAProxyConfig(), s.l.HAProxyPID()); err != nil {
			s.logf("%v", err)
			return
		}
		pid, _ = haproxy.Running(s.l.HAProxyPID())
	}
	s.balancer.PID = pid
}

// serviceEnv reads the optional KEY=VALUE file of a service.
func (s *supervisor) serviceEnv(service string) []string {
	f, err := os.Open(s.l.ServiceEnvFile(service))
	if err != nil {
		return nil
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") && strings.Contains(line, "=") {
			env = append(env, line)
		}
	}
	return env
}

func (s *supervisor) start(p *proc) {
	w := p.want
	dir := s.l.InstanceDir(w.Service, w.Slot)
	os.MkdirAll(dir, 0o755)
	logf, err := os.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil || len(w.Command) == 0 {
		s.crashed(p, fmt.Sprintf("cannot start: %v (command %q)", err, w.Command))
		return
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s start %s version %s: %s\n", time.Now().UTC().Format(time.RFC3339), w.Key(), w.Version, strings.Join(w.Command, " "))
	cmd := exec.Command(w.Command[0], w.Command[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), s.serviceEnv(w.Service)...), w.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.crashed(p, fmt.Sprintf("cannot start: %v", err))
		return
	}
	p.pid, p.running, p.stopping, p.state, p.since = cmd.Process.Pid, true, false, StateRunning, time.Now()
	s.logf("started %s version %s (pid %d, port %d)", w.Key(), w.Version, p.pid, w.Port)
	k, pid := w.Key(), p.pid
	go func() {
		err := cmd.Wait()
		s.exits <- exit{key: k, pid: pid, err: err}
	}()
}

func (s *supervisor) stop(p *proc, why string) {
	if p.stopping {
		return
	}
	p.stopping, p.state = true, StateStopping
	s.logf("stopping %s (pid %d): %s", p.want.Key(), p.pid, why)
	syscall.Kill(p.pid, syscall.SIGTERM)
	pid := p.pid
	time.AfterFunc(StopTimeout, func() {
		if syscall.Kill(pid, 0) == nil {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
}

func (s *supervisor) exited(e exit) {
	p := s.procs[e.key]
	if p == nil || p.pid != e.pid {
		return
	}
	p.running = false
	if p.stopping {
		p.stopping, p.state, p.pid = false, "stopped", 0
		s.logf("%s stopped", e.key)
		return
	}
	msg := "exited"
	if e.err != nil {
		msg = e.err.Error()
	}
	s.crashed(p, fmt.Sprintf("%s at %s", msg, time.Now().UTC().Format(time.RFC3339)))
}

func (s *supervisor) crashed(p *proc, why string) {
	p.running, p.pid, p.state, p.lastExit = false, 0, StateCrashed, why
	if time.Since(p.since) > 10*time.Second {
		p.backoff = 0
	}
	if p.backoff == 0 {
		p.backoff = 100 * time.Millisecond
	} else if p.backoff *= 2; p.backoff > 5*time.Second {
		p.backoff = 5 * time.Second
	}
	p.restarts++
	p.next = time.Now().Add(p.backoff)
	s.logf("%s crashed (%s); restart %d in %v", p.want.Key(), why, p.restarts, p.backoff)
}

func (s *supervisor) writeStatus() {
	st := Status{Schema: StatusSchema, Env: s.l.Name, Up: true, Supervisor: os.Getpid(), Balancer: s.balancer, Instances: []Instance{}}
	for _, p := range s.procs {
		st.Instances = append(st.Instances, Instance{Service: p.want.Service, Slot: p.want.Slot, Port: p.want.Port,
			Version: p.want.Version, Build: p.want.Build, State: p.state, PID: p.pid, Restarts: p.restarts,
			LastExit: p.lastExit, Since: p.since})
	}
	sortInstances(st.Instances)
	s.write(st)
}

func (s *supervisor) write(st Status) {
	b := []byte(fmt.Sprintf("%+v", st))
	if string(b) == string(s.last) {
		return
	}
	s.last = b
	st.Updated = time.Now().UTC()
	if err := writeJSON(s.l.Status(), st); err != nil {
		s.logf("%v", err)
	}
}

// shutdown stops every instance (in parallel, each up to StopTimeout)
// and HAProxy.
func (s *supervisor) shutdown() {
	s.logf("shutting down %s", s.l.Name)
	for _, p := range s.procs {
		if p.running {
			s.stop(p, "the environment goes down")
		}
	}
	deadline := time.After(StopTimeout + 2*time.Second)
	for s.anyRunning() {
		select {
		case e := <-s.exits:
			s.exited(e)
		case <-deadline:
			s.logf("instances still running after %v", StopTimeout)
			return
		}
	}
	haproxy.Stop(s.l.HAProxyPID(), 10*time.Second)
	st := Status{Schema: StatusSchema, Env: s.l.Name, Up: false, Instances: []Instance{}}
	for _, p := range s.procs {
		st.Instances = append(st.Instances, Instance{Service: p.want.Service, Slot: p.want.Slot, Port: p.want.Port,
			Version: p.want.Version, Build: p.want.Build, State: "stopped", Restarts: p.restarts, LastExit: p.lastExit})
	}
	sortInstances(st.Instances)
	s.write(st)
}

func (s *supervisor) anyRunning() bool {
	for _, p := range s.procs {
		if p.running {
			return true
		}
	}
	return false
}
