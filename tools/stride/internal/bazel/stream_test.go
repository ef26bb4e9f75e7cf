package bazel

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/internal/buildevent"
)

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
				OnEvent:   func(*buildevent.BuildEvent) { n++ },
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
