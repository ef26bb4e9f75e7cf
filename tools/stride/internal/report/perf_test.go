package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBenchmarks(t *testing.T) {
	log := `exec ${PAGER:-/usr/bin/less} "$0" || exit 1
Executing tests from //libs/log:bench_test
-----------------------------------------------------------------------------
goos: linux
goarch: amd64
pkg: github.com/strideci/monorepo/libs/log
cpu: AMD EPYC
BenchmarkFormat
BenchmarkFormat-2          	 1000000	      1234 ns/op	      56 B/op	       2 allocs/op
BenchmarkEncode/small-2    	  500000	      2500.5 ns/op	  40.96 MB/s
BenchmarkOne               	     100	  10000000 ns/op
BenchmarkCustom-8          	      10	       100 ns/op	         3.000 widgets/op
BenchmarkBroken-2          	  notanumber	 1 ns/op
BenchmarkNoNs-2            	      10	       100 B/op
PASS
ok  	github.com/strideci/monorepo/libs/log	3.1s
`
	got := ParseBenchmarks("//libs/log:bench_test", strings.NewReader(log))
	want := []Benchmark{
		{Target: "//libs/log:bench_test", Name: "Format", Procs: 2, Iterations: 1000000, NsPerOp: 1234, BytesPerOp: f64(56), AllocsPerOp: f64(2)},
		{Target: "//libs/log:bench_test", Name: "Encode/small", Procs: 2, Iterations: 500000, NsPerOp: 2500.5, MBPerSec: f64(40.96)},
		{Target: "//libs/log:bench_test", Name: "One", Iterations: 100, NsPerOp: 1e7},
		{Target: "//libs/log:bench_test", Name: "Custom", Procs: 8, Iterations: 10, NsPerOp: 100, Metrics: map[string]float64{"widgets/op": 3}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("benchmarks (-want +got):\n%s", d)
	}
}

func TestSplitProcs(t *testing.T) {
	for in, want := range map[string]struct {
		name  string
		procs int
	}{
		"X-2":         {"X", 2},
		"X":           {"X", 0},
		"A/b-c-16":    {"A/b-c", 16},
		"A/size=-1-2": {"A/size=-1", 2},
		"A/x-":        {"A/x-", 0},
	} {
		n, p := splitProcs(in)
		if n != want.name || p != want.procs {
			t.Errorf("splitProcs(%q) = %q, %d; want %q, %d", in, n, p, want.name, want.procs)
		}
	}
}
