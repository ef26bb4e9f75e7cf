// Package bench times `stride affected` (and, optionally,
// target-determinator) on a synthetic workspace's changes, as ratios to one
// `bazel query //...` at head under the same Bazel server state, measured
// in the same run: with a warm server (the last command was a query at the
// change's base) and with a fresh one (`bazel shutdown` first). "Cached"
// means the base commit's map is in stride's cache (the changes form a
// chain, so the previous change's head is this change's base);
// "uncached" runs with the digest maps deleted from the cache directory
// (stride's scratch workspaces kept), so both maps are computed; "without
// cache dir" runs with --cache-dir "" (a one-off run: the rdeps path where
// it applies; changes that need a scratch copy of base, for which every
// target is then affected, are left out). The first run with an empty cache directory is reported on its
// own.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options configure a benchmark run.
type Options struct {
	Repo     string   // workspace made by tools/synth
	Manifest string   // its corpus manifest
	Stride   string   // stride binary
	TD       string   // target-determinator binary ("" to skip)
	Bazel    string   // bazel binary
	Startup  []string // bazel startup flags (for query and shutdown)
	Changes  int      // changes to time (after one priming change)
	Modes    []string // "warm", "fresh"
	TDModes  []string // modes in which target-determinator is timed (default: all)
	Work     string   // scratch directory (caches)
	Label    string   // e.g. "1k"
	Warmup   int      // unrecorded rounds over the changes before the warm mode's timed ones
	Rounds   int      // timed rounds over the changes in warm mode (fresh: 1); medians are over every sample
	Log      io.Writer
}

// Sample is one change's timings in one mode (seconds).
type Sample struct {
	Change         int     `json:"change"`
	Kind           string  `json:"kind"`
	Query          float64 `json:"query"`
	StrideCached   float64 `json:"stride_cached"`
	StrideUncached float64 `json:"stride_uncached"`
	// StrideNoCache is stride with --cache-dir "" (a one-off run: the
	// rdeps path where it applies); 0 when that run failed or gave another
	// set than the cached run (a base that needs its own query has no
	// scratch copy without a cache, so every target is affected).
	StrideNoCache float64 `json:"stride_nocache,omitempty"`
	TDCached      float64 `json:"td_cached,omitempty"`
	TDUncached    float64 `json:"td_uncached,omitempty"`
	StrideCount   int     `json:"stride_count"`
	TDCount       int     `json:"td_count,omitempty"`
	OnlyStride    int     `json:"only_stride,omitempty"`
	OnlyTD        int     `json:"only_td,omitempty"`
	Err           string  `json:"error,omitempty"`
}

// ModeResult is every sample of one mode and the median ratios.
type ModeResult struct {
	Label   string   `json:"label"`
	Targets int      `json:"targets"`
	Mode    string   `json:"mode"`
	Rounds  int      `json:"rounds"` // timed rounds: each change has this many samples
	Samples []Sample `json:"samples"`
	// Median ratios to the query time of the same change.
	StrideCached   float64 `json:"stride_cached_ratio"`
	StrideUncached float64 `json:"stride_uncached_ratio"`
	StrideNoCache  float64 `json:"stride_nocache_ratio"`
	NoCacheN       int     `json:"stride_nocache_samples"`
	TDCached       float64 `json:"td_cached_ratio,omitempty"`
	TDUncached     float64 `json:"td_uncached_ratio,omitempty"`
	MedianQuery    float64 `json:"median_query_secs"`
	// FirstRun is stride's time with no cache directory at all (no maps,
	// no scratch workspaces) on the priming change; 0 when the directory
	// existed from an earlier benchmark run.
	FirstRun float64 `json:"stride_first_run_secs"`
}

type manifest struct {
	Targets int `json:"targets"`
	Changes []struct {
		ID   int    `json:"id"`
		Kind string `json:"kind"`
		Base string `json:"base"`
		Head string `json:"head"`
	} `json:"changes"`
}

type runner struct {
	o Options
	// strideDirs are stride cache directories whose scratch workspaces'
	// Bazel servers a fresh-server measurement shuts down too.
	strideDirs []string
}

func (r *runner) logf(format string, a ...interface{}) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, format+"\n", a...)
	}
}

// run runs a command in the repository and returns its wall time and
// stdout; stderr goes into the error.
func (r *runner) run(ctx context.Context, name string, args ...string) (float64, []byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.o.Repo
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		s := strings.TrimSpace(stderr.String())
		// A Go panic's first lines say what happened; keep them.
		if i := strings.Index(s, "panic: "); i >= 0 {
			s = s[i:]
		} else if i := strings.Index(s, "fatal error: "); i >= 0 {
			s = s[i:]
		} else if len(s) > 2000 {
			s = s[len(s)-2000:]
		}
		if len(s) > 2000 {
			s = s[:2000]
		}
		return secs, stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, s)
	}
	return secs, stdout.Bytes(), nil
}

func (r *runner) bazel(ctx context.Context, args ...string) (float64, error) {
	secs, _, err := r.run(ctx, r.o.Bazel, append(append([]string(nil), r.o.Startup...), args...)...)
	return secs, err
}

func (r *runner) query(ctx context.Context) (float64, error) {
	return r.bazel(ctx, "query", "//...", "--color=no", "--curses=no", "--noshow_progress")
}

func (r *runner) shutdown(ctx context.Context) error {
	_, err := r.bazel(ctx, "shutdown")
	return err
}

func (r *runner) checkout(ctx context.Context, rev string) error {
	if _, _, err := r.run(ctx, "git", "checkout", "-q", "--force", "--detach", rev); err != nil {
		return err
	}
	// Submodules at their gitlinked commits (a synthetic workspace has one).
	if _, _, err := r.run(ctx, "git", "clean", "-ffdq"); err != nil {
		return err
	}
	_, _, err := r.run(ctx, "git", "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", "--force")
	return err
}

// prepare puts the server in the mode's state for a change and checks out
// its head: warm = a query at base just ran; fresh = no server.
func (r *runner) prepare(ctx context.Context, mode, base, head string) error {
	if mode == "warm" {
		if err := r.checkout(ctx, base); err != nil {
			return err
		}
		if _, err := r.query(ctx); err != nil {
			return err
		}
	}
	if err := r.checkout(ctx, head); err != nil {
		return err
	}
	if mode == "fresh" {
		if err := r.shutdown(ctx); err != nil {
			return err
		}
		// stride keeps scratch workspaces (with their own output bases)
		// under its cache directory: a fresh state has no server there
		// either.
		for _, d := range r.strideDirs {
			srcs, _ := filepath.Glob(filepath.Join(d, "workspaces", "*", "*", "src"))
			for _, src := range srcs {
				ob := filepath.Join(filepath.Dir(src), "output_base")
				if _, err := os.Stat(ob); err != nil {
					continue
				}
				cmd := exec.CommandContext(ctx, r.o.Bazel, "--output_base="+ob, "shutdown")
				cmd.Dir = src
				_ = cmd.Run()
			}
		}
	}
	return nil
}

func (r *runner) stride(ctx context.Context, cacheDir, base, head string) (float64, []string, error) {
	secs, out, err := r.run(ctx, r.o.Stride, "-C", r.o.Repo, "affected", "--base", base, "--head", head, "--cache-dir", cacheDir)
	return secs, labels(out), err
}

func (r *runner) td(ctx context.Context, cacheDir, base string, cached bool) (float64, []string, error) {
	args := []string{"-working-directory", r.o.Repo, "-bazel", r.o.Bazel, "-cache-dir", cacheDir}
	if !cached {
		args = append(args, "-nocache_results")
	}
	secs, out, err := r.run(ctx, r.o.TD, append(args, base)...)
	return secs, labels(out), err
}

func labels(out []byte) []string {
	var ls []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "@") {
			if i := strings.Index(l, "//"); i > 0 {
				l = l[i:]
			}
		}
		if strings.HasPrefix(l, "//") {
			if !strings.Contains(l, ":") {
				l += ":" + l[strings.LastIndex(l, "/")+1:]
			}
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	return ls
}

// Run times the changes in every mode.
func Run(ctx context.Context, o Options) ([]ModeResult, error) {
	b, err := os.ReadFile(o.Manifest)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", o.Manifest, err)
	}
	if len(m.Changes) < o.Changes+1 {
		return nil, fmt.Errorf("%s has %d changes; the benchmark needs %d (one primes the cache)", o.Manifest, len(m.Changes), o.Changes+1)
	}
	r := &runner{o: o}
	var results []ModeResult
	for _, mode := range o.Modes {
		res := ModeResult{Label: o.Label, Targets: m.Targets, Mode: mode}
		// One stride cache directory for all modes: its scratch workspaces
		// (with their output bases) are kept, its digest maps are not.
		// Each mode starts with no maps and primes the cache with the
		// first change, whose head is the second change's base; the
		// changes form a chain, so from then on the base map is always
		// cached. An uncached run sets the maps aside and restores them.
		cached := filepath.Join(o.Work, "stride-cache")
		tdDir := filepath.Join(o.Work, "td-cache")
		// Scratch workspaces survive between benchmark runs (a machine that
		// ran stride before has them); the first run with no cache
		// directory at all is reported when it happens.
		_, statErr := os.Stat(cached)
		firstEver := len(results) == 0 && os.IsNotExist(statErr)
		if err := os.RemoveAll(filepath.Join(cached, "maps")); err != nil {
			return results, err
		}
		os.RemoveAll(filepath.Join(tdDir, "results"))
		r.strideDirs = []string{cached}
		td := o.TD
		if len(o.TDModes) > 0 && !contains(o.TDModes, mode) {
			td = ""
		}
		c0 := m.Changes[0]
		if err := r.prepare(ctx, mode, c0.Base, c0.Head); err != nil {
			return results, err
		}
		secs, _, err := r.stride(ctx, cached, c0.Base, c0.Head)
		if err != nil {
			return results, fmt.Errorf("prime stride cache: %w", err)
		}
		if firstEver {
			res.FirstRun = secs
			r.logf("bench %s: stride's first run (empty cache directory, change %d %s) took %.1fs", o.Label, c0.ID, c0.Kind, secs)
		}
		if len(results) == 0 {
			// Give stride its scratch workspace for base queries once
			// (--no-fast-path forces a base query), as on any machine that
			// ran stride before; maps set aside so that both are computed.
			maps := filepath.Join(cached, "maps")
			if err := os.Rename(maps, maps+".aside"); err != nil {
				return results, err
			}
			secs, _, err := r.run(ctx, o.Stride, "-C", o.Repo, "affected", "--no-fast-path", "--base", c0.Base, "--head", c0.Head, "--cache-dir", cached)
			os.RemoveAll(maps)
			if rerr := os.Rename(maps+".aside", maps); rerr != nil {
				return results, rerr
			}
			if err != nil {
				return results, fmt.Errorf("prime stride scratch workspace: %w", err)
			}
			r.logf("bench %s: stride's base query in its scratch workspace (priming) took %.1fs", o.Label, secs)
		}
		if td != "" {
			if err := r.prepare(ctx, mode, c0.Base, c0.Head); err != nil {
				return results, err
			}
			if _, _, err := r.td(ctx, tdDir, c0.Base, true); err != nil {
				r.logf("bench: priming target-determinator's cache failed: %v", err)
			}
		}
		var sets [][]string // stride's cached set per sample
		// A warm server's steady state is a JVM that has served these
		// commands before: warm-up rounds run every change's steps (the
		// query baseline's too) and are not recorded.
		// Several timed rounds in warm mode: a warm query's time varies by
		// 2x from one command to the next here, and medians over more
		// samples move less.
		recorded := 1
		if mode == "warm" && o.Rounds > 1 {
			recorded = o.Rounds
		}
		res.Rounds = recorded
		rounds := recorded
		if mode == "warm" {
			rounds += o.Warmup
		}
		for round := 1; round <= rounds; round++ {
			record := round > rounds-recorded
			var warm []Sample // this warm-up round's samples, for its log line
			if !record {
				r.logf("bench %s %s: warm-up round %d of %d (not recorded)", o.Label, mode, round, rounds-recorded)
			}
			if round > 1 {
				// The round before left every head's map behind: start
				// the chain again, so that "cached" finds base's map only.
				if err := os.RemoveAll(filepath.Join(cached, "maps")); err != nil {
					return results, err
				}
				if err := r.prepare(ctx, mode, c0.Base, c0.Head); err != nil {
					return results, err
				}
				if _, _, err := r.stride(ctx, cached, c0.Base, c0.Head); err != nil {
					return results, fmt.Errorf("prime stride cache: %w", err)
				}
			}
			for _, c := range m.Changes[1 : o.Changes+1] {
				s := Sample{Change: c.ID, Kind: c.Kind}
				step := func(f func() error) {
					if s.Err != "" {
						return
					}
					if err := f(); err != nil {
						s.Err = err.Error()
					}
				}
				var strideSet, tdSet []string
				step(func() error { return r.prepare(ctx, mode, c.Base, c.Head) })
				step(func() (err error) { s.StrideCached, strideSet, err = r.stride(ctx, cached, c.Base, c.Head); return })
				step(func() error { return r.prepare(ctx, mode, c.Base, c.Head) })
				step(func() (err error) {
					maps := filepath.Join(cached, "maps")
					if err := os.Rename(maps, maps+".aside"); err != nil {
						return err
					}
					s.StrideUncached, _, err = r.stride(ctx, cached, c.Base, c.Head)
					if rerr := os.RemoveAll(maps); rerr != nil && err == nil {
						err = rerr
					}
					if rerr := os.Rename(maps+".aside", maps); rerr != nil && err == nil {
						err = rerr
					}
					return
				})
				step(func() error { return r.prepare(ctx, mode, c.Base, c.Head) })
				step(func() (err error) { s.Query, err = r.query(ctx); return })
				s.StrideCount = len(strideSet)
				if !record {
					if s.Err != "" {
						r.logf("bench %s %s: warm-up change %d: %s", o.Label, mode, c.ID, s.Err)
					}
					warm = append(warm, s)
					continue
				}
				if td != "" && round == rounds {
					step(func() error { return r.prepare(ctx, mode, c.Base, c.Head) })
					step(func() (err error) { s.TDCached, tdSet, err = r.td(ctx, tdDir, c.Base, true); return })
					step(func() error { return r.prepare(ctx, mode, c.Base, c.Head) })
					step(func() (err error) { s.TDUncached, _, err = r.td(ctx, tdDir, c.Base, false); return })
					s.TDCount = len(tdSet)
					s.OnlyStride, s.OnlyTD = setDiff(strideSet, tdSet)
				}
				r.logf("bench %s %s round %d change %d (%s): query %.2fs, stride cached %.2fs (%.2fx), uncached %.2fs (%.2fx), %d targets%s%s",
					o.Label, mode, round, c.ID, c.Kind, s.Query, s.StrideCached, div(s.StrideCached, s.Query), s.StrideUncached, div(s.StrideUncached, s.Query),
					s.StrideCount, tdNote(s), errNote(s))
				res.Samples = append(res.Samples, s)
				sets = append(sets, strideSet)
			}
			if !record {
				// How far the JVM still was from its steady state.
				r.logf("bench %s %s: warm-up round %d: medians cached %.2fx, uncached %.2fx",
					o.Label, mode, round,
					medianRatio(warm, func(s Sample) float64 { return s.StrideCached }),
					medianRatio(warm, func(s Sample) float64 { return s.StrideUncached }))
			}
		}
		// Runs without a cache directory come in a pass of their own: their
		// rdeps queries leave the server slower for the next few queries
		// (seen: an uncached run right after one took up to 2x as long),
		// which would charge the next change's runs for them.
		// (after the last timed round: its samples are the last ones)
		last := len(res.Samples) - o.Changes
		for i, c := range m.Changes[1 : o.Changes+1] {
			i += last
			s := &res.Samples[i]
			if s.Err != "" {
				continue
			}
			if err := r.prepare(ctx, mode, c.Base, c.Head); err != nil {
				s.Err = err.Error()
				continue
			}
			// Counted only when it gives the cached run's set: without a
			// scratch copy, a base that needs a query of its own is an
			// error.
			if secs, set, err := r.stride(ctx, "", c.Base, c.Head); err == nil && strings.Join(set, " ") == strings.Join(sets[i], " ") {
				s.StrideNoCache = secs
			}
			r.logf("bench %s %s change %d (%s): stride without cache dir %.2fs (%.2fx)", o.Label, mode, c.ID, c.Kind, s.StrideNoCache, div(s.StrideNoCache, s.Query))
		}
		res.summarize(td != "")
		results = append(results, res)
	}
	return results, nil
}

// summarize computes the median ratios (target-determinator's with td),
// the count of no-cache samples and the median query time.
func (res *ModeResult) summarize(td bool) {
	res.StrideCached = medianRatio(res.Samples, func(s Sample) float64 { return s.StrideCached })
	res.StrideUncached = medianRatio(res.Samples, func(s Sample) float64 { return s.StrideUncached })
	res.StrideNoCache = medianRatio(res.Samples, func(s Sample) float64 { return s.StrideNoCache })
	res.NoCacheN = 0
	for _, s := range res.Samples {
		if s.Err == "" && s.StrideNoCache > 0 {
			res.NoCacheN++
		}
	}
	if td {
		res.TDCached = medianRatio(res.Samples, func(s Sample) float64 { return s.TDCached })
		res.TDUncached = medianRatio(res.Samples, func(s Sample) float64 { return s.TDUncached })
	}
	var qs []float64
	for _, s := range res.Samples {
		if s.Err == "" {
			qs = append(qs, s.Query)
		}
	}
	res.MedianQuery = median(qs)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tdNote(s Sample) string {
	if s.TDCount == 0 && s.TDCached == 0 {
		return ""
	}
	return fmt.Sprintf("; td cached %.2fs (%.2fx), uncached %.2fs (%.2fx), %d targets; only stride %d, only td %d",
		s.TDCached, div(s.TDCached, s.Query), s.TDUncached, div(s.TDUncached, s.Query), s.TDCount, s.OnlyStride, s.OnlyTD)
}

func errNote(s Sample) string {
	if s.Err == "" {
		return ""
	}
	return "; ERROR " + s.Err
}

func setDiff(a, b []string) (onlyA, onlyB int) {
	in := map[string]int{}
	for _, x := range a {
		in[x] |= 1
	}
	for _, x := range b {
		in[x] |= 2
	}
	for _, v := range in {
		switch v {
		case 1:
			onlyA++
		case 2:
			onlyB++
		}
	}
	return
}

func medianRatio(samples []Sample, f func(Sample) float64) float64 {
	var rs []float64
	for _, s := range samples {
		if s.Err == "" && s.Query > 0 && f(s) > 0 {
			rs = append(rs, f(s)/s.Query)
		}
	}
	return median(rs)
}

// WriteMarkdown prints the results as one table, with the goals.
func WriteMarkdown(w io.Writer, results []ModeResult) {
	td := false
	for _, r := range results {
		if r.TDCached > 0 || r.TDUncached > 0 {
			td = true
		}
	}
	fmt.Fprint(w, "| size | server | samples (changes × rounds) | median query s | stride cached / query (goal ≤ 1.1) | stride uncached / query (goal ≤ 2.2) | stride without cache dir / query (changes it answered) | stride first run s |")
	if td {
		fmt.Fprint(w, " td cached / query | td uncached / query |")
	}
	fmt.Fprint(w, "\n|---|---|---|---|---|---|---|---|")
	if td {
		fmt.Fprint(w, "---|---|")
	}
	fmt.Fprintln(w)
	for _, r := range results {
		ok := 0
		for _, s := range r.Samples {
			if s.Err == "" {
				ok++
			}
		}
		first := "-"
		if r.FirstRun > 0 {
			first = fmt.Sprintf("%.1f", r.FirstRun)
		}
		samples := fmt.Sprint(ok)
		if r.Rounds > 1 {
			samples = fmt.Sprintf("%d (%d × %d)", ok, len(r.Samples)/r.Rounds, r.Rounds)
		}
		fmt.Fprintf(w, "| %s (%d targets) | %s | %s | %.2f | %.2fx %s | %.2fx %s | %s (%d) | %s |", r.Label, r.Targets, r.Mode, samples, r.MedianQuery,
			r.StrideCached, verdict(r.StrideCached, 1.1), r.StrideUncached, verdict(r.StrideUncached, 2.2), ratioCell(r.StrideNoCache), r.NoCacheN, first)
		if td {
			fmt.Fprintf(w, " %s | %s |", ratioCell(r.TDCached), ratioCell(r.TDUncached))
		}
		fmt.Fprintln(w)
	}
	for _, r := range results {
		for _, s := range r.Samples {
			if s.Err != "" {
				fmt.Fprintf(w, "\n%s %s change %d: error: %s\n", r.Label, r.Mode, s.Change, s.Err)
			}
		}
	}
}

func ratioCell(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}
