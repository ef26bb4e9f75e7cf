package owners

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// CheckSchema is the "schema" of a check Result.
const CheckSchema = "stride.owners-check/v1"

// Approval is one person's approval of the change.
type Approval struct {
	Email string `json:"email"`
	// Source says where it came from: "Approved-by in 1a2b3c4d5e6f",
	// "review 42 by alice-gh", "author of 1a2b3c4d5e6f", "flag".
	Source string `json:"source"`
}

// Unmatched is an approval stride could not attribute to an email.
type Unmatched struct {
	Who    string `json:"who"`
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// CheckInput is what Check needs.
type CheckInput struct {
	// Head is the OWNERS tree at the change's head: it governs every
	// changed file except the files that define ownership.
	Head *Tree
	// Base is the OWNERS tree at the change's base: it governs changes to
	// OWNERS files, OWNERS_ALIASES and included files, so that a change
	// cannot approve itself with the ownership it grants. Nil means Head
	// (e.g. the first commit of a repository).
	Base *Tree
	// Changes are the changed files.
	Changes []gitrepo.Change
	// Authors are the emails of the change's authors. Unless
	// NoSelfApproval, an author counts as an approval of the files the
	// author owns (as in Prow and Gerrit's code-owners).
	Authors        []string
	NoSelfApproval bool
	// Approvals are the approvals given (trailers, reviews).
	Approvals []Approval
	// Unmatched approvals are passed through to the Result.
	Unmatched []Unmatched
}

// Result is the outcome of Check; it is the JSON of `stride owners check
// --json` (schema stride.owners-check/v1).
type Result struct {
	Schema string `json:"schema"`
	// Base and Head are the commits compared (set by CheckRepo).
	Base string `json:"base,omitempty"`
	Head string `json:"head,omitempty"`
	// OK is true when every changed file is approved and the OWNERS files
	// that decide it have no errors.
	OK        bool        `json:"ok"`
	Summary   Summary     `json:"summary"`
	Authors   []string    `json:"authors"`
	Approvals []Approval  `json:"approvals"`
	Unmatched []Unmatched `json:"unmatched_approvals,omitempty"`
	// SelfApproval is whether authors count as approvers.
	SelfApproval bool         `json:"self_approval"`
	Dirs         []DirResult  `json:"dirs"`
	Files        []FileResult `json:"files"`
	// Diagnostics are the errors in OWNERS files this check depends on;
	// any of them makes OK false.
	Diagnostics Diagnostics `json:"diagnostics,omitempty"`
}

// Summary counts files.
type Summary struct {
	Files     int `json:"files"`
	Approved  int `json:"approved"`
	Missing   int `json:"missing"`
	Dirs      int `json:"dirs"`
	DirsReady int `json:"dirs_approved"`
}

// FileResult is the verdict for one changed path. A rename gives two: the
// new path (Status renamed, From set) and the old one (Status renamed, To
// set), since both directories' owners must agree.
type FileResult struct {
	Path   string         `json:"path"`
	Status gitrepo.Status `json:"status"`
	From   string         `json:"from,omitempty"`
	To     string         `json:"to,omitempty"`
	// OwnersAt is "head" or "base": which OWNERS tree decided.
	OwnersAt string `json:"owners_at"`
	// Dir is the directory of the closest OWNERS file (the grouping of
	// Result.Dirs); OwnersFile that file.
	Dir        string   `json:"dir"`
	OwnersFile string   `json:"owners_file,omitempty"`
	Approved   bool     `json:"approved"`
	ApprovedBy []string `json:"approved_by,omitempty"`
	Require    int      `json:"require"`
	// Need is how many more distinct owners must approve.
	Need int `json:"need"`
	// MissingTeams are teams still to approve under "require all-teams".
	MissingTeams []string `json:"missing_teams,omitempty"`
	// Unowned is set when no one at all may approve the path.
	Unowned bool    `json:"unowned,omitempty"`
	Grants  []Grant `json:"grants"`

	owners *Owners
}

// DirResult groups the files whose closest OWNERS file is in Dir.
type DirResult struct {
	Dir        string   `json:"dir"`
	OwnersFile string   `json:"owners_file,omitempty"`
	Files      int      `json:"files"`
	Missing    int      `json:"missing"`
	Approved   bool     `json:"approved"`
	ApprovedBy []string `json:"approved_by,omitempty"`
	// CanApprove lists, closest first, the entries whose people can still
	// approve the files that need it (people who already approved left
	// out).
	CanApprove []Candidate `json:"can_approve,omitempty"`
	// Needs says in words what is missing ("1 more approval", "a member of
	// @release-team").
	Needs string `json:"needs,omitempty"`
}

// Candidate is an OWNERS entry that could still approve.
type Candidate struct {
	Entry   string   `json:"entry"`
	Members []string `json:"members,omitempty"`
	Anyone  bool     `json:"anyone,omitempty"`
	Source  string   `json:"source"` // file:line
	Level   int      `json:"level"`
}

// Check decides, for each changed file, whether its owners approved. See
// CheckInput for the rules; docs/owners.md explains them.
func Check(in CheckInput) *Result {
	base := in.Base
	if base == nil {
		base = in.Head
	}
	res := &Result{Schema: CheckSchema, SelfApproval: !in.NoSelfApproval, Unmatched: in.Unmatched}
	approvers := map[string]bool{}
	for _, a := range in.Approvals {
		a.Email = strings.ToLower(strings.TrimSpace(a.Email))
		if a.Email == "" {
			continue
		}
		res.Approvals = append(res.Approvals, a)
		approvers[a.Email] = true
	}
	authorSet := map[string]bool{}
	for _, a := range in.Authors {
		authorSet[strings.ToLower(strings.TrimSpace(a))] = true
	}
	delete(authorSet, "")
	res.Authors = sortedKeys(authorSet)
	if !in.NoSelfApproval {
		for a := range authorSet {
			approvers[a] = true
		}
	}
	if res.Approvals == nil {
		res.Approvals = []Approval{}
	}

	changed := map[string]bool{}
	for _, c := range in.Changes {
		changed[c.Path] = true
		if c.OldPath != "" {
			changed[c.OldPath] = true
		}
	}
	relevant := map[string]bool{}
	cx := &checkCtx{head: in.Head, base: base, approvers: sortedKeys(approvers), relevant: relevant,
		headCache: map[string]*Owners{}, baseCache: map[string]*Owners{}}
	for _, c := range in.Changes {
		switch {
		case c.Status == gitrepo.Renamed && c.OldPath != "" && c.OldPath != c.Path:
			res.Files = append(res.Files,
				cx.checkFile(c.Path, gitrepo.Renamed, false),
				cx.checkFile(c.OldPath, gitrepo.Renamed, true))
			res.Files[len(res.Files)-2].From = c.OldPath
			res.Files[len(res.Files)-1].To = c.Path
		default:
			res.Files = append(res.Files, cx.checkFile(c.Path, c.Status, c.Status == gitrepo.Deleted))
		}
	}
	sort.SliceStable(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })

	// Errors in the OWNERS files consulted, in changed files that define
	// ownership, and in OWNERS_ALIASES make the check fail.
	relevant[AliasesFile] = true
	for p := range changed {
		relevant[p] = true
	}
	for _, tr := range []*Tree{in.Head, base} {
		for p := range relevant {
			for _, inc := range tr.includes[p] {
				relevant[inc] = true
			}
		}
	}
	seen := map[Diagnostic]bool{}
	for _, tr := range []*Tree{in.Head, base} {
		for _, d := range tr.diags {
			if d.Severity == Error && relevant[d.Pos.File] && !seen[d] {
				seen[d] = true
				res.Diagnostics = append(res.Diagnostics, d)
			}
		}
	}
	res.Diagnostics = res.Diagnostics.sorted()

	res.Dirs = groupDirs(res.Files, approvers)
	res.Summary.Files = len(res.Files)
	for _, f := range res.Files {
		if f.Approved {
			res.Summary.Approved++
		} else {
			res.Summary.Missing++
		}
	}
	res.Summary.Dirs = len(res.Dirs)
	for _, d := range res.Dirs {
		if d.Approved {
			res.Summary.DirsReady++
		}
	}
	res.OK = res.Summary.Missing == 0 && len(res.Diagnostics) == 0
	return res
}

// checkFile judges one path. A path that exists at head is judged by
// head's OWNERS; a path that is gone (deleted, or a rename's old path) by
// base's, who owned it; a file that defines ownership by base's.
type checkCtx struct {
	head, base           *Tree
	approvers            []string // sorted
	relevant             map[string]bool
	headCache, baseCache map[string]*Owners
}

func (cx *checkCtx) checkFile(p string, status gitrepo.Status, gone bool) FileResult {
	tree, at, cache := cx.head, "head", cx.headCache
	if gone || cx.base.DefinesOwners(p) || cx.head.DefinesOwners(p) {
		tree, at, cache = cx.base, "base", cx.baseCache
	}
	o := tree.resolve(p, cache)
	for _, f := range o.consulted {
		cx.relevant[f] = true
	}
	fr := FileResult{
		Path: p, Status: status, OwnersAt: at, OwnersFile: o.OwnersFile, Require: o.Require,
		Grants: o.Grants, owners: o,
	}
	fr.Dir = "."
	if o.OwnersFile != "" {
		fr.Dir = path.Dir(o.OwnersFile)
	}
	if fr.Grants == nil {
		fr.Grants = []Grant{}
	}
	for _, a := range cx.approvers {
		if o.IsOwner(a) {
			fr.ApprovedBy = append(fr.ApprovedBy, a)
		}
	}
	if len(o.Grants) == 0 {
		fr.Unowned = true
		fr.Need = o.Require
		return fr
	}
	if n := o.Require - len(fr.ApprovedBy); n > 0 {
		fr.Need = n
	}
	for _, tr := range o.Teams {
		ok := false
		for _, a := range fr.ApprovedBy {
			if containsSorted(tr.Members, a) {
				ok = true
				break
			}
		}
		if !ok {
			fr.MissingTeams = append(fr.MissingTeams, tr.Team)
		}
	}
	fr.Approved = fr.Need == 0 && len(fr.MissingTeams) == 0
	return fr
}

func groupDirs(files []FileResult, approvers map[string]bool) []DirResult {
	byDir := map[string]*DirResult{}
	var order []string
	approvedBy := map[string]map[string]bool{}
	type candKey struct{ entry, source string }
	cands := map[string]map[candKey]*Candidate{}
	needCount := map[string]int{}
	needTeams := map[string]map[string]bool{}
	unowned := map[string]int{}
	for _, f := range files {
		d := byDir[f.Dir]
		if d == nil {
			d = &DirResult{Dir: f.Dir, OwnersFile: f.OwnersFile, Approved: true}
			byDir[f.Dir] = d
			order = append(order, f.Dir)
			approvedBy[f.Dir] = map[string]bool{}
			cands[f.Dir] = map[candKey]*Candidate{}
			needTeams[f.Dir] = map[string]bool{}
		}
		d.Files++
		for _, a := range f.ApprovedBy {
			approvedBy[f.Dir][a] = true
		}
		if f.Approved {
			continue
		}
		d.Missing++
		d.Approved = false
		if f.Unowned {
			unowned[f.Dir]++
		}
		if f.Need > needCount[f.Dir] {
			needCount[f.Dir] = f.Need
		}
		for _, t := range f.MissingTeams {
			needTeams[f.Dir]["@"+t] = true
		}
		for _, g := range f.Grants {
			// When only teams are missing, only their members can help.
			if f.Need == 0 && !f.Unowned && !(strings.HasPrefix(g.Entry, "@") && indexOf(f.MissingTeams, g.Entry[1:]) >= 0) {
				continue
			}
			k := candKey{g.Entry, g.Source.FileLine()}
			if c, ok := cands[f.Dir][k]; ok {
				if g.Level < c.Level {
					c.Level = g.Level
				}
				continue
			}
			var members []string
			for _, m := range g.Members {
				if !approvers[m] {
					members = append(members, m)
				}
			}
			if !g.Anyone && len(members) == 0 {
				continue
			}
			cands[f.Dir][k] = &Candidate{Entry: g.Entry, Members: members, Anyone: g.Anyone, Source: g.Source.FileLine(), Level: g.Level}
		}
	}
	sort.Strings(order)
	out := make([]DirResult, 0, len(order))
	for _, dir := range order {
		d := byDir[dir]
		d.ApprovedBy = sortedKeys(approvedBy[dir])
		if len(d.ApprovedBy) == 0 {
			d.ApprovedBy = nil
		}
		for _, c := range cands[dir] {
			d.CanApprove = append(d.CanApprove, *c)
		}
		sort.Slice(d.CanApprove, func(i, j int) bool {
			a, b := d.CanApprove[i], d.CanApprove[j]
			if a.Level != b.Level {
				return a.Level < b.Level
			}
			if a.Entry != b.Entry {
				return a.Entry < b.Entry
			}
			return a.Source < b.Source
		})
		if !d.Approved {
			var teams []string
			for _, t := range sortedKeys(needTeams[dir]) {
				teams = append(teams, "a member of "+t)
			}
			teamText := strings.Join(teams, " and ")
			switch n := needCount[dir]; {
			case unowned[dir] > 0:
				d.Needs = "an owner: no OWNERS entry covers " + plural(unowned[dir], "file", "files") + " here (fix the OWNERS files)"
			case n > len(teams) && len(teams) > 0:
				d.Needs = plural(n, "more approval", "more approvals") + ", including " + teamText
			case n > 0 && len(teams) == 0:
				d.Needs = plural(n, "more approval", "more approvals")
			default:
				// The team approvals also make the count.
				d.Needs = teamText
			}
		}
		out = append(out, *d)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Owners returns the resolved owners behind a file result (nil for a
// result decoded from JSON).
func (f *FileResult) Owners() *Owners { return f.owners }
