package hook

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/exitcode"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

// RecordSchema is the "schema" of a Record.
const RecordSchema = "stride.hookrun/v1"

// Record statuses besides the report's (green, failed, error, cancelled).
const (
	StatusRunning    = "running"
	StatusSuperseded = "superseded" // skipped: a newer push of the branch came first
)

// Record is one run of a branch, as latest.json and history.jsonl hold it.
type Record struct {
	Schema string `json:"schema"`
	GitDir string `json:"git_dir"`
	Branch string `json:"branch"`
	SHA    string `json:"sha"`
	Base   string `json:"base,omitempty"` // the pushed ref's previous commit, "" for a new branch
	// Status is running, superseded, or the run report's status (green,
	// failed, error, cancelled, incomplete).
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	// ReportDir holds report.json, report.md, junit.xml and hook.log.
	ReportDir string     `json:"report_dir"`
	Pid       int        `json:"pid,omitempty"`
	Queued    time.Time  `json:"queued"`
	Started   *time.Time `json:"started,omitempty"`
	Finished  *time.Time `json:"finished,omitempty"`
	Message   string     `json:"message,omitempty"`
}

// RunFunc runs the pipeline in workDir for the commit head checked out
// there, writing its report to outDir, and returns the report's status and
// exit code. It must stop promptly when ctx is cancelled.
type RunFunc func(ctx context.Context, workDir, base, head, outDir string, log io.Writer) (status string, exitCode int, err error)

// Job is one pushed commit of one branch to run.
type Job struct {
	StateDir string
	GitDir   string // absolute
	Branch   string
	SHA      string
	Base     string // "" for the run's default base
	Run      RunFunc
	// Log receives the job's progress lines (nil: discarded).
	Log io.Writer
	// Queued is when the push arrived (default: now). The newest push of
	// a branch is the one queued last, whenever its job starts.
	Queued time.Time

	// For tests: the pid recorded for this job (default os.Getpid()), and
	// how an older run is stopped (default SIGTERM to its pid).
	Pid  int
	Kill func(pid int) error
	// Poll is how often a queued job checks the lock (default 200ms).
	Poll time.Duration
}

// Paths of one branch's state.
type branchState struct {
	dir     string // runs/<branch>
	workDir string
}

func stateOf(stateDir, branch string) branchState {
	esc := EscapeBranch(branch)
	return branchState{
		dir:     filepath.Join(stateDir, "runs", esc),
		workDir: filepath.Join(stateDir, "work", esc),
	}
}

// EscapeBranch makes a branch name one path element: feature/x becomes
// feature%2Fx.
func EscapeBranch(branch string) string { return url.PathEscape(branch) }

// ReportDir is where the run of sha on branch writes its report.
func ReportDir(stateDir, branch, sha string) string {
	return filepath.Join(stateOf(stateDir, branch).dir, sha)
}

type token struct {
	Token  string `json:"token"`
	SHA    string `json:"sha"`
	Pid    int    `json:"pid"`
	Queued int64  `json:"queued"` // UnixNano of the push
}

// Exec runs job: it announces itself as the branch's newest push, stops
// the branch's running run (if any), waits for the branch lock, skips
// itself if a newer push came meanwhile, checks the commit out into the
// branch's work directory, runs job.Run there and records the outcome.
// The returned Record is what latest.json says about this job (for a
// superseded job: what history.jsonl says).
func Exec(ctx context.Context, job Job) (*Record, error) {
	if job.Pid == 0 {
		job.Pid = os.Getpid()
	}
	if job.Kill == nil {
		job.Kill = killRun
	}
	if job.Poll == 0 {
		job.Poll = 200 * time.Millisecond
	}
	if job.Queued.IsZero() {
		job.Queued = time.Now()
	}
	logw := job.Log
	if logw == nil {
		logw = io.Discard
	}
	st := stateOf(job.StateDir, job.Branch)
	outDir := filepath.Join(st.dir, job.SHA)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("hook state: %w", err)
	}
	rec := &Record{Schema: RecordSchema, GitDir: job.GitDir, Branch: job.Branch, SHA: job.SHA, Base: job.Base,
		ReportDir: outDir, Pid: job.Pid, Queued: job.Queued.UTC()}

	// 1. I am the newest push of this branch, unless a push queued after
	// mine has already said so (its job started first).
	me := token{Token: fmt.Sprintf("%d-%d", time.Now().UnixNano(), job.Pid), SHA: job.SHA, Pid: job.Pid, Queued: job.Queued.UnixNano()}
	newest, err := announce(st, me)
	if err != nil {
		return nil, err
	}
	if !newest {
		return supersede(st, rec)
	}
	// 2. Stop the older run of the branch, if one is running.
	var running token
	if readJSON(filepath.Join(st.dir, "running.json"), &running) == nil && running.Token != me.Token && running.Pid > 0 {
		fmt.Fprintf(logw, "stride hook: stopping the older run of %s (%s, pid %d)\n", job.Branch, short(running.SHA), running.Pid)
		if err := job.Kill(running.Pid); err != nil {
			fmt.Fprintf(logw, "stride hook: could not stop pid %d: %v\n", running.Pid, err)
		}
	}
	// 3. Wait for the branch lock, giving up if a newer push comes.
	unlock, superseded, err := lockNewest(ctx, filepath.Join(st.dir, "lock"), filepath.Join(st.dir, "pending.json"), me.Token, job.Poll)
	if err != nil {
		return nil, err
	}
	if superseded {
		return supersede(st, rec)
	}
	defer unlock()
	if err := writeJSON(filepath.Join(st.dir, "running.json"), me); err != nil {
		return nil, err
	}
	defer os.Remove(filepath.Join(st.dir, "running.json"))
	// A newer push may have announced itself before running.json existed,
	// and then not known whom to stop.
	if !isNewest(filepath.Join(st.dir, "pending.json"), me.Token) {
		return supersede(st, rec)
	}

	now := time.Now().UTC()
	rec.Started = &now
	rec.Status = StatusRunning
	if err := writeJSON(filepath.Join(st.dir, "latest.json"), rec); err != nil {
		return nil, err
	}

	// 4. Check out and run.
	status, code, runErr := "", exitcode.Infra, error(nil)
	if err := checkout(ctx, job.GitDir, st.workDir, job.SHA, logw); err != nil {
		runErr = err
		status = string(report.StatusError)
	} else {
		status, code, runErr = job.Run(ctx, st.workDir, job.Base, job.SHA, outDir, logw)
	}
	if ctx.Err() != nil && status != string(report.StatusGreen) {
		status, code = string(report.StatusCancelled), report.StatusCancelled.ExitCode()
	}
	if status == "" {
		status = string(report.StatusError)
	}
	end := time.Now().UTC()
	rec.Finished = &end
	rec.Status = status
	rec.ExitCode = code
	if runErr != nil {
		rec.Message = runErr.Error()
	}
	if err := writeJSON(filepath.Join(st.dir, "latest.json"), rec); err != nil {
		return rec, err
	}
	if err := appendHistory(st, rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// announce records me as the branch's newest push, unless pending.json
// names a push queued later. The read and write happen under a lock.
func announce(st branchState, me token) (bool, error) {
	f, err := os.OpenFile(filepath.Join(st.dir, "pending.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false, fmt.Errorf("branch lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return false, fmt.Errorf("branch lock: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	var cur token
	if readJSON(filepath.Join(st.dir, "pending.json"), &cur) == nil && cur.Queued > me.Queued {
		return false, nil
	}
	return true, writeJSON(filepath.Join(st.dir, "pending.json"), me)
}

func supersede(st branchState, rec *Record) (*Record, error) {
	now := time.Now().UTC()
	rec.Finished = &now
	rec.Status = StatusSuperseded
	rec.ExitCode = 0
	rec.Message = "a newer push of the branch came first"
	return rec, appendHistory(st, rec)
}

// lockNewest takes the flock on lockPath, polling, and gives up (superseded)
// as soon as pendingPath names another token.
func lockNewest(ctx context.Context, lockPath, pendingPath, me string, poll time.Duration) (unlock func(), superseded bool, err error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("branch lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, false, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, false, fmt.Errorf("branch lock %s: %w", lockPath, err)
		}
		if !isNewest(pendingPath, me) {
			f.Close()
			return nil, true, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, false, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func isNewest(pendingPath, me string) bool {
	var p token
	if err := readJSON(pendingPath, &p); err != nil {
		return true // unreadable: do not skip a push
	}
	return p.Token == me
}

// killRun stops an older run: SIGTERM to its pid, if that pid is still a
// stride process (pids get reused).
func killRun(pid int) error {
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		if !strings.Contains(string(cmdline), "hook") {
			return nil // not ours any more
		}
	}
	err := syscall.Kill(pid, syscall.SIGTERM)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// checkout makes workDir a clean checkout of sha. workDir is a local
// clone of gitDir (objects hard-linked, so cheap), never a worktree of it:
// nothing is written into gitDir, where a `git worktree add` would briefly
// leave a worktree HEAD that makes a concurrent push fail its
// connectivity check. (A --shared clone would avoid even the copy, but
// go-git, which stride reads repositories with, does not follow its
// absolute alternates path.) Each run fetches gitDir's branches (new
// commits, and fresh refs for the default base) and checks sha out,
// removing untracked files but keeping Bazel's bazel-* links.
func checkout(ctx context.Context, gitDir, workDir, sha string, logw io.Writer) error {
	err := fetchInto(ctx, gitDir, workDir, logw)
	if err != nil && ctx.Err() == nil {
		// A broken work directory (a run killed mid-clone on an older
		// stride, a disk that filled): start it afresh, once.
		fmt.Fprintf(logw, "stride hook: recreating work directory %s: %v\n", workDir, err)
		if rerr := os.RemoveAll(workDir); rerr != nil {
			return fmt.Errorf("work directory: %w", rerr)
		}
		err = fetchInto(ctx, gitDir, workDir, logw)
	}
	if err != nil {
		return err
	}
	if git(ctx, workDir, "cat-file", "-e", sha+"^{commit}") != nil {
		// Not a branch tip any more (or never was, for pre-push): ask
		// for the commit itself.
		if err := git(ctx, workDir, "fetch", "-q", "--no-tags", "origin", sha); err != nil {
			return fmt.Errorf("commit %s is not in %s: %w", sha, gitDir, err)
		}
	}
	// The caller holds the branch lock, so no other run uses workDir, and
	// the git processes of a run that was stopped have exited (exec waits
	// for killed children). An index.lock left now is stale: a checkout
	// killed mid-way. Remove it rather than fail the newer push.
	if err := os.Remove(filepath.Join(workDir, ".git", "index.lock")); err == nil {
		fmt.Fprintf(logw, "stride hook: removed a stale index.lock in %s\n", workDir)
	}
	if err := git(ctx, workDir, "checkout", "-q", "--detach", "--force", sha); err != nil {
		return err
	}
	return git(ctx, workDir, "clean", "-q", "-ffdx", "-e", "/bazel-*")
}

// fetchInto makes workDir a clone of gitDir with its branches up to date.
// A new clone is made beside workDir and renamed into place, so a run
// killed while cloning leaves no half clone behind.
func fetchInto(ctx context.Context, gitDir, workDir string, logw io.Writer) error {
	if _, err := os.Stat(filepath.Join(workDir, ".git")); err != nil {
		if err := os.RemoveAll(workDir); err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(workDir), 0o755); err != nil {
			return fmt.Errorf("work directory: %w", err)
		}
		tmp := fmt.Sprintf("%s.clone-%d", workDir, os.Getpid())
		os.RemoveAll(tmp)
		if err := git(ctx, "", "clone", "-q", "--no-checkout", gitDir, tmp); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		if err := os.Rename(tmp, workDir); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("work directory: %w", err)
		}
		return nil
	}
	return git(ctx, workDir, "fetch", "-q", "--prune", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
}

// git runs one git command in dir (clean of the hook's environment, see
// gitrepo.CleanEnv); its error carries git's stderr.
func git(ctx context.Context, dir string, args ...string) error {
	_, err := (&gitrepo.Git{Dir: dir}).Run(ctx, nil, args...)
	return err
}

// Latest returns the newest run of branch, or an error wrapping
// os.ErrNotExist when the branch has none.
func Latest(stateDir, branch string) (*Record, error) {
	var r Record
	path := filepath.Join(stateOf(stateDir, branch).dir, "latest.json")
	if err := readJSON(path, &r); err != nil {
		return nil, err
	}
	if r.Schema != RecordSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, r.Schema, RecordSchema)
	}
	return &r, nil
}

// History returns the finished and skipped runs of branch, oldest first.
func History(stateDir, branch string) ([]Record, error) {
	path := filepath.Join(stateOf(stateDir, branch).dir, "history.jsonl")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return out, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Branches lists the branches that have runs recorded.
func Branches(stateDir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if b, err := url.PathUnescape(e.Name()); err == nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// appendHistory adds rec as one line to history.jsonl. Lines are written
// with one write call under O_APPEND, so concurrent writers do not mix.
func appendHistory(st branchState, rec *Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(st.dir, "history.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("hook history: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("hook history: %w", err)
	}
	return f.Close()
}

func writeJSON(path string, v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return report.WriteAtomic(path, append(b, '\n'))
}

func readJSON(path string, v interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Update is one pushed ref: Old is "" for a new ref, New is "" for a
// deletion.
type Update struct {
	Old, New, Ref string
}

// Branch returns the branch name of a refs/heads/ ref.
func (u Update) Branch() (string, bool) {
	if !strings.HasPrefix(u.Ref, "refs/heads/") {
		return "", false
	}
	return strings.TrimPrefix(u.Ref, "refs/heads/"), true
}

func nonZero(s string) string {
	if strings.Trim(s, "0") == "" {
		return ""
	}
	return s
}

// ParsePostReceive reads post-receive's stdin: "<old> <new> <ref>" lines.
func ParsePostReceive(r io.Reader) ([]Update, error) {
	return parseLines(r, 3, func(f []string) Update {
		return Update{Old: nonZero(f[0]), New: nonZero(f[1]), Ref: f[2]}
	})
}

// ParsePrePush reads pre-push's stdin: "<local ref> <local sha> <remote
// ref> <remote sha>" lines. The Update is about the remote ref.
func ParsePrePush(r io.Reader) ([]Update, error) {
	return parseLines(r, 4, func(f []string) Update {
		return Update{Old: nonZero(f[3]), New: nonZero(f[1]), Ref: f[2]}
	})
}

func parseLines(r io.Reader, n int, mk func([]string) Update) ([]Update, error) {
	var out []Update
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != n {
			return nil, fmt.Errorf("hook input line %d: %d fields, want %d: %q", line, len(f), n, sc.Text())
		}
		out = append(out, mk(f))
	}
	return out, sc.Err()
}

// Spawn starts `stride ARGS...` detached from the hook (its own session,
// stdin from /dev/null, output appended to logPath), so that git does not
// wait for it, and returns its pid.
func Spawn(stride string, args []string, logPath string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("hook log: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	cmd := exec.Command(stride, args...)
	cmd.Stdin = devnull
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = gitrepo.CleanEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", stride, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, nil
}
