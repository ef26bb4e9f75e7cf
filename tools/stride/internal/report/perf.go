package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// ParseBenchmarks reads Go benchmark output (a test.log of a test run with
// -test.bench) and returns one Benchmark per result line, e.g.
//
//	BenchmarkEncode/small-2   	 1000000	      1234 ns/op	  56 B/op	   2 allocs/op
//
// Lines that are not results (the -test.v name lines, PASS, goos: ...) are
// skipped. target is recorded in each result.
func ParseBenchmarks(target string, r io.Reader) []Benchmark {
	var out []Benchmark
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if b, ok := parseBenchLine(sc.Text()); ok {
			b.Target = target
			out = append(out, b)
		}
	}
	return out
}

func parseBenchLine(line string) (Benchmark, bool) {
	f := strings.Fields(line)
	// name, iterations, then (value, unit) pairs: at least one pair.
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return Benchmark{}, false
	}
	iters, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || iters <= 0 {
		return Benchmark{}, false
	}
	b := Benchmark{Iterations: iters}
	b.Name, b.Procs = splitProcs(strings.TrimPrefix(f[0], "Benchmark"))
	seenNs := false
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Benchmark{}, false
		}
		val := v
		switch unit := f[i+1]; unit {
		case "ns/op":
			b.NsPerOp = v
			seenNs = true
		case "B/op":
			b.BytesPerOp = &val
		case "allocs/op":
			b.AllocsPerOp = &val
		case "MB/s":
			b.MBPerSec = &val
		default:
			if b.Metrics == nil {
				b.Metrics = map[string]float64{}
			}
			b.Metrics[unit] = v
		}
	}
	if !seenNs {
		return Benchmark{}, false
	}
	return b, true
}

// splitProcs splits "Encode/small-2" into "Encode/small" and 2. A name
// without a -N suffix (GOMAXPROCS=1) has procs 0.
func splitProcs(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name, 0
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n <= 0 {
		return name, 0
	}
	return name[:i], n
}
