// Package progress shows a run's progress from Bazel's build events. On a
// terminal it keeps one status line up to date (phase, targets done/total,
// tests passed/failed/running, elapsed) and prints failures above it; when
// the output is not a terminal (CI logs, files) it prints plain lines: one
// per finished test or failed target, and a heartbeat every 30 seconds.
//
// A Progress is safe for concurrent use.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/strideci/monorepo/tools/internal/buildevent"
)

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress renders the progress of one run.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	start time.Time
	now   func() time.Time

	phase                              string
	targetsTotal, targetsDone, tFailed int
	testsTotal, passed, failed, flaky  int
	cached                             int
	built                              map[string]bool // test targets built, awaiting a result
	tests                              map[string]bool // test targets of the phase
	drawn                              bool            // a status line is on screen
	lastBeat                           time.Time
	heartbeat                          time.Duration

	stop chan struct{}
	done chan struct{}
}

// New returns a Progress writing to w. tty selects the one-line display;
// otherwise plain lines. Close it when the run ends.
func New(w io.Writer, tty bool) *Progress {
	p := &Progress{w: w, tty: tty, now: time.Now, heartbeat: 30 * time.Second,
		built: map[string]bool{}, tests: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	p.start = p.now()
	p.lastBeat = p.start
	go p.tick()
	return p
}

// Discard is a Progress that shows nothing.
func Discard() *Progress { return New(io.Discard, false) }

func (p *Progress) tick() {
	defer close(p.done)
	every := time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.tty {
				p.draw()
			} else if p.phase != "" && p.now().Sub(p.lastBeat) >= p.heartbeat {
				p.lastBeat = p.now()
				p.line(p.status())
			}
			p.mu.Unlock()
		}
	}
}

// Close stops the display and clears the status line.
func (p *Progress) Close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}

// Phase starts a phase ("build", "test", "bench") over targets targets, of
// which tests are test targets.
func (p *Progress) Phase(name string, targets int, tests []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase = name
	p.targetsTotal, p.targetsDone, p.tFailed = targets, 0, 0
	p.testsTotal, p.passed, p.failed, p.flaky, p.cached = len(tests), 0, 0, 0, 0
	p.built = map[string]bool{}
	p.tests = map[string]bool{}
	for _, t := range tests {
		p.tests[t] = true
	}
	if len(tests) > 0 {
		p.line(fmt.Sprintf("%s: %d target(s), %d test(s)", name, targets, len(tests)))
	} else {
		p.line(fmt.Sprintf("%s: %d target(s)", name, targets))
	}
	p.draw()
}

// Printf prints a line (above the status line on a terminal).
func (p *Progress) Printf(format string, args ...interface{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(fmt.Sprintf(format, args...))
	p.draw()
}

// Event updates the display with one build event.
func (p *Progress) Event(ev *buildevent.BuildEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	label := ev.ID.Label()
	switch {
	case ev.Expanded != nil:
		if n := len(ev.Children); n > p.targetsTotal {
			p.targetsTotal = n
		}
	case ev.Completed != nil || (ev.Aborted != nil && ev.ID.TargetCompleted != nil):
		p.targetsDone++
		ok := ev.Completed != nil && ev.Completed.Success
		if !ok {
			p.tFailed++
			p.line("FAILED to build " + label)
		} else if p.tests[label] {
			p.built[label] = true
		}
	case ev.TestSummary != nil:
		delete(p.built, label)
		s := ev.TestSummary
		cached := s.TotalNumCached > 0 && s.TotalNumCached >= s.TotalRunCount
		if cached {
			p.cached++
		}
		status := s.OverallStatus
		switch {
		case status == "FLAKY":
			p.passed++
			p.flaky++
		case status == "PASSED":
			p.passed++
		default:
			p.failed++
		}
		if !p.tty || status != "PASSED" {
			msg := fmt.Sprintf("%-7s %s (%s", status, label, fmtDur(time.Duration(s.TotalRunDurationMillis)*time.Millisecond))
			if cached {
				msg += ", cached"
			}
			msg += ")"
			if status != "PASSED" && status != "FLAKY" && len(s.Failed) > 0 {
				msg += "\n  log: " + s.Failed[0].Path()
			}
			p.line(msg)
		}
	}
	p.draw()
}

// status is the one-line summary.
func (p *Progress) status() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%d targets", p.phase, p.targetsDone, p.targetsTotal)
	if p.tFailed > 0 {
		fmt.Fprintf(&b, " (%d failed)", p.tFailed)
	}
	if p.testsTotal > 0 {
		fmt.Fprintf(&b, " · tests %d passed, %d failed, %d running", p.passed, p.failed, len(p.built))
	}
	fmt.Fprintf(&b, " · %s", fmtClock(p.now().Sub(p.start)))
	return b.String()
}

// line prints a log line; call with mu held.
func (p *Progress) line(s string) {
	p.clear()
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(p.w, "stride: %s\n", l)
	}
	p.lastBeat = p.now()
}

// draw redraws the status line on a terminal; call with mu held.
func (p *Progress) draw() {
	if !p.tty || p.phase == "" {
		return
	}
	select {
	case <-p.stop:
		return
	default:
	}
	s := p.status()
	if w := width(); len(s) > w-1 {
		s = s[:w-1]
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", s)
	p.drawn = true
}

// clear erases the status line; call with mu held.
func (p *Progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func width() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("COLUMNS"), &n); err == nil && n > 20 {
		return n
	}
	return 100
}

func fmtClock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
