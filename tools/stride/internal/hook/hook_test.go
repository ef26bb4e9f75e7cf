package hook

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

func TestInstall(t *testing.T) {
	gitDir := t.TempDir()
	o := InstallOptions{Kind: PostReceive, GitDir: gitDir, Stride: "/opt/stride it's", StateDir: filepath.Join(t.TempDir(), "state"),
		RunArgs: []string{"--jobs=4"}}
	path, err := Install(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := "exec '/opt/stride it'\\''s' hook post-receive --state '" + o.StateDir + "' '--run-arg=--jobs=4' \"$@\"\n"
	if !strings.HasSuffix(string(b), want) || !strings.HasPrefix(string(b), "#!/bin/sh\n"+marker) {
		t.Errorf("hook script:\n%s\nwant it to end with:\n%s", b, want)
	}
	if st, _ := os.Stat(path); st.Mode()&0o111 == 0 {
		t.Errorf("hook not executable: %v", st.Mode())
	}
	// Idempotent.
	if _, err := Install(o); err != nil {
		t.Errorf("second install: %v", err)
	}
	// A foreign hook is not replaced without Force, nor uninstalled.
	pre := filepath.Join(gitDir, "hooks", PrePush)
	os.WriteFile(pre, []byte("#!/bin/sh\necho mine\n"), 0o755)
	o.Kind = PrePush
	if _, err := Install(o); !errors.Is(err, ErrForeignHook) {
		t.Errorf("install over a foreign hook: err = %v", err)
	}
	if err := Uninstall(gitDir, PrePush); !errors.Is(err, ErrForeignHook) {
		t.Errorf("uninstall of a foreign hook: err = %v", err)
	}
	o.Force = true
	if _, err := Install(o); err != nil {
		t.Errorf("forced install: %v", err)
	}
	if err := Uninstall(gitDir, PrePush); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pre); !os.IsNotExist(err) {
		t.Errorf("hook still there: %v", err)
	}
	if err := Uninstall(gitDir, PrePush); err != nil {
		t.Errorf("uninstall of a missing hook: %v", err)
	}
}

// TestInstallCopiesStride: with CopyStride the hook runs a copy of the
// binary kept under the git directory, which outlives the original; the
// copy goes with the last hook.
func TestInstallCopiesStride(t *testing.T) {
	gitDir := t.TempDir()
	orig := filepath.Join(t.TempDir(), "bazel-out", "stride")
	os.MkdirAll(filepath.Dir(orig), 0o755)
	if err := os.WriteFile(orig, []byte("#!/bin/sh\necho v1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := InstallOptions{Kind: PostReceive, GitDir: gitDir, Stride: orig, CopyStride: true, StateDir: t.TempDir()}
	path, err := Install(o)
	if err != nil {
		t.Fatal(err)
	}
	stable := StableBinary(gitDir)
	if stable != filepath.Join(gitDir, "stride", "bin", "stride") {
		t.Errorf("StableBinary = %s", stable)
	}
	script, _ := os.ReadFile(path)
	if !strings.Contains(string(script), "exec '"+stable+"' hook post-receive") || strings.Contains(string(script), orig) {
		t.Errorf("hook script runs the original, not the copy:\n%s", script)
	}
	os.Remove(orig)
	if b, err := os.ReadFile(stable); err != nil || string(b) != "#!/bin/sh\necho v1\n" {
		t.Errorf("copy = %q, %v", b, err)
	}
	if st, err := os.Stat(stable); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("copy not executable: %v %v", st, err)
	}
	// A second hook shares the copy; uninstalling one keeps it.
	os.WriteFile(orig, []byte("#!/bin/sh\necho v2\n"), 0o755)
	o.Kind = PrePush
	if _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(stable); string(b) != "#!/bin/sh\necho v2\n" {
		t.Errorf("re-install did not update the copy: %q", b)
	}
	if err := Uninstall(gitDir, PrePush); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stable); err != nil {
		t.Errorf("copy removed while the post-receive hook still runs it: %v", err)
	}
	if err := Uninstall(gitDir, PostReceive); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stable); !os.IsNotExist(err) {
		t.Errorf("copy left after the last hook went: %v", err)
	}
}

func TestParse(t *testing.T) {
	zero := strings.Repeat("0", 40)
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	got, err := ParsePostReceive(strings.NewReader(zero + " " + a + " refs/heads/feature/x\n" + a + " " + b + " refs/heads/main\n" + b + " " + zero + " refs/heads/gone\n" + zero + " " + a + " refs/tags/v1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Update{{New: a, Ref: "refs/heads/feature/x"}, {Old: a, New: b, Ref: "refs/heads/main"}, {Old: b, Ref: "refs/heads/gone"}, {New: a, Ref: "refs/tags/v1"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("post-receive (-want +got):\n%s", d)
	}
	if br, ok := got[0].Branch(); !ok || br != "feature/x" {
		t.Errorf("Branch = %q %v", br, ok)
	}
	if _, ok := got[3].Branch(); ok {
		t.Error("a tag is a branch")
	}
	pp, err := ParsePrePush(strings.NewReader("refs/heads/main " + b + " refs/heads/main " + a + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Update{{Old: a, New: b, Ref: "refs/heads/main"}}, pp); d != "" {
		t.Errorf("pre-push (-want +got):\n%s", d)
	}
	if _, err := ParsePostReceive(strings.NewReader("only two\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: err = %v", err)
	}
	if EscapeBranch("feature/x") != "feature%2Fx" {
		t.Errorf("EscapeBranch = %q", EscapeBranch("feature/x"))
	}
}

// repo is a git repository with three commits, for Exec's checkouts.
func repo(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	runtest.Git(t, dir, "init", "-q", "-b", "main")
	var shas []string
	for i, c := range []string{"one", "two", "three"} {
		runtest.Write(t, dir, map[string]string{"f.txt": c})
		shas = append(shas, runtest.Commit(t, dir, c))
		_ = i
	}
	return filepath.Join(dir, ".git"), shas
}

// runs is a fake RunFunc registry: each job's Run blocks until released
// or cancelled; Kill cancels the job with that pid.
type runs struct {
	mu       sync.Mutex
	cancel   map[int]context.CancelFunc
	started  map[string]chan string // sha -> work dir content at start
	release  map[string]chan struct{}
	unkillab map[int]bool
}

func newRuns() *runs {
	return &runs{cancel: map[int]context.CancelFunc{}, started: map[string]chan string{}, release: map[string]chan struct{}{}, unkillab: map[int]bool{}}
}

func (r *runs) job(t *testing.T, state, gitDir, sha string, pid int) (Job, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.cancel[pid] = cancel
	r.started[sha] = make(chan string, 1)
	r.release[sha] = make(chan struct{})
	started, release := r.started[sha], r.release[sha]
	r.mu.Unlock()
	return Job{
		StateDir: state, GitDir: gitDir, Branch: "feature/x", SHA: sha, Pid: pid, Poll: 20 * time.Millisecond,
		Kill: func(pid int) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if !r.unkillab[pid] {
				r.cancel[pid]()
			}
			return nil
		},
		Run: func(ctx context.Context, workDir, base, head, outDir string, log io.Writer) (string, int, error) {
			b, _ := os.ReadFile(filepath.Join(workDir, "f.txt"))
			started <- string(b)
			select {
			case <-ctx.Done():
				return "cancelled", 2, nil
			case <-release:
				return "green", 0, nil
			}
		},
	}, ctx
}

func TestExecNewestWins(t *testing.T) {
	gitDir, shas := repo(t)
	state := t.TempDir()
	r := newRuns()
	type result struct {
		rec *Record
		err error
	}
	start := func(sha string, pid int) chan result {
		job, ctx := r.job(t, state, gitDir, sha, pid)
		ch := make(chan result, 1)
		go func() {
			rec, err := Exec(ctx, job)
			ch <- result{rec, err}
		}()
		return ch
	}
	wait := func(ch chan result) *Record {
		select {
		case res := <-ch:
			if res.err != nil {
				t.Fatal(res.err)
			}
			return res.rec
		case <-time.After(20 * time.Second):
			t.Fatal("job did not finish")
		}
		return nil
	}
	started := func(sha string) string {
		select {
		case s := <-r.started[sha]:
			return s
		case <-time.After(20 * time.Second):
			t.Fatalf("run of %s did not start", sha[:7])
		}
		return ""
	}

	// 1. A runs; B arrives and stops it; B runs with its own checkout.
	a := start(shas[0], 101)
	if got := started(shas[0]); got != "one" {
		t.Errorf("A's work dir has %q", got)
	}
	if l, err := Latest(state, "feature/x"); err != nil || l.Status != StatusRunning || l.SHA != shas[0] {
		t.Errorf("latest while A runs: %+v %v", l, err)
	}
	b := start(shas[1], 102)
	if rec := wait(a); rec.Status != "cancelled" {
		t.Errorf("A: %s, want cancelled", rec.Status)
	}
	if got := started(shas[1]); got != "two" {
		t.Errorf("B's work dir has %q", got)
	}

	// 2. While B runs (and ignores being stopped), C queues and then D
	// arrives: C is superseded without running; D runs after B.
	r.mu.Lock()
	r.unkillab[102] = true
	r.mu.Unlock()
	c := start(shas[2], 103)
	time.Sleep(100 * time.Millisecond)
	d := start(shas[0], 104) // a force-push back to the first commit
	if rec := wait(c); rec.Status != StatusSuperseded {
		t.Errorf("C: %s, want superseded", rec.Status)
	}
	close(r.release[shas[1]])
	if rec := wait(b); rec.Status != "green" {
		t.Errorf("B: %s", rec.Status)
	}
	if got := started(shas[0]); got != "one" {
		t.Errorf("D's work dir has %q", got)
	}
	close(r.release[shas[0]])
	if rec := wait(d); rec.Status != "green" || rec.ExitCode != 0 {
		t.Errorf("D: %+v", rec)
	}

	latest, err := Latest(state, "feature/x")
	if err != nil || latest.SHA != shas[0] || latest.Status != "green" || latest.Started == nil || latest.Finished == nil {
		t.Errorf("latest = %+v, %v", latest, err)
	}
	if latest.ReportDir != ReportDir(state, "feature/x", shas[0]) || !strings.Contains(latest.ReportDir, "feature%2Fx") {
		t.Errorf("report dir %s", latest.ReportDir)
	}
	hist, err := History(state, "feature/x")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.SHA[:7]+" "+h.Status)
	}
	want := []string{shas[0][:7] + " cancelled", shas[2][:7] + " superseded", shas[1][:7] + " green", shas[0][:7] + " green"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	br, err := Branches(state)
	if err != nil || len(br) != 1 || br[0] != "feature/x" {
		t.Errorf("Branches = %v, %v", br, err)
	}
	if _, err := os.Stat(filepath.Join(state, "runs", "feature%2Fx", "running.json")); !os.IsNotExist(err) {
		t.Errorf("running.json left behind: %v", err)
	}
}

// A push whose job starts after the job of a later push is superseded at
// once: the newest push is the one queued last.
func TestExecLateStarter(t *testing.T) {
	gitDir, shas := repo(t)
	state := t.TempDir()
	r := newRuns()
	later, _ := r.job(t, state, gitDir, shas[1], 201)
	later.Queued = time.Now()
	close(r.release[shas[1]])
	if rec, err := Exec(context.Background(), later); err != nil || rec.Status != "green" {
		t.Fatalf("later push: %+v, %v", rec, err)
	}
	earlier, _ := r.job(t, state, gitDir, shas[0], 202)
	earlier.Queued = later.Queued.Add(-time.Second)
	rec, err := Exec(context.Background(), earlier)
	if err != nil || rec.Status != StatusSuperseded {
		t.Fatalf("earlier push started late: %+v, %v", rec, err)
	}
	if l, _ := Latest(state, "feature/x"); l == nil || l.SHA != shas[1] {
		t.Errorf("latest = %+v, want the later push", l)
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	a := DefaultStateDir("/srv/git/monorepo.git")
	b := DefaultStateDir("/home/me/monorepo/.git")
	if !strings.HasPrefix(a, "/data/stride/hooks/monorepo-") || !strings.HasPrefix(b, "/data/stride/hooks/monorepo-") || a == b {
		t.Errorf("state dirs %s, %s", a, b)
	}
}
