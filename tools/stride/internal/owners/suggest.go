package owners

import (
	"sort"
	"strings"
)

// SuggestSchema is the "schema" of a Suggestion.
const SuggestSchema = "stride.owners-suggest/v1"

// Suggestion is whom to ask for the approvals a check still misses.
type Suggestion struct {
	Schema    string              `json:"schema"`
	Base      string              `json:"base,omitempty"`
	Head      string              `json:"head,omitempty"`
	Approvers []SuggestedApprover `json:"approvers"`
	// Unresolved lists files the suggested people cannot finish: only "*"
	// grants them (any reviewer will do), or too few people are listed.
	Unresolved []UnresolvedFile `json:"unresolved,omitempty"`
	// OnePerson, when more than one approver is suggested, are the people
	// who could each approve everything alone (owners further from the
	// files, e.g. a member of the root's team), sorted.
	OnePerson []string `json:"one_person,omitempty"`
	// Diagnostics are the errors in the OWNERS files the check depends on
	// (as in Result): suggestions made past them may be wrong.
	Diagnostics Diagnostics `json:"diagnostics,omitempty"`

	changed int // the number of changed files
}

// SuggestedApprover is one person to ask.
type SuggestedApprover struct {
	Email string `json:"email"`
	// Files are the changed files this person's approval helps.
	Files []string `json:"files"`
	// Via are the OWNERS entries that make them an owner ("@libs-team
	// (libs/OWNERS:3)").
	Via []string `json:"via"`
	// Level is their closest level over Files (0: the closest OWNERS).
	Level int `json:"level"`
	// AnyOf, when set, are the people who could each take this person's
	// place (Email among them, sorted): any one of a team will do, so
	// the choice is the reviewers'.
	AnyOf []string `json:"any_of,omitempty"`
}

// UnresolvedFile is a file suggestions cannot complete, and why.
type UnresolvedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// need is what one file still needs during suggestion.
type need struct {
	f     *FileResult
	o     *Owners
	count int                        // approvals still needed
	pool  map[string]bool            // who may count toward count
	teams map[string]map[string]bool // missing team -> who may satisfy it (shrinks as teams are met)
	reach map[string]map[string]bool // the same, fixed: teams suggestions can satisfy
}

// Suggest returns the fewest people found who together complete the
// approvals res misses, preferring the closest owners: for each file only
// the people of its closest OWNERS level are considered, widening to the
// next level only when that level has too few people. Ties go to the
// person closer to the files, then alphabetically, so the answer is
// deterministic. Only people named in OWNERS files (directly or by a team)
// are suggested, never for "*"; authors and people who already approved are
// left out. The search is greedy set cover followed by dropping anyone
// made redundant.
func Suggest(res *Result) *Suggestion {
	s := &Suggestion{Schema: SuggestSchema, Base: res.Base, Head: res.Head, Approvers: []SuggestedApprover{},
		Diagnostics: res.Diagnostics, changed: res.Summary.Files}
	needs, unresolved := needsOf(res, blockedEmails(res))
	s.Unresolved = unresolved
	picked := prune(pickGreedy(needs), needs)
	for _, p := range picked {
		sa := describeApprover(p, needs)
		sa.AnyOf = replacements(p, picked, needs, blockedEmails(res))
		s.Approvers = append(s.Approvers, sa)
	}
	if len(picked) > 1 && len(unresolved) == 0 {
		s.OnePerson = onePerson(needs, blockedEmails(res))
	}
	return s
}

// onePerson returns the people who alone complete every need, at any
// level: an owner of each file (one approval needed) who is a member of
// each team still missing.
func onePerson(needs []*need, blocked map[string]bool) []string {
	var out []string
	if len(needs) == 0 {
		return nil
	}
	for _, p := range needs[0].o.People() {
		if blocked[p] {
			continue
		}
		ok := true
		for _, n := range needs {
			if n.f.Need > 1 || n.f.Need == 1 && !n.o.IsOwner(p) {
				ok = false
				break
			}
			for _, members := range n.reach {
				if !members[p] {
					ok = false
				}
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// replacements returns, with p, the people who could each replace p among
// picked and still complete every need; nil when no one could.
func replacements(p string, picked []string, needs []*need, blocked map[string]bool) []string {
	set := map[string]bool{} // satisfiedBy reads keys: delete, never set false
	for _, q := range picked {
		if q != p {
			set[q] = true
		}
	}
	candidates := map[string]bool{}
	for _, n := range needs {
		for q := range n.pool {
			candidates[q] = true
		}
		for _, members := range n.reach {
			for q := range members {
				candidates[q] = true
			}
		}
	}
	out := []string{p}
	for _, q := range sortedKeys(candidates) {
		if q == p || set[q] || blocked[q] {
			continue
		}
		set[q] = true
		if satisfiedBy(set, needs) {
			out = append(out, q)
		}
		delete(set, q)
	}
	if len(out) == 1 {
		return nil
	}
	sort.Strings(out)
	return out
}

// blockedEmails are the people who cannot be suggested: those who
// approved already and the change's authors.
func blockedEmails(res *Result) map[string]bool {
	blocked := map[string]bool{}
	for _, a := range res.Approvals {
		blocked[strings.ToLower(a.Email)] = true
	}
	for _, a := range res.Authors {
		blocked[strings.ToLower(a)] = true
	}
	return blocked
}

// needsOf is Suggest's first phase: what each file still needs (approvals
// from its closest owners, missing teams), and the files no suggestion
// can complete.
func needsOf(res *Result, blocked map[string]bool) ([]*need, []UnresolvedFile) {
	var needs []*need
	var unresolved []UnresolvedFile
	for i := range res.Files {
		f := &res.Files[i]
		if f.Approved || f.owners == nil {
			continue
		}
		o := f.owners
		if f.Unowned {
			unresolved = append(unresolved, UnresolvedFile{Path: f.Path, Reason: "no OWNERS entry covers it; fix the OWNERS files"})
			continue
		}
		n := &need{f: f, o: o, count: f.Need, pool: closestPool(o, f.Need, blocked), teams: map[string]map[string]bool{}, reach: map[string]map[string]bool{}}
		if n.count > len(n.pool) {
			reason := "needs " + plural(n.count, "more approval", "more approvals") + " but only " + plural(len(n.pool), "listed person", "listed people") + " can still give one"
			if o.Anyone() {
				reason += "; a \"*\" entry lets any other reviewer approve"
			}
			unresolved = append(unresolved, UnresolvedFile{Path: f.Path, Reason: reason})
			n.count = len(n.pool)
		}
		for _, team := range f.MissingTeams {
			set := teamMembers(o, team, blocked)
			if len(set) == 0 {
				unresolved = append(unresolved, UnresolvedFile{Path: f.Path, Reason: "no member of @" + team + " can still approve"})
				continue
			}
			n.teams[team] = set
			n.reach[team] = set
		}
		needs = append(needs, n)
	}
	return needs, unresolved
}

// closestPool is who may count toward count approvals: the people of the
// closest level, widening level by level until there are count of them.
// Owners marked #{LAST_RESORT_SUGGESTION} join only when everyone else
// together is too few.
func closestPool(o *Owners, count int, blocked map[string]bool) map[string]bool {
	byLevel := map[int][]string{}
	var levels []int
	var lastResort []string
	for _, p := range o.People() {
		if blocked[p] {
			continue
		}
		if o.lastResort(p) {
			lastResort = append(lastResort, p)
			continue
		}
		l := o.LevelOf(p)
		if _, ok := byLevel[l]; !ok {
			levels = append(levels, l)
		}
		byLevel[l] = append(byLevel[l], p)
	}
	sort.Ints(levels)
	pool := map[string]bool{}
	for _, l := range levels {
		if len(pool) >= count && len(pool) > 0 {
			break
		}
		for _, p := range byLevel[l] {
			pool[p] = true
		}
	}
	for _, p := range lastResort { // closest first (People's order)
		if len(pool) >= count && len(pool) > 0 {
			break
		}
		pool[p] = true
	}
	return pool
}

// teamMembers are the members of team (as o's grants list them) who may
// still approve.
func teamMembers(o *Owners, team string, blocked map[string]bool) map[string]bool {
	set := map[string]bool{}
	for _, tr := range o.Teams {
		if tr.Team != team {
			continue
		}
		for _, m := range tr.Members {
			if !blocked[m] {
				set[m] = true
			}
		}
	}
	return set
}

// pickGreedy is Suggest's second phase, greedy set cover: repeatedly the
// person who helps the most needs (ties: the closer, then alphabetical),
// until no one helps.
func pickGreedy(needs []*need) []string {
	var picked []string
	pickedSet := map[string]bool{}
	for {
		best := bestCandidate(needs, pickedSet)
		if best == "" {
			return picked
		}
		picked = append(picked, best)
		pickedSet[best] = true
		for _, n := range needs {
			if n.count > 0 && n.pool[best] {
				n.count--
			}
			for team, set := range n.teams {
				if set[best] {
					delete(n.teams, team)
				}
			}
		}
	}
}

// bestCandidate is the person not yet picked who helps the most open
// needs, or "" when no one helps.
func bestCandidate(needs []*need, pickedSet map[string]bool) string {
	cands := map[string]bool{}
	for _, n := range needs {
		if n.count > 0 {
			for p := range n.pool {
				cands[p] = true
			}
		}
		for _, set := range n.teams {
			for p := range set {
				cands[p] = true
			}
		}
	}
	best, bestGain, bestCost := "", 0, 0
	for _, c := range sortedKeys(cands) {
		if pickedSet[c] {
			continue
		}
		gain, cost := 0, 0
		for _, n := range needs {
			helps := false
			if n.count > 0 && n.pool[c] {
				gain++
				helps = true
			}
			for _, set := range n.teams {
				if set[c] {
					gain++
					helps = true
				}
			}
			if helps {
				cost += n.o.LevelOf(c)
			}
		}
		if gain > bestGain || gain == bestGain && gain > 0 && cost < bestCost {
			best, bestGain, bestCost = c, gain, cost
		}
	}
	return best
}

// describeApprover is Suggest's last phase for one picked person: the
// files their approval helps, their closest level and the OWNERS entries
// that make them an owner.
func describeApprover(p string, needs []*need) SuggestedApprover {
	sa := SuggestedApprover{Email: p, Level: -1}
	via := map[string]bool{}
	for _, n := range needs {
		helps := n.pool[p] && n.f.Need > 0
		for _, set := range n.reach {
			if set[p] {
				helps = true
			}
		}
		if !helps {
			continue
		}
		sa.Files = append(sa.Files, n.f.Path)
		l := n.o.LevelOf(p)
		if sa.Level < 0 || l < sa.Level {
			sa.Level = l
		}
		for _, g := range n.o.Grants {
			if !g.Anyone && containsSorted(g.Members, p) {
				via[g.Entry+" ("+g.Source.FileLine()+")"] = true
				break
			}
		}
	}
	sa.Via = sortedKeys(via)
	return sa
}

// prune drops picked people whose approval is not needed once the others
// approve (last picked first).
func prune(picked []string, needs []*need) []string {
	satisfied := func(set map[string]bool) bool { return satisfiedBy(set, needs) }
	set := map[string]bool{}
	for _, p := range picked {
		set[p] = true
	}
	for i := len(picked) - 1; i >= 0; i-- {
		delete(set, picked[i])
		if !satisfied(set) {
			set[picked[i]] = true
		}
	}
	var out []string
	for _, p := range picked {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

// satisfiedBy reports whether the approvals of set complete every need.
func satisfiedBy(set map[string]bool, needs []*need) bool {
	for _, n := range needs {
		want := n.f.Need
		if want > len(n.pool) {
			want = len(n.pool)
		}
		got := 0
		for p := range set {
			if n.pool[p] {
				got++
			}
		}
		if got < want {
			return false
		}
		for _, members := range n.reach {
			ok := false
			for p := range set {
				if members[p] {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}
