// Package config loads a service's typed configuration from defaults, a
// JSON file, environment variables and command-line flags, in increasing
// order of precedence: flags > env > file > defaults.
//
// The configuration is a struct whose fields carry a `config:"key"` tag (and
// an optional `help:"..."` tag for the flag usage); untagged embedded structs
// are flattened into it, so settings shared by services can live in one
// struct. The values already in the struct when Load is called are the
// defaults:
//
//	type Config struct {
//		Listen       string        `config:"listen" help:"address to listen on"`
//		DrainTimeout time.Duration `config:"drain-timeout"`
//	}
//	cfg := Config{Listen: ":8080", DrainTimeout: 10 * time.Second}
//	src, err := config.Load(fs, os.Args[1:], &cfg, config.Options{EnvPrefix: "ARTIFACTD_"})
//
// Each key becomes:
//   - a flag -KEY on the given FlagSet;
//   - an environment variable PREFIX + KEY in upper case with '-' and '.'
//     turned into '_' (key "drain-timeout" → ARTIFACTD_DRAIN_TIMEOUT);
//   - a member of the top-level JSON object of the config file.
//
// The config file is named by the flag -config (Options.FileFlag), else by
// the variable PREFIX + "CONFIG", else Options.DefaultFile if that file
// exists. It is one JSON object; a key the struct does not have is an error
// naming the file and line, and so is a value of the wrong JSON type:
//
//	{
//	  "listen": "127.0.0.1:8080",
//	  "drain-timeout": "10s",
//	  "tls": false,
//	  "workers": 4,
//	  "peers": ["a:1", "b:2"]
//	}
//
// Supported field types and how their values are written:
//
//	string          JSON string; env/flag as is
//	bool            JSON true/false; env/flag strconv.ParseBool ("-tls" alone means true)
//	int, int64      JSON integer; env/flag decimal
//	float64         JSON number; env/flag strconv.ParseFloat
//	time.Duration   JSON string such as "1m30s"; env/flag the same (time.ParseDuration)
//	[]string        JSON array of strings; env/flag comma-separated (a repeated flag appends)
//	TextUnmarshaler any type whose pointer implements encoding.TextUnmarshaler:
//	                JSON string; env/flag as is (e.g. log.Level)
//
// An invalid value is an *Error naming the key and where the value came
// from, e.g.
//
//	config: key "drain-timeout" from env ARTIFACTD_DRAIN_TIMEOUT: invalid duration "x"
//	config: key "listen" from file /etc/artifactd/config.json:3: want a string, got number 8080
//
// Checks that go beyond the type (a directory that must exist, two keys that
// go together) belong to the caller; Sources.Errorf builds errors in the same
// form from the recorded origin of each key.
package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options configure Load.
type Options struct {
	// EnvPrefix is prepended to each key's environment variable name, e.g.
	// "ARTIFACTD_". Empty disables configuration from the environment.
	EnvPrefix string
	// FileFlag is the name of the flag (and, after EnvPrefix, of the
	// environment variable) that names the config file. Default "config".
	FileFlag string
	// DefaultFile is read when neither the flag nor the variable names a
	// file, if it exists. Empty means no default file.
	DefaultFile string
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Error is an invalid configuration value.
type Error struct {
	Key    string // the config key, e.g. "listen"
	Source string // "default", "file PATH[:LINE]", "env NAME" or "flag -NAME"
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: key %q from %s: %v", e.Key, e.Source, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sources records where each key's value came from.
type Sources struct {
	// File is the config file that was read, or "".
	File   string
	origin map[string]string
}

// Origin returns where key's value came from: "default", "file PATH:LINE",
// "env NAME" or "flag -NAME".
func (s *Sources) Origin(key string) string {
	if o, ok := s.origin[key]; ok {
		return o
	}
	return "default"
}

// Errorf returns an *Error for key with its recorded origin, for checks done
// by the caller after Load.
func (s *Sources) Errorf(key, format string, a ...interface{}) error {
	return &Error{Key: key, Source: s.Origin(key), Err: fmt.Errorf(format, a...)}
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindFloat
	kindDuration
	kindStrings
	kindText
)

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	unmarshalType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	marshalType   = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

type field struct {
	key  string
	env  string
	help string
	kind kind
	v    reflect.Value // the addressable struct field
}

// EnvName returns the environment variable for key with prefix.
func EnvName(prefix, key string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

func fieldsOf(dst interface{}, prefix string) ([]*field, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Ptr || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: destination must be a pointer to a struct, not %T", dst)
	}
	var out []*field
	if err := collect(rv.Elem(), prefix, map[string]bool{}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// collect appends the tagged fields of the struct sv to out, descending into
// embedded structs that have no tag of their own.
func collect(sv reflect.Value, prefix string, seen map[string]bool, out *[]*field) error {
	st := sv.Type()
	for i := 0; i < st.NumField(); i++ {
		sf := st.Field(i)
		key := sf.Tag.Get("config")
		if key == "" && sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := collect(sv.Field(i), prefix, seen, out); err != nil {
				return err
			}
			continue
		}
		if key == "" || key == "-" {
			continue
		}
		if !sf.IsExported() {
			return fmt.Errorf("config: field %s (key %q) is not exported", sf.Name, key)
		}
		if seen[key] {
			return fmt.Errorf("config: key %q used twice", key)
		}
		seen[key] = true
		f := &field{key: key, help: sf.Tag.Get("help"), v: sv.Field(i)}
		if prefix != "" {
			f.env = EnvName(prefix, key)
		}
		switch t := sf.Type; {
		case reflect.PtrTo(t).Implements(unmarshalType):
			f.kind = kindText
		case t == durationType:
			f.kind = kindDuration
		case t.Kind() == reflect.String:
			f.kind = kindString
		case t.Kind() == reflect.Bool:
			f.kind = kindBool
		case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
			f.kind = kindInt
		case t.Kind() == reflect.Float64:
			f.kind = kindFloat
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
			f.kind = kindStrings
		default:
			return fmt.Errorf("config: field %s (key %q): unsupported type %s", sf.Name, key, t)
		}
		*out = append(*out, f)
	}
	return nil
}

// setString parses s (from env or a flag) into f.
func (f *field) setString(s string) error {
	switch f.kind {
	case kindString:
		f.v.SetString(s)
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid boolean %q", s)
		}
		f.v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || f.v.OverflowInt(n) {
			return fmt.Errorf("invalid integer %q", s)
		}
		f.v.SetInt(n)
	case kindFloat:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", s)
		}
		f.v.SetFloat(x)
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid duration %q", s)
		}
		f.v.SetInt(int64(d))
	case kindStrings:
		f.setStrings(splitList(s))
	case kindText:
		return f.v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	return nil
}

func (f *field) setStrings(list []string) {
	sl := reflect.MakeSlice(f.v.Type(), len(list), len(list))
	for i, s := range list {
		sl.Index(i).SetString(s)
	}
	f.v.Set(sl)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setJSON decodes a JSON value from the config file into f.
func (f *field) setJSON(raw json.RawMessage) error {
	var v interface{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	wrong := func(want string) error {
		return fmt.Errorf("want %s, got %s", want, describeJSON(v, raw))
	}
	switch f.kind {
	case kindString, kindText, kindDuration:
		s, ok := v.(string)
		if !ok {
			return wrong("a string")
		}
		return f.setString(s)
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return wrong("a boolean")
		}
		f.v.SetBool(b)
	case kindInt:
		n, ok := v.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		i, err := n.Int64()
		if err != nil || f.v.OverflowInt(i) {
			return wrong("an integer")
		}
		f.v.SetInt(i)
	case kindFloat:
		n, ok := v.(json.Number)
		if !ok {
			return wrong("a number")
		}
		x, err := n.Float64()
		if err != nil {
			return wrong("a number")
		}
		f.v.SetFloat(x)
	case kindStrings:
		arr, ok := v.([]interface{})
		if !ok {
			return wrong("an array of strings")
		}
		list := make([]string, len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want an array of strings, element %d is %s", i, describeJSON(e, nil))
			}
			list[i] = s
		}
		f.setStrings(list)
	}
	return nil
}

func describeJSON(v interface{}, raw json.RawMessage) string {
	var what string
	switch v.(type) {
	case nil:
		return "null"
	case string:
		what = "string"
	case bool:
		what = "boolean"
	case json.Number:
		what = "number"
	case []interface{}:
		return "an array"
	case map[string]interface{}:
		return "an object"
	}
	if raw == nil {
		b, _ := json.Marshal(v)
		raw = b
	}
	return what + " " + string(bytes.TrimSpace(raw))
}

// format renders f's current value the way env and flags write it.
func (f *field) format() string {
	switch f.kind {
	case kindStrings:
		return strings.Join(f.v.Interface().([]string), ",")
	case kindDuration:
		return time.Duration(f.v.Int()).String()
	case kindText:
		if f.v.Type().Implements(marshalType) {
			if b, err := f.v.Interface().(encoding.TextMarshaler).MarshalText(); err == nil {
				return string(b)
			}
		}
	}
	return fmt.Sprint(f.v.Interface())
}

// typeName names the kind of value for the usage text ("" for bools).
func (f *field) typeName() string {
	switch f.kind {
	case kindString:
		return "string"
	case kindInt:
		return "int"
	case kindFloat:
		return "number"
	case kindDuration:
		return "duration"
	case kindStrings:
		return "list"
	case kindText:
		return strings.ToLower(f.v.Type().Name())
	}
	return ""
}

// rawFlag records a flag's value as text; Load parses it after the file and
// the environment so that flags win.
type rawFlag struct {
	f    *field
	def  string
	set  bool
	vals []string
}

func (r *rawFlag) String() string {
	if r == nil {
		return ""
	}
	return r.def
}

func (r *rawFlag) Set(s string) error {
	r.set = true
	if r.f.kind == kindStrings {
		r.vals = append(r.vals, s)
	} else {
		r.vals = []string{s}
	}
	return nil
}

func (r *rawFlag) IsBoolFlag() bool { return r != nil && r.f != nil && r.f.kind == kindBool }

// Load fills dst (a pointer to a tagged struct holding the defaults) from the
// config file, the environment and args, registering one flag per key plus
// the file flag on fs, and parsing args with fs. A flag parse error
// (including flag.ErrHelp) is returned as is; fs reports it as its error
// handling says. Positional arguments are left in fs.Args for the caller.
func Load(fs *flag.FlagSet, args []string, dst interface{}, opts Options) (*Sources, error) {
	fields, err := fieldsOf(dst, opts.EnvPrefix)
	if err != nil {
		return nil, err
	}
	fileFlag := opts.FileFlag
	if fileFlag == "" {
		fileFlag = "config"
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	fileEnv := ""
	fileHelp := "configuration file (JSON)"
	if opts.EnvPrefix != "" {
		fileEnv = EnvName(opts.EnvPrefix, fileFlag)
		fileHelp += " (env " + fileEnv + ")"
	}
	filePath := fs.String(fileFlag, "", fileHelp)
	raws := make([]*rawFlag, len(fields))
	for i, f := range fields {
		// "(`duration`, env X)": the flag package shows the back-quoted word
		// as the flag's argument name.
		var notes []string
		if tn := f.typeName(); tn != "" {
			notes = append(notes, "`"+tn+"`")
		}
		if f.env != "" {
			notes = append(notes, "env "+f.env)
		}
		help := f.help
		if len(notes) > 0 {
			if help != "" {
				help += " "
			}
			help += "(" + strings.Join(notes, ", ") + ")"
		}
		def := ""
		if !f.v.IsZero() || f.kind == kindText {
			def = f.format()
		}
		raws[i] = &rawFlag{f: f, def: def}
		fs.Var(raws[i], f.key, help)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	src := &Sources{origin: map[string]string{}}
	byKey := map[string]*field{}
	for _, f := range fields {
		byKey[f.key] = f
	}

	// The file.
	path, explicit := *filePath, true
	if path == "" && fileEnv != "" {
		path, _ = lookup(fileEnv)
	}
	if path == "" && opts.DefaultFile != "" {
		path, explicit = opts.DefaultFile, false
	}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			src.File = path
			if err := loadFile(path, data, byKey, src); err != nil {
				return nil, err
			}
		case explicit || !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("config: %w", err)
		}
	}

	// The environment.
	if opts.EnvPrefix != "" {
		for _, f := range fields {
			s, ok := lookup(f.env)
			if !ok {
				continue
			}
			origin := "env " + f.env
			if err := f.setString(s); err != nil {
				return nil, &Error{Key: f.key, Source: origin, Err: err}
			}
			src.origin[f.key] = origin
		}
	}

	// The flags.
	for _, r := range raws {
		if !r.set {
			continue
		}
		origin := "flag -" + r.f.key
		var err error
		if r.f.kind == kindStrings {
			var list []string
			for _, v := range r.vals {
				list = append(list, splitList(v)...)
			}
			r.f.setStrings(list)
		} else {
			err = r.f.setString(r.vals[0])
		}
		if err != nil {
			return nil, &Error{Key: r.f.key, Source: origin, Err: err}
		}
		src.origin[r.f.key] = origin
	}
	return src, nil
}

// loadFile applies the JSON object in data to the fields, reading it token by
// token so that errors carry the line of the key.
func loadFile(path string, data []byte, byKey map[string]*field, src *Sources) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		// The streaming decoder's offsets are not always from the start of
		// the file; a whole-file decode gives the true position.
		var v interface{}
		if werr := json.Unmarshal(data, &v); werr != nil {
			err = werr
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset is just past the offending byte.
			line, col := lineCol(data, se.Offset-1)
			return fmt.Errorf("config: file %s:%d:%d: %v", path, line, col, err)
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("config: file %s: unexpected end of file", path)
		}
		return fmt.Errorf("config: file %s: %v", path, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("config: file %s: want a JSON object at the top level", path)
	}
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		key := tok.(string) // inside an object, Token returns keys as strings
		line, _ := lineCol(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntax(err)
		}
		if prev, dup := seen[key]; dup {
			return fmt.Errorf("config: file %s:%d: key %q repeated (first on line %d)", path, line, key, prev)
		}
		seen[key] = line
		f, ok := byKey[key]
		if !ok {
			return fmt.Errorf("config: file %s:%d: unknown key %q (known keys: %s)", path, line, key, knownKeys(byKey))
		}
		origin := fmt.Sprintf("file %s:%d", path, line)
		if err := f.setJSON(raw); err != nil {
			return &Error{Key: key, Source: origin, Err: err}
		}
		src.origin[key] = origin
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := lineCol(data, dec.InputOffset()-1)
		return fmt.Errorf("config: file %s:%d:%d: data after the top-level object", path, line, col)
	}
	return nil
}

func knownKeys(byKey map[string]*field) string {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
