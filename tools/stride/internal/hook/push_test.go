package hook_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/hook"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// TestPushRunsPipeline is the integration test: a real bare
// repository with stride's post-receive hook, two commits pushed in quick
// succession, and the reports the hook's runs leave.
func TestPushRunsPipeline(t *testing.T) {
	runtest.RequireBazel(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	stride := runtest.Stride(t)
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	cache := filepath.Join(tmp, "digests")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("STRIDE_STORE", filepath.Join(tmp, "no-store")) // nothing published: the status says so
	t.Cleanup(func() {
		// The hook's work directory has a Bazel server of its own.
		runtest.Shutdown(filepath.Join(state, "work", "main"))
	})

	// A clone with a workspace of two packages, pushed once before the
	// hook exists.
	clone := runtest.Workspace(t, map[string]string{
		"a/BUILD": `sh_test(name = "a_test", srcs = ["a.sh"])`,
		"a/a.sh":  "#!/bin/sh\necho a\n",
		"b/BUILD": `sh_test(name = "b_test", srcs = ["b.sh"])`,
		"b/b.sh":  "#!/bin/sh\necho b\n",
		"ci/environments.star": `environment(name = "dev")
environment(name = "prod", after = "dev", criteria = [tests_green()])
`,
	})
	hooked(t, stride, clone, tmp, state, "--run-arg=--cache-dir="+cache, "--run-arg=--jobs=2")
	// The hook runs its own copy of stride: the binary it was installed
	// with going away (a bazel clean, a new output base) does not break it.
	moved := stride + ".moved"
	if err := os.Rename(stride, moved); err != nil {
		t.Fatal(err)
	}
	stride = moved

	// Two pushes in quick succession: c1 changes a, c2 changes b.
	runtest.Write(t, clone, map[string]string{"a/a.sh": "#!/bin/sh\necho a1\n"})
	c1 := runtest.Commit(t, clone, "change a")
	runtest.Git(t, clone, "push", "-q", "origin", "main")
	runtest.Write(t, clone, map[string]string{"b/b.sh": "#!/bin/sh\necho b2\n"})
	c2 := runtest.Commit(t, clone, "change b")
	runtest.Git(t, clone, "push", "-q", "origin", "main")

	latest := waitRun(t, state, c2)
	if latest.Status != string(report.StatusGreen) || latest.ExitCode != 0 || latest.Base != c1 {
		b, _ := os.ReadFile(filepath.Join(latest.ReportDir, "hook.log"))
		t.Fatalf("latest = %+v\nhook.log:\n%s", latest, b)
	}

	// c2's report: its own commit, based on c1, exactly b's test.
	r2, err := report.Read(filepath.Join(latest.ReportDir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if r2.Head.SHA != c2 || r2.Base.SHA != c1 || r2.Status != report.StatusGreen || r2.Branch != "main" {
		t.Errorf("c2 report: head %s base %s status %s branch %q", r2.Head.SHA, r2.Base.SHA, r2.Status, r2.Branch)
	}
	if d := cmp.Diff([]string{"//b:b_test"}, testLabels(r2)); d != "" {
		t.Errorf("c2 tests (-want +got):\n%s", d)
	}
	// The branch's status beside the report, in the three formats.
	for _, f := range []string{"status.md", "status.json", "status.checks.json"} {
		b, err := os.ReadFile(filepath.Join(latest.ReportDir, f))
		if err != nil || !strings.Contains(string(b), c2[:12]) {
			t.Errorf("%s: %v\n%s", f, err, b)
		}
	}

	// c1's run was stopped by c2's push (cancelled; no report if that was
	// during its checkout), or skipped before it started (superseded: no
	// report), or finished first (green); its report, if any, is its own
	// and never mixed with c2's.
	hist, err := hook.History(state, "main")
	if err != nil {
		t.Fatal(err)
	}
	c1Status := ""
	for _, h := range hist {
		if h.SHA == c1 {
			c1Status = h.Status
		}
	}
	switch c1Status {
	case hook.StatusSuperseded:
	case string(report.StatusCancelled), string(report.StatusGreen):
		r1, err := report.Read(filepath.Join(hook.ReportDir(state, "main", c1), report.JSONFile))
		if errors.Is(err, os.ErrNotExist) && c1Status == string(report.StatusCancelled) {
			break // stopped before `stride run` started (during the checkout)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r1.Head.SHA != c1 || string(r1.Status) != c1Status {
			t.Errorf("c1 report: head %s status %s, history says %s", r1.Head.SHA, r1.Status, c1Status)
		}
		if r1.Status == report.StatusGreen {
			if d := cmp.Diff([]string{"//a:a_test"}, testLabels(r1)); d != "" {
				t.Errorf("c1 tests (-want +got):\n%s", d)
			}
		}
	default:
		t.Errorf("c1's run: %q, want superseded, cancelled or green", c1Status)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.SHA)
	}
	if d := cmp.Diff([]string{c1, c2}, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	t.Logf("c1: %s; c2: %s in %s", c1Status, r2.Status, time.Duration(r2.Timing.TotalMS)*time.Millisecond)

	// `stride hook status` reads the same record.
	out, err := exec.Command(stride, "hook", "status", "--state", state, "--branch", "main", "--json").Output()
	if err != nil || !strings.Contains(string(out), c2) || !strings.Contains(string(out), `"status": "green"`) {
		t.Errorf("hook status: %v\n%s", err, out)
	}
}

// hooked makes clone (a workspace) a git repository, pushes it to a new
// bare repository in tmp, and installs stride's post-receive hook there
// with state and the hook's extra args.
func hooked(t *testing.T, stride, clone, tmp, state string, args ...string) {
	t.Helper()
	runtest.Git(t, clone, "init", "-q", "-b", "main")
	runtest.Commit(t, clone, "workspace")
	bare := filepath.Join(tmp, "remote.git")
	runtest.Git(t, tmp, "init", "-q", "--bare", bare)
	runtest.Git(t, clone, "remote", "add", "origin", bare)
	runtest.Git(t, clone, "push", "-q", "origin", "main")
	install := exec.Command(stride, append([]string{"-C", bare, "hook", "install", "--post-receive", "--state", state}, args...)...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("hook install: %v\n%s", err, out)
	}
}

// waitRun waits for the hook's run of sha on main to finish and returns
// its record; it fails the test after 5 minutes, with the runs' logs.
func waitRun(t *testing.T, state, sha string) *hook.Record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		l, err := hook.Latest(state, "main")
		if err == nil && l.SHA == sha && l.Finished != nil {
			return l
		}
		if time.Now().After(deadline) {
			logs, _ := filepath.Glob(filepath.Join(state, "runs", "main", "*", "hook.log"))
			for _, p := range logs {
				b, _ := os.ReadFile(p)
				t.Logf("%s:\n%s", p, b)
			}
			t.Fatalf("the run of %s did not finish; latest = %+v, %v", sha, l, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func testLabels(r *report.Report) []string {
	var out []string
	for _, t := range r.Tests.Results {
		out = append(out, t.Label)
	}
	sort.Strings(out)
	return out
}
