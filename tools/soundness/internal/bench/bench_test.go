package bench

import (
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
