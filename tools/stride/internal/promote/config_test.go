package promote

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestParseConfigErrors parses every testdata/config/*.star file and
// compares the errors (file:line:col: message) with errors.golden.
func TestParseConfigErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/config/*.star")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var got strings.Builder
	for _, f := range files {
		name := filepath.Base(f)
		_, err := LoadConfig(f, name)
		switch {
		case name == "ok.star":
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		case err == nil:
			t.Errorf("%s: no error", name)
			continue
		case !errors.Is(err, ErrConfig):
			t.Errorf("%s: %v does not wrap ErrConfig", name, err)
		}
		got.WriteString(err.Error() + "\n")
	}
	golden := "testdata/config/errors.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("errors differ from %s (go test -update to rewrite):\ngot:\n%s\nwant:\n%s", golden, got.String(), want)
	}
}

func TestParseConfigExample(t *testing.T) {
	c, err := LoadConfig("testdata/config/ok.star", "ok.star")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(), " "); got != "dev uat preprod prod" {
		t.Errorf("order %q", got)
	}
	prod, _ := c.Env("prod")
	if prod.After != "preprod" || prod.Instances != 2 || len(prod.Criteria) != 4 {
		t.Errorf("prod = %+v", prod)
	}
	soak, _ := prod.Has(Soak)
	if soak.Soak != 24*time.Hour || soak.Text != "soak(hours = 24)" {
		t.Errorf("soak = %+v", soak)
	}
	pp, _ := c.Env("preprod")
	if perf, _ := pp.Has(Perf); perf.MaxRegression != 0.05 {
		t.Errorf("perf = %+v", perf)
	}
	w, _ := prod.Has(Window)
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-12-03T09:00:00Z", true},  // Thursday 09:00
		{"2026-12-03T16:00:00Z", false}, // Thursday 16:00: the window ends
		{"2026-12-04T10:00:00Z", false}, // Friday
		{"2026-11-30T15:59:00Z", true},  // Monday
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := w.InWindow(at); got != tc.want {
			t.Errorf("InWindow(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestParseDays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint8
	}{
		{"mon-thu", 0b0011110},
		{"sat-sun", 0b1000001},
		{"fri-mon", 0b1100011},
		{"mon,wed", 0b0001010},
	} {
		got, err := parseDays(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseDays(%q) = %07b, %v; want %07b", tc.in, got, err, tc.want)
		}
	}
}
