package buildevent

import (
	"context"
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
