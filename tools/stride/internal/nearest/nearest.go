// Package nearest finds the names closest to a mistyped one, for "did you
// mean" hints (an unknown team, a label without //).
package nearest

import "sort"

// Names returns up to max candidates close to name, closest first (ties
// by name): those that contain name or that name contains, and the
// nearest by edit distance if within a third of name's length (at least
// 2), with any as near.
func Names(name string, candidates []string, max int) []string {
	limit := len(name) / 3
	if limit < 2 {
		limit = 2
	}
	type cand struct {
		name string
		d    int
		sub  bool // a substring match
	}
	var found []cand
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == name {
			continue
		}
		seen[c] = true
		d := Distance(name, c)
		sub := contains(c, name) || contains(name, c)
		if d > limit && !sub {
			continue
		}
		found = append(found, cand{c, d, sub})
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].d != found[j].d {
			return found[i].d < found[j].d
		}
		return found[i].name < found[j].name
	})
	out := []string{}
	for _, f := range found {
		if len(out) < max && (f.d == found[0].d || f.sub) {
			out = append(out, f.name)
		}
	}
	return out
}

func contains(s, sub string) bool {
	if len(sub) < 3 {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min3(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func min3(a, b, c int) int {
	if b < a {
		a = b
	}
	if c < a {
		a = c
	}
	return a
}
