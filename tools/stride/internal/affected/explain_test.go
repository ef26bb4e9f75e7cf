package affected

import (
	"strings"
	"testing"
)

// explainResult is a result whose comparison has these reasons, for
// rules named by the reasons' keys.
func explainResult(reasons map[string][]Reason) *Result {
	head := &Snapshot{Nodes: map[string]*Node{}}
	for l := range reasons {
		head.Nodes[l] = &Node{Type: typeRule, Class: "go_library"}
	}
	head.Nodes["//app:test"].Class = "go_test"
	head.Nodes["//app:other"] = &Node{Type: typeRule, Class: "go_library"}
	return &Result{Kind: "all", cmp: &comparison{head: head, reasons: reasons}}
}

// TestExplainChainsEndInTheirCause: a dependency reached a second time (a
// diamond) still ends its chain in the cause, as docs/affected.md says.
func TestExplainChainsEndInTheirCause(t *testing.T) {
	log := "//libs/log:log"
	res := explainResult(map[string][]Reason{
		"//app:test": {
			reason(KindDependsOn, "//svc:lib", "depends on //svc:lib"),
			reason(KindDependsOn, log, "depends on %s", log),
		},
		"//svc:lib": {reason(KindDependsOn, log, "depends on %s", log)},
		log:         {reason(KindSourceChanged, "libs/log/log.go", "source changed: libs/log/log.go")},
	})
	e, err := res.Explain("//app:test")
	if err != nil {
		t.Fatal(err)
	}
	want := "//app:test <- depends on //svc:lib <- depends on //libs/log:log <- source changed: libs/log/log.go\n" +
		"//app:test <- depends on //libs/log:log <- source changed: libs/log/log.go\n"
	if e.String() != want {
		t.Errorf("Explain =\n%s\nwant\n%s", e, want)
	}
	for _, ch := range e.Chains {
		if last := ch[len(ch)-1]; strings.HasPrefix(last, "depends on") {
			t.Errorf("chain ends without its cause: %q", ch)
		}
	}
}

func TestExplainSuggestsLabels(t *testing.T) {
	res := explainResult(map[string][]Reason{
		"//app:test": {reason(KindSourceChanged, "app/a.go", "source changed: app/a.go")},
	})
	tests := []struct{ label, want string }{
		{"app:test", "app:test is not a target at head (did you mean //app:test?)"},
		{"app/test", "app/test is not a target at head (did you mean //app:test?)"},
		{"test", "test is not a target at head (did you mean //app:test?)"},
		{"nothing/like/it", "nothing/like/it is not a target at head (labels start with //, e.g. //nothing/like/it)"},
		{"//app:tset", "//app:tset is not a target at head (did you mean //app:test?)"},
		{"//nothing/like/it:at_all", "//nothing/like/it:at_all is not a target at head"},
	}
	for _, tc := range tests {
		_, err := res.Explain(tc.label)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Explain(%q) error = %v, want %q", tc.label, err, tc.want)
		}
	}
}
