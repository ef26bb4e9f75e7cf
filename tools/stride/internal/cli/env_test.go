package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/env"
	"github.com/strideci/monorepo/tools/stride/internal/env/envtest"
	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
)

// killedStride runs stride in a child process that kills itself with
// SIGKILL at the crash point (envKillEnv), and checks that it died so.
func (f *envFixture) killedStride(at string, args ...string) {
	f.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	full := append([]string{"-C", f.g.Dir}, args...)
	full = append(full, "--env-root", f.root, "--store", f.storeDir, "--gnupg", f.gnupg)
	cmd := exec.Command(exe, full...)
	cmd.Env = append(os.Environ(), selfMainEnv+"=1", envKillEnv+"="+at)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		f.t.Fatalf("stride %s with a kill at %q: %v, want killed\n%s", strings.Join(args, " "), at, err, out)
	}
}

// upEnv skips as the environment tests do (no haproxy or APT tools, under
// bazel test, -short), makes the fixture with config and brings uat up.
func upEnv(t *testing.T, config string) *envFixture {
	t.Helper()
	requireEnv(t)
	if testing.Short() {
		t.Skip("skipping in -short: real deploys")
	}
	f := newEnvFixture(t, config)
	f.stride(0, "env", "up", "uat")
	return f
}

// TestEnvDeployKilled: kill -9 of `stride env deploy` once it drained an
// instance; the environment says which instance is drained and why; the
// next `stride env deploy` finishes the deploy. Then kill -9 of `stride
// promote --auto --confirm` once the new version started; the next
// promote --auto repairs the promotion's deploy step.
func TestEnvDeployKilled(t *testing.T) {
	f := upEnv(t, "environment(name = \"uat\")\n")
	a := f.build(envtest.Service{Name: "alpha", Version: "A"})
	f.stride(0, "env", "deploy", "uat", a[:12], "--watch", "0s")
	f.checkRuns("uat", a, 2)
	b := f.build(envtest.Service{Name: "alpha", Version: "B"})

	f.killedStride("drained", "env", "deploy", "uat", b, "--watch", "0s")
	st := f.status("uat")
	if st.Deploy == nil || st.Deploy.Phase != env.PhaseRolling || st.Deploy.Slots[0].Phase != env.SlotDraining ||
		!strings.Contains(st.Deploy.Slots[0].Detail, "drained for the deploy of "+b[:12]) {
		t.Fatalf("after a kill mid-deploy, the record: %+v", st.Deploy)
	}
	if bal := st.Instances[0].Balancer; bal != "DRAIN" {
		t.Errorf("alpha/1 is %q in HAProxy after the kill, want DRAIN", bal)
	}
	out := f.stride(0, "env", "status", "uat")
	if !strings.Contains(out, "alpha/1 draining: drained for the deploy of "+b[:12]) {
		t.Errorf("env status does not say why alpha/1 is drained:\n%s", out)
	}
	out = f.stride(0, "env", "deploy", "uat", b, "--watch", "0s")
	if !strings.Contains(out, "took over the interrupted deploy of "+b[:12]) {
		t.Errorf("the next deploy does not say it took over:\n%s", out)
	}
	f.checkRuns("uat", b, 2)

	// The robot, killed once the new version started; the next run repairs.
	f.stride(0, "promote", "--auto", "--confirm", "--watch", "0s") // records b, deployed already
	c := f.build(envtest.Service{Name: "alpha", Version: "C"})
	f.killedStride("started", "promote", "--auto", "--confirm", "--watch", "0s", "--actor", "e2e")
	if st := f.status("uat"); st.Deploy.Phase != env.PhaseRolling || st.Instances[0].Balancer != "MAINT" {
		t.Fatalf("after killing the robot: record %+v, alpha/1 %q", st.Deploy, st.Instances[0].Balancer)
	}
	out = f.stride(0, "promote", "--auto", "--confirm", "--watch", "0s")
	f.checkRuns("uat", c, 2)
	es := f.ledgerState().Env("uat")
	if d := es.Done[ledger.StepDeploy]; es.Build != c || d == nil || !d.Repaired || !strings.Contains(d.Detail, "took over the interrupted deploy of "+c[:12]) {
		t.Fatalf("the robot after the kill: uat serves %.12s, deploy step %+v\n%s", es.Build, d, out)
	}
}

// TestEnvCrashRestarted: an instance killed on its own is started again
// by the supervisor, and the crash counted in the status (the board's
// data); env down stops everything, env up brings it back.
func TestEnvCrashRestarted(t *testing.T) {
	f := upEnv(t, "environment(name = \"uat\", instances = 1)\n")
	if out := f.stride(0, "env", "up", "uat"); !strings.Contains(out, "up already") {
		t.Errorf("a second env up:\n%s", out)
	}
	a := f.build(envtest.Service{Name: "alpha", Version: "A"})
	f.stride(0, "env", "deploy", "uat", a, "--watch", "0s")
	f.checkRuns("uat", a, 1)
	old := f.status("uat").Instances[0]
	syscall.Kill(old.PID, syscall.SIGKILL)
	deadline := time.Now().Add(20 * time.Second)
	var in env.Instance
	for time.Now().Before(deadline) {
		in = f.status("uat").Instances[0]
		if in.Restarts == 1 && in.PID != 0 && in.PID != old.PID && in.State == env.StateRunning && in.Balancer == "UP" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if in.Restarts != 1 || in.PID == old.PID || in.Balancer != "UP" || !strings.Contains(in.LastExit, "killed") {
		t.Fatalf("after kill -9 of alpha/1: %+v", in)
	}
	if out := f.stride(0, "env", "down", "uat"); !strings.Contains(out, "uat is down") {
		t.Fatalf("env down:\n%s", out)
	}
	st := f.status("uat")
	l, _ := env.Open(f.root, "uat")
	if _, running := haproxy.Running(l.HAProxyPID()); st.Up || running || syscall.Kill(in.PID, 0) == nil {
		t.Fatalf("after env down: up %v, haproxy running %v, instance alive %v", st.Up, running, syscall.Kill(in.PID, 0) == nil)
	}
	f.stride(0, "env", "up", "uat")
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if in = f.status("uat").Instances[0]; in.Balancer == "UP" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.checkRuns("uat", a, 1)
}

// TestDeployCommand: an environment with environment(deploy = ...) is
// deployed by running the command with the build, the environment and the
// package versions in its environment; its exit status decides, and a
// failure is rolled back by running it with the previous build.
func TestDeployCommand(t *testing.T) {
	publishtest.RequireAPT(t, "apt-get", "dpkg-deb", "go")
	f := newEnvFixture(t, "environment(name = \"uat\", deploy = \"ci/deploy-uat.sh\")\n")
	script := `#!/bin/sh
# Records what it was given; fails for the build named in ci/bad-build.
echo "$STRIDE_ENV $STRIDE_BUILD from=$STRIDE_FROM instances=$STRIDE_INSTANCES alpha=$STRIDE_VERSION_ALPHA packages=$STRIDE_PACKAGES" >> deploys.log
if [ -f ci/bad-build ] && [ "$(cat ci/bad-build)" = "$STRIDE_BUILD" ]; then
  echo "health check of $STRIDE_BUILD failed" >&2
  exit 1
fi
`
	os.MkdirAll(filepath.Join(f.g.Dir, "ci"), 0o755)
	if err := os.WriteFile(filepath.Join(f.g.Dir, "ci", "deploy-uat.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runMain(t, "-C", f.g.Dir, "promote", "lint"); code != 0 || !strings.Contains(out, "deployed by ci/deploy-uat.sh") {
		t.Fatalf("promote lint = %d\n%s%s", code, out, errs)
	}
	a := f.build(envtest.Service{Name: "alpha", Version: "A"})
	f.stride(0, "promote", "--auto", "--confirm")
	b := f.build(envtest.Service{Name: "alpha", Version: "B"})
	os.WriteFile(filepath.Join(f.g.Dir, "ci", "bad-build"), []byte(b), 0o644)
	out := f.stride(0, "promote", "--auto", "--confirm")
	es := f.ledgerState().Env("uat")
	if es.Build != a || es.Change.Kind != ledger.KindRollback || !strings.Contains(es.Change.Reason, "ci/deploy-uat.sh exited with exit status 1: health check of "+b+" failed") {
		t.Fatalf("after a failing deploy command: uat serves %.12s, change %+v\n%s", es.Build, es.Change, out)
	}
	log, _ := os.ReadFile(filepath.Join(f.g.Dir, "deploys.log"))
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "uat "+a+" from= instances=2 alpha=0.") ||
		!strings.HasPrefix(lines[1], "uat "+b+" from="+a) || !strings.HasPrefix(lines[2], "uat "+a+" from="+b) ||
		!strings.Contains(lines[0], "packages=alpha=0.") {
		t.Fatalf("the deploy command was run with:\n%s", log)
	}
}

// TestEnvWatchRollsBack: a build whose service becomes ready and then
// crashes is caught by the watch after the deploy and rolled back by
// itself; the ledger says why.
func TestEnvWatchRollsBack(t *testing.T) {
	f := upEnv(t, "environment(name = \"uat\")\n")
	a := f.build(envtest.Service{Name: "alpha", Version: "A"})
	f.stride(0, "promote", "--auto", "--confirm", "--watch", "1s")
	f.checkRuns("uat", a, 2)
	b := f.build(envtest.Service{Name: "alpha", Version: "B", CrashAfter: "1500ms"})
	out := f.stride(0, "promote", "--auto", "--confirm", "--watch", "4s")
	es := f.ledgerState().Env("uat")
	if es.Build != a || es.Change.Kind != ledger.KindRollback || es.RolledBack[b] == nil || !strings.Contains(es.Change.Reason, "during the watch") {
		t.Fatalf("after a build that crashes after its deploy: uat serves %.12s, change %+v\n%s", es.Build, es.Change, out)
	}
	f.checkRuns("uat", a, 2)
}
