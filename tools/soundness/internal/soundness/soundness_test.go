package soundness

import (
	"bytes"
	"strings"
	"testing"
)

func TestNormalizeLabel(t *testing.T) {
	for in, want := range map[string]string{
		"//a/b":                 "//a/b:b",
		"//a/b:c":               "//a/b:c",
		"@//a/b":                "//a/b:b",
		"@synth_monorepo//a:x":  "//a:x",
		"@com_github_x//pkg:go": "//pkg:go",
		"not a label":           "not a label",
	} {
		if got := NormalizeLabel(in); got != want {
			t.Errorf("NormalizeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	results := []Result{
		{ID: 1, Kind: "src-body", Oracle: 2, Stride: Tool{Count: 4}},
		{ID: 2, Kind: "src-body", Oracle: 0, Stride: Tool{Count: 0}},
		{ID: 3, Kind: "bazelrc-flag", Oracle: 3, Stride: Tool{Count: 3, Missing: []string{"//a:a"}}},
	}
	rows := Summarize(results)
	if len(rows) != 3 || rows[2].Kind != "all" {
		t.Fatalf("rows = %+v", rows)
	}
	all := rows[2]
	if all.Changes != 3 || all.Sound != 2 || all.Oracle != 5 || all.Stride != 7 {
		t.Errorf("all = %+v", all)
	}
	// hits: 2 + 0 + (3-1) = 4 of 7 selected.
	if want := 4.0 / 7; all.Precision != want {
		t.Errorf("precision %v, want %v", all.Precision, want)
	}
	var b bytes.Buffer
	WriteMarkdown(&b, results)
	if !strings.Contains(b.String(), "UNSOUND change 3") || !strings.Contains(b.String(), "| **all** | 3 | 2/3") {
		t.Errorf("markdown:\n%s", b.String())
	}
}
