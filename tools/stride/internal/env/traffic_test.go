package env

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

// TestTraffic: the traffic of a period is the difference of the samples
// around it, a HAProxy restart counts from zero, and sampling that began
// after the period's start says so (From).
func TestTraffic(t *testing.T) {
	root := t.TempDir()
	l, err := Open(root, "uat")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Traffic(root, "uat", time.Now()); ok || err != nil {
		t.Fatalf("no samples: ok %v, %v", ok, err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	log := &lineLog{path: l.Traffic(), max: maxSamples}
	for _, smp := range []sample{
		{Time: at(0), PID: 10, Services: map[string]serviceSample{"alpha": {100, 1}}},
		{Time: at(5), PID: 10, Services: map[string]serviceSample{"alpha": {150, 1}, "beta": {5, 0}}},
		{Time: at(10), PID: 10, Services: map[string]serviceSample{"alpha": {200, 3}, "beta": {9, 0}}},
		{Time: at(15), PID: 11, Services: map[string]serviceSample{"alpha": {20, 0}, "beta": {1, 1}}}, // restarted
		{Time: at(20), PID: 11, Services: map[string]serviceSample{"alpha": {70, 0}, "beta": {2, 1}}},
	} {
		b, _ := json.Marshal(smp)
		if err := log.append(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		since time.Time
		want  map[string]promote.Traffic
	}{
		{at(6), map[string]promote.Traffic{ // baseline: the sample at 5 s
			"alpha": {Requests: 50 + 20 + 50, Errors: 2, From: at(5), To: at(20)},
			"beta":  {Requests: 4 + 1 + 1, Errors: 1, From: at(5), To: at(20)},
		}},
		{t0.Add(-time.Hour), map[string]promote.Traffic{ // sampling began later
			"alpha": {Requests: 50 + 50 + 20 + 50, Errors: 2, From: at(0), To: at(20)},
			"beta":  {Requests: 5 + 4 + 1 + 1, Errors: 1, From: at(0), To: at(20)},
		}},
		{at(25), map[string]promote.Traffic{ // nothing since
			"alpha": {From: at(20), To: at(20)},
			"beta":  {From: at(20), To: at(20)},
		}},
	} {
		got, ok, err := TrafficSource{Root: root}.Traffic("uat", tc.since)
		if err != nil || !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Traffic(since %v) = %+v, %v, %v\nwant %+v", tc.since, got, ok, err, tc.want)
		}
	}
}

func TestLineLogKeepsNewestHalf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.jsonl")
	for i := 0; i < 11; i++ {
		if err := (&lineLog{path: p, max: 10}).append([]byte{byte('a' + i)}); err != nil { // a new supervisor each time: counts once
			t.Fatal(err)
		}
	}
	lines, err := readLines(p)
	if err != nil || !reflect.DeepEqual(lines, []string{"g", "h", "i", "j", "k"}) {
		t.Errorf("lines = %v, %v", lines, err)
	}
	// One log appending on: it keeps its count and trims again at 11.
	l := &lineLog{path: p, max: 10}
	for i := 0; i < 6; i++ {
		if err := l.append([]byte{byte('l' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	lines, err = readLines(p)
	if err != nil || !reflect.DeepEqual(lines, []string{"m", "n", "o", "p", "q"}) || l.n != 5 {
		t.Errorf("lines = %v, %v (count %d)", lines, err, l.n)
	}
}
