package owners

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
)

func TestCheckRepo(t *testing.T) {
	g := gittest.New(t)
	g.Commit("base", map[string]string{
		"OWNERS":      "root@x.example\n",
		"a/OWNERS":    "file://shared/TEAM\n",
		"shared/TEAM": "t@x.example\n",
		"a/f.go":      "package a\n",
		"b/g.go":      "package b\n",
	})
	g.Git("checkout", "-q", "-b", "grow")
	// The included file is edited to add evil@: it is judged at base.
	g.CommitAs("Evil <evil@x.example>", "grow", map[string]string{"shared/TEAM": "t@x.example\nevil@x.example\n", "a/f.go": "package a // 2\n"})
	g.Git("checkout", "-q", "-b", "drop", "main")
	// Deleting a directory with its OWNERS: judged by who owned it.
	g.CommitAs("T <t@x.example>", "drop", map[string]string{"a/OWNERS!": "", "a/f.go!": ""})
	r, err := gitrepo.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := func(res *Result) map[string]string {
		m := map[string]string{}
		for _, f := range res.Files {
			m[f.Path] = f.OwnersAt + map[bool]string{true: " ok", false: " missing"}[f.Approved]
		}
		return m
	}

	res, err := CheckRepo(r, RepoCheck{Head: "grow"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"shared/TEAM": "base missing", "a/f.go": "head ok"}, verdicts(res)); diff != "" {
		t.Errorf("grow (-want +got):\n%s", diff)
	}
	if res.OK {
		t.Error("grow: OK, want missing approval of shared/TEAM")
	}

	res, err = CheckRepo(r, RepoCheck{Head: "drop"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a/OWNERS": "base ok", "a/f.go": "base ok"}, verdicts(res)); diff != "" {
		t.Errorf("drop (-want +got):\n%s", diff)
	}

	// An author who is not an owner, approved by a flag.
	res, err = CheckRepo(r, RepoCheck{Head: "grow", Approvers: []string{"root@x.example"}})
	if err != nil || !res.OK {
		t.Errorf("grow approved by root: %v, %+v", err, verdicts(res))
	}
	if _, err := CheckRepo(r, RepoCheck{Head: "grow", Base: "nope"}); !errors.Is(err, gitrepo.ErrUnknownRevision) {
		t.Errorf("unknown base: %v", err)
	}
	if _, err := CheckRepo(r, RepoCheck{Head: "grow", Reviews: []byte("{"), ReviewsName: "r.json"}); !errors.Is(err, ErrBadApprovals) {
		t.Errorf("bad reviews: %v", err)
	}
}
