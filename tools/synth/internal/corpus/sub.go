package corpus

import (
	"fmt"
	"math/rand"

	"github.com/strideci/monorepo/tools/synth/internal/model"
	"github.com/strideci/monorepo/tools/synth/internal/repo"
)

// WriteInitial writes the workspace of m (and its submodule's repository,
// every revision of it) and records it as the initial commit.
func WriteInitial(rp *repo.Repo, boot map[string][]byte, m *model.Model, msg string) (string, error) {
	if _, err := rp.Apply(m.Render(boot)); err != nil {
		return "", err
	}
	if _, err := syncSub(rp, m); err != nil {
		return "", err
	}
	return rp.Commit(msg)
}

// syncSub commits m's submodule revisions to the submodule's repository
// (those it lacks) and points the superproject's gitlink at the current
// one, under the current path; it returns the gitlink paths it changed.
func syncSub(rp *repo.Repo, m *model.Model) ([]string, error) {
	if m.Sub == nil {
		return nil, nil
	}
	sr, err := rp.Sub(model.SubName)
	if err != nil {
		return nil, err
	}
	var at string
	for i, rev := range m.Sub.Revs {
		c, err := sr.CommitFiles(m.SubFiles(rev), fmt.Sprintf("submodule revision %d", i))
		if err != nil {
			return nil, fmt.Errorf("submodule revision %d: %w", i, err)
		}
		if i == m.Sub.At {
			at = c
		}
	}
	return rp.SetGitlinks(map[string]string{m.Sub.Path: at})
}

// subKinds change the submodule: a file inside it (a new commit there, the
// gitlink moves to it), the gitlink moved back or forward to another of
// its commits, its path (.gitmodules, gitlink and the BUILD deps of its
// users), and .gitmodules alone.
var subKinds = []kind{
	{"submodule-src", 3, func(m *model.Model, r *rand.Rand) (string, bool) {
		s := m.Sub
		rev := s.Revs[s.At]
		var what string
		switch r.Intn(4) {
		case 0:
			rev.S0 = 1 + (rev.S0+r.Intn(999))%1000
			what = "change the body of " + s.Label("s0")
		case 1:
			rev.S1 = 1 + (rev.S1+r.Intn(999))%1000
			what = "change the body of " + s.Label("s1")
		case 2:
			rev.TestVariant++
			what = "edit the test source of " + s.Label("s0") + "_test"
		default:
			rev.Readme++
			what = "edit README.md (in no package)"
		}
		s.Revs = append(s.Revs, rev)
		s.At = len(s.Revs) - 1
		return fmt.Sprintf("%s inside the submodule (its commit %d; the gitlink moves)", what, s.At), true
	}},
	{"submodule-gitlink", 2, func(m *model.Model, r *rand.Rand) (string, bool) {
		s := m.Sub
		if len(s.Revs) < 2 {
			return "", false
		}
		to := r.Intn(len(s.Revs) - 1)
		if to >= s.At {
			to++
		}
		dir := "back"
		if to > s.At {
			dir = "forward"
		}
		from := s.At
		s.At = to
		if s.Revs[from] == s.Revs[to] {
			return "", false // the same tree: the same commit
		}
		return fmt.Sprintf("move the submodule's gitlink %s from its commit %d to %d", dir, from, to), true
	}},
	{"submodule-path", 1, func(m *model.Model, r *rand.Rand) (string, bool) {
		s := m.Sub
		old := s.Path
		s.Path = model.SubPaths[0]
		if old == s.Path {
			s.Path = model.SubPaths[1]
		}
		return fmt.Sprintf("move the submodule from %s to %s (.gitmodules path, gitlink, deps of its users)", old, s.Path), true
	}},
	{"submodule-gitmodules", 1, func(m *model.Model, r *rand.Rand) (string, bool) {
		m.Sub.Branch = !m.Sub.Branch
		if m.Sub.Branch {
			return "set branch = main for the submodule in .gitmodules", true
		}
		return "drop branch = main for the submodule in .gitmodules", true
	}},
}
