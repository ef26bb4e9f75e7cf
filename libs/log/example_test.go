package log_test

import (
	"context"
	"os"
	"time"

	"github.com/strideci/monorepo/libs/log"
)

func Example() {
	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	l := log.New(os.Stdout, log.Options{Format: log.FormatLogfmt, Now: clock}).With("service", "artifactd")
	l.Info("listening", "addr", "127.0.0.1:8080")
	l.Debug("not shown at info level")

	ctx := log.WithRequestID(log.NewContext(context.Background(), l), "req-1")
	log.FromContext(ctx).Warn("slow request", "duration", 1500*time.Millisecond)
	// Output:
	// time=2024-05-01T12:00:00.000Z level=info msg=listening service=artifactd addr=127.0.0.1:8080
	// time=2024-05-01T12:00:00.000Z level=warn msg="slow request" service=artifactd request_id=req-1 duration=1.5s
}
