package bench

import (
	"math"

	"golang.org/x/perf/benchmath"
)

// Summary sums up a sample of timings or ratios the way benchstat does
// without assuming a distribution (golang.org/x/perf/benchmath's
// AssumeNothing): the sample median and its 95% confidence interval,
// which is infinite below 6 values.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// Confidence is the level of Summary's interval.
const Confidence = 0.95

// summarize is xs's summary; the zero Summary for no values.
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	vs := append([]float64(nil), xs...)
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), Confidence)
	return Summary{N: len(xs), Median: s.Center, Lo: s.Lo, Hi: s.Hi}
}

// Bounded reports whether the interval is finite.
func (s Summary) Bounded() bool {
	return s.N > 0 && !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0)
}

// median is xs's median, 0 for no values.
func median(xs []float64) float64 { return summarize(xs).Median }

// div is a / b, 0 when b is 0 (no baseline: no ratio).
func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// verdict says whether a ratio meets its goal (at most goal): "ok",
// "MISSED", or "(no data)" for a ratio of 0.
func verdict(ratio, goal float64) string {
	if ratio == 0 {
		return "(no data)"
	}
	if ratio <= goal {
		return "ok"
	}
	return "MISSED"
}
