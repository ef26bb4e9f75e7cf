package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/strideci/monorepo/libs/proctest"
	"github.com/strideci/monorepo/tools/stride/board/boardtest"
)

// chromium finds Debian's chromium (ci/lib.sh installs it); the test
// skips without it, and under Bazel (TEST_SRCDIR) when it cannot start
// in the sandbox.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (ci/lib.sh installs it)")
	return ""
}

// browser is headless Chromium with the console's errors collected.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1000),
		chromedp.Flag("headless", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	// cdproto may not know every value a newer Chromium sends (e.g.
	// IPAddressSpace "Loopback"); those events are dropped, and logged.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, a ...interface{}) {
		if msg := fmt.Sprintf(format, a...); !strings.Contains(msg, "unknown IPAddressSpace value") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev interface{}) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				b.errors = append(b.errors, fmt.Sprintf("console.error: %v", e.Args))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				b.errors = append(b.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	})
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable()); err != nil {
		if os.Getenv("TEST_SRCDIR") != "" {
			t.Skipf("chromium cannot start in Bazel's sandbox: %v", err)
		}
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) run(t *testing.T, timeout time.Duration, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// outputs is where screenshots go: Bazel's undeclared outputs, else the
// test's temporary directory.
func outputs(t *testing.T) string {
	if d := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR"); d != "" {
		return d
	}
	return t.TempDir()
}

func shot(t *testing.T, b *browser, name string) {
	t.Helper()
	var png []byte
	b.run(t, 20*time.Second, chromedp.FullScreenshot(&png, 100))
	path := filepath.Join(outputs(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

// startBoard starts the releaseboard binary on 127.0.0.1 against the
// scenario's repository and store.
func startBoard(t *testing.T, s *boardtest.Scenario) *proctest.Process {
	t.Helper()
	bin := proctest.Binary(t, *binary, "releaseboard", "")
	p := proctest.Start(t, bin, []string{"-listen", "127.0.0.1:0", "-repo", s.Repo, "-store", s.Store, "-environments", s.Config}, proctest.Env())
	proctest.WaitReady(t, http.DefaultClient, p.URL)
	return p
}

// TestBrowser is the board as a person sees it in Chromium: the
// verdicts, a chart on a build page, no console errors (CSP violations
// included), a ledger event appearing without a reload within 2 s, and
// screenshots of the overview and a build page.
func TestBrowser(t *testing.T) {
	s := boardtest.New(t)
	p := startBoard(t, s)
	b := newBrowser(t)

	var prod, uat, live string
	b.run(t, 30*time.Second,
		chromedp.Navigate(p.URL+"/"),
		chromedp.WaitVisible(`[data-verdict-env="prod"]`),
		chromedp.Text(`[data-verdict-env="prod"]`, &prod),
		chromedp.Text(`[data-verdict-env="uat"]`, &uat),
		chromedp.Poll(`document.getElementById('live-status').textContent === 'live'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`#live-status`, &live),
	)
	if !strings.Contains(prod, "waiting for: approval from @team-payments, soak") || !strings.Contains(uat, "waiting for: soak") || live != "live" {
		t.Errorf("verdicts: prod %q, uat %q, live %q", prod, uat, live)
	}

	// A hold appended to the ledger shows up on the open page.
	n := s.Events()
	start := time.Now()
	s.Hold("preprod", "release freeze", true)
	var line string
	b.run(t, 10*time.Second,
		chromedp.WaitVisible(fmt.Sprintf(`#live-events li[data-seq="%d"]`, n), chromedp.ByQuery),
		chromedp.Text(fmt.Sprintf(`#live-events li[data-seq="%d"]`, n), &line, chromedp.ByQuery),
	)
	took := time.Since(start)
	t.Logf("the hold appeared on the page %v after the append", took)
	if took > 2*time.Second || !strings.Contains(line, "hold") || !strings.Contains(line, "release freeze") {
		t.Errorf("live event after %v: %q", took, line)
	}
	var preprod string
	b.run(t, 5*time.Second, chromedp.Text(`[data-verdict-env="preprod"]`, &preprod))
	if !strings.Contains(preprod, "unhold of preprod") && !strings.Contains(preprod, "up to date") {
		t.Errorf("preprod verdict after the hold: %q", preprod)
	}
	shot(t, b, "overview.png")

	var charts []*cdp.Node
	var tests string
	b.run(t, 30*time.Second,
		chromedp.Navigate(p.URL+"/builds/"+s.Builds[1]),
		chromedp.WaitVisible(`#tests`),
		chromedp.Nodes(`svg.chart`, &charts, chromedp.ByQueryAll),
		chromedp.Text(`#tests`, &tests),
	)
	if len(charts) == 0 || !strings.Contains(tests, "2 tests, 2 passed, 0 failed, 1 flaky") {
		t.Errorf("build page: %d charts, tests %q", len(charts), tests)
	}
	shot(t, b, "build.png")
	b.run(t, 30*time.Second, chromedp.Navigate(p.URL+"/envs/prod"), chromedp.WaitVisible(`svg.chart`))
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserXSS: markup in a commit subject, a hold's reason and a test
// name is shown as text: nothing runs, nothing is parsed as HTML.
func TestBrowserXSS(t *testing.T) {
	s := boardtest.New(t)
	markup := `<script>window.__xss=1</script>"'><img src=x onerror="window.__xss=2">`
	id := s.Evil(markup)
	p := startBoard(t, s)
	b := newBrowser(t)
	for _, page := range []string{"/", "/builds/" + id, "/envs/uat", "/change?base=" + id + "%5E&head=" + id} {
		var xss bool
		var text string
		var imgs []*cdp.Node
		b.run(t, 30*time.Second,
			chromedp.Navigate(p.URL+page),
			chromedp.WaitReady(`body`),
			chromedp.Evaluate(`window.__xss !== undefined`, &xss),
			chromedp.Text(`main`, &text),
			chromedp.Nodes(`main img`, &imgs, chromedp.ByQueryAll, chromedp.AtLeast(0)),
		)
		if xss || len(imgs) > 0 {
			t.Errorf("%s: markup ran or was parsed (xss %v, %d img)", page, xss, len(imgs))
		}
		if !strings.Contains(text, "<script>window.__xss=1</script>") && !strings.Contains(text, "&lt;script&gt;") {
			t.Errorf("%s: the markup is not shown as text:\n%s", page, text)
		}
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
