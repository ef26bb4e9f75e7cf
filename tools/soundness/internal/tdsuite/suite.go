// Package tdsuite runs target-determinator's integration suite (its
// Tests.java and the generic cases of TargetDeterminatorSpecificFlagsTest,
// transcribed in cases.go) against `stride affected --kind all`, offline,
// over a local clone of github.com/bazel-contrib/target-determinator-testdata
// (one tag per scenario). Each step of a case is classified pass,
// over-build (every expected label, plus others), wrong (an expected label
// missing or a forbidden one present) or crash (stride failed).
//
// The scenarios pin Bazel 6/7 in .bazelversion and fetch rules from the
// network; here they run on the bazel on PATH (Debian's 4.2.3) with a
// home bazelrc (stride runs with HOME set to the work directory, so
// nothing in a scenario changes) that overrides rules_java, platforms, rules_cc,
// remote_coverage_tools and remote_java_tools* with local copies or stubs
// (third_party/bazel, third_party/tdsuite) and points --distdir at the testdata's own
// rules/v0/* archives, made with `git archive` from the clone (their
// sha256 matches GitHub's).
package tdsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TestdataURL is the scenario repository's URL as its .gitmodules names
// it; the clone rewrites it to the local copy.
const TestdataURL = "https://github.com/bazel-contrib/target-determinator-testdata.git"

// Options configure Run.
type Options struct {
	Testdata string // a clone or bare mirror of target-determinator-testdata
	Stride   string // stride binary
	Bazel    string // bazel binary (default "bazel")
	Shims    string // the monorepo's shims of rules_cc and remote_coverage_tools (third_party/bazel)
	// RulesJava, Platforms and JavaTools are local copies or stubs of
	// those repositories: Debian's bazel-rules-java,
	// third_party/tdsuite/platforms (Debian's bazel-platforms with
	// //:incompatible) and third_party/tdsuite/remote_java_tools.
	RulesJava, Platforms, JavaTools string
	Work                            string            // scratch directory
	Only                            func(string) bool // case filter; nil: all
	Log                             io.Writer
}

// Status of a step.
const (
	Pass      = "pass"
	OverBuild = "over-build"
	Wrong     = "wrong"
	Crash     = "crash"
	Skipped   = "skipped"
)

// StepResult is one step's outcome.
type StepResult struct {
	Case           string   `json:"case"`
	Step           int      `json:"step"`
	Before         string   `json:"before"`
	After          string   `json:"after"`
	Status         string   `json:"status"`
	Missing        []string `json:"missing,omitempty"`
	Extra          []string `json:"extra,omitempty"`
	Forbidden      []string `json:"forbidden,omitempty"`
	AllowOverBuild bool     `json:"allow_over_build,omitempty"`
	Error          string   `json:"error,omitempty"`
	Seconds        float64  `json:"seconds"`
}

// Classify compares got with a step's expectations.
func Classify(got, want, forbidden []string) (status string, missing, extra, bad []string) {
	g := map[string]bool{}
	for _, l := range got {
		g[Normalize(l)] = true
	}
	w := map[string]bool{}
	for _, l := range want {
		w[Normalize(l)] = true
		if !g[Normalize(l)] {
			missing = append(missing, Normalize(l))
		}
	}
	f := map[string]bool{}
	for _, l := range forbidden {
		f[Normalize(l)] = true
	}
	for l := range g {
		if w[l] {
			continue
		}
		extra = append(extra, l)
		if f[l] {
			bad = append(bad, l)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(bad)
	switch {
	case len(missing) > 0 || len(bad) > 0:
		return Wrong, missing, extra, bad
	case len(extra) > 0:
		return OverBuild, missing, extra, bad
	}
	return Pass, missing, extra, bad
}

// Normalize writes //a/b as //a/b:b.
func Normalize(l string) string {
	if strings.HasPrefix(l, "//") && !strings.Contains(l, ":") {
		return l + ":" + l[strings.LastIndex(l, "/")+1:]
	}
	return l
}

type suite struct {
	o     Options
	clone string // the scenario work tree
	home  string // HOME for stride and Bazel: its .bazelrc holds the overrides
	// insteadOf rewrites the submodules' URL (the testdata repository
	// itself) to the local copy; given with -c, so that the submodule's
	// own clone sees it.
	insteadOf string
	cache     string
}

// Run runs the suite and returns one result per step.
func Run(ctx context.Context, o Options) ([]StepResult, error) {
	if o.Bazel == "" {
		o.Bazel = "bazel"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if _, err := os.Stat(o.Testdata); err != nil {
		return nil, fmt.Errorf("testdata repository %s: %w (get it with the `fetch` tool, github:bazel-contrib/target-determinator-testdata, or `git clone --mirror %s`)", o.Testdata, err, TestdataURL)
	}
	for _, d := range []string{o.Shims, o.RulesJava, o.Platforms, o.JavaTools} {
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("shim repository: %w", err)
		}
	}
	s := &suite{o: o, clone: filepath.Join(o.Work, "testdata"), cache: filepath.Join(o.Work, "stride-cache")}
	if err := s.setup(); err != nil {
		return nil, err
	}
	defer s.shutdown()
	var out []StepResult
	for _, c := range Cases {
		if o.Only != nil && !o.Only(c.Name) {
			continue
		}
		for i, st := range c.Steps {
			r := StepResult{Case: c.Name, Step: i + 1, Before: st.Before, After: st.After, AllowOverBuild: c.AllowOverBuild}
			if c.Skip != "" {
				r.Status, r.Error = Skipped, c.Skip
				out = append(out, r)
				continue
			}
			t := time.Now()
			got, err := s.step(ctx, st, i == 0)
			r.Seconds = time.Since(t).Seconds()
			if err != nil {
				r.Status, r.Error = Crash, err.Error()
			} else {
				r.Status, r.Missing, r.Extra, r.Forbidden = Classify(got, st.Want, st.Forbidden)
			}
			fmt.Fprintf(o.Log, "tdsuite: %s #%d: %s (%.1fs)\n", c.Name, i+1, r.Status, r.Seconds)
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *suite) git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// setup writes the distdir and the home bazelrc.
func (s *suite) setup() error {
	if err := os.MkdirAll(s.o.Work, 0o755); err != nil {
		return err
	}
	distdir := filepath.Join(s.o.Work, "distdir")
	if err := os.MkdirAll(distdir, 0o755); err != nil {
		return err
	}
	tags, err := s.git(s.o.Testdata, "tag", "--list", "rules/v0/*")
	if err != nil {
		return fmt.Errorf("testdata repository %s: %w", s.o.Testdata, err)
	}
	for _, tag := range strings.Fields(tags) {
		// http_archive's url .../archive/refs/tags/rules/v0/NAME.tar.gz,
		// strip_prefix target-determinator-testdata-rules-v0-NAME.
		name := tag[strings.LastIndex(tag, "/")+1:]
		dst := filepath.Join(distdir, name+".tar.gz")
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		cmd := exec.Command("git", "archive", "--format=tar.gz", "--prefix=target-determinator-testdata-"+strings.ReplaceAll(tag, "/", "-")+"/", "-o", dst+".tmp", tag)
		cmd.Dir = s.o.Testdata
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git archive %s: %v: %s", tag, err, out)
		}
		if err := os.Rename(dst+".tmp", dst); err != nil {
			return err
		}
	}
	repos := map[string]string{
		"rules_java":                s.o.RulesJava,
		"platforms":                 s.o.Platforms,
		"rules_cc":                  filepath.Join(s.o.Shims, "rules_cc"),
		"remote_coverage_tools":     filepath.Join(s.o.Shims, "remote_coverage_tools"),
		"remote_java_tools":         s.o.JavaTools,
		"remote_java_tools_linux":   s.o.JavaTools,
		"remote_java_tools_darwin":  s.o.JavaTools,
		"remote_java_tools_windows": s.o.JavaTools,
	}
	var names []string
	for n := range repos {
		names = append(names, n)
	}
	sort.Strings(names)
	var rc strings.Builder
	rc.WriteString("# Written by tdsuite: offline overrides for the target-determinator scenarios.\n")
	for _, cmd := range []string{"build", "query", "fetch", "sync"} {
		for _, n := range names {
			abs, err := filepath.Abs(repos[n])
			if err != nil {
				return err
			}
			fmt.Fprintf(&rc, "%s --override_repository=%s=%s\n", cmd, n, abs)
		}
		fmt.Fprintf(&rc, "%s --distdir=%s\n", cmd, distdir)
	}
	// The home bazelrc: stride runs with HOME set to s.home, so every
	// Bazel it starts (in the clone and in its scratch copies) reads it.
	s.home = filepath.Join(s.o.Work, "home")
	if err := os.MkdirAll(s.home, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.home, ".bazelrc"), []byte(rc.String()), 0o644)
}

// fresh makes s.clone a new clone of the testdata repository, as each
// test method of the suite starts with.
func (s *suite) fresh() error {
	if _, err := os.Stat(s.clone); err == nil {
		// Keep the directory (Bazel's output base is keyed by it): empty it.
		ents, err := os.ReadDir(s.clone)
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := filepath.Join(s.clone, e.Name())
			_ = exec.Command("chmod", "-R", "u+w", p).Run()
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	src, err := filepath.Abs(s.o.Testdata)
	if err != nil {
		return err
	}
	if _, err := s.git(s.o.Work, "clone", "-q", "--no-checkout", src, s.clone); err != nil {
		return err
	}
	s.insteadOf = "url." + src + ".insteadOf=" + TestdataURL
	return nil
}

func rev(name string) string {
	if c, ok := Commits[name]; ok {
		return c
	}
	return name
}

// step runs one doTest: check out After with its submodules, apply the
// setup, run stride. first: the first step of a case (a fresh clone).
func (s *suite) step(ctx context.Context, st Step, first bool) ([]string, error) {
	if first {
		if err := s.fresh(); err != nil {
			return nil, fmt.Errorf("clone: %w", err)
		}
	}
	after := rev(st.After)
	// Base's submodules first, then head's: stride reads a submodule at a
	// changed gitlink from its local clone (as a CI workspace that built
	// base has it), and does not fetch.
	for _, c := range []string{rev(st.Before), after} {
		if _, err := s.git(s.clone, "checkout", "-q", c); err != nil {
			if c != after {
				continue // a relative revision (HEAD^): resolved after head's checkout
			}
			return nil, fmt.Errorf("checkout: %w", err)
		}
		if _, err := s.git(s.clone, "-c", s.insteadOf, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init"); err != nil {
			return nil, fmt.Errorf("checkout: %w", err)
		}
	}
	// A submodule head no longer has stays behind as an untracked
	// directory: remove it, as a fresh checkout of head would not have it.
	if _, err := s.git(s.clone, "clean", "-ffdq"); err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	dirty := false
	for _, op := range st.Setup {
		f := strings.Fields(op)
		switch f[0] {
		case "chmod":
			m, err := strconv.ParseUint(f[2], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("setup %q: %w", op, err)
			}
			if err := os.Chmod(filepath.Join(s.clone, f[1]), os.FileMode(m)); err != nil {
				return nil, fmt.Errorf("setup %q: %w", op, err)
			}
			dirty = true
		case "touch":
			if err := os.WriteFile(filepath.Join(s.clone, f[1]), nil, 0o644); err != nil {
				return nil, fmt.Errorf("setup %q: %w", op, err)
			}
			dirty = true
		case "branch":
			if _, err := s.git(s.clone, "checkout", "-q", "-b", f[1]); err != nil {
				return nil, fmt.Errorf("setup %q: %w", op, err)
			}
			after = f[1]
		default:
			return nil, fmt.Errorf("setup %q: unknown operation", op)
		}
	}
	// target-determinator compares with the work tree: a step that
	// edits it runs stride on the work tree (--uncommitted), the others
	// on the commit (what a CI passes).
	args := []string{"-C", s.clone, "affected", "--base", rev(st.Before), "--kind", "all", "--json",
		"--cache-dir", s.cache, "--bazel", s.o.Bazel}
	if dirty {
		args = append(args, "--uncommitted")
	} else {
		args = append(args, "--head", after)
	}
	cmd := exec.CommandContext(ctx, s.o.Stride, args...)
	cmd.Env = append(os.Environ(), "HOME="+s.home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.Index(msg, "panic:"); i >= 0 {
			msg = msg[i:]
		}
		if len(msg) > 400 {
			msg = msg[:400] + "..."
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("stride exited %d: %s", ee.ExitCode(), msg)
		}
		return nil, fmt.Errorf("stride: %v: %s", err, msg)
	}
	var res struct {
		Targets []struct {
			Label string `json:"label"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("stride --json output: %w", err)
	}
	var labels []string
	for _, t := range res.Targets {
		labels = append(labels, t.Label)
	}
	return labels, nil
}

// Counts tallies results by status.
func Counts(rs []StepResult) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Status]++
		if r.Status == OverBuild && r.AllowOverBuild {
			m["over-build allowed by the suite"]++
		}
	}
	return m
}

// Print writes one line per step and the totals.
func Print(w io.Writer, rs []StepResult) {
	fmt.Fprintf(w, "| case | step | status | missing | extra |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		extra := strings.Join(r.Extra, " ")
		if r.AllowOverBuild && r.Status == OverBuild {
			extra += " (allowed by the suite)"
		}
		if r.Error != "" {
			extra = r.Error
		}
		if len(r.Forbidden) > 0 {
			extra = "forbidden: " + strings.Join(r.Forbidden, " ") + "; " + extra
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", r.Case, r.Step, r.Status, strings.Join(r.Missing, " "), strings.ReplaceAll(extra, "|", "\\|"))
	}
	c := Counts(rs)
	fmt.Fprintf(w, "\n%d steps: %d pass, %d over-build (%d allowed by the suite), %d wrong, %d crash, %d skipped\n",
		len(rs), c[Pass], c[OverBuild], c["over-build allowed by the suite"], c[Wrong], c[Crash], c[Skipped])
}

// shutdown stops the Bazel server of the clone (scratch copies' servers
// exit on their own after 300 s idle).
func (s *suite) shutdown() {
	cmd := exec.Command(s.o.Bazel, "shutdown")
	cmd.Dir = s.clone
	cmd.Env = append(os.Environ(), "HOME="+s.home)
	_ = cmd.Run()
}
