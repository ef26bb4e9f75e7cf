package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabels(t *testing.T) {
	got := labels([]byte("//b:c\n@//a\nINFO: noise\n\n@synth_monorepo//x/y:z\n"))
	want := []string{"//a:a", "//b:c", "//x/y:z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestMedianRatio(t *testing.T) {
	s := []Sample{
		{Query: 1, StrideCached: 1},
		{Query: 2, StrideCached: 1},
		{Query: 1, StrideCached: 3},
		{Query: 1, StrideCached: 9, Err: "failed"},
	}
	if got := medianRatio(s, func(s Sample) float64 { return s.StrideCached }); got != 1 {
		t.Errorf("median ratio = %v, want 1", got)
	}
	if median(nil) != 0 || median([]float64{1, 3}) != 2 {
		t.Error("median")
	}
}

func TestSetDiff(t *testing.T) {
	tests := []struct {
		a, b         []string
		onlyA, onlyB int
	}{
		{nil, nil, 0, 0},
		{[]string{"//a:a", "//b:b"}, []string{"//b:b", "//c:c", "//d:d"}, 1, 2},
		{[]string{"//a:a"}, []string{"//a:a"}, 0, 0},
		{[]string{"//a:a"}, nil, 1, 0},
	}
	for _, tc := range tests {
		if a, b := setDiff(tc.a, tc.b); a != tc.onlyA || b != tc.onlyB {
			t.Errorf("setDiff(%v, %v) = %d, %d; want %d, %d", tc.a, tc.b, a, b, tc.onlyA, tc.onlyB)
		}
	}
}

// affectedResults are two modes of the affected benchmark: warm over two
// rounds of two changes (one failed), fresh with target-determinator.
var affectedResults = []ModeResult{
	{
		Label: "1k", Targets: 1001, Mode: "warm", Rounds: 2,
		Samples: []Sample{
			{Change: 2, Kind: "src-body", Query: 0.2, StrideCached: 0.05, StrideUncached: 0.4, StrideNoCache: 0.3, StrideCount: 3},
			{Change: 3, Kind: "new-target", Query: 0.2, StrideCached: 0.1, StrideUncached: 0.5, StrideCount: 1},
			{Change: 2, Kind: "src-body", Query: 0.1, StrideCached: 0.05, StrideUncached: 0.3, StrideNoCache: 0.15, StrideCount: 3},
			{Change: 3, Kind: "new-target", Err: "stride affected: exit status 3"},
		},
		FirstRun: 42.5,
	},
	{
		Label: "1k", Targets: 1001, Mode: "fresh", Rounds: 1,
		Samples: []Sample{
			{Change: 2, Kind: "src-body", Query: 3, StrideCached: 0.06, StrideUncached: 4.5, TDCached: 12, TDUncached: 15, StrideCount: 3, TDCount: 4, OnlyTD: 1},
		},
	},
}

func TestModeMedians(t *testing.T) {
	s := affectedResults[0].Samples
	// Ratios of the samples without error: cached 0.25, 0.5, 0.5.
	if got := medianRatio(s, func(s Sample) float64 { return s.StrideCached }); got != 0.5 {
		t.Errorf("cached median ratio = %v, want 0.5", got)
	}
	// No-cache runs count only where they gave the cached run's set.
	if got := medianRatio(s, func(s Sample) float64 { return s.StrideNoCache }); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("no-cache median ratio = %v, want 1.5", got)
	}
}

func TestWriteMarkdown(t *testing.T) {
	rs := append([]ModeResult(nil), affectedResults...)
	for i := range rs {
		rs[i].summarize(i == 1)
	}
	if rs[0].NoCacheN != 2 || rs[0].MedianQuery != 0.2 || rs[1].MedianQuery != 3 {
		t.Errorf("warm: %d no-cache samples, median query %v; fresh: median query %v; want 2, 0.2, 3", rs[0].NoCacheN, rs[0].MedianQuery, rs[1].MedianQuery)
	}
	var b bytes.Buffer
	WriteMarkdown(&b, rs)
	golden(t, "affected.golden.md", b.Bytes())
}

func TestMainUsage(t *testing.T) {
	repo := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage: affectedbench"},
		{[]string{"-repo", repo}, "usage: affectedbench"},
		{[]string{"-repo", repo, "-stride", "stride", "-modes", "warm,hot"}, `unknown mode "hot"`},
		{[]string{"-bogus"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := Main(tc.args, &stdout, &stderr); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("Main(%q): stderr %q lacks %q", tc.args, stderr.String(), tc.want)
		}
	}
}
