package gitrepo

import (
	"strings"
)

// Trailer is one "Key: value" line of a commit message's trailer block,
// such as "Approved-by: Alice <alice@example.com>".
type Trailer struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseTrailers returns the trailers of a commit message, following git's
// interpret-trailers rules closely: the trailer block is the message's last
// paragraph (never the subject paragraph); its lines are "Key: value"
// (Key made of letters, digits and '-') or continuation lines that start
// with whitespace; a block with other lines still counts if at least a
// quarter of its lines are trailers. Keys keep their spelling; compare them
// with strings.EqualFold or use TrailerValues.
func ParseTrailers(message string) []Trailer {
	msg := strings.ReplaceAll(message, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(msg, "\n \t"), "\n")
	// Drop comment lines, as git does before it looks for trailers.
	kept := lines[:0:0]
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		kept = append(kept, l)
	}
	lines = kept
	end := len(lines)
	start := end
	for start > 0 && strings.TrimSpace(lines[start-1]) != "" {
		start--
	}
	// The subject paragraph is never a trailer block.
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	if start <= first {
		return nil
	}
	var out []Trailer
	nonTrailers := 0
	for _, l := range lines[start:end] {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1].Value = strings.TrimSpace(out[len(out)-1].Value + " " + strings.TrimSpace(l))
			continue
		}
		if k, v, ok := splitTrailer(l); ok {
			out = append(out, Trailer{Key: k, Value: v})
			continue
		}
		nonTrailers++
	}
	if len(out) == 0 || nonTrailers > 3*len(out) {
		return nil
	}
	return out
}

func splitTrailer(line string) (key, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimRight(line[:i], " \t")
	if key == "" {
		return "", "", false
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", "", false
		}
	}
	return key, strings.TrimSpace(line[i+1:]), true
}

// TrailerValues returns the values of the trailers named key (compared
// case-insensitively), in order.
func TrailerValues(trailers []Trailer, key string) []string {
	var out []string
	for _, t := range trailers {
		if strings.EqualFold(t.Key, key) {
			out = append(out, t.Value)
		}
	}
	return out
}

// AddressOf returns the email address in a trailer value or signature
// string: the text between '<' and '>' ("Alice <alice@example.com>"), or the
// whole value when it is a bare address. It returns "" when there is none.
func AddressOf(value string) string {
	v := strings.TrimSpace(value)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			a := strings.TrimSpace(v[i+1 : i+j])
			if strings.Contains(a, "@") {
				return a
			}
			return ""
		}
		return ""
	}
	if strings.Contains(v, "@") && !strings.ContainsAny(v, " \t<>") {
		return v
	}
	return ""
}
