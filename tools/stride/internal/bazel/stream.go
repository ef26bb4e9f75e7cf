package bazel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/strideci/monorepo/tools/internal/buildevent"
)

// StreamOptions configure Stream.
type StreamOptions struct {
	// Stdout and Stderr receive Bazel's console output (nil: discarded).
	// The last 64 KiB of stderr are also kept for errors.
	Stdout, Stderr io.Writer
	// EventFile is where Bazel writes the build event stream
	// (--build_event_json_file). Required; an existing file is replaced.
	EventFile string
	// OnEvent is called for each build event as Bazel writes it, from one
	// goroutine, in order.
	OnEvent func(*buildevent.BuildEvent)
	// Grace is how long a cancelled invocation may take to stop after
	// SIGINT before it is killed (default 15s).
	Grace time.Duration
}

// StreamResult is what one streamed invocation did.
type StreamResult struct {
	ExitCode    int                       // Bazel's exit code; -1 when killed by a signal
	Finished    *buildevent.BuildFinished // the buildFinished event, nil if never sent
	LastMessage bool                      // the stream was complete
	Events      int                       // events read
	Interrupted bool                      // the context was cancelled while Bazel ran
	Duration    time.Duration             // wall time of the Bazel client
}

// Complete reports whether the event stream ended normally: Bazel sent its
// buildFinished and last events. A crashed or killed Bazel leaves it false.
func (r *StreamResult) Complete() bool {
	return r != nil && r.Finished != nil && r.LastMessage
}

// Stream runs `bazel STARTUP... COMMAND --build_event_json_file=F ARGS...`
// and feeds the build events to opts.OnEvent while Bazel runs. A non-zero
// exit gives the result and an *Error (so IsExit works). When ctx is
// cancelled, Bazel gets SIGINT (it cancels the command and exits with 8),
// then SIGKILL after opts.Grace; the result then has Interrupted set.
//
// The result is non-nil whenever Bazel was started; the caller must check
// Complete before trusting a zero exit code, since a Bazel whose server
// died may still have exited 0 with a truncated stream (never seen, but
// cheap to rule out).
func (b *Bazel) Stream(ctx context.Context, opts StreamOptions, command string, args ...string) (*StreamResult, error) {
	if opts.EventFile == "" {
		return nil, errors.New("bazel stream: no event file")
	}
	if err := os.Remove(opts.EventFile); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("remove old event file: %w", err)
	}
	grace := opts.Grace
	if grace == 0 {
		grace = 15 * time.Second
	}
	bin := b.Binary
	if bin == "" {
		bin = "bazel"
	}
	full := append(append([]string{}, b.Startup...), command, "--build_event_json_file="+opts.EventFile)
	full = append(full, args...)
	cmd := exec.Command(bin, full...)
	cmd.Dir = b.Dir
	if b.Env != nil {
		cmd.Env = b.Env
	}
	errTail := &tailBuffer{max: 64 << 10}
	var stderr io.Writer = errTail
	if opts.Stderr != nil {
		stderr = io.MultiWriter(errTail, opts.Stderr)
	}
	// Bazel's output goes through pipes of our own rather than exec's, so
	// that Wait does not hang on a grandchild that inherited them (Go 1.19
	// has no Cmd.WaitDelay).
	outCopy, err := pipeTo(&cmd.Stdout, opts.Stdout)
	if err != nil {
		return nil, err
	}
	errCopy, err := pipeTo(&cmd.Stderr, stderr)
	if err != nil {
		outCopy.abort()
		return nil, err
	}
	start := time.Now()
	err = cmd.Start()
	outCopy.started()
	errCopy.started()
	if err != nil {
		outCopy.abort()
		errCopy.abort()
		return nil, fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, err)
	}
	res := &StreamResult{}

	exited := make(chan struct{})
	// Interrupt on cancel: SIGINT, then SIGKILL after the grace period.
	interrupter := make(chan bool, 1)
	go func() {
		select {
		case <-exited:
			interrupter <- false
			return
		case <-ctx.Done():
		}
		defer func() { interrupter <- true }()
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}()

	// Follow the events until Bazel exits and the file is drained. The
	// follower ignores ctx: after an interrupt Bazel still writes its last
	// events, which say the build was interrupted.
	type followOut struct {
		r   buildevent.FollowResult
		err error
	}
	followed := make(chan followOut, 1)
	go func() {
		r, err := buildevent.FollowEvents(context.Background(), opts.EventFile, exited, func(ev *buildevent.BuildEvent) {
			if ev.Finished != nil {
				res.Finished = ev.Finished
			}
			if opts.OnEvent != nil {
				opts.OnEvent(ev)
			}
		})
		followed <- followOut{r, err}
	}()

	waitErr := cmd.Wait()
	close(exited)
	drained := time.Now().Add(2 * time.Second)
	outCopy.wait(drained)
	errCopy.wait(drained)
	fo := <-followed
	res.Duration = time.Since(start)
	res.LastMessage = fo.r.LastMessage
	res.Events = fo.r.Events
	res.Interrupted = <-interrupter

	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return res, fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, waitErr)
		}
		res.ExitCode = ee.ExitCode()
	}
	if fo.err != nil {
		return res, fmt.Errorf("bazel %s: %w", command, fo.err)
	}
	if res.ExitCode != 0 {
		return res, &Error{Args: full, ExitCode: res.ExitCode, Stderr: errTail.String()}
	}
	return res, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// pipeCopy copies a pipe's read end to a writer in the background.
type pipeCopy struct {
	r, w *os.File
	done chan struct{}
}

// pipeTo makes *dst the write end of a new pipe whose read end is copied
// to w (nil: discarded).
func pipeTo(dst *io.Writer, w io.Writer) (*pipeCopy, error) {
	if w == nil {
		w = io.Discard
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("bazel output pipe: %w", err)
	}
	*dst = pw
	p := &pipeCopy{r: r, w: pw, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_, _ = io.Copy(w, r)
	}()
	return p, nil
}

// started closes the parent's copy of the write end, once the child has
// its own.
func (p *pipeCopy) started() { p.w.Close() }

// wait waits for the copy to reach EOF, at most until deadline, then
// closes the pipe.
func (p *pipeCopy) wait(deadline time.Time) {
	select {
	case <-p.done:
	case <-time.After(time.Until(deadline)):
		p.r.Close()
		<-p.done
	}
	p.r.Close()
}

func (p *pipeCopy) abort() {
	p.w.Close()
	p.r.Close()
	<-p.done
}
