package bench

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", p, d)
	}
}

func TestParseReport(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    reportTiming
		wantErr bool
	}{
		{name: "stride report", in: string(raw), want: reportTiming{TotalMS: 83000, OverheadMS: 900, AffectedMS: 2500, Affected: 4}},
		{name: "no affected section", in: `{"timing": {"total_ms": 10, "overhead_ms": 2, "affected_ms": 1}}`, want: reportTiming{TotalMS: 10, OverheadMS: 2, AffectedMS: 1}},
		{name: "no timing", in: `{"affected": {"count": 3}}`, wantErr: true},
		{name: "not JSON", in: `timing: 3`, wantErr: true},
		{name: "wrong type", in: `{"timing": {"total_ms": "10"}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReport([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		in      []float64
		median  float64
		bounded bool
	}{
		{nil, 0, false},
		{[]float64{5}, 5, false},
		{[]float64{3, 1}, 2, false},
		{[]float64{3, 1, 2}, 2, false},
		{[]float64{4, 1, 3, 2}, 2.5, false},
		{[]float64{6, 1, 5, 2, 4, 3}, 3.5, true},
		{[]float64{9, 1, 8, 2, 7, 3, 6, 4, 5}, 5, true},
	}
	for _, tc := range tests {
		in := append([]float64(nil), tc.in...)
		s := summarize(in)
		if s.Median != tc.median || s.N != len(tc.in) || s.Bounded() != tc.bounded {
			t.Errorf("summarize(%v) = %+v (bounded %v), want median %v, bounded %v", tc.in, s, s.Bounded(), tc.median, tc.bounded)
		}
		if s.Bounded() && (s.Lo > s.Median || s.Hi < s.Median) {
			t.Errorf("summarize(%v): interval [%v, %v] does not hold the median", tc.in, s.Lo, s.Hi)
		}
		if !cmp.Equal(in, tc.in) {
			t.Errorf("summarize reordered its input: %v", in)
		}
	}
	if median([]float64{1, 3}) != 2 || median(nil) != 0 {
		t.Error("median")
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		ratio, goal float64
		want        string
	}{
		{0, 0.2, "(no data)"},
		{0.19, 0.2, "ok"},
		{0.2, 0.2, "ok"},
		{0.21, 0.2, "MISSED"},
		{2.2, 2.2, "ok"},
		{2.3, 2.2, "MISSED"},
	}
	for _, tc := range tests {
		if got := verdict(tc.ratio, tc.goal); got != tc.want {
			t.Errorf("verdict(%v, %v) = %q, want %q", tc.ratio, tc.goal, got, tc.want)
		}
	}
	if div(1, 0) != 0 || div(1, 4) != 0.25 {
		t.Error("div")
	}
}

// runSamples are two reps of each variant: fresh stride 6.0 and 6.4 s,
// without CDS 6.6 and 7.0 s, bazel 30 and 34 s; warm stride 3 and 3.2 s,
// bazel 12 s.
var runSamples = []RunSample{
	{Tool: ToolStride, Mode: "fresh", Rep: 1, WallMS: 6000, TotalMS: 6000, OverheadMS: 150, AffectedMS: 120, Affected: 2},
	{Tool: ToolStrideNoCDS, Mode: "fresh", Rep: 1, WallMS: 6600, TotalMS: 6600, OverheadMS: 140, AffectedMS: 120, Affected: 2},
	{Tool: ToolBazel, Mode: "fresh", Rep: 1, WallMS: 30000},
	{Tool: ToolStride, Mode: "fresh", Rep: 2, WallMS: 6400, TotalMS: 6400, OverheadMS: 170, AffectedMS: 110, Affected: 2},
	{Tool: ToolStrideNoCDS, Mode: "fresh", Rep: 2, WallMS: 7000, TotalMS: 7000, OverheadMS: 160, AffectedMS: 100, Affected: 2},
	{Tool: ToolBazel, Mode: "fresh", Rep: 2, WallMS: 34000},
	{Tool: ToolStride, Mode: "warm", Rep: 1, WallMS: 3000, TotalMS: 3000, OverheadMS: 150, AffectedMS: 100, Affected: 2},
	{Tool: ToolBazel, Mode: "warm", Rep: 1, WallMS: 12000},
	{Tool: ToolStride, Mode: "warm", Rep: 2, WallMS: 3200, TotalMS: 0, AffectedMS: 100, Affected: 2}, // no report timing
	{Tool: ToolBazel, Mode: "warm", Rep: 2, WallMS: 12000},
}

func TestSummarizeRun(t *testing.T) {
	rows := SummarizeRun(runSamples)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	type row struct {
		mode, tool             string
		stride, bazel, ratio   float64
		own, ownExcl, affected float64
	}
	want := []row{
		{"fresh", ToolStride, 6200, 32000, 6200.0 / 32000, (150.0/6000 + 170.0/6400) / 2, (30.0/6000 + 60.0/6400) / 2, 2},
		{"fresh", ToolStrideNoCDS, 6800, 32000, 6800.0 / 32000, (140.0/6600 + 160.0/7000) / 2, (20.0/6600 + 60.0/7000) / 2, 2},
		// The sample without a report total counts for the time, not for
		// the fractions.
		{"warm", ToolStride, 3100, 12000, 3100.0 / 12000, 150.0 / 3000, 50.0 / 3000, 2},
	}
	for i, w := range want {
		r := rows[i]
		got := row{r.Mode, r.Tool, r.Stride.Median, r.Bazel.Median, r.Ratio, r.Own.Median, r.OwnExclAffected.Median, r.Affected.Median}
		if !approx(got, w) {
			t.Errorf("row %d = %+v, want %+v", i, got, w)
		}
	}
	if rows[2].Own.N != 1 || rows[2].Stride.N != 2 {
		t.Errorf("warm row: own n %d, stride n %d; want 1 and 2", rows[2].Own.N, rows[2].Stride.N)
	}
	// No stride-nocds samples (warm only): that row is left out.
	var warm []RunSample
	for _, s := range runSamples {
		if s.Mode == "warm" {
			warm = append(warm, s)
		}
	}
	if rows := SummarizeRun(warm); len(rows) != 1 || rows[0].Mode != "warm" {
		t.Errorf("warm samples only: rows %+v", rows)
	}
	if rows := SummarizeRun(nil); len(rows) != 0 {
		t.Errorf("no samples: rows %+v", rows)
	}
}

func approx(a, b interface{}) bool {
	return cmp.Equal(a, b, cmp.AllowUnexported(a), cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }))
}

func TestWriteRunMarkdown(t *testing.T) {
	var b bytes.Buffer
	WriteRunMarkdown(&b, "stride run vs bazel test //... (test)", SummarizeRun(runSamples))
	golden(t, "run.golden.md", b.Bytes())
}

func TestEditFile(t *testing.T) {
	files := []string{
		"lib/l00/p0001/a.go", "lib/l00/p0001/BUILD.bazel",
		"lib/l01/p0002/b_test.go", "lib/l01/p0002/b.go", "lib/l01/p0003/a.go",
		"lib/l02/p0004/c.go",
		"lib/l03/p0005/d.go",
		"lib/l04/p0006/e_test.go",
	}
	tests := []struct {
		files   []string
		layer   string
		want    string
		wantErr string
	}{
		{files: files, want: "lib/l02/p0004/c.go"}, // the middle of 5 layers
		{files: files[:5], want: "lib/l00/p0001/a.go"},
		{files: files[:6], want: "lib/l01/p0002/b.go"}, // of 3 layers; tests are skipped
		{files: files, layer: "l03", want: "lib/l03/p0005/d.go"},
		{files: files, layer: "l09", wantErr: "no layer lib/l09"},
		{files: files, layer: "l04", wantErr: "no Go library source under lib/l04"},
		{files: []string{"cmd/a/main.go"}, wantErr: "no lib/ layers"},
	}
	for _, tc := range tests {
		got, err := editFile(tc.files, tc.layer)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("editFile(%d files, %q) = %q, %v; want error %q", len(tc.files), tc.layer, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("editFile(%d files, %q) = %q, %v; want %q", len(tc.files), tc.layer, got, err, tc.want)
		}
	}
}

func TestEditText(t *testing.T) {
	got := editText(3, 42)
	want := "\nvar benchEdit42 int\n\nfunc init() { benchEdit42 = 3 }\n"
	if got != want {
		t.Errorf("editText = %q, want %q", got, want)
	}
}

func TestRunMainUsage(t *testing.T) {
	notRepo := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage: runbench"},
		{[]string{"-repo", notRepo}, "usage: runbench"},
		{[]string{"-repo", notRepo, "-stride", "stride", "-reps", "0"}, "usage: runbench"},
		{[]string{"-repo", notRepo, "-stride", "stride", "extra"}, "usage: runbench"},
		{[]string{"-repo", notRepo, "-stride", "stride"}, "is not a git workspace"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := RunMain(tc.args, &stdout, &stderr); code != 2 {
			t.Errorf("RunMain(%q) = %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("RunMain(%q): stderr %q lacks %q", tc.args, stderr.String(), tc.want)
		}
	}
}
