package newapi

import (
	"bytes"
	"context"
	"errors"
	"iter"     // want `package iter was added in Go 1.23; the Bazel build compiles with Go 1.19`
	"log/slog" // want `package log/slog was added in Go 1.21`
	"net/http"
	"slices" // want `package slices was added in Go 1.21`
	"strings"
	"sync"
	"time"
)

func symbols(ctx context.Context, a, b error, t0, t1 time.Time) {
	_ = errors.Join(a, b)                     // want `errors.Join was added in Go 1.20`
	_, _ = strings.CutPrefix("ab", "a")       // want `strings.CutPrefix was added in Go 1.20`
	_ = bytes.Clone(nil)                      // want `bytes.Clone was added in Go 1.20`
	_, cancel := context.WithCancelCause(ctx) // want `context.WithCancelCause was added in Go 1.20`
	cancel(nil)
	_ = sync.OnceFunc(func() {})                        // want `sync.OnceFunc was added in Go 1.21`
	_ = time.DateTime                                   // want `time.DateTime was added in Go 1.20`
	_ = t0.Compare(t1)                                  // want `method \(time.Time\).Compare was added in Go 1.20`
	_ = http.Server{DisableGeneralOptionsHandler: true} // want `field http.Server.DisableGeneralOptionsHandler was added in Go 1.20`
	slog.Info("x")
	_ = slices.Contains([]int{1}, 1)
}

type wrapped struct{ time.Time }

// A method promoted from an embedded standard-library type.
func promoted(w wrapped) int { return w.Compare(time.Time{}) } // want `method \(time.Time\).Compare was added in Go 1.20`

func builtins(m map[string]int) int {
	clear(m)           // want `builtin clear was added in Go 1.21`
	return min(1, 2) + // want `builtin min was added in Go 1.21`
		max(3, 4) // want `builtin max was added in Go 1.21`
}

func ranges(seq iter.Seq[int]) {
	for i := range 10 { // want `range over an integer was added in Go 1.22`
		_ = i
	}
	for v := range seq { // want `range over a function was added in Go 1.23`
		_ = v
	}
}
