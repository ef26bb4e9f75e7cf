package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/env/envtest"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// selfMainEnv makes the test binary run stride's Main instead of the tests:
// `stride env up` starts the supervisor as os.Executable(), which in these
// tests is the test binary.
const selfMainEnv = "STRIDE_CLI_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(selfMainEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Setenv(selfMainEnv, "1") // for the children only
	code := m.Run()
	envtest.Cleanup()
	os.Exit(code)
}

// envFixture is a repository whose builds publish the test services
// (envtest) into a store with aptly, and a root of local environments.
type envFixture struct {
	t        *testing.T
	g        *gittest.Repo
	s        *store.FS
	storeDir string
	gnupg    string
	root     string
	n        int
	pub      func(head, parent string, debs []string)
}

// requireEnv skips unless the environment tests can run: not under
// bazel test, aptly, gpg, apt-get, dpkg-deb, go and haproxy installed.
func requireEnv(t *testing.T) {
	t.Helper()
	publishtest.RequireAPT(t, "apt-get", "dpkg-deb", "go")
	if _, err := haproxy.Path(); err != nil {
		t.Skipf("skipping: %v", err)
	}
}

func newEnvFixture(t *testing.T, config string) *envFixture {
	g := gittest.New(t)
	g.Commit("root", map[string]string{"OWNERS": "alice@example.com\n", "ci/environments.star": config, "services/alpha/main.go": "package main\n"})
	s, aptly := publishtest.APTStore(t)
	root, err := os.MkdirTemp("", "envs-") // short: haproxy's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	f := &envFixture{t: t, g: g, s: s, storeDir: s.Root(), gnupg: aptly.Keyring.Home, root: root}
	f.pub = func(head, parent string, debs []string) {
		run := publishtest.WriteRun(t, t.TempDir(), publishtest.Run{Head: head, Base: parent, Status: report.StatusGreen})
		if _, err := publish.Publish(context.Background(), publish.Options{Dir: g.Dir, RunDir: run, Debs: debs, DocsDir: "-",
			Store: s, Aptly: aptly, Number: 10 + f.n, Distribution: "uat"}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		names, _ := env.List(root)
		for _, n := range names {
			if l, err := env.Open(root, n); err == nil {
				env.Down(l, time.Minute)
			}
		}
		os.RemoveAll(root)
	})
	return f
}

// build commits a change and publishes a build of the test services.
func (f *envFixture) build(services ...envtest.Service) string {
	f.t.Helper()
	dir := f.t.TempDir()
	var debs []string
	for _, s := range services {
		debs = append(debs, envtest.Build(f.t, dir, s))
	}
	return f.buildDebs(debs)
}

// buildDebs commits a change and publishes a build of the packages.
func (f *envFixture) buildDebs(debs []string) string {
	f.t.Helper()
	parent := f.g.Git("rev-parse", "HEAD")
	f.n++
	head := f.g.Commit(fmt.Sprintf("build %d", f.n), map[string]string{"services/alpha/main.go": fmt.Sprintf("package main // %d\n", f.n)})
	f.pub(head, parent, debs)
	return head
}

// stride runs stride in the repository with the store, the gnupg home and
// the environments' root, and checks its exit code.
func (f *envFixture) stride(wantCode int, args ...string) string {
	f.t.Helper()
	full := append([]string{"-C", f.g.Dir}, args...)
	if args[0] != "ledger" {
		full = append(full, "--env-root", f.root)
	}
	if args[0] == "promote" || args[0] == "rollback" || (args[0] == "env" && args[1] == "deploy") {
		full = append(full, "--store", f.storeDir, "--gnupg", f.gnupg)
	}
	if args[0] == "promote" || args[0] == "rollback" {
		full = append(full, "--actor", "e2e")
	}
	code, out, errs := runMain(f.t, full...)
	if code != wantCode {
		f.t.Fatalf("stride %s = %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errs)
	}
	return out + errs
}

func (f *envFixture) status(name string) *env.Status {
	f.t.Helper()
	st, err := env.ReadStatus(f.root, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *envFixture) ledgerState() *ledger.State {
	f.t.Helper()
	r, err := gitrepo.Open(f.g.Dir)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Close()
	log, err := ledger.Open(r).Read()
	if err != nil {
		f.t.Fatal(err)
	}
	return log.State()
}

// checkRuns fails unless every instance of name runs build, UP in HAProxy.
func (f *envFixture) checkRuns(name, build string, n int) {
	f.t.Helper()
	st := f.status(name)
	if len(st.Instances) != n {
		f.t.Fatalf("%s has %d instances, want %d: %+v", name, len(st.Instances), n, st.Instances)
	}
	for _, in := range st.Instances {
		if in.Build != build || in.State != env.StateRunning || in.Balancer != "UP" || in.PID == 0 {
			f.t.Fatalf("%s: %s runs build %.12s %s, %s in HAProxy (pid %d); want build %.12s running and UP",
				name, in.Key(), in.Build, in.State, in.Balancer, in.PID, build)
		}
	}
}

// traffic sends requests through the balancer's frontends, one after the
// other, until stop, and counts them and the failed ones (an error or a
// status other than 200). Bounded: at most max requests and 5 minutes.
type traffic struct {
	total, failed int64
	mu            sync.Mutex
	failures      []string
	seen          map[string]int
	stop          chan struct{}
	done          sync.WaitGroup
}

func startTraffic(urls []string, max int64) *traffic {
	tr := &traffic{stop: make(chan struct{}), seen: map[string]int{}}
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for _, u := range urls {
		u := u
		tr.done.Add(1)
		go func() {
			defer tr.done.Done()
			for atomic.LoadInt64(&tr.total) < max && time.Now().Before(deadline) {
				select {
				case <-tr.stop:
					return
				default:
				}
				atomic.AddInt64(&tr.total, 1)
				resp, err := client.Get(u + "/?delay=5ms")
				msg := ""
				if err != nil {
					msg = err.Error()
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						msg = fmt.Sprintf("%s: %d %s", u, resp.StatusCode, strings.TrimSpace(string(b)))
					} else {
						tr.mu.Lock()
						tr.seen[strings.TrimSpace(string(b))]++
						tr.mu.Unlock()
					}
				}
				if msg != "" {
					atomic.AddInt64(&tr.failed, 1)
					tr.mu.Lock()
					if len(tr.failures) < 10 {
						tr.failures = append(tr.failures, time.Now().Format("15:04:05.000")+" "+msg)
					}
					tr.mu.Unlock()
				}
			}
		}()
	}
	return tr
}

func (tr *traffic) finish() (total, failed int64) {
	close(tr.stop)
	tr.done.Wait()
	return atomic.LoadInt64(&tr.total), atomic.LoadInt64(&tr.failed)
}

func frontendURLs(st *env.Status) []string {
	var urls []string
	for _, addr := range st.Balancer.Frontends {
		urls = append(urls, "http://"+addr)
	}
	return urls
}

const envE2EConfig = `environment(name = "uat")
environment(name = "prod", after = "uat", instances = 2, criteria = [healthy(max_error_rate = 0.01)])
`

// TestEnvEndToEnd is the "Done means": uat and prod up on
// 127.0.0.1 behind HAProxy; build A promoted and deployed to both; steady
// traffic through both balancers while build B deploys rolling (0 failed
// requests); build C, whose alpha fails /readyz, rolled back by itself
// (0 failed requests, the ledger says why); env status shows each
// instance's version and state.
func TestEnvEndToEnd(t *testing.T) {
	requireEnv(t)
	if testing.Short() {
		t.Skip("skipping in -short: about a minute of real deploys")
	}
	start := time.Now()
	f := newEnvFixture(t, envE2EConfig)
	for _, e := range []string{"uat", "prod"} {
		if out := f.stride(0, "env", "up", e); !strings.Contains(out, e+" is up") {
			t.Fatalf("env up %s:\n%s", e, out)
		}
	}
	robot := func() string {
		return f.stride(0, "promote", "--auto", "--confirm", "--watch", "1s", "--ready-timeout", "3s")
	}
	a := f.build(envtest.Service{Name: "alpha", Version: "A"}, envtest.Service{Name: "beta", Version: "A"})
	out := robot()
	f.checkRuns("uat", a, 4)
	f.checkRuns("prod", a, 4)
	if st := f.ledgerState(); st.Env("prod").Build != a || st.Env("uat").Done[ledger.StepDeploy] == nil {
		t.Fatalf("after the first robot run, the ledger: prod %.12s; uat deploy step %v\n%s", st.Env("prod").Build, st.Env("uat").Done, out)
	}

	// Build B, rolling, under traffic.
	urls := append(frontendURLs(f.status("uat")), frontendURLs(f.status("prod"))...)
	tr := startTraffic(urls, 200000)
	time.Sleep(500 * time.Millisecond)
	b := f.build(envtest.Service{Name: "alpha", Version: "B"}, envtest.Service{Name: "beta", Version: "B"})
	t0 := time.Now()
	out = robot()
	rolling := time.Since(t0)
	time.Sleep(300 * time.Millisecond)
	total, failed := tr.finish()
	t.Logf("deploy of B to uat and prod (rolling, 4 instances each, watch 1s) in %v: %d requests, %d failed; answers %v", rolling.Round(time.Millisecond), total, failed, tr.seen)
	if failed != 0 || total == 0 {
		t.Fatalf("deploy of B: %d of %d requests failed: %v\n%s", failed, total, tr.failures, out)
	}
	f.checkRuns("uat", b, 4)
	f.checkRuns("prod", b, 4)
	if tr.seen["alpha A"] == 0 || tr.seen["alpha B"] == 0 {
		t.Errorf("traffic saw %v: want both alpha A and alpha B", tr.seen)
	}

	// Build C fails /readyz: rolled back by itself, under traffic.
	tr = startTraffic(frontendURLs(f.status("uat")), 200000)
	time.Sleep(300 * time.Millisecond)
	c := f.build(envtest.Service{Name: "alpha", Version: "C", NotReady: true}, envtest.Service{Name: "beta", Version: "C"})
	t0 = time.Now()
	out = robot()
	back := time.Since(t0)
	time.Sleep(300 * time.Millisecond)
	total, failed = tr.finish()
	t.Logf("deploy of C to uat and its automatic rollback in %v: %d requests, %d failed; answers %v", back.Round(time.Millisecond), total, failed, tr.seen)
	if failed != 0 || total == 0 {
		t.Fatalf("deploy of C: %d of %d requests failed: %v\n%s", failed, total, tr.failures, out)
	}
	f.checkRuns("uat", b, 4)
	f.checkRuns("prod", b, 4)
	es := f.ledgerState().Env("uat")
	if es.Build != b || es.Change.Kind != ledger.KindRollback || es.Change.Manual || es.RolledBack[c] == nil ||
		!strings.Contains(es.Change.Reason, "alpha/1") || !strings.Contains(es.Change.Reason, "503") {
		t.Fatalf("uat after C: serves %.12s, change %+v\n%s", es.Build, es.Change, out)
	}
	logOut := f.stride(0, "ledger", "log", "--env", "uat")
	t.Logf("ledger log --env uat:\n%s", logOut)
	if !strings.Contains(logOut, "deploy done: 4 instances of 2 services run "+b[:12]) {
		t.Errorf("ledger log --env uat does not say what the deploys did:\n%s", logOut)
	}
	if !strings.Contains(logOut, "deploy failed") {
		t.Errorf("ledger log --env uat does not say why:\n%s", logOut)
	}
	stOut := f.stride(0, "env", "status", "uat")
	t.Logf("env status uat:\n%s", stOut)
	for _, want := range []string{"alpha/1", "alpha/2", "beta/1", "beta/2", "running", "UP", "build " + b[:12]} {
		if !strings.Contains(stOut, want) {
			t.Errorf("env status uat lacks %q:\n%s", want, stOut)
		}
	}
	var st env.Status
	if err := json.Unmarshal([]byte(f.stride(0, "env", "status", "uat", "--json")), &st); err != nil || st.Schema != env.StatusSchema || len(st.Instances) != 4 {
		t.Errorf("env status --json: %v %+v", err, st)
	}
	// healthy() read uat's balancer: the supervisor's samples count the
	// test's traffic, without a failure.
	tm, ok, err := env.Traffic(f.root, "uat", start)
	if err != nil || !ok || tm["alpha"].Requests == 0 || tm["alpha"].Errors != 0 {
		t.Errorf("uat's traffic since the start: %+v, %v, %v", tm, ok, err)
	}
	t.Logf("uat's balancer since the start: %+v", tm)
	var events []ledger.Event
	if err := json.Unmarshal([]byte(f.stride(0, "ledger", "log", "--env", "prod", "--json")), &events); err != nil {
		t.Fatal(err)
	}
	var healthy string
	for _, e := range events {
		for _, cr := range e.Criteria {
			if e.Kind == ledger.KindEvaluation && e.Build == b && cr.Kind == "healthy" {
				healthy = string(cr.Status) + ": " + cr.Evidence
			}
		}
	}
	t.Logf("prod's healthy() for B: %s", healthy)
	if !strings.HasPrefix(healthy, "pass: in uat: alpha") {
		t.Errorf("prod's healthy() for B = %q, want a pass from uat's balancer", healthy)
	}
	t.Logf("end to end in %v", time.Since(start).Round(time.Millisecond))
}
