package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/strideci/monorepo/tools/internal/buildevent"
)

// syncBuffer is a bytes.Buffer safe for the ticker goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func events() []*buildevent.BuildEvent {
	completed := func(label string, ok bool) *buildevent.BuildEvent {
		return &buildevent.BuildEvent{ID: buildevent.EventID{TargetCompleted: &buildevent.TargetID{Label: label}}, Completed: &buildevent.Completed{Success: ok}}
	}
	summary := func(label, status string, ms int64, cached int) *buildevent.BuildEvent {
		return &buildevent.BuildEvent{ID: buildevent.EventID{TestSummary: &buildevent.TargetID{Label: label}},
			TestSummary: &buildevent.TestSummary{OverallStatus: status, TotalRunDurationMillis: buildevent.Int64(ms), TotalRunCount: 1, TotalNumCached: cached,
				Failed: []buildevent.File{{URI: "file:///logs/" + label[2:] + "/test.log"}}}}
	}
	return []*buildevent.BuildEvent{
		{ID: buildevent.EventID{Pattern: &buildevent.PatternID{}}, Expanded: &struct{}{}, Children: make([]buildevent.EventID, 4)},
		completed("//a:lib", true),
		completed("//a:broken", false),
		completed("//a:pass_test", true),
		completed("//a:fail_test", true),
		summary("//a:pass_test", "PASSED", 1500, 1),
		summary("//a:fail_test", "FAILED", 20, 0),
	}
}

func TestPlain(t *testing.T) {
	var buf syncBuffer
	p := New(&buf, false)
	p.Phase("test", 4, []string{"//a:pass_test", "//a:fail_test"})
	for _, ev := range events() {
		p.Event(ev)
	}
	p.Printf("test: done")
	p.Close()
	want := `stride: test: 4 target(s), 2 test(s)
stride: FAILED to build //a:broken
stride: PASSED  //a:pass_test (1.5s, cached)
stride: FAILED  //a:fail_test (20ms)
stride:   log: /logs/a:fail_test/test.log
stride: test: done
`
	if got := buf.String(); got != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", got, want)
	}
}

func TestTTY(t *testing.T) {
	var buf syncBuffer
	p := New(&buf, true)
	p.Phase("test", 4, []string{"//a:pass_test", "//a:fail_test", "//a:other_test"})
	evs := events()
	for _, ev := range evs[:6] {
		p.Event(ev)
	}
	status := p.status()
	for _, ev := range evs[6:] {
		p.Event(ev)
	}
	p.Close()
	out := buf.String()
	// While fail_test ran: one passed, one built and running.
	if !strings.HasPrefix(status, "test 4/4 targets (1 failed) · tests 1 passed, 0 failed, 1 running · 0:0") {
		t.Errorf("status line %q", status)
	}
	if !strings.Contains(out, "\r\x1b[K") {
		t.Errorf("no status line redraws in %q", out)
	}
	// On a terminal only failures get lines of their own.
	if strings.Contains(out, "PASSED  //a:pass_test") || !strings.Contains(out, "FAILED  //a:fail_test") {
		t.Errorf("terminal output:\n%q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("Close did not clear the status line: %q", out[len(out)-20:])
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	if dn, err := os.OpenFile("/dev/null", os.O_WRONLY, 0); err == nil {
		defer dn.Close()
		// /dev/null is a character device: the check is the one the
		// design asks for (Mode&ModeCharDevice), so it counts.
		if !IsTerminal(dn) {
			t.Error("/dev/null is a character device")
		}
	}
}
