package affected

import (
	"strings"
	"testing"
)

func TestParseIncompatible(t *testing.T) {
	got := parseIncompatible("//a:b True\n@//a:c True\n@@//a:d True\n//a:e False\nINFO: x\n\n@repo//x:y True\n",
		"Loading...\nWARNING: Target @//a:f is incompatible and cannot be built, but was explicitly requested.\nERROR: command succeeded, but not all targets were analyzed\n")
	var labels []string
	for l := range got {
		labels = append(labels, l)
	}
	if len(got) != 4 || !got["//a:b"] || !got["//a:c"] || !got["//a:d"] || !got["//a:f"] {
		t.Errorf("parseIncompatible = %v", labels)
	}
}

func TestCompatCandidates(t *testing.T) {
	head := &Snapshot{Nodes: map[string]*Node{
		"//a:plain":   {Deps: []string{"//a:lib"}},
		"//a:lib":     {},
		"//a:win":     {Attrs: map[string]string{compatAttr: "x"}},
		"//a:via_dep": {Deps: []string{"//a:lib", "//a:win"}},
		"//a:cycle1":  {Deps: []string{"//a:cycle2"}},
		"//a:cycle2":  {Deps: []string{"//a:cycle1", "//a:win"}},
	}}
	var targets []Target
	for _, l := range []string{"//a:plain", "//a:win", "//a:via_dep", "//a:cycle1", "//a:lib"} {
		targets = append(targets, Target{Label: l})
	}
	got := strings.Join(compatCandidates(head, targets), " ")
	if want := "//a:win //a:via_dep //a:cycle1"; got != want {
		t.Errorf("compatCandidates = %s, want %s", got, want)
	}
}

// TestIncompatibleTargets: targets incompatible with the target platform
// (target_compatible_with, directly or through a dependency) are left out
// of the answer and listed as incompatible (target-determinator's
// incompatibleTargetsAreFiltered).
func TestIncompatibleTargets(t *testing.T) {
	w, c0 := newTestWS(t, map[string]string{
		"WORKSPACE": workspaceHeader,
		"app/BUILD": `sh_test(name = "t", srcs = ["t.sh"])` + "\n",
		"app/t.sh":  "exit 0\n",
	})
	c1 := w.repo.Commit("platform-specific targets", map[string]string{
		"app/BUILD": `sh_test(name = "t", srcs = ["t.sh"])

sh_test(name = "linux_only", srcs = ["t.sh"], target_compatible_with = ["@platforms//os:linux"])

sh_test(name = "windows_only", srcs = ["t.sh"], target_compatible_with = ["@platforms//os:windows"])

sh_library(name = "windows_lib", srcs = ["t.sh"], target_compatible_with = ["@platforms//os:windows"])

sh_test(name = "via_dep", srcs = ["t.sh"], deps = [":windows_lib"])
`,
	})
	w.runCases([]affectedCase{
		{name: "incompatible targets are left out", base: c0, head: c1, want: []string{"//app:linux_only"}},
	})
	w.checkout(c1)
	res := compute(t, w.opts(c0, ""))
	var got []string
	for _, r := range res.Incompatible {
		got = append(got, r.Label)
	}
	if want := "//app:via_dep //app:windows_lib //app:windows_only"; strings.Join(got, " ") != want {
		t.Errorf("incompatible = %v, want %s", got, want)
	}
}
