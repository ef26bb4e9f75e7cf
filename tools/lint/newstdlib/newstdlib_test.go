package newstdlib_test

import (
	"testing"

	"github.com/strideci/monorepo/tools/lint/internal/linttest"
	"github.com/strideci/monorepo/tools/lint/newstdlib"
)

// TestOld: API that Go 1.19 has is not reported. (The positive cases are in
// newapi_test.go: they need a newer Go to type-check.)
func TestOld(t *testing.T) {
	linttest.Run(t, newstdlib.Analyzer, "example.com/old")
}

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		pkg   string
		minor int // 0: not new
	}{
		{"slices", 21}, {"maps", 21}, {"cmp", 21}, {"log/slog", 21}, {"iter", 23},
		{"unique", 23}, {"math/rand/v2", 22}, {"crypto/ecdh", 20},
		{"strings", 0}, {"sync/atomic", 0}, {"net/netip", 0}, {"math/rand", 0},
	} {
		m, ok := newstdlib.PackageMinor(tc.pkg)
		if ok != (tc.minor != 0) || m != tc.minor {
			t.Errorf("PackageMinor(%q) = %d, %v; want %d", tc.pkg, m, ok, tc.minor)
		}
	}
	for _, tc := range []struct {
		sym   string
		minor int
	}{
		{"errors.Join", 20}, {"strings.CutPrefix", 20}, {"strings.CutSuffix", 20},
		{"bytes.Clone", 20}, {"context.WithCancelCause", 20}, {"sync.OnceFunc", 21},
		{"sync.OnceValue", 21}, {"time.DateTime", 20}, {"time.Time.Compare", 20},
		{"net/http.NewResponseController", 20}, {"net/http.Server.DisableGeneralOptionsHandler", 20},
		{"reflect.TypeFor", 22}, {"sync.WaitGroup.Go", 25},
		// In Go 1.19 already.
		{"strings.Cut", 0}, {"strings.Clone", 0}, {"sync/atomic.Int64", 0},
		{"sort.Slice", 0}, {"errors.Is", 0}, {"unicode.Version", 0}, {"context.WithCancel", 0},
	} {
		m, ok := newstdlib.SymbolMinor(tc.sym)
		if ok != (tc.minor != 0) || m != tc.minor {
			t.Errorf("SymbolMinor(%q) = %d, %v; want %d", tc.sym, m, ok, tc.minor)
		}
	}
}
