package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// runTestWorkspace is a git repository with a Bazel workspace of two
// packages, each with a test, shared by the run and watch tests (one
// Bazel server).
func runTestWorkspace(t *testing.T) string {
	t.Helper()
	runtest.RequireBazel(t)
	dir := runtest.Workspace(t, map[string]string{
		"a/BUILD":    `sh_test(name = "a_test", srcs = ["a.sh"])`,
		"a/a.sh":     "#!/bin/sh\necho a\n",
		"b/BUILD":    `sh_test(name = "b_test", srcs = ["b.sh"], data = ["data.txt"])`,
		"b/b.sh":     "#!/bin/sh\ngrep -q ok \"$(dirname \"$0\")/data.txt\" || { echo 'data is not ok'; exit 1; }\n",
		"b/data.txt": "ok\n",
	})
	runtest.Git(t, dir, "init", "-q", "-b", "main")
	runtest.Commit(t, dir, "workspace")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return dir
}

// syncBuf is a buffer the command and the test read and write at once.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func reportTests(r *report.Report) []string {
	var out []string
	for _, t := range r.Tests.Results {
		out = append(out, t.Label+" "+t.Status)
	}
	sort.Strings(out)
	return out
}

// TestRunAndWatch drives `stride run` and `stride watch` through Main on
// a real workspace: exit codes, the report's location, --json, and a file
// save in watch mode running exactly the affected test.
func TestRunAndWatch(t *testing.T) {
	dir := runTestWorkspace(t)

	// A commit that breaks b's test: exit 1, report under out/runs/<sha>.
	runtest.Write(t, dir, map[string]string{"b/data.txt": "bad\n"})
	head := runtest.Commit(t, dir, "break b")
	var stdout, stderr syncBuf
	code := Main([]string{"-C", dir, "run", "--base", "HEAD~1", "--jobs", "2"}, nil, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("stride run: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	wantPath := filepath.Join("out", "runs", head, "report.md")
	if !strings.Contains(stdout.String(), "stride run: FAILED") || !strings.Contains(stdout.String(), "report: "+wantPath) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "FAILED  //b:b_test") {
		t.Errorf("progress lines lack the failure:\n%s", stderr.String())
	}
	rep, err := report.Read(filepath.Join(dir, "out", "runs", head, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"//b:b_test FAILED"}, reportTests(rep)); d != "" {
		t.Errorf("tests (-want +got):\n%s", d)
	}
	md, _ := os.ReadFile(filepath.Join(dir, wantPath))
	if !strings.Contains(string(md), "data is not ok") || !strings.Contains(string(md), "`b/data.txt`") {
		t.Errorf("report.md lacks the log tail or the change:\n%s", md)
	}

	// Fixed, with --json and --out: exit 0 and the report on stdout.
	runtest.Write(t, dir, map[string]string{"b/data.txt": "ok again\n", "b/notes.md": notes,
		"b/BUILD": `sh_test(name = "b_test", srcs = ["b.sh"], data = ["data.txt", "notes.md"])`})
	runtest.Commit(t, dir, "fix b")
	stdout, stderr = syncBuf{}, syncBuf{}
	out := t.TempDir()
	if code := Main([]string{"-C", dir, "run", "--base", "HEAD~1", "--json", "--out", out}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("stride run --json: exit %d\n%s", code, stderr.String())
	}
	var fromStdout report.Report
	if err := json.Unmarshal([]byte(stdout.String()), &fromStdout); err != nil || fromStdout.Status != report.StatusGreen {
		t.Errorf("--json stdout: %v\n%s", err, stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, report.JSONFile)); err != nil {
		t.Errorf("--out: %v", err)
	}

	// Usage errors are exit 2.
	if code := Main([]string{"-C", dir, "run", "--head", "HEAD~1"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("--head not checked out: exit %d, want 2", code)
	}

	// Renames, one with an edit: the report's file list and the affected
	// set's reasons agree on them (one rename rule, package change).
	for _, p := range []string{"b/b.sh", "b/notes.md"} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	runtest.Write(t, dir, map[string]string{
		"b/check.sh":  "#!/bin/sh\ngrep -q ok \"$(dirname \"$0\")/data.txt\" || { echo 'data is not ok'; exit 1; }\n", // b.sh's content
		"b/readme.md": notes + "one more line\n",
		"b/BUILD":     `sh_test(name = "b_test", srcs = ["check.sh"], data = ["data.txt", "readme.md"])`,
	})
	runtest.Commit(t, dir, "rename b's files")
	stdout, stderr = syncBuf{}, syncBuf{}
	if code := Main([]string{"-C", dir, "run", "--base", "HEAD~1", "--json", "--out", t.TempDir()}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("stride run of a rename: exit %d\n%s", code, stderr.String())
	}
	var renamed report.Report
	if err := json.Unmarshal([]byte(stdout.String()), &renamed); err != nil {
		t.Fatal(err)
	}
	wantChanges := []report.Change{
		{Path: "b/BUILD", Status: "modified"},
		{Path: "b/check.sh", OldPath: "b/b.sh", Status: "renamed"},
		{Path: "b/readme.md", OldPath: "b/notes.md", Status: "renamed"},
	}
	if d := cmp.Diff(wantChanges, renamed.Changes); d != "" {
		t.Errorf("report changes (-want +got):\n%s", d)
	}
	var reasons []string
	for _, tg := range renamed.Affected.Targets {
		if tg.Label == "//b:b_test" {
			reasons = tg.Reasons
		}
	}
	for _, c := range wantChanges[1:] {
		if want := "source renamed: " + c.OldPath + " -> " + c.Path; !containsString(reasons, want) {
			t.Errorf("//b:b_test reasons %q lack %q, which the file list has", reasons, want)
		}
	}

	// A BUILD file Bazel cannot load at head is bad input: exit 2, a
	// report with status error that says so.
	runtest.Write(t, dir, map[string]string{"a/BUILD": "sh_test(name = \n"})
	runtest.Commit(t, dir, "break a's BUILD")
	out = t.TempDir()
	if code := Main([]string{"-C", dir, "run", "--base", "HEAD~1", "--out", out}, nil, &stdout, &stderr); code != ExitUsage {
		t.Errorf("broken BUILD at head: exit %d, want %d", code, ExitUsage)
	}
	if r, err := report.Read(filepath.Join(out, report.JSONFile)); err != nil || r.Status != report.StatusError || !r.BadInput || r.ExitCode != ExitUsage {
		t.Errorf("broken BUILD report: %+v, %v", r, err)
	}
	runtest.Write(t, dir, map[string]string{"a/BUILD": `sh_test(name = "a_test", srcs = ["a.sh"])`})
	runtest.Commit(t, dir, "fix a's BUILD")

	// Watch: one save in a/ runs exactly a's test.
	stdout, stderr = syncBuf{}, syncBuf{}
	done := make(chan int, 1)
	go func() {
		done <- Main([]string{"-C", dir, "watch", "--max-runs", "1", "--debounce", "200ms", "--jobs", "2"}, nil, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "watching") {
		if time.Now().After(deadline) {
			t.Fatalf("watch did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	runtest.Write(t, dir, map[string]string{"a/a.sh": "#!/bin/sh\necho a, edited\n"})
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("watch exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("watch did not run:\n%s\n%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "changed: a/a.sh") || !strings.Contains(stdout.String(), "stride watch: GREEN") {
		t.Errorf("watch output:\n%s", stdout.String())
	}
	wrep, err := report.Read(filepath.Join(dir, "out", "watch", report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"//a:a_test PASSED"}, reportTests(wrep)); d != "" {
		t.Errorf("watch ran (-want +got):\n%s", d)
	}
	if !wrep.Dirty {
		t.Error("watch report does not say the work tree was used")
	}
}

func TestRunArgsPublish(t *testing.T) {
	rf, err := parseRunArgs([]string{"--publish", "--jobs=2"})
	if err != nil {
		t.Fatal(err)
	}
	if !rf.publish || rf.jobs != 2 {
		t.Fatalf("parseRunArgs(--publish --jobs=2) = publish %v, jobs %d", rf.publish, rf.jobs)
	}
	rf, err = parseRunArgs(nil)
	if err != nil || rf.publish {
		t.Fatalf("publish must be off by default: %v, %v", rf.publish, err)
	}
}

// notes is a file long enough for a rename with an edit to stay more
// than 50% similar.
var notes = strings.Repeat("notes about b's test data\n", 10)

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
