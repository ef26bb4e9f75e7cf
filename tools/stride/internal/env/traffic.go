package env

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

// A traffic sample is what the environment's HAProxy had counted at one
// time: per service (backend), the requests and the failed ones. The
// supervisor appends one to traffic.jsonl every SampleEvery, so that the
// traffic of any period (a build's soak) is the difference of two
// samples, even though HAProxy's counters only grow from its start.
type sample struct {
	Time time.Time `json:"time"`
	// PID is HAProxy's: counters restart from zero with a new process.
	PID      int                      `json:"pid"`
	Services map[string]serviceSample `json:"services"`
}

type serviceSample struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

// SampleEvery is how often the supervisor samples the balancer.
var SampleEvery = 5 * time.Second

// maxSamples bounds traffic.jsonl: the oldest half goes when it is full
// (at 5 s, 20,000 samples are 27 hours).
const maxSamples = 20000

// Traffic returns the file the supervisor samples the balancer into.
func (l *Layout) Traffic() string { return l.path("traffic.jsonl") }

// sampleTraffic appends the balancer's counters to traffic.jsonl.
func (s *supervisor) sampleTraffic() {
	if s.balancer.PID == 0 || time.Since(s.sampled) < SampleEvery {
		return
	}
	s.sampled = time.Now()
	c := &haproxy.Client{Socket: s.l.HAProxySocket()}
	stats, err := c.Stats()
	if err != nil {
		return // the balancer is (re)starting; the next tick samples
	}
	smp := sample{Time: time.Now().UTC(), PID: s.balancer.PID, Services: map[string]serviceSample{}}
	for _, st := range stats {
		if st.Name != "BACKEND" || !strings.HasPrefix(st.Proxy, "be_") {
			continue
		}
		smp.Services[strings.TrimPrefix(st.Proxy, "be_")] = serviceSample{Requests: st.Total, Errors: st.Errors()}
	}
	b, err := json.Marshal(smp)
	if err != nil {
		return
	}
	if s.traffic == nil {
		s.traffic = &lineLog{path: s.l.Traffic(), max: maxSamples}
	}
	if err := s.traffic.append(b); err != nil {
		s.logf("traffic sample: %v", err)
	}
}

// lineLog is a file of lines bounded to max: past max lines it keeps the
// newest half (rewritten atomically). It counts the lines it appends, so
// it reads the file once, not on every append.
type lineLog struct {
	path    string
	max     int
	n       int
	counted bool
}

func (l *lineLog) append(line []byte) error {
	if !l.counted {
		lines, err := readLines(l.path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		l.n, l.counted = len(lines), true
	}
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if l.n++; l.n <= l.max {
		return nil
	}
	lines, err := readLines(l.path)
	if err != nil {
		return err
	}
	keep := lines[len(lines)-l.max/2:]
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return err
	}
	l.n = len(keep)
	return nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// Traffic sums what the balancer of environment name counted per service
// since a time, from the supervisor's samples: the last sample before
// since is the baseline (or, when sampling started later, the first one
// after it: From says which), and a HAProxy restart starts a new count.
// ok is false when the environment has never sampled (it does not run
// locally).
func Traffic(root, name string, since time.Time) (map[string]promote.Traffic, bool, error) {
	l, err := Open(root, name)
	if err != nil {
		return nil, false, err
	}
	lines, err := readLines(l.Traffic())
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", l.Traffic(), err)
	}
	var samples []sample
	for i, line := range lines {
		var s sample
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return nil, false, fmt.Errorf("%s:%d: %w", l.Traffic(), i+1, err)
		}
		samples = append(samples, s)
	}
	start := 0
	for i, s := range samples {
		if s.Time.After(since) {
			break
		}
		start = i
	}
	if len(samples) == 0 {
		return nil, false, nil
	}
	out := map[string]promote.Traffic{}
	from := samples[start].Time
	for i := start + 1; i < len(samples); i++ {
		prev, cur := samples[i-1], samples[i]
		for svc, c := range cur.Services {
			p := prev.Services[svc]
			if cur.PID != prev.PID || c.Requests < p.Requests {
				p = serviceSample{} // a new HAProxy counts from zero
			}
			t := out[svc]
			t.Requests += c.Requests - p.Requests
			t.Errors += c.Errors - p.Errors
			t.From, t.To = from, cur.Time
			out[svc] = t
		}
	}
	for svc := range samples[start].Services {
		if _, ok := out[svc]; !ok {
			out[svc] = promote.Traffic{From: from, To: from}
		}
	}
	return out, true, nil
}

// TrafficSource is promote.TrafficSource over the local environments
// under Root.
type TrafficSource struct{ Root string }

// Traffic implements promote.TrafficSource.
func (t TrafficSource) Traffic(env string, since time.Time) (map[string]promote.Traffic, bool, error) {
	return Traffic(t.Root, env, since)
}
