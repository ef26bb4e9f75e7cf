package run

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProcessSummaryOf(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want processSummary
	}{
		{"INFO: Elapsed time: 1.9s\nINFO: 2 processes: 1 remote cache hit, 1 internal.\n", processSummary{1, 0}},
		{"INFO: 442 processes: 53 internal, 389 linux-sandbox.\n", processSummary{0, 389}},
		{"INFO: 1 process: 1 internal.\nlater\nINFO: 7 processes: 4 remote cache hit, 2 internal, 1 linux-sandbox.\n", processSummary{4, 1}},
		{"INFO: 7 processes: 12 remote cache hit.\n", processSummary{12, 0}},
		{"INFO: 9 processes: 2 remote cache hit, 3 local, 4 worker.\n", processSummary{2, 7}},
		{"INFO: 0 processes.\n", processSummary{}},
		{"no summary\n", processSummary{}},
	} {
		p := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(p, []byte(tc.log), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := processSummaryOf(p); got != tc.want {
			t.Errorf("processSummaryOf(%q) = %+v, want %+v", tc.log, got, tc.want)
		}
	}
}
