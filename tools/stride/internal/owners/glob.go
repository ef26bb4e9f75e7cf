package owners

import (
	"errors"
	"path"
	"strings"
)

// glob is a compiled per-file pattern. A pattern without '/' matches the
// path relative to the OWNERS file's directory with '*' and '?' matching
// '/' too, as Chromium's owners.py (fnmatch) and Gerrit's find-owners do:
// "*.cc" matches "x.cc" and "sub/x.cc", "x.cc" only "x.cc". A pattern
// with '/' matches paths relative to that
// directory, segment by segment; a "**" segment matches any number of
// directories, so "**/*.proto" matches .proto files at any depth.
// Segments use path.Match syntax: *, ?, [a-z], \ escapes.
// maxDoubleStars bounds the "**" segments of a pattern, which bounds the
// cost of matching.
const maxDoubleStars = 4

type glob struct {
	raw  string
	segs []string // nil for a base-name pattern
}

func compileGlob(s string) (glob, error) {
	if strings.HasPrefix(s, "/") {
		return glob{}, errors.New("must be relative to the OWNERS file's directory (no leading '/')")
	}
	if strings.HasSuffix(s, "/") {
		return glob{}, errors.New("matches files, not directories (end it with /** to match everything below)")
	}
	if !strings.Contains(s, "/") {
		if _, err := path.Match(s, ""); err != nil {
			return glob{}, err
		}
		if s == "**" {
			return glob{raw: s, segs: []string{"**"}}, nil
		}
		return glob{raw: s}, nil
	}
	var segs []string
	stars := 0
	for _, seg := range strings.Split(s, "/") {
		if seg == "**" {
			if len(segs) > 0 && segs[len(segs)-1] == "**" {
				continue // a/**/**/b is a/**/b
			}
			if stars++; stars > maxDoubleStars {
				return glob{}, errors.New("too many '**' segments (at most 4)")
			}
		}
		segs = append(segs, seg)
	}
	for _, seg := range segs {
		switch seg {
		case "":
			return glob{}, errors.New("empty path segment")
		case ".", "..":
			return glob{}, errors.New("'.' and '..' segments are not allowed")
		}
		if _, err := path.Match(seg, ""); err != nil {
			return glob{}, err
		}
	}
	return glob{raw: s, segs: segs}, nil
}

// match reports whether rel (a file path relative to the OWNERS file's
// directory) matches.
func (g glob) match(rel string) bool {
	if g.segs == nil {
		// '*' and '?' cross directories: match with '/' as a byte
		// they match (NUL never occurs in a git path).
		ok, _ := path.Match(g.raw, strings.ReplaceAll(rel, "/", "\x00"))
		return ok
	}
	return matchSegs(g.segs, strings.Split(rel, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return len(name) > 0
			}
			for i := 0; i < len(name); i++ {
				if matchSegs(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
