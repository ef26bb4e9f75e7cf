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
	rc := bazelrcText(files, ".bazelrc", rcFiles, 0)
	g[globalBazelrc] = digestString(rc)
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
	var reg bool
	g[globalWorkspace], reg = workspaceSkeleton(files, snap)
	snap.NoRegistrations = !reg && !rcMayRegister(rc)
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
// (Snapshot.Repos), as Bazel resolved them; what is left (toolchain and
// platform registrations, macro calls, bind, the workspace name) applies
// to every target. What only served repository definitions goes with
// them: a function whose body is left empty (a deps() macro of
// http_archive calls) and the calls to it, top-level assignments
// (RULES_GIT_TAG = "...") and loads that nothing left uses. So a refactor
// of how repositories are defined changes nothing here, and a changed
// definition affects what uses that repository.
//
// It also reports whether what is left may register toolchains or
// execution platforms (registers): a register_* call, a load from another
// repository, or an unparseable file.
func workspaceSkeleton(files *fileSet, snap *Snapshot) (string, bool) {
	h := newHash("workspace")
	name := "WORKSPACE.bazel"
	data, ok := files.read(name)
	if !ok {
		name = "WORKSPACE"
		data, ok = files.read(name)
	}
	if !ok {
		return h.sum(), false
	}
	s := &skeleton{files: files, snap: snap, h: h, seen: map[string]bool{}, parsed: map[string]*wsFile{}}
	s.file(name, "", data, true)
	return h.sum(), s.registers
}

type skeleton struct {
	files  *fileSet
	snap   *Snapshot
	h      *hasher
	seen   map[string]bool
	parsed map[string]*wsFile
	// registers: a file may register toolchains or platforms (registers).
	registers bool
}

// wsFile is a WORKSPACE or workspace .bzl file, parsed, without comments
// and repository definitions.
type wsFile struct {
	stmts []bzl.Expr
	err   bool // unparseable: its whole text counts
	// noops are the functions (defined here or loaded from the main
	// repository) that do nothing once repository definitions are out.
	noops map[string]bool
}

// parse reads and parses p once; nil when p is missing.
func (s *skeleton) parse(p, pkg string, isWorkspace bool) *wsFile {
	if f, ok := s.parsed[p]; ok {
		return f
	}
	s.parsed[p] = &wsFile{noops: map[string]bool{}} // a load cycle sees no no-ops
	data, ok := s.files.read(p)
	if !ok {
		s.parsed[p] = nil
		return nil
	}
	var f *bzl.File
	var err error
	if isWorkspace {
		f, err = bzl.ParseWorkspace(p, data)
	} else {
		f, err = bzl.ParseBzl(p, data)
	}
	wf := &wsFile{noops: map[string]bool{}}
	if err != nil {
		wf.err = true
		s.parsed[p] = wf
		return wf
	}
	f.Stmt = s.strip(f.Stmt)
	bzl.Walk(f, func(x bzl.Expr, _ []bzl.Expr) {
		c := x.Comment()
		c.Before, c.Suffix, c.After = nil, nil, nil
	})
	wf.stmts = f.Stmt
	for _, st := range f.Stmt {
		l, ok := st.(*bzl.LoadStmt)
		if !ok {
			continue
		}
		fp, lpkg, local := s.localLoad(l, pkg)
		if !local {
			continue
		}
		lf := s.parse(fp, lpkg, false)
		if lf == nil {
			continue
		}
		for i := range l.From {
			if lf.noops[l.From[i].Name] {
				wf.noops[l.To[i].Name] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, st := range f.Stmt {
			if d, ok := st.(*bzl.DefStmt); ok && !wf.noops[d.Name] && len(pruneBody(d.Body, wf.noops)) == 0 {
				wf.noops[d.Name] = true
				changed = true
			}
		}
	}
	s.parsed[p] = wf
	return wf
}

// localLoad resolves a load of the main repository to its file and
// package.
func (s *skeleton) localLoad(l *bzl.LoadStmt, pkg string) (string, string, bool) {
	mod := l.Module.Value
	if strings.HasPrefix(mod, ":") {
		mod = "//" + pkg + mod
	}
	lab, ok := parseLabel(mod)
	if !ok || !(lab.repo == "" || lab.repo == s.snap.Workspace) {
		return "", "", false
	}
	return lab.filePath(), lab.pkg, true
}

func (s *skeleton) file(p, pkg string, data []byte, isWorkspace bool) {
	if s.seen[p] {
		return
	}
	s.seen[p] = true
	s.h.str(p)
	wf := s.parse(p, pkg, isWorkspace)
	if wf == nil {
		s.h.str(missing)
		return
	}
	if wf.err {
		s.h.bytes(data)
		s.registers = true
		return
	}
	stmts := pruneTop(wf.stmts, wf.noops, isWorkspace)
	if registers(stmts, func(l *bzl.LoadStmt) bool { _, _, local := s.localLoad(l, pkg); return !local }) {
		s.registers = true
	}
	// Statement by statement, so blank lines between them do not count.
	for _, st := range stmts {
		s.h.str(bzl.FormatString(st))
	}
	var loads []*bzl.LoadStmt
	for _, st := range stmts {
		if l, ok := st.(*bzl.LoadStmt); ok {
			loads = append(loads, l)
		}
	}
	sort.Slice(loads, func(i, j int) bool { return loads[i].Module.Value < loads[j].Module.Value })
	for _, l := range loads {
		if fp, lpkg, ok := s.localLoad(l, pkg); ok {
			b, ok := s.files.read(fp)
			if !ok {
				s.h.str(fp)
				s.h.str(missing)
				continue
			}
			s.file(fp, lpkg, b, false)
			continue
		}
		mod := l.Module.Value
		lab, ok := parseLabel(mod)
		if !ok {
			continue
		}
		// A .bzl of an external repository: as defined by that repository.
		s.h.str(lab.repo)
		if r, ok := s.snap.Repos[lab.repo]; ok {
			s.h.str(r.Digest)
		}
	}
}

// pureBuiltins are functions whose call has no effect besides its value.
var pureBuiltins = map[string]bool{
	"str": true, "len": true, "int": true, "bool": true, "dict": true, "list": true, "tuple": true,
	"sorted": true, "reversed": true, "range": true, "repr": true, "hasattr": true, "getattr": true,
	"type": true, "any": true, "all": true, "min": true, "max": true, "enumerate": true, "zip": true, "Label": true,
}

// effectful reports whether evaluating x may do more than compute a
// value: it calls a function other than a no-op, a pure builtin or a
// method (string formatting and the like).
func effectful(x bzl.Expr, noops map[string]bool) bool {
	found := false
	bzl.Walk(x, func(e bzl.Expr, _ []bzl.Expr) {
		c, ok := e.(*bzl.CallExpr)
		if !ok {
			return
		}
		switch fn := c.X.(type) {
		case *bzl.Ident:
			if !noops[fn.Name] && !pureBuiltins[fn.Name] {
				found = true
			}
		case *bzl.DotExpr:
		default:
			found = true
		}
	})
	return found
}

// idents adds the identifiers x uses to used.
func idents(x bzl.Expr, used map[string]bool) {
	bzl.Walk(x, func(e bzl.Expr, _ []bzl.Expr) {
		if id, ok := e.(*bzl.Ident); ok {
			used[id.Name] = true
		}
	})
}

// assignedName is the variable a plain assignment `NAME = ...` sets.
func assignedName(st bzl.Expr) (string, *bzl.AssignExpr, bool) {
	a, ok := st.(*bzl.AssignExpr)
	if !ok {
		return "", nil, false
	}
	id, ok := a.LHS.(*bzl.Ident)
	if !ok {
		return "", nil, false
	}
	return id.Name, a, true
}

// isNoopCall reports whether st is a call statement of a no-op function
// whose arguments have no effect.
func isNoopCall(st bzl.Expr, noops map[string]bool) bool {
	c, ok := st.(*bzl.CallExpr)
	if !ok {
		return false
	}
	id, ok := c.X.(*bzl.Ident)
	if !ok || !noops[id.Name] {
		return false
	}
	for _, a := range c.List {
		if effectful(a, noops) {
			return false
		}
	}
	return true
}

// pruneBody returns what in a function body can have an effect: without
// docstrings, pass, calls of no-op functions and assignments nothing left
// reads (and whose value has no effect).
func pruneBody(body []bzl.Expr, noops map[string]bool) []bzl.Expr {
	var rest []bzl.Expr
	for _, st := range body {
		if _, ok := st.(*bzl.StringExpr); ok {
			continue
		}
		if b, ok := st.(*bzl.BranchStmt); ok && b.Token == "pass" {
			continue
		}
		if isNoopCall(st, noops) {
			continue
		}
		rest = append(rest, st)
	}
	return keepUsed(rest, noops, false)
}

// keepUsed drops the assignments (and, at top level, the definitions and
// loads) that no other kept statement reads, transitively.
func keepUsed(stmts []bzl.Expr, noops map[string]bool, top bool) []bzl.Expr {
	decl := func(st bzl.Expr) ([]string, bool) {
		if name, a, ok := assignedName(st); ok && !effectful(a.RHS, noops) {
			return []string{name}, true
		}
		if !top {
			return nil, false
		}
		switch x := st.(type) {
		case *bzl.DefStmt:
			return []string{x.Name}, true
		case *bzl.LoadStmt:
			var names []string
			for _, to := range x.To {
				names = append(names, to.Name)
			}
			return names, true
		}
		return nil, false
	}
	used := map[string]bool{}
	keep := make([]bool, len(stmts))
	for i, st := range stmts {
		if _, ok := decl(st); !ok {
			keep[i] = true
			idents(st, used)
		}
	}
	for changed := true; changed; {
		changed = false
		for i, st := range stmts {
			if keep[i] {
				continue
			}
			names, _ := decl(st)
			for _, n := range names {
				if used[n] {
					keep[i] = true
					changed = true
					if d, ok := st.(*bzl.DefStmt); ok {
						for _, b := range d.Body {
							idents(b, used)
						}
						for _, p := range d.Params {
							idents(p, used)
						}
					} else if _, ok := st.(*bzl.LoadStmt); !ok {
						idents(st, used)
					}
					break
				}
			}
		}
	}
	var out []bzl.Expr
	for i, st := range stmts {
		if keep[i] {
			out = append(out, st)
		}
	}
	return out
}

// pruneTop is what of a file's top level can change a build: for the
// WORKSPACE, the statements other than no-op calls, with the
// definitions, assignments and loads they use; for a .bzl, everything
// but its no-op functions (whoever loads them finds nothing to call).
func pruneTop(stmts []bzl.Expr, noops map[string]bool, isWorkspace bool) []bzl.Expr {
	var rest []bzl.Expr
	for _, st := range stmts {
		if isNoopCall(st, noops) {
			continue
		}
		if d, ok := st.(*bzl.DefStmt); ok && noops[d.Name] {
			continue
		}
		rest = append(rest, st)
	}
	if !isWorkspace {
		return rest
	}
	return keepUsed(rest, noops, true)
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
