package perf_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/perf"
	"github.com/strideci/monorepo/tools/stride/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func f(v float64) *float64 { return &v }

func bench(target, name string, ns float64, bytes, allocs float64) report.Benchmark {
	return report.Benchmark{Target: target, Name: name, Iterations: 1000, NsPerOp: ns, BytesPerOp: f(bytes), AllocsPerOp: f(allocs)}
}

const (
	srv = "//services/artifactd/internal/server/perf:perf_test"
	rb  = "//services/releaseboard/internal/perf:perf_test"
)

func TestCompareGolden(t *testing.T) {
	var old, cur []report.Benchmark
	// Six samples each: a clear 20% slowdown of Serve, no change of Range.
	for i, v := range []float64{100, 101, 99, 100, 102, 98} {
		old = append(old, bench(srv, "Serve1MiB", v*1000, 512, 7))
		cur = append(cur, bench(srv, "Serve1MiB", v*1200, 512, 7))
		old = append(old, bench(srv, "Range4KiB", 5000+float64(i), 64, 2))
		cur = append(cur, bench(srv, "Range4KiB", 5003-float64(i), 64, 2))
	}
	old = append(old, bench(srv, "Removed", 10, 0, 0))
	cur = append(cur, bench(srv, "Added", 10, 0, 0))
	// One sample each: a change, but nothing can be significant.
	cur = append(cur, bench(rb, "Render", 2e6, 1e6, 1000))
	baselines := map[string]perf.Baseline{
		srv: {Build: "1111111111111111111111111111111111111111", Benchmarks: old},
		rb:  {Build: "2222222222222222222222222222222222222222", Benchmarks: []report.Benchmark{bench(rb, "Render", 1.5e6, 1e6, 1000)}},
	}
	c := perf.Compare("3333", cur, baselines)
	var serve *perf.Row
	for i := range c.Rows {
		if c.Rows[i].Name == "Serve1MiB" && c.Rows[i].Unit == "ns/op" {
			serve = &c.Rows[i]
		}
	}
	if serve == nil || !serve.Significant || serve.ChangePct == nil || *serve.ChangePct < 19.9 || *serve.ChangePct > 20.1 {
		t.Fatalf("Serve1MiB row = %+v, want a significant +20%%", serve)
	}
	js, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"compare.golden.txt": []byte(c.Text()), "compare.golden.json": js} {
		golden := filepath.Join("testdata", name)
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-golden +got):\n%s", name, diff)
		}
	}
}

func TestCompareWithoutBaseline(t *testing.T) {
	c := perf.Compare("b", []report.Benchmark{bench(srv, "X", 10, 0, 0)}, nil)
	if len(c.Rows) != 3 || c.Rows[0].Note == "" || c.Rows[0].Old != nil {
		t.Fatalf("rows = %+v", c.Rows)
	}
	if got := perf.Compare("b", nil, nil).Text(); got != "no benchmarks in this build\n" {
		t.Errorf("empty Text = %q", got)
	}
}

func TestParsePerfJSON(t *testing.T) {
	bs, err := perf.ParsePerfJSON("perf.json", []byte(`{"schema":"stride.perf/v1","head":"x","benchmarks":[{"target":"//a:b","name":"X","iterations":1,"ns_per_op":5}]}`))
	if err != nil || len(bs) != 1 || bs[0].NsPerOp != 5 {
		t.Fatalf("ParsePerfJSON = %+v, %v", bs, err)
	}
	if _, err := perf.ParsePerfJSON("perf.json", []byte(`{"schema":"other"}`)); err == nil {
		t.Error("accepted another schema")
	}
}
