package hook_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// TestPushPublishes is the hook's publish path end to end: a push to a
// bare repository whose post-receive hook runs `stride run --publish`
// leaves, for the pushed commit, a green report, a build in the store
// holding the workspace's .deb (built by the repository's deb_package
// rule), and the package in the signed `dev` APT distribution; with
// --promote, the robot then promotes it in the pushed-to repository's
// ledger, as far as the environments' criteria allow.
func TestPushPublishes(t *testing.T) {
	runtest.RequireBazel(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not on PATH")
	}
	if err := apt.Available(); err != nil {
		t.Skipf("aptly: %v", err)
	}
	stride := runtest.Stride(t)
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	storeDir := filepath.Join(tmp, "store")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("STRIDE_STORE", storeDir)
	t.Setenv("STRIDE_GNUPGHOME", filepath.Join(tmp, "gnupg"))
	t.Cleanup(func() { runtest.Shutdown(filepath.Join(state, "work", "main")) })

	deb, err := os.ReadFile(filepath.Join(runtest.ModuleRoot(t), "tools", "bazel", "deb.bzl"))
	if err != nil {
		t.Fatal(err)
	}
	clone := runtest.Workspace(t, map[string]string{
		"tools/bazel/BUILD":   "",
		"tools/bazel/deb.bzl": string(deb),
		"svc/BUILD":           svcBuild,
		"svc/svc.sh":          "#!/bin/sh\necho svc\n",
		"svc/svc_test.sh":     "#!/bin/sh\nexit 0\n",
		"svc/svc.service":     "[Service]\nExecStart=/usr/bin/svc\n",
		"docs/index.md":       "# svc\n",
		"docs/BUILD":          "",
		"unrelated/BUILD":     `sh_test(name = "u_test", srcs = ["u.sh"])`,
		"unrelated/u.sh":      "#!/bin/sh\nexit 0\n",
		"ci/environments.star": `environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green()])
environment(name = "prod", after = "uat", criteria = [soak(hours = 1)])
`,
	})
	hooked(t, stride, clone, tmp, state, "--run-arg=--cache-dir="+filepath.Join(tmp, "digests"), "--run-arg=--jobs=2", "--run-arg=--publish", "--promote")
	runtest.Write(t, clone, map[string]string{"svc/svc.sh": "#!/bin/sh\necho svc 2\n"})
	c1 := runtest.Commit(t, clone, "change svc")
	runtest.Git(t, clone, "push", "-q", "origin", "main")

	latest := waitRun(t, state, c1)
	log, _ := os.ReadFile(filepath.Join(latest.ReportDir, "hook.log"))
	if latest.Status != string(report.StatusGreen) || latest.ExitCode != 0 {
		t.Fatalf("latest = %+v\nhook.log:\n%s", latest, log)
	}

	// The store has c1's build with its .deb and docs.
	out, err := exec.Command(stride, "store", "ls", "--json").Output()
	if err != nil {
		t.Fatalf("store ls: %v\nhook.log:\n%s", err, log)
	}
	var builds []struct {
		Build string `json:"build"`
	}
	if err := json.Unmarshal(out, &builds); err != nil || len(builds) != 1 || builds[0].Build != c1 {
		t.Fatalf("store ls --json = %s (%v), want one build %s\nhook.log:\n%s", out, err, c1, log)
	}
	out, err = exec.Command(stride, "store", "show", c1[:12]).Output()
	if err != nil || !strings.Contains(string(out), "debs/svc_") || !strings.Contains(string(out), "docs/index.html") {
		t.Errorf("store show %s: %v\n%s", c1[:12], err, out)
	}
	if out, err := exec.Command(stride, "store", "verify").CombinedOutput(); err != nil || !strings.Contains(string(out), "0 problems") {
		t.Errorf("store verify: %v\n%s", err, out)
	}

	// The dev distribution lists the package, signed.
	dist := filepath.Join(storeDir, "aptly", "public", "dists", "dev")
	if _, err := os.Stat(filepath.Join(dist, "InRelease")); err != nil {
		t.Errorf("dev is not published and signed: %v", err)
	}
	pkgs, err := os.ReadFile(filepath.Join(dist, "main", "binary-amd64", "Packages"))
	if err != nil || !strings.Contains(string(pkgs), "Package: svc\n") {
		t.Errorf("dev's Packages: %v\n%s", err, pkgs)
	}

	// The robot ran on the bare repository's ledger: c1 is in dev and
	// uat (tests green), and waits for its soak before prod.
	bare := filepath.Join(tmp, "remote.git")
	out, err = exec.Command(stride, "-C", bare, "ledger", "log", "--json").Output()
	if err != nil {
		t.Fatalf("ledger log in %s: %v\nhook.log:\n%s", bare, err, log)
	}
	var events []struct {
		Kind, Env, Build, Verdict, Actor string
	}
	if err := json.Unmarshal(out, &events); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range events {
		if e.Build == c1 {
			got[e.Kind+" "+e.Env+" "+e.Verdict] = true
			if !strings.Contains(e.Actor, "post-receive") {
				t.Errorf("event %+v: actor does not say the hook's robot", e)
			}
		}
	}
	for _, want := range []string{"promotion dev ", "promotion uat ", "evaluation prod blocked"} {
		if !got[want] {
			t.Errorf("ledger of %s lacks %q for c1; has %v\nhook.log:\n%s", bare, want, got, log)
		}
	}
	if !strings.Contains(string(log), "promote --auto --confirm on "+bare) {
		t.Errorf("hook.log does not show the robot's run:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(latest.ReportDir, "promote.json")); err != nil {
		t.Errorf("the robot's result: %v", err)
	}
}

const svcBuild = `load("//tools/bazel:deb.bzl", "deb_package")

sh_binary(name = "svc", srcs = ["svc.sh"])

sh_test(name = "svc_test", srcs = ["svc_test.sh"], data = [":svc"])

deb_package(
    name = "svc_deb",
    package = "svc",
    binary = ":svc",
    systemd_unit = "svc.service",
    description = "A test service.",
)
`
