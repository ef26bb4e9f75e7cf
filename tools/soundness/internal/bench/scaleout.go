package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The scale-out benchmark (`ci/bench scaleout`, issue 21): fresh CI
// runners, each a clone of the synthetic workspace with an empty Bazel
// output base and an empty stride cache directory, against a
// bazel-remote on 127.0.0.1, in one run:
//
//   - seed: `bazel test //...` with the remote cache empty (a cold build
//     that fills it), then `stride affected` uploading base's digest map;
//   - full: `bazel test //...` with the remote cache warm (ratio to seed);
//   - change: `stride run` of a one-file change without the remote
//     cache, with it, and with it and the shared digest maps;
//   - affected: `stride affected` of a one-file change without and with
//     the shared digest maps;
//   - shards: N = 1, 2, 3 concurrent `stride run --shard i/N` with the
//     remote cache and the shared maps: wall time per shard and in all.
//
// Every change is one line appended to the same Go file (editFile), on
// its own branch off the base commit, so no change finds its own actions
// in the remote cache. Each step notes the load average: the machine is
// shared.

// ScaleOptions configure the scale-out benchmark.
type ScaleOptions struct {
	Repo        string // workspace made by tools/synth (its user.bazelrc is copied to each runner)
	Stride      string // stride binary
	Bazel       string // bazel binary
	BazelRemote string // bazel-remote binary
	Out         string // runners, logs, results
	Shards      []int  // shard counts (default 1, 2, 3)
	Layer       string // lib/ layer whose first library source is edited
	Keep        bool   // keep the runners' directories and output bases
	Log         io.Writer
}

// ScaleStep is one measured command of one runner.
type ScaleStep struct {
	Name   string `json:"name"`
	WallMS int64  `json:"wall_ms"`
	Exit   int    `json:"exit"`
	// From stride's report (stride run) or Bazel's process summary.
	AffectedMS int64   `json:"affected_ms,omitempty"`
	Affected   int     `json:"affected,omitempty"`
	Hits       int64   `json:"remote_hits"`
	Processes  int64   `json:"processes"`
	HitRate    float64 `json:"hit_rate"`
	BaseMap    string  `json:"base_map,omitempty"`
	HeadMap    string  `json:"head_map,omitempty"`
	Load       string  `json:"load"` // /proc/loadavg's first three fields at the start
}

// ScaleResult is the benchmark's measurements.
type ScaleResult struct {
	Targets int         `json:"targets,omitempty"`
	File    string      `json:"file"`
	Steps   []ScaleStep `json:"steps"`
	// Shards: N -> the shards' steps.
	Shards map[int][]ScaleStep `json:"shards"`
	// ShardTotalMS: N -> wall time from the first shard's start to the
	// last one's end.
	ShardTotalMS map[int]int64 `json:"shard_total_ms"`
	// RemoteBytes is the size of bazel-remote's directory after the
	// cold full build filled it: about what a fresh runner of the whole
	// graph downloads.
	RemoteBytes int64 `json:"remote_bytes"`
}

type scaleBench struct {
	o       ScaleOptions
	grpc    string // grpc://127.0.0.1:P
	http    string // http://127.0.0.1:Q
	wrapper string // bazel with the output base of $SCALEOUT_OUTPUT_BASE
	base    string // the base commit
	file    string
	edits   int
	res     *ScaleResult
	mu      sync.Mutex
}

func (b *scaleBench) logf(format string, a ...interface{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.o.Log != nil {
		fmt.Fprintf(b.o.Log, "==> "+format+"\n", a...)
	}
}

// ciRunner is one fresh CI runner: a clone at a commit, its own output
// base and cache directory.
type ciRunner struct {
	name, dir, ob, cache string
}

// ScaleBenchmark runs the benchmark.
func ScaleBenchmark(ctx context.Context, o ScaleOptions) (*ScaleResult, error) {
	if len(o.Shards) == 0 {
		o.Shards = []int{1, 2, 3}
	}
	b := &scaleBench{o: o, res: &ScaleResult{Shards: map[int][]ScaleStep{}, ShardTotalMS: map[int]int64{}}}
	if err := os.MkdirAll(filepath.Join(o.Out, "runners"), 0o755); err != nil {
		return nil, err
	}
	b.wrapper = filepath.Join(o.Out, "bazel")
	// One script for every runner: a Bazel without a version is known by
	// a hash of its executable, which digest maps' keys include.
	script := "#!/bin/sh\nexec " + o.Bazel + " --output_base=\"$SCALEOUT_OUTPUT_BASE\" \"$@\"\n"
	if err := os.WriteFile(b.wrapper, []byte(script), 0o755); err != nil {
		return nil, err
	}
	stop, err := b.startRemote(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	if b.base, err = gitOutput(ctx, o.Repo, "rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	files, err := libFiles(o.Repo)
	if err != nil {
		return nil, err
	}
	if b.file, err = editFile(files, o.Layer); err != nil {
		return nil, err
	}
	b.res.File = b.file
	b.logf("base %s; each change appends a line to %s, on its own branch off base", b.base[:12], b.file)

	// seed: a cold full build that fills the remote cache, and base's map.
	seed, err := b.newRunner(ctx, "seed", b.base)
	if err != nil {
		return nil, err
	}
	b.step(ctx, seed, "full: bazel test //..., empty remote cache (cold)", b.wrapper, "test", "//...", "--remote_cache="+b.grpc)
	b.res.RemoteBytes = dirSize(filepath.Join(o.Out, "bazel-remote"))
	b.logf("bazel-remote holds %.1f MB after the cold build", float64(b.res.RemoteBytes)/1e6)
	// The previous push's runner: stride on a change off base, which
	// uploads base's digest map (and the change's).
	branch, err := b.changeCommit(ctx)
	if err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", seed.dir, "fetch", "-q", "origin", branch).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git fetch %s: %w: %s", branch, err, out)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", seed.dir, "checkout", "-q", "--detach", "FETCH_HEAD").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git checkout %s: %w: %s", branch, err, out)
	}
	if _, err := b.run(ctx, seed, "seed-affected", b.o.Stride, "affected", "--base", b.base, "--cache-dir", seed.cache,
		"--bazel", b.wrapper, "--remote-cache", b.grpc, "--map-cache", b.http, "-v"); err != nil {
		return nil, err
	}
	b.drop(ctx, seed)

	full, err := b.newRunner(ctx, "full", b.base)
	if err != nil {
		return nil, err
	}
	b.step(ctx, full, "full: bazel test //..., warm remote cache", b.wrapper, "test", "//...", "--remote_cache="+b.grpc)
	b.drop(ctx, full)

	for _, v := range []struct{ name, remote, maps string }{
		{"change: stride run, no remote cache", "", "off"},
		{"change: stride run, warm remote cache, maps not shared", b.grpc, "off"},
		{"change: stride run, warm remote cache, shared maps", b.grpc, b.http},
	} {
		r, err := b.changeRunner(ctx, "run")
		if err != nil {
			return nil, err
		}
		args := []string{"run", "--base", b.base, "--cache-dir", r.cache, "--bazel", b.wrapper, "--map-cache", v.maps, "--out", r.dir + ".report"}
		if v.remote != "" {
			args = append(args, "--remote-cache", v.remote)
		}
		b.step(ctx, r, v.name, b.o.Stride, args...)
		b.drop(ctx, r)
	}

	for _, v := range []struct{ name, maps string }{
		{"affected: stride affected, no shared maps", "off"},
		{"affected: stride affected, shared maps", b.http},
	} {
		r, err := b.changeRunner(ctx, "affected")
		if err != nil {
			return nil, err
		}
		b.step(ctx, r, v.name, b.o.Stride, "affected", "--base", b.base, "--cache-dir", r.cache, "--bazel", b.wrapper,
			"--remote-cache", b.grpc, "--map-cache", v.maps, "--remote-cache-read-only", "--json")
		b.drop(ctx, r)
	}

	for _, n := range o.Shards {
		if err := b.shards(ctx, n); err != nil {
			return b.res, err
		}
	}
	return b.res, nil
}

// startRemote starts bazel-remote on free loopback ports.
func (b *scaleBench) startRemote(ctx context.Context) (func(), error) {
	ports := make([]string, 2)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ports[i] = l.Addr().String()
		l.Close()
	}
	b.grpc, b.http = "grpc://"+ports[0], "http://"+ports[1]
	dir := filepath.Join(b.o.Out, "bazel-remote")
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(b.o.Out, "bazel-remote.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.o.BazelRemote, "--dir", dir, "--max_size", "20", "--grpc_address", ports[0], "--http_address", ports[1])
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start bazel-remote: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		_ = os.RemoveAll(dir)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c1, err1 := net.DialTimeout("tcp", ports[0], time.Second)
		c2, err2 := net.DialTimeout("tcp", ports[1], time.Second)
		if err1 == nil && err2 == nil {
			c1.Close()
			c2.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("bazel-remote does not listen on %s and %s (see %s)", ports[0], ports[1], log.Name())
		}
	}
	b.logf("bazel-remote: %s and %s, cache in %s", b.grpc, b.http, dir)
	return stop, nil
}

// newRunner clones the workspace at commit into a new runner.
func (b *scaleBench) newRunner(ctx context.Context, name, commit string) (*ciRunner, error) {
	d := filepath.Join(b.o.Out, "runners", name)
	r := &ciRunner{name: name, dir: d, ob: d + ".ob", cache: d + ".cache"}
	b.remove(r)
	if out, err := exec.CommandContext(ctx, "git", "clone", "-q", "--no-checkout", b.o.Repo, r.dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git clone: %w: %s", err, out)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", r.dir, "checkout", "-q", "--detach", commit).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git checkout %s: %w: %s", commit, err, out)
	}
	// synth's workspaces hold a git submodule (its URL is relative to
	// the workspace's).
	if out, err := exec.CommandContext(ctx, "git", "-C", r.dir, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git submodule update in %s: %w: %s", r.dir, err, out)
	}
	if rc, err := os.ReadFile(filepath.Join(b.o.Repo, "user.bazelrc")); err == nil {
		if err := os.WriteFile(filepath.Join(r.dir, "user.bazelrc"), rc, 0o644); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// changeRunner commits a new one-file change and returns a runner at it.
func (b *scaleBench) changeRunner(ctx context.Context, name string) (*ciRunner, error) {
	branch, err := b.changeCommit(ctx)
	if err != nil {
		return nil, err
	}
	commit, err := gitOutput(ctx, b.o.Repo, "rev-parse", branch)
	if err != nil {
		return nil, err
	}
	return b.newRunner(ctx, name+"-"+strings.TrimPrefix(branch, "scaleout-"), commit)
}

// changeCommit commits a new one-file change on a branch off base in the
// workspace and returns the branch.
func (b *scaleBench) changeCommit(ctx context.Context) (string, error) {
	b.mu.Lock()
	b.edits++
	n := b.edits
	b.mu.Unlock()
	branch := fmt.Sprintf("scaleout-%d", n)
	git := func(args ...string) error {
		c := exec.CommandContext(ctx, "git", append([]string{"-C", b.o.Repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	// A work tree of its own (the workspace's stays at base).
	wt := filepath.Join(b.o.Out, "edit")
	_ = git("worktree", "remove", "--force", wt)
	if err := git("worktree", "add", "-q", "-f", "-B", branch, wt, b.base); err != nil {
		return "", err
	}
	defer func() { _ = git("worktree", "remove", "--force", wt) }()
	p := filepath.Join(wt, filepath.FromSlash(b.file))
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	_, werr := f.WriteString(editText(n, time.Now().UnixNano()))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", werr
	}
	c := exec.CommandContext(ctx, "git", "-C", wt, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-am", fmt.Sprintf("scaleout: edit %d", n))
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git commit: %w: %s", err, out)
	}
	return branch, nil
}

// run runs a command in r with r's output base; its output goes to
// OUT/NAME.log.
func (b *scaleBench) run(ctx context.Context, r *ciRunner, name, bin string, args ...string) (ScaleStep, error) {
	s := ScaleStep{Name: name, Load: loadavg()}
	logPath := filepath.Join(b.o.Out, safeName(r.name+"-"+name)+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return s, err
	}
	defer log.Close()
	c := exec.CommandContext(ctx, bin, args...)
	c.Dir = r.dir
	c.Env = append(os.Environ(), "SCALEOUT_OUTPUT_BASE="+r.ob)
	c.Stdout, c.Stderr = log, log
	start := time.Now()
	err = c.Run()
	s.WallMS = time.Since(start).Milliseconds()
	if ee, ok := err.(*exec.ExitError); ok {
		s.Exit = ee.ExitCode()
	} else if err != nil {
		return s, fmt.Errorf("%s: %w", bin, err)
	}
	if s.Exit != 0 {
		b.logf("warning: %s exited %d (%s)", name, s.Exit, logPath)
	}
	if raw, err := os.ReadFile(logPath); err == nil {
		s.Hits, s.Processes = processCounts(raw)
	}
	return s, nil
}

// step runs and records one measurement; a stride run's report adds its
// affected time, maps and remote cache counts.
func (b *scaleBench) step(ctx context.Context, r *ciRunner, name, bin string, args ...string) ScaleStep {
	s, err := b.run(ctx, r, name, bin, args...)
	if err != nil {
		b.logf("warning: %s: %v", name, err)
		s.Exit = -1
	}
	b.fromReport(&s, r.dir+".report")
	if strings.HasPrefix(name, "affected:") {
		fromAffectedJSON(&s, filepath.Join(b.o.Out, safeName(r.name+"-"+name)+".log"))
	}
	if s.Processes > 0 {
		s.HitRate = float64(s.Hits) / float64(s.Processes)
	}
	b.mu.Lock()
	b.res.Steps = append(b.res.Steps, s)
	b.mu.Unlock()
	b.logf("%s: %.1f s (remote hits %d of %d processes; load %s)", name, float64(s.WallMS)/1000, s.Hits, s.Processes, s.Load)
	return s
}

// fromReport fills s from the stride run report in dir, if there is one.
func (b *scaleBench) fromReport(s *ScaleStep, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return
	}
	var rep struct {
		Timing struct {
			AffectedMS int64 `json:"affected_ms"`
		} `json:"timing"`
		Affected struct {
			Count   int    `json:"count"`
			BaseMap string `json:"base_map"`
			HeadMap string `json:"head_map"`
		} `json:"affected"`
		Cache struct {
			RemoteCacheHits int64 `json:"remote_cache_hits"`
			Processes       int64 `json:"processes"`
		} `json:"cache"`
	}
	if json.Unmarshal(raw, &rep) != nil {
		return
	}
	s.AffectedMS, s.Affected = rep.Timing.AffectedMS, rep.Affected.Count
	s.BaseMap, s.HeadMap = rep.Affected.BaseMap, rep.Affected.HeadMap
	s.Hits, s.Processes = rep.Cache.RemoteCacheHits, rep.Cache.Processes
}

// fromAffectedJSON fills s from `stride affected --json` output in log
// (after any warning lines).
func fromAffectedJSON(s *ScaleStep, log string) {
	raw, err := os.ReadFile(log)
	if err != nil {
		return
	}
	i := strings.Index(string(raw), "{\n")
	if i < 0 {
		return
	}
	var res struct {
		Base, Head struct {
			Source string `json:"source"`
		}
		Targets []json.RawMessage `json:"targets"`
	}
	if json.NewDecoder(strings.NewReader(string(raw[i:]))).Decode(&res) == nil {
		s.BaseMap, s.HeadMap, s.Affected = res.Base.Source, res.Head.Source, len(res.Targets)
	}
}

// shards runs n concurrent shards of a new change.
func (b *scaleBench) shards(ctx context.Context, n int) error {
	var runners []*ciRunner
	for i := 1; i <= n; i++ {
		var r *ciRunner
		var err error
		if i == 1 {
			r, err = b.changeRunner(ctx, fmt.Sprintf("shards%d-1", n))
		} else {
			// The same commit as shard 1.
			commit, gerr := gitOutput(ctx, runners[0].dir, "rev-parse", "HEAD")
			if gerr != nil {
				return gerr
			}
			r, err = b.newRunner(ctx, fmt.Sprintf("shards%d-%d", n, i), commit)
		}
		if err != nil {
			return err
		}
		runners = append(runners, r)
	}
	b.logf("shards: %d at once", n)
	steps := make([]ScaleStep, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range runners {
		i, r := i, r
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := b.run(ctx, r, fmt.Sprintf("shard %d/%d", i+1, n), b.o.Stride, "run", "--base", b.base, "--cache-dir", r.cache,
				"--bazel", b.wrapper, "--remote-cache", b.grpc, "--map-cache", b.http, "--shard", fmt.Sprintf("%d/%d", i+1, n), "--out", r.dir+".report")
			if err != nil {
				b.logf("warning: shard %d/%d: %v", i+1, n, err)
				s.Exit = -1
			}
			b.fromReport(&s, r.dir+".report")
			if s.Processes > 0 {
				s.HitRate = float64(s.Hits) / float64(s.Processes)
			}
			steps[i] = s
		}()
	}
	wg.Wait()
	total := time.Since(start).Milliseconds()
	b.res.Shards[n] = steps
	b.res.ShardTotalMS[n] = total
	for _, s := range steps {
		b.logf("%s: %.1f s (affected %.1f s, remote hits %d of %d; load %s)", s.Name, float64(s.WallMS)/1000, float64(s.AffectedMS)/1000, s.Hits, s.Processes, s.Load)
	}
	b.logf("%d shards: %.1f s in all", n, float64(total)/1000)
	for _, r := range runners {
		b.drop(ctx, r)
	}
	return nil
}

// drop shuts r's Bazel server down and, unless Keep, deletes r.
func (b *scaleBench) drop(ctx context.Context, r *ciRunner) {
	c := exec.CommandContext(ctx, b.wrapper, "shutdown")
	c.Dir = r.dir
	c.Env = append(os.Environ(), "SCALEOUT_OUTPUT_BASE="+r.ob)
	_ = c.Run()
	// Scratch copies' servers (stride's --cache-dir) too.
	_ = exec.CommandContext(ctx, b.o.Stride, "-C", r.dir, "shutdown", "--cache-dir", r.cache).Run()
	if !b.o.Keep {
		b.remove(r)
	}
}

func (b *scaleBench) remove(r *ciRunner) {
	for _, d := range []string{r.dir, r.ob, r.cache} {
		_ = exec.Command("chmod", "-R", "u+w", d).Run()
		_ = os.RemoveAll(d)
	}
}

var (
	processesLine = regexp.MustCompile(`INFO: \d+ process(?:es)?: ([^\n]*)`)
	processKindRE = regexp.MustCompile(`(\d+) ([a-z -]+)`)
)

// processCounts sums the remote cache hits and the other non-internal
// processes over every "INFO: N processes: ..." line of a Bazel log.
func processCounts(log []byte) (hits, processes int64) {
	for _, m := range processesLine.FindAllSubmatch(log, -1) {
		for _, k := range processKindRE.FindAllSubmatch(m[1], -1) {
			n, _ := strconv.ParseInt(string(k[1]), 10, 64)
			switch strings.TrimSpace(string(k[2])) {
			case "internal":
			case "remote cache hit":
				hits += n
				processes += n
			default:
				processes += n
			}
		}
	}
	return hits, processes
}

// gitOutput runs git in dir and returns its output, trimmed.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}

// stepByName is the first step whose name starts with prefix.
func (r *ScaleResult) stepByName(prefix string) (ScaleStep, bool) {
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Name, prefix) {
			return s, true
		}
	}
	return ScaleStep{}, false
}

// WriteScaleMarkdown prints the measurements and their ratios.
func WriteScaleMarkdown(w io.Writer, title string, r *ScaleResult) {
	fmt.Fprintf(w, "## %s\n\n", title)
	fmt.Fprintln(w, "| step | wall | affected step | base map | remote hits / processes | load (1 5 15 min) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(s ScaleStep) {
		aff := "-"
		if s.AffectedMS > 0 {
			aff = fmt.Sprintf("%.1f s", float64(s.AffectedMS)/1000)
		}
		bm := s.BaseMap
		if bm == "" {
			bm = "-"
		}
		exit := ""
		if s.Exit != 0 {
			exit = fmt.Sprintf(" (exit %d)", s.Exit)
		}
		fmt.Fprintf(w, "| %s%s | %.1f s | %s | %s | %d / %d (%.2f) | %s |\n", s.Name, exit, float64(s.WallMS)/1000, aff, bm, s.Hits, s.Processes, s.HitRate, s.Load)
	}
	for _, s := range r.Steps {
		row(s)
	}
	for _, n := range sortedKeys(r.Shards) {
		for _, s := range r.Shards[n] {
			row(s)
		}
		fmt.Fprintf(w, "| %d shard(s) at once: total | %.1f s | | | | |\n", n, float64(r.ShardTotalMS[n])/1000)
	}
	fmt.Fprintln(w)
	if r.RemoteBytes > 0 {
		fmt.Fprintf(w, "bazel-remote held %.1f MB after the cold full build.\n\n", float64(r.RemoteBytes)/1e6)
	}
	ratio := func(label, num, den string) {
		a, ok1 := r.stepByName(num)
		b, ok2 := r.stepByName(den)
		if ok1 && ok2 && b.WallMS > 0 {
			fmt.Fprintf(w, "- %s: %.2f× (%.1f s / %.1f s)\n", label, float64(a.WallMS)/float64(b.WallMS), float64(a.WallMS)/1000, float64(b.WallMS)/1000)
		}
	}
	fmt.Fprintln(w, "Ratios (same run):")
	ratio("full bazel test //..., fresh runner, warm remote cache / empty remote cache", "full: bazel test //..., warm", "full: bazel test //..., empty")
	ratio("one-file change, stride run, warm remote cache / no remote cache", "change: stride run, warm remote cache, maps not", "change: stride run, no remote")
	ratio("one-file change, stride run, warm remote cache + shared maps / no remote cache", "change: stride run, warm remote cache, shared", "change: stride run, no remote")
	ratio("one-file change, stride run with remote cache and shared maps / full bazel test //... with remote cache", "change: stride run, warm remote cache, shared", "full: bazel test //..., warm")
	ratio("one-file change, stride run without remote cache / full bazel test //... cold", "change: stride run, no remote", "full: bazel test //..., empty")
	ratio("stride affected, shared maps / no shared maps", "affected: stride affected, shared", "affected: stride affected, no shared")
	if one, ok := r.ShardTotalMS[1]; ok && one > 0 {
		for _, n := range sortedKeys(r.Shards) {
			fmt.Fprintf(w, "- %d shard(s) at once / 1 shard: %.2f×\n", n, float64(r.ShardTotalMS[n])/float64(one))
		}
	}
}

func sortedKeys(m map[int][]ScaleStep) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}
