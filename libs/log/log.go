// Package log is a small structured logger for the monorepo's services.
//
// A Logger writes one line per event to an io.Writer, as JSON (the default)
// or logfmt. Every line carries a time, a level and a message, followed by
// key/value fields in the order given:
//
//	{"time":"2024-05-01T12:00:00.000Z","level":"info","msg":"listening","addr":"127.0.0.1:8080"}
//	time=2024-05-01T12:00:00.000Z level=info msg=listening addr=127.0.0.1:8080
//
// Fields are passed as alternating keys and values (Info("msg", "k", v,
// ...)); With returns a Logger that adds fields to every line. Request ids
// travel in a context.Context (WithRequestID, RequestID), and FromContext
// returns the Logger stored with NewContext, with the request id added.
//
// A Logger is safe for concurrent use: each line is formatted in a private
// buffer and written with a single Write call under a mutex shared by the
// Logger and every Logger derived from it.
//
// The package depends on the standard library only and compiles with Go 1.19.
package log

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Level is the severity of a log line. Lines below a Logger's level are
// dropped.
type Level int

// The levels, in increasing severity. LevelInfo is the zero value, so a zero
// Options logs at info level.
const (
	LevelDebug Level = iota - 1
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{"debug", "info", "warn", "error"}

// String returns the level's lower-case name ("debug", "info", "warn",
// "error").
func (l Level) String() string {
	if l >= LevelDebug && l <= LevelError {
		return levelNames[l-LevelDebug]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel parses a level name, ignoring case. "warning" is accepted for
// "warn". An unknown name is an error that lists the valid ones.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return LevelDebug, nil
	case "info":
		return LevelInfo, nil
	case "warn", "warning":
		return LevelWarn, nil
	case "error":
		return LevelError, nil
	}
	return LevelInfo, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLevel, so a
// Level can be a field of a libs/config struct.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Format is the line format of a Logger.
type Format int

// The formats.
const (
	FormatJSON   Format = iota // one JSON object per line (the default)
	FormatLogfmt               // key=value pairs, values quoted when needed
)

// String returns "json" or "logfmt".
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatLogfmt:
		return "logfmt"
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat parses "json" or "logfmt" (case-insensitive; "text" is accepted
// for logfmt).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "json":
		return FormatJSON, nil
	case "logfmt", "text":
		return FormatLogfmt, nil
	}
	return FormatJSON, fmt.Errorf("unknown log format %q (want json or logfmt)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseFormat.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Options configure New. The zero value logs JSON at info level.
type Options struct {
	Level  Level
	Format Format
	// Now returns the time stamped on each line; nil means time.Now. Tests
	// set it to get stable output.
	Now func() time.Time
}

// Logger writes structured log lines. The zero value is not usable; use New
// or Nop. Methods on a nil *Logger do nothing, so optional loggers need no
// nil checks.
type Logger struct {
	out    *output
	level  Level
	format Format
	now    func() time.Time
	fields []byte // pre-encoded fields added by With, in this Logger's format
}

// output is shared by a Logger and every Logger derived from it.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Logger writing to w.
func New(w io.Writer, opts Options) *Logger {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Logger{out: &output{w: w}, level: opts.Level, format: opts.Format, now: now}
}

// Nop returns a Logger that discards everything.
func Nop() *Logger { return New(io.Discard, Options{Level: LevelError + 1}) }

// Level returns the minimum level this Logger writes.
func (l *Logger) Level() Level {
	if l == nil {
		return LevelError + 1
	}
	return l.level
}

// Enabled reports whether a line at level would be written.
func (l *Logger) Enabled(level Level) bool { return l != nil && level >= l.level }

// With returns a Logger that adds the key/value pairs kv to every line,
// after the message and before the line's own fields.
func (l *Logger) With(kv ...interface{}) *Logger {
	if l == nil || len(kv) == 0 {
		return l
	}
	c := *l
	buf := bytes.NewBuffer(append([]byte(nil), l.fields...))
	appendFields(buf, l.format, kv)
	c.fields = buf.Bytes()
	return &c
}

// Debug logs msg and the key/value pairs kv at debug level.
func (l *Logger) Debug(msg string, kv ...interface{}) { l.Log(LevelDebug, msg, kv...) }

// Info logs msg and the key/value pairs kv at info level.
func (l *Logger) Info(msg string, kv ...interface{}) { l.Log(LevelInfo, msg, kv...) }

// Warn logs msg and the key/value pairs kv at warn level.
func (l *Logger) Warn(msg string, kv ...interface{}) { l.Log(LevelWarn, msg, kv...) }

// Error logs msg and the key/value pairs kv at error level.
func (l *Logger) Error(msg string, kv ...interface{}) { l.Log(LevelError, msg, kv...) }

// Log writes one line at level. kv alternates keys (strings) and values; a
// key that is not a string, or a missing last value, is logged under the key
// "!BADKEY" rather than dropped. Write errors are ignored: logging must not
// fail the caller.
func (l *Logger) Log(level Level, msg string, kv ...interface{}) {
	if !l.Enabled(level) {
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	t := l.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if l.format == FormatLogfmt {
		buf.WriteString("time=")
		buf.WriteString(t)
		buf.WriteString(" level=")
		buf.WriteString(level.String())
		buf.WriteString(" msg=")
		writeLogfmtString(buf, msg)
	} else {
		buf.WriteString(`{"time":"`)
		buf.WriteString(t)
		buf.WriteString(`","level":"`)
		buf.WriteString(level.String())
		buf.WriteString(`","msg":`)
		writeJSONString(buf, msg)
	}
	buf.Write(l.fields)
	appendFields(buf, l.format, kv)
	if l.format == FormatJSON {
		buf.WriteByte('}')
	}
	buf.WriteByte('\n')
	l.out.mu.Lock()
	_, _ = l.out.w.Write(buf.Bytes())
	l.out.mu.Unlock()
	if buf.Cap() <= 64<<10 {
		bufPool.Put(buf)
	}
}

var bufPool = sync.Pool{New: func() interface{} { return new(bytes.Buffer) }}

// appendFields encodes kv (alternating keys and values) onto buf, each field
// preceded by its separator.
func appendFields(buf *bytes.Buffer, f Format, kv []interface{}) {
	for i := 0; i < len(kv); {
		key, ok := kv[i].(string)
		var val interface{}
		if ok && i+1 < len(kv) {
			val = kv[i+1]
			i += 2
		} else {
			key, val = "!BADKEY", kv[i]
			i++
		}
		if f == FormatLogfmt {
			buf.WriteByte(' ')
			writeLogfmtKey(buf, key)
			buf.WriteByte('=')
			writeLogfmtValue(buf, val)
		} else {
			buf.WriteByte(',')
			writeJSONString(buf, key)
			buf.WriteByte(':')
			writeJSONValue(buf, val)
		}
	}
}

// textOf returns the text form of values that are best logged as strings,
// and ok=false for the rest.
func textOf(v interface{}) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case error:
		if x == nil {
			return "<nil>", true
		}
		return x.Error(), true
	case time.Duration:
		return x.String(), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case []byte:
		return string(x), true
	case fmt.Stringer:
		return x.String(), true
	}
	return "", false
}

func writeJSONValue(buf *bytes.Buffer, v interface{}) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
		return
	case bool:
		buf.WriteString(strconv.FormatBool(x))
		return
	case int:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
		return
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
		return
	case int32:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
		return
	case uint:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
		return
	case uint64:
		buf.WriteString(strconv.FormatUint(x, 10))
		return
	case uint32:
		buf.WriteString(strconv.FormatUint(uint64(x), 10))
		return
	case float64:
		writeJSONFloat(buf, x)
		return
	case float32:
		writeJSONFloat(buf, float64(x))
		return
	}
	if s, ok := textOf(v); ok {
		writeJSONString(buf, s)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONString(buf, fmt.Sprintf("%+v", v))
		return
	}
	buf.Write(b)
}

func writeJSONFloat(buf *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		writeJSONString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

func writeLogfmtKey(buf *bytes.Buffer, key string) {
	if key == "" {
		buf.WriteString(`""`)
		return
	}
	for _, r := range key {
		if r <= ' ' || r == '=' || r == '"' || r == utf8.RuneError || r == 0x7f {
			buf.WriteByte('_')
			continue
		}
		buf.WriteRune(r)
	}
}

func writeLogfmtValue(buf *bytes.Buffer, v interface{}) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
		return
	case bool, int, int64, int32, uint, uint64, uint32:
		fmt.Fprint(buf, x)
		return
	case float64:
		buf.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		return
	case float32:
		buf.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
		return
	}
	if s, ok := textOf(v); ok {
		writeLogfmtString(buf, s)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeLogfmtString(buf, fmt.Sprintf("%+v", v))
		return
	}
	writeLogfmtString(buf, string(b))
}

// writeLogfmtString writes s bare when it is non-empty and has no spaces,
// quotes, '=' or control characters, and as a Go-style quoted string
// otherwise.
func writeLogfmtString(buf *bytes.Buffer, s string) {
	if needsQuote(s) {
		buf.WriteString(strconv.Quote(s))
		return
	}
	buf.WriteString(s)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r <= ' ' || r == '=' || r == '"' || r == '\\' || r == 0x7f || r == utf8.RuneError {
			return true
		}
	}
	return false
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// WithRequestID returns a copy of ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// NewContext returns a copy of ctx carrying l, for FromContext.
func NewContext(ctx context.Context, l *Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

// FromContext returns the Logger stored in ctx by NewContext (Nop if none),
// with a "request_id" field when ctx carries a request id.
func FromContext(ctx context.Context) *Logger {
	l, _ := ctx.Value(loggerKey).(*Logger)
	if l == nil {
		l = Nop()
	}
	if id := RequestID(ctx); id != "" {
		l = l.With("request_id", id)
	}
	return l
}
