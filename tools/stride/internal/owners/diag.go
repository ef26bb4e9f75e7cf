package owners

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a file: 1-based line and byte column. Line or Col 0
// means "the whole file" or "the whole line".
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats p as file:line:col, leaving out zero parts.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// FileLine formats p as file:line.
func (p Pos) FileLine() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Severity of a diagnostic.
type Severity int

// Severities. Errors fail `stride owners lint` and a check that depends on
// the file; warnings are printed but fail only `lint --strict`.
const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalJSON writes "error" or "warning".
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "error" or "warning".
func (s *Severity) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("unknown severity %q", v)
	}
	return nil
}

// Diagnostic codes, stable for JSON consumers.
const (
	CodeSyntax         = "syntax"          // a line that does not parse
	CodeUnknownAlias   = "unknown-alias"   // @team not defined in OWNERS_ALIASES
	CodeAliasCycle     = "alias-cycle"     // a team that contains itself
	CodeIncludeCycle   = "include-cycle"   // file: includes that loop
	CodeMissingInclude = "missing-include" // file: target that does not exist
	CodeUnowned        = "unowned"         // files no owner can approve
	CodeUnsatisfiable  = "unsatisfiable"   // require N with fewer than N possible approvers
	CodeDuplicate      = "duplicate"       // the same entry twice
	CodeConflict       = "conflict"        // an entry both granted and negated
	CodeUnused         = "unused"          // a per-file glob that matches no file, an ignored line
	CodeEmptyTeam      = "empty-team"      // a team without members
	CodeIgnored        = "ignored"         // a file or line stride does not read
	CodeUnreadable     = "unreadable"      // an OWNERS file or directory that cannot be read
)

// Diagnostic is one problem found in an OWNERS or OWNERS_ALIASES file.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Msg      string   `json:"message"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Msg)
}

// Diagnostics is a list of diagnostics. As an error it reports all of them,
// one per line; Load returns it when a file has errors.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Errors returns the diagnostics of severity Error.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(Error) }

// Warnings returns the diagnostics of severity Warning.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(Warning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// sorted returns the diagnostics sorted by file, line, column, message,
// without exact duplicates.
func (ds Diagnostics) sorted() Diagnostics {
	out := append(Diagnostics(nil), ds...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
	var uniq Diagnostics
	for i, d := range out {
		if i > 0 && d == out[i-1] {
			continue
		}
		uniq = append(uniq, d)
	}
	return uniq
}

func errorf(pos Pos, code, format string, args ...interface{}) Diagnostic {
	return Diagnostic{Pos: pos, Severity: Error, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func warnf(pos Pos, code, format string, args ...interface{}) Diagnostic {
	return Diagnostic{Pos: pos, Severity: Warning, Code: code, Msg: fmt.Sprintf(format, args...)}
}
