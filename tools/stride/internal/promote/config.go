// Package promote is `stride promote`: the environments a build moves
// through (ci/environments.star), the criteria that must hold before it
// moves, and the robot that evaluates them and records every decision in
// the ledger (internal/ledger) before it switches an environment's APT
// distribution to the build (docs/promote.md).
package promote

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bazelbuild/buildtools/build"
)

// ConfigFile is the environments file, relative to the repository root.
const ConfigFile = "ci/environments.star"

// ErrConfig marks an error in the environments file (exit 2); its text
// starts with file:line:col.
var ErrConfig = errors.New("bad environments file")

// Config is the parsed environments file.
type Config struct {
	// Path is the file's name as given (used in errors).
	Path string `json:"path"`
	// Envs are the environments in promotion order: each after the one
	// it follows (topological, file order among siblings).
	Envs   []*Env `json:"environments"`
	byName map[string]*Env
}

// Env is one environment.
type Env struct {
	Name string `json:"name"`
	// After is the environment a build must have reached before this one
	// ("" for the first).
	After    string      `json:"after,omitempty"`
	Criteria []Criterion `json:"criteria"`
	// Instances is how many processes run each service (the deployer's;
	// default 2).
	Instances int `json:"instances"`
	// Health maps a service (package name) to the URL that answers its
	// health check in this environment.
	Health map[string]string `json:"health,omitempty"`
	// Deploy, when set, is the command (a path relative to the repository
	// root, run without a shell) that deploys a build to this environment
	// instead of the local deployer (docs/environments.md).
	Deploy string `json:"deploy,omitempty"`
	// Pos is where the environment is declared ("file:line:col").
	Pos string `json:"pos"`
}

// Criterion kinds.
const (
	TestsGreen     = "tests_green"
	Soak           = "soak"
	Perf           = "perf"
	OwnersApproved = "owners_approved"
	Healthy        = "healthy"
	Window         = "window"
)

// Criterion is one criterion with its arguments.
type Criterion struct {
	Kind string `json:"kind"`
	// Soak: how long the build must have been in the previous environment.
	Soak time.Duration `json:"soak_ns,omitempty"`
	// Perf: the largest tolerated significant slowdown (0.05 = 5%).
	MaxRegression float64 `json:"max_regression,omitempty"`
	// Healthy: the largest tolerated share of failed requests through
	// the previous environment's balancer over the soak (0.01 = 1%).
	MaxErrorRate float64 `json:"max_error_rate,omitempty"`
	// Window: the days (a bitmask of time.Weekday) and the hours [from, to)
	// in Location when promotions may happen.
	Days     uint8          `json:"days,omitempty"`
	FromHour int            `json:"from_hour,omitempty"`
	ToHour   int            `json:"to_hour,omitempty"`
	Location *time.Location `json:"-"`
	// Text is the criterion as written, e.g. `soak(hours = 2)`.
	Text string `json:"text"`
}

// Env returns the environment called name.
func (c *Config) Env(name string) (*Env, bool) {
	e, ok := c.byName[name]
	return e, ok
}

// Names lists the environments in promotion order.
func (c *Config) Names() []string {
	var n []string
	for _, e := range c.Envs {
		n = append(n, e.Name)
	}
	return n
}

// Has reports whether the environment has a criterion of kind.
func (e *Env) Has(kind string) (Criterion, bool) {
	for _, c := range e.Criteria {
		if c.Kind == kind {
			return c, true
		}
	}
	return Criterion{}, false
}

// LoadConfig reads and parses the environments file at path.
func LoadConfig(path, name string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: no such file (see docs/promote.md)", name, ErrConfig)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ParseConfig(name, data)
}

// parser collects the position of the node being checked for errors.
type parser struct{ file string }

func (p *parser) errorf(x build.Expr, format string, a ...interface{}) error {
	start, _ := x.Span()
	return fmt.Errorf("%s: %w", p.pos(start), &configError{fmt.Sprintf(format, a...)})
}

func (p *parser) pos(at build.Position) string {
	return fmt.Sprintf("%s:%d:%d", p.file, at.Line, at.LineRune)
}

// configError carries the message; it unwraps to ErrConfig.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }
func (e *configError) Unwrap() error { return ErrConfig }

// ParseConfig parses an environments file. name is used in errors, which
// read "name:line:col: message" and wrap ErrConfig.
func ParseConfig(name string, data []byte) (*Config, error) {
	f, err := build.ParseDefault(name, data)
	if err != nil {
		var pe build.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d:%d: %w", name, pe.Pos.Line, pe.Pos.LineRune, &configError{pe.Message})
		}
		return nil, fmt.Errorf("%v: %w", err, ErrConfig)
	}
	p := &parser{file: name}
	cfg := &Config{Path: name, byName: map[string]*Env{}}
	var order []*Env
	afterPos := map[string]build.Expr{}
	for _, st := range f.Stmt {
		if _, ok := st.(*build.CommentBlock); ok {
			continue
		}
		call, ok := st.(*build.CallExpr)
		if !ok || callName(call) != "environment" {
			return nil, p.errorf(st, "want only environment(...) calls")
		}
		e, after, err := p.environment(call)
		if err != nil {
			return nil, err
		}
		if prev, dup := cfg.byName[e.Name]; dup {
			return nil, p.errorf(call, "environment %q is declared twice (first at %s)", e.Name, prev.Pos)
		}
		cfg.byName[e.Name] = e
		order = append(order, e)
		if after != nil {
			afterPos[e.Name] = after
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%s:1:1: %w", name, &configError{"no environment(...) declared"})
	}
	var roots []*Env
	for _, e := range order {
		if e.After == "" {
			roots = append(roots, e)
			continue
		}
		if _, ok := cfg.byName[e.After]; !ok {
			return nil, p.errorf(afterPos[e.Name], "environment %q comes after %q, which is not declared (want one of %s)", e.Name, e.After, quoted(names(order)))
		}
	}
	if len(roots) > 1 {
		return nil, fmt.Errorf("%s: %w", roots[1].Pos, &configError{fmt.Sprintf("environment %q has no after = \"...\": only the first environment (%q) may omit it", roots[1].Name, roots[0].Name)})
	}
	// Cycles: follow after from every environment.
	for _, e := range order {
		seen := map[string]bool{e.Name: true}
		path := []string{e.Name}
		for cur := e; cur.After != ""; {
			cur = cfg.byName[cur.After]
			path = append(path, cur.Name)
			if seen[cur.Name] {
				return nil, p.errorf(afterPos[e.Name], "environments form a cycle: %s", strings.Join(path, " after "))
			}
			seen[cur.Name] = true
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: %w", order[0].Pos, &configError{"every environment has an after: one must be first"})
	}
	// Promotion order: breadth-first from the root, file order among siblings.
	queue := []*Env{roots[0]}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		cfg.Envs = append(cfg.Envs, e)
		for _, x := range order {
			if x.After == e.Name {
				queue = append(queue, x)
			}
		}
	}
	return cfg, nil
}

func names(envs []*Env) []string {
	var n []string
	for _, e := range envs {
		n = append(n, e.Name)
	}
	return n
}

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func callName(c *build.CallExpr) string {
	if id, ok := c.X.(*build.Ident); ok {
		return id.Name
	}
	return ""
}

// kwargs returns a call's keyword arguments; positional ones are errors.
func (p *parser) kwargs(call *build.CallExpr, what string, allowed ...string) (map[string]*build.AssignExpr, error) {
	out := map[string]*build.AssignExpr{}
	for _, a := range call.List {
		as, ok := a.(*build.AssignExpr)
		if !ok || as.Op != "=" {
			return nil, p.errorf(a, "%s: want keyword arguments (name = value)", what)
		}
		id, ok := as.LHS.(*build.Ident)
		if !ok {
			return nil, p.errorf(a, "%s: want keyword arguments (name = value)", what)
		}
		known := false
		for _, k := range allowed {
			known = known || k == id.Name
		}
		if !known {
			want := "no arguments"
			if len(allowed) > 0 {
				want = "want " + strings.Join(allowed, ", ")
			}
			return nil, p.errorf(a, "%s: unknown argument %q (%s)", what, id.Name, want)
		}
		if _, dup := out[id.Name]; dup {
			return nil, p.errorf(a, "%s: argument %q given twice", what, id.Name)
		}
		out[id.Name] = as
	}
	return out, nil
}

func (p *parser) str(as *build.AssignExpr, what string) (string, error) {
	s, ok := as.RHS.(*build.StringExpr)
	if !ok {
		return "", p.errorf(as.RHS, "%s: want a string", what)
	}
	return s.Value, nil
}

func (p *parser) num(as *build.AssignExpr, what string) (float64, error) {
	l, ok := as.RHS.(*build.LiteralExpr)
	if !ok {
		return 0, p.errorf(as.RHS, "%s: want a number", what)
	}
	v, err := strconv.ParseFloat(l.Token, 64)
	if err != nil || v < 0 {
		return 0, p.errorf(as.RHS, "%s: want a number >= 0, not %s", what, l.Token)
	}
	return v, nil
}

func (p *parser) environment(call *build.CallExpr) (*Env, build.Expr, error) {
	args, err := p.kwargs(call, "environment()", "name", "after", "criteria", "instances", "health", "deploy")
	if err != nil {
		return nil, nil, err
	}
	start, _ := call.Span()
	e := &Env{Instances: 2, Pos: p.pos(start), Criteria: []Criterion{}}
	as, ok := args["name"]
	if !ok {
		return nil, nil, p.errorf(call, "environment(): name = \"...\" is required")
	}
	if e.Name, err = p.str(as, "environment(): name"); err != nil {
		return nil, nil, err
	}
	if !validName(e.Name) {
		return nil, nil, p.errorf(as.RHS, "environment(): name %q: want lower-case letters, digits and '-' (it names an APT distribution)", e.Name)
	}
	what := fmt.Sprintf("environment %q", e.Name)
	var afterX build.Expr
	if as, ok := args["after"]; ok {
		if e.After, err = p.str(as, what+": after"); err != nil {
			return nil, nil, err
		}
		afterX = as.RHS
		if e.After == e.Name {
			return nil, nil, p.errorf(as.RHS, "%s comes after itself (a cycle)", what)
		}
	}
	if as, ok := args["instances"]; ok {
		v, err := p.num(as, what+": instances")
		if err != nil {
			return nil, nil, err
		}
		if v < 1 || v != float64(int(v)) {
			return nil, nil, p.errorf(as.RHS, "%s: instances: want a whole number >= 1", what)
		}
		e.Instances = int(v)
	}
	if as, ok := args["deploy"]; ok {
		if e.Deploy, err = p.str(as, what+": deploy"); err != nil {
			return nil, nil, err
		}
		if strings.TrimSpace(e.Deploy) == "" || strings.HasPrefix(e.Deploy, "/") || strings.ContainsAny(e.Deploy, " \t\n") {
			return nil, nil, p.errorf(as.RHS, "%s: deploy: %q: want a program's path relative to the repository root, such as \"ci/deploy-uat.sh\" (no arguments, no spaces)", what, e.Deploy)
		}
	}
	if as, ok := args["health"]; ok {
		d, ok := as.RHS.(*build.DictExpr)
		if !ok {
			return nil, nil, p.errorf(as.RHS, "%s: health: want a dict {\"service\": \"http://...\"}", what)
		}
		e.Health = map[string]string{}
		for _, kv := range d.List {
			k, ok1 := kv.Key.(*build.StringExpr)
			v, ok2 := kv.Value.(*build.StringExpr)
			if !ok1 || !ok2 {
				return nil, nil, p.errorf(kv, "%s: health: want \"service\": \"URL\" entries", what)
			}
			if !strings.HasPrefix(v.Value, "http://") && !strings.HasPrefix(v.Value, "https://") {
				return nil, nil, p.errorf(kv.Value, "%s: health of %s: want an http:// or https:// URL", what, k.Value)
			}
			e.Health[k.Value] = v.Value
		}
	}
	if as, ok := args["criteria"]; ok {
		l, ok := as.RHS.(*build.ListExpr)
		if !ok {
			return nil, nil, p.errorf(as.RHS, "%s: criteria: want a list such as [tests_green(), soak(hours = 2)]", what)
		}
		seen := map[string]bool{}
		for _, x := range l.List {
			c, err := p.criterion(x, what)
			if err != nil {
				return nil, nil, err
			}
			if seen[c.Kind] {
				return nil, nil, p.errorf(x, "%s: criterion %s() given twice", what, c.Kind)
			}
			seen[c.Kind] = true
			e.Criteria = append(e.Criteria, c)
		}
	}
	return e, afterX, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

var criteriaArgs = map[string][]string{
	TestsGreen:     nil,
	Soak:           {"seconds", "minutes", "hours", "days"},
	Perf:           {"max_regression"},
	OwnersApproved: nil,
	Healthy:        {"max_error_rate"},
	Window:         {"days", "hours", "tz"},
}

func criteriaNames() string {
	var n []string
	for k := range criteriaArgs {
		n = append(n, k+"()")
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

func (p *parser) criterion(x build.Expr, env string) (Criterion, error) {
	call, ok := x.(*build.CallExpr)
	if !ok || callName(call) == "" {
		return Criterion{}, p.errorf(x, "%s: want a criterion call such as tests_green() (one of %s)", env, criteriaNames())
	}
	kind := callName(call)
	allowed, known := criteriaArgs[kind]
	if !known {
		return Criterion{}, p.errorf(call, "%s: unknown criterion %s() (want one of %s)", env, kind, criteriaNames())
	}
	what := fmt.Sprintf("%s: %s()", env, kind)
	args, err := p.kwargs(call, what, allowed...)
	if err != nil {
		return Criterion{}, err
	}
	var text []string
	for _, a := range call.List {
		text = append(text, build.FormatString(a))
	}
	c := Criterion{Kind: kind, Text: kind + "(" + strings.Join(text, ", ") + ")"}
	switch kind {
	case Soak:
		if len(args) == 0 {
			return c, p.errorf(call, "%s: want a duration, e.g. soak(hours = 2)", what)
		}
		units := map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}
		for k, as := range args {
			v, err := p.num(as, what+": "+k)
			if err != nil {
				return c, err
			}
			c.Soak += time.Duration(v * float64(units[k]))
		}
	case Perf:
		c.MaxRegression = 0.05
		if as, ok := args["max_regression"]; ok {
			if c.MaxRegression, err = p.num(as, what+": max_regression"); err != nil {
				return c, err
			}
			if c.MaxRegression >= 10 {
				return c, p.errorf(as.RHS, "%s: max_regression is a fraction (0.05 = 5%%), not %v", what, c.MaxRegression)
			}
		}
	case Healthy:
		c.MaxErrorRate = 0.01
		if as, ok := args["max_error_rate"]; ok {
			if c.MaxErrorRate, err = p.num(as, what+": max_error_rate"); err != nil {
				return c, err
			}
			if c.MaxErrorRate < 0 || c.MaxErrorRate >= 1 {
				return c, p.errorf(as.RHS, "%s: max_error_rate is a fraction from 0 to 1 (0.01 = 1%%), not %v", what, c.MaxErrorRate)
			}
		}
	case Window:
		c.Days, c.FromHour, c.ToHour, c.Location = 0x7f, 0, 24, time.UTC
		if as, ok := args["days"]; ok {
			s, err := p.str(as, what+": days")
			if err != nil {
				return c, err
			}
			if c.Days, err = parseDays(s); err != nil {
				return c, p.errorf(as.RHS, "%s: days: %v", what, err)
			}
		}
		if as, ok := args["hours"]; ok {
			s, err := p.str(as, what+": hours")
			if err != nil {
				return c, err
			}
			if c.FromHour, c.ToHour, err = parseHours(s); err != nil {
				return c, p.errorf(as.RHS, "%s: hours: %v", what, err)
			}
		}
		if as, ok := args["tz"]; ok {
			s, err := p.str(as, what+": tz")
			if err != nil {
				return c, err
			}
			if c.Location, err = time.LoadLocation(s); err != nil {
				return c, p.errorf(as.RHS, "%s: tz: unknown time zone %q", what, s)
			}
		}
	}
	return c, nil
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func dayIndex(s string) (int, bool) {
	for i, d := range dayNames {
		if d == s {
			return i, true
		}
	}
	return 0, false
}

// parseDays parses "mon-thu", "mon,wed,fri", "sat-sun".
func parseDays(s string) (uint8, error) {
	var m uint8
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := dayIndex(from)
		b, ok2 := a, true
		if isRange {
			b, ok2 = dayIndex(to)
		}
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("%q: want days such as \"mon-thu\" or \"mon,wed\" (%s)", part, strings.Join(dayNames, " "))
		}
		for i := a; ; i = (i + 1) % 7 {
			m |= 1 << uint(i)
			if i == b {
				break
			}
		}
	}
	return m, nil
}

// parseHours parses "09-16": from 09:00 until 16:00.
func parseHours(s string) (int, int, error) {
	from, to, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(from))
	b, err2 := strconv.Atoi(strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil || a < 0 || b > 24 || a >= b {
		return 0, 0, fmt.Errorf("%q: want \"HH-HH\" with the first hour before the second, e.g. \"09-16\"", s)
	}
	return a, b, nil
}

// InWindow reports whether t is inside the window criterion c.
func (c Criterion) InWindow(t time.Time) bool {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return c.Days&(1<<uint(t.Weekday())) != 0 && t.Hour() >= c.FromHour && t.Hour() < c.ToHour
}

// CheckDeploy checks that each environment's deploy command is an
// executable file under root (the repository root); `stride promote lint`
// runs it. Its errors name the environment's position and wrap ErrConfig.
func (c *Config) CheckDeploy(root string) error {
	for _, e := range c.Envs {
		if e.Deploy == "" {
			continue
		}
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(e.Deploy)))
		switch {
		case err != nil && os.IsNotExist(err):
			err = fmt.Errorf("no such file")
		case err == nil && (fi.IsDir() || fi.Mode()&0o111 == 0):
			err = fmt.Errorf("not an executable file (chmod +x %s)", e.Deploy)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e.Pos, &configError{fmt.Sprintf("environment %q: deploy: %s: %v", e.Name, e.Deploy, err)})
		}
	}
	return nil
}
