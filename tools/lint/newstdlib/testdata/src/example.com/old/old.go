package old

import (
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Go 1.18 and 1.19 API is fine.
func ok(s string) (string, bool) {
	before, _, found := strings.Cut(s, "=")
	var n atomic.Int64
	n.Add(1)
	xs := []int{3, 1}
	sort.Ints(xs)
	_ = time.RFC3339
	_ = http.Server{ReadHeaderTimeout: time.Second}
	return strings.Clone(before), found
}

// Our own functions and fields that share names with new API are ours.
func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

type errs struct{ DisableGeneralOptionsHandler bool }

func Join(es ...error) error { return nil }

func use() {
	_ = min(1, 2)
	_ = errs{DisableGeneralOptionsHandler: true}
	_ = Join()
	for i := range []int{1, 2} {
		_ = i
	}
}
