package affected

import (
	"path"
	"sort"
	"strings"

	bzl "github.com/bazelbuild/buildtools/build"
)

// Global settings: a change to any of them may change every target, so
// the comparison then reports everything as affected.
const (
	globalBazelrc      = ".bazelrc"
	globalBazelVersion = ".bazelversion"
	globalBazelignore  = ".bazelignore"
	globalWrapper      = "tools/bazel"
	globalWorkspace    = "WORKSPACE"
	globalRCFilePrefix = "file named by .bazelrc: "
)

// computeGlobals digests the workspace-wide settings of files.
func computeGlobals(files *fileSet, snap *Snapshot) map[string]string {
	g := map[string]string{}
	rcFiles := map[string]bool{}
	g[globalBazelrc] = digestString(bazelrcText(files, ".bazelrc", rcFiles, 0))
	if b, ok := files.read(".bazelversion"); ok {
		g[globalBazelVersion] = strings.TrimSpace(string(b))
	}
	if b, ok := files.read(".bazelignore"); ok {
		g[globalBazelignore] = digestString(normalizeLines(string(b), "#"))
	}
	if files.exists(globalWrapper) {
		g[globalWrapper] = files.digest(globalWrapper)
	}
	for p := range rcFiles {
		g[globalRCFilePrefix+p] = files.digest(p)
	}
	g[globalWorkspace] = workspaceSkeleton(files, snap)
	return g
}

func digestString(s string) string {
	h := newHash("text")
	h.str(s)
	return h.sum()
}

// normalizeLines drops comments, blank lines and surrounding space.
func normalizeLines(s, comment string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, comment); i >= 0 && comment != "" {
			l = l[:i]
		}
		l = strings.Join(strings.Fields(l), " ")
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// bazelrcText returns the effective options of the .bazelrc at p for the
// commands whose result stride's answer stands for, one normalized line
// each, with its %workspace% imports expanded in place; it records in
// rcFiles the workspace files that its flags name (e.g.
// --workspace_status_command=tools/status.sh). What cannot change a build,
// a test or a query is left out, so that changing it changes nothing:
// comments and spacing, a try-import of a missing or empty file, lines
// for other commands (run, clean, info... see rcOtherCommands) and flags
// that only change how Bazel reports or schedules work (rcNeutralFlags).
// Everything else counts, in order, whether or not a --config selects it.
func bazelrcText(files *fileSet, p string, rcFiles map[string]bool, depth int) string {
	return strings.Join(bazelrcLines(files, p, rcFiles, depth), "\n")
}

func bazelrcLines(files *fileSet, p string, rcFiles map[string]bool, depth int) []string {
	b, ok := files.read(p)
	if !ok || depth > 8 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(normalizeLines(string(b), "#"), "\n") {
		fields := strings.Fields(l)
		if len(fields) == 0 {
			// An empty file normalizes to one empty line.
			continue
		}
		if len(fields) == 2 && (fields[0] == "import" || fields[0] == "try-import") {
			if rel := strings.TrimPrefix(fields[1], "%workspace%/"); rel != fields[1] {
				if _, ok := files.read(rel); !ok && fields[0] == "import" {
					// Bazel fails on a missing import: keep it.
					out = append(out, "<missing import "+rel+">")
					continue
				}
				out = append(out, bazelrcLines(files, rel, rcFiles, depth+1)...)
				continue
			}
		}
		for _, f := range fields[1:] {
			v := f
			if i := strings.Index(f, "="); i >= 0 {
				v = f[i+1:]
			}
			v = strings.TrimPrefix(v, "%workspace%/")
			if v != "" && !strings.HasPrefix(v, "-") && !path.IsAbs(v) && files.exists(path.Clean(v)) {
				rcFiles[path.Clean(v)] = true
			}
		}
		if l = effectiveRCLine(fields); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// rcOtherCommands are commands whose .bazelrc lines no build, test or
// query (stride's, or the CI's that runs what it answers) reads: build,
// test, query, cquery and aquery inherit from common and build only.
var rcOtherCommands = map[string]bool{
	"run": true, "clean": true, "info": true, "version": true, "help": true, "shutdown": true,
	"dump": true, "license": true, "mobile-install": true, "print_action": true,
	"canonicalize-flags": true, "analyze-profile": true, "fetch": true, "sync": true,
}

// rcNeutralFlags change how Bazel reports progress and failures, or how
// much it runs at once, never what it builds, tests or queries.
var rcNeutralFlags = map[string]bool{
	"verbose_failures": true, "announce_rc": true, "color": true, "curses": true,
	"show_timestamps": true, "show_progress": true, "show_progress_rate_limit": true,
	"progress_report_interval": true, "show_loading_progress": true, "show_task_finish": true,
	"show_result": true, "terminal_columns": true, "experimental_ui_max_stdouterr_bytes": true,
	"jobs": true, "j": true, "loading_phase_threads": true, "local_cpu_resources": true, "local_ram_resources": true,
	"keep_going": true, "k": true, "heap_dump_on_oom": true, "sandbox_debug": true,
	"explain": true, "verbose_explanations": true, "profile": true, "experimental_generate_json_trace_profile": true,
	"max_idle_secs": true, "host_jvm_args": true, "build_event_json_file": true,
	"build_event_text_file": true, "build_event_binary_file": true, "tool_tag": true,
}

// effectiveRCLine returns a .bazelrc line (fields: command[:config] and
// its arguments) without its neutral flags, or "" when nothing that can
// change a result is left.
func effectiveRCLine(fields []string) string {
	cmd := fields[0]
	if i := strings.Index(cmd, ":"); i >= 0 {
		cmd = cmd[:i]
	}
	if rcOtherCommands[cmd] {
		return ""
	}
	kept := []string{fields[0]}
	for i := 1; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "-") {
			kept = append(kept, f)
			continue
		}
		name := strings.TrimLeft(f, "-")
		hasValue := false
		if j := strings.Index(name, "="); j >= 0 {
			name, hasValue = name[:j], true
		}
		bare := strings.TrimPrefix(name, "no")
		if !rcNeutralFlags[name] && !rcNeutralFlags[bare] {
			kept = append(kept, f)
			continue
		}
		// A neutral flag, and its value when given as the next argument
		// (--jobs 4); a boolean (--keep_going, --nocolor) takes none.
		if !hasValue && name != bare {
			continue
		}
		if !hasValue && i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "-") && !rcBoolFlags[name] {
			i++
		}
	}
	if len(kept) == 1 {
		return ""
	}
	return strings.Join(kept, " ")
}

// rcBoolFlags are the neutral flags that take no separate value.
var rcBoolFlags = map[string]bool{
	"verbose_failures": true, "announce_rc": true, "show_timestamps": true, "show_progress": true,
	"show_loading_progress": true, "show_task_finish": true, "keep_going": true, "k": true,
	"heap_dump_on_oom": true, "sandbox_debug": true, "verbose_explanations": true,
	"experimental_generate_json_trace_profile": true,
}

// workspaceSkeleton digests the WORKSPACE file (and the workspace .bzl
// files it loads, transitively) with every repository definition taken
// out: each call `rule_class(name = "r", ...)` where //external:r is a
// repository of that rule class. Those definitions are compared one by one
// (Snapshot.Repos); what is left (toolchain and platform registrations,
// macro calls, bind, the workspace name) applies to every target.
func workspaceSkeleton(files *fileSet, snap *Snapshot) string {
	h := newHash("workspace")
	name := "WORKSPACE.bazel"
	data, ok := files.read(name)
	if !ok {
		name = "WORKSPACE"
		data, ok = files.read(name)
	}
	if !ok {
		return h.sum()
	}
	s := &skeleton{files: files, snap: snap, h: h, seen: map[string]bool{}}
	s.file(name, "", data, true)
	return h.sum()
}

type skeleton struct {
	files *fileSet
	snap  *Snapshot
	h     *hasher
	seen  map[string]bool
}

func (s *skeleton) file(p, pkg string, data []byte, isWorkspace bool) {
	if s.seen[p] {
		return
	}
	s.seen[p] = true
	var f *bzl.File
	var err error
	if isWorkspace {
		f, err = bzl.ParseWorkspace(p, data)
	} else {
		f, err = bzl.ParseBzl(p, data)
	}
	s.h.str(p)
	if err != nil {
		// Unparseable: the whole text counts.
		s.h.bytes(data)
		return
	}
	f.Stmt = s.strip(f.Stmt)
	bzl.Walk(f, func(x bzl.Expr, _ []bzl.Expr) {
		c := x.Comment()
		c.Before, c.Suffix, c.After = nil, nil, nil
	})
	// Statement by statement, so blank lines between them do not count.
	for _, st := range f.Stmt {
		s.h.str(bzl.FormatString(st))
	}
	var loads []*bzl.LoadStmt
	for _, st := range f.Stmt {
		if l, ok := st.(*bzl.LoadStmt); ok {
			loads = append(loads, l)
		}
	}
	sort.Slice(loads, func(i, j int) bool { return loads[i].Module.Value < loads[j].Module.Value })
	for _, l := range loads {
		mod := l.Module.Value
		if strings.HasPrefix(mod, ":") {
			mod = "//" + pkg + mod
		}
		lab, ok := parseLabel(mod)
		if !ok {
			continue
		}
		if lab.repo == "" || lab.repo == s.snap.Workspace {
			fp := lab.filePath()
			b, ok := s.files.read(fp)
			s.h.str(fp)
			if !ok {
				s.h.str(missing)
				continue
			}
			s.file(fp, lab.pkg, b, false)
			continue
		}
		// A .bzl of an external repository: as defined by that repository.
		s.h.str(lab.repo)
		if r, ok := s.snap.Repos[lab.repo]; ok {
			s.h.str(r.Digest)
		}
	}
}

// strip removes repository definitions from a statement list, recursing
// into function bodies and if/for blocks.
func (s *skeleton) strip(stmts []bzl.Expr) []bzl.Expr {
	out := stmts[:0]
	for _, st := range stmts {
		switch x := st.(type) {
		case *bzl.CommentBlock:
			continue
		case *bzl.CallExpr:
			if s.isRepoDefinition(x) {
				continue
			}
		case *bzl.DefStmt:
			x.Body = s.strip(x.Body)
		case *bzl.IfStmt:
			x.True = s.strip(x.True)
			x.False = s.strip(x.False)
		case *bzl.ForStmt:
			x.Body = s.strip(x.Body)
		}
		out = append(out, st)
	}
	return out
}

func (s *skeleton) isRepoDefinition(c *bzl.CallExpr) bool {
	var fn string
	switch x := c.X.(type) {
	case *bzl.Ident:
		fn = x.Name
	case *bzl.DotExpr: // native.new_local_repository
		if id, ok := x.X.(*bzl.Ident); ok && id.Name == "native" {
			fn = x.Name
		}
	}
	if fn == "" {
		return false
	}
	for _, arg := range c.List {
		a, ok := arg.(*bzl.AssignExpr)
		if !ok {
			continue
		}
		if id, ok := a.LHS.(*bzl.Ident); !ok || id.Name != "name" {
			continue
		}
		str, ok := a.RHS.(*bzl.StringExpr)
		if !ok {
			return false
		}
		r, ok := s.snap.Repos[str.Value]
		return ok && r.Class == fn
	}
	return false
}

// testOnlyFlags only change how tests run (the test actions' environment,
// arguments, timeouts, retries, strategy) or which tests run: a change to
// them in lines for the `test` command affects test targets only.
var testOnlyFlags = map[string]bool{
	"test_env": true, "test_arg": true, "test_timeout": true, "flaky_test_attempts": true,
	"runs_per_test": true, "test_output": true, "test_summary": true, "test_verbose_timeout_warnings": true,
	"test_keep_going": true, "test_strategy": true, "test_sharding_strategy": true, "local_test_jobs": true,
	"test_tag_filters": true, "test_size_filters": true, "test_timeout_filters": true, "test_lang_filters": true,
	"cache_test_results": true, "build_tests_only": true, "test_filter": true, "runs_per_test_detects_flakes": true,
}

// testOnlyChange reports whether two normalized .bazelrc texts differ
// only in lines for the test command (`test` or `test:CONFIG`) that set
// testOnlyFlags, and returns those flags.
func testOnlyChange(base, head string) ([]string, bool) {
	count := map[string]int{}
	for _, l := range strings.Split(base, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(head, "\n") {
		count[l]--
	}
	seen := map[string]bool{}
	var flags []string
	for l, n := range count {
		if n == 0 || l == "" {
			continue
		}
		fields := strings.Fields(l)
		if len(fields) < 2 || (fields[0] != "test" && !strings.HasPrefix(fields[0], "test:")) {
			return nil, false
		}
		prevOK := false
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") {
				// The value of the flag before it (--test_env FOO=1).
				if !prevOK {
					return nil, false
				}
				continue
			}
			name := strings.TrimLeft(f, "-")
			if i := strings.Index(name, "="); i >= 0 {
				name = name[:i]
			}
			if !testOnlyFlags[name] && !(strings.HasPrefix(name, "no") && testOnlyFlags[name[2:]]) {
				return nil, false
			}
			prevOK = true
			if !seen[name] {
				seen[name] = true
				flags = append(flags, "--"+strings.TrimPrefix(name, "no"))
			}
		}
	}
	sort.Strings(flags)
	return flags, len(flags) > 0
}
