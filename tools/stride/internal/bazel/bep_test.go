package bazel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testdata/bep_test_failed.json is what Bazel 4.2.3 wrote for
// `bazel test //...` over a genrule and three sh_tests, one failing.
func TestDecodeEvents(t *testing.T) {
	f, err := os.Open("testdata/bep_test_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		configured = map[string][]string{}
		summaries  = map[string]string{}
		xmls       []string
		finished   *BuildFinished
		metrics    *BuildMetrics
		last       bool
		targets    int
	)
	err = DecodeEvents(f, func(ev *BuildEvent) {
		switch {
		case ev.Configured != nil:
			configured[ev.ID.Label()] = ev.Configured.Tag
		case ev.TestSummary != nil:
			summaries[ev.ID.Label()] = ev.TestSummary.OverallStatus
		case ev.TestResult != nil:
			xmls = append(xmls, filepath.Base(filepath.Dir(ev.TestResult.Output("test.xml"))))
		case ev.Finished != nil:
			finished = ev.Finished
		case ev.BuildMetrics != nil:
			metrics = ev.BuildMetrics
		case ev.Expanded != nil:
			targets = len(ev.Children)
		}
		if ev.LastMessage {
			last = true
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if targets != 4 {
		t.Errorf("pattern expanded to %d targets, want 4", targets)
	}
	wantConf := map[string][]string{"//a:bench_test": {"perf"}, "//a:fail_test": nil, "//a:gen": nil, "//a:pass_test": nil}
	if d := cmp.Diff(wantConf, configured); d != "" {
		t.Errorf("configured tags (-want +got):\n%s", d)
	}
	wantSum := map[string]string{"//a:bench_test": "PASSED", "//a:fail_test": "FAILED", "//a:pass_test": "PASSED"}
	if d := cmp.Diff(wantSum, summaries); d != "" {
		t.Errorf("summaries (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"bench_test", "pass_test", "fail_test"}, xmls); d != "" {
		t.Errorf("test.xml dirs (-want +got):\n%s", d)
	}
	if finished.Code() != 3 || finished.ExitCode.Name != "TESTS_FAILED" {
		t.Errorf("finished = %+v, want TESTS_FAILED 3", finished.ExitCode)
	}
	if metrics.ActionSummary.ActionsCreated != 37 || metrics.ActionSummary.ActionsExecuted != 14 {
		t.Errorf("metrics = %+v", metrics.ActionSummary)
	}
	if !last {
		t.Error("lastMessage not seen")
	}
}

func TestDecodeEventsCorrupt(t *testing.T) {
	err := DecodeEvents(strings.NewReader("{\"id\":{}}\n{oops\n"), func(*BuildEvent) {})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func TestFilePath(t *testing.T) {
	f := File{URI: "file:///tmp/a%20b/test.xml"}
	if got := f.Path(); got != "/tmp/a b/test.xml" {
		t.Fatalf("Path = %q", got)
	}
	if got := (File{URI: "bytestream://x/y"}).Path(); got != "" {
		t.Fatalf("Path of bytestream = %q, want empty", got)
	}
}

// FollowEvents must see events written in pieces, before the writer is
// done, and stop at lastMessage.
func TestFollowEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bep.json")
	done := make(chan struct{})
	got := make(chan string, 10)
	resc := make(chan FollowResult, 1)
	go func() {
		r, err := FollowEvents(context.Background(), path, done, func(ev *BuildEvent) {
			got <- ev.ID.Label()
		})
		if err != nil {
			t.Error(err)
		}
		resc <- r
	}()
	time.Sleep(80 * time.Millisecond) // the file does not exist yet
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(`{"id":{"targetCompleted":{"label":"//a:b"}},`)
	time.Sleep(80 * time.Millisecond)
	f.WriteString(`"completed":{"success":true}}` + "\n")
	select {
	case l := <-got:
		if l != "//a:b" {
			t.Fatalf("label %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered while the file is still being written")
	}
	f.WriteString(`{"id":{"progress":{}},"lastMessage":true}` + "\n")
	select {
	case r := <-resc:
		if !r.LastMessage || r.Events != 2 {
			t.Fatalf("result %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FollowEvents did not stop at lastMessage")
	}
}

// A writer that dies mid-stream: FollowEvents stops once done is closed
// and reports that the last message never came.
func TestFollowEventsTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bep.json")
	os.WriteFile(path, []byte(`{"id":{"started":{}},"started":{"uuid":"u"}}`+"\n"+`{"id":{"pro`), 0o644)
	done := make(chan struct{})
	close(done)
	r, err := FollowEvents(context.Background(), path, done, func(*BuildEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	if r.LastMessage || r.Events != 1 {
		t.Fatalf("result %+v, want 1 event and no last message", r)
	}
}

func TestStream(t *testing.T) {
	// The fake writes a stream to the file named by its flag, like Bazel.
	script := `
for a in "$@"; do case $a in --build_event_json_file=*) f=${a#*=};; esac; done
echo '{"id":{"started":{}},"started":{"command":"'$2'"}}' > "$f"
echo 'Loading...' >&2
case "$*" in
*crash*) echo '{"id":{"targetCompleted":{"label":"//a:b"}},"completed":{}}' >> "$f"; kill -9 $$;;
*fail*) echo '{"id":{"buildFinished":{}},"finished":{"exitCode":{"name":"BUILD_FAILURE","code":1}}}' >> "$f"
        echo '{"id":{"progress":{}},"lastMessage":true}' >> "$f"; echo 'ERROR: broke' >&2; exit 1;;
*sleep*) trap 'echo "{\"id\":{\"buildFinished\":{}},\"finished\":{\"exitCode\":{\"name\":\"INTERRUPTED\",\"code\":8}}}" >> "$f"; echo "{\"id\":{\"progress\":{}},\"lastMessage\":true}" >> "$f"; exit 8' INT
        sleep 30 & wait;;
esac
echo '{"id":{"buildFinished":{}},"finished":{"overallSuccess":true,"exitCode":{"name":"SUCCESS"}}}' >> "$f"
echo '{"id":{"progress":{}},"lastMessage":true}' >> "$f"
`
	bin := fakeBazel(t, script)
	tests := []struct {
		target       string
		wantCode     int
		wantComplete bool
		wantErr      string
		cancel       bool
	}{
		{target: "//ok", wantCode: 0, wantComplete: true},
		{target: "//fail", wantCode: 1, wantComplete: true, wantErr: "ERROR: broke"},
		{target: "//crash", wantCode: -1, wantComplete: false, wantErr: "exit code -1"},
		{target: "//sleep", wantCode: 8, wantComplete: true, cancel: true},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			b := &Bazel{Binary: bin, Dir: t.TempDir()}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			var n int
			res, err := b.Stream(ctx, StreamOptions{
				EventFile: filepath.Join(t.TempDir(), "bep.json"),
				OnEvent:   func(*BuildEvent) { n++ },
				Grace:     5 * time.Second,
			}, "build", tc.target)
			if res == nil {
				t.Fatalf("no result, err %v", err)
			}
			if res.ExitCode != tc.wantCode {
				t.Errorf("exit code %d, want %d (err %v)", res.ExitCode, tc.wantCode, err)
			}
			if res.Complete() != tc.wantComplete {
				t.Errorf("Complete() = %v, want %v", res.Complete(), tc.wantComplete)
			}
			if res.Interrupted != tc.cancel {
				t.Errorf("Interrupted = %v", res.Interrupted)
			}
			if n != res.Events || n < 2 {
				t.Errorf("OnEvent called %d times, Events %d", n, res.Events)
			}
			if tc.wantCode == 0 && err != nil {
				t.Fatal(err)
			}
			if tc.wantCode != 0 {
				var be *Error
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want *Error containing %q", err, tc.wantErr)
				}
			}
		})
	}
}
