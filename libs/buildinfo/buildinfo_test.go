package buildinfo

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Version != "dev" || i.Commit != "unknown" || i.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v, want the unstamped defaults", i)
	}
	if i.StartTime.IsZero() || i.StartTime.After(time.Now()) {
		t.Errorf("StartTime = %v", i.StartTime)
	}
	if s := String("artifactd"); !strings.HasPrefix(s, "artifactd dev (commit unknown, go") {
		t.Errorf("String = %q", s)
	}
}

func TestEmptyStampMeansUnstamped(t *testing.T) {
	defer func(v, c string) { Version, Commit = v, c }(Version, Commit)
	Version, Commit = "", ""
	if i := Get(); i.Version != "dev" || i.Commit != "unknown" {
		t.Errorf("Get() = %+v", i)
	}
	Version, Commit = "1.2.3", "abc"
	if s := String("x"); !strings.HasPrefix(s, "x 1.2.3 (commit abc, ") {
		t.Errorf("String = %q", s)
	}
}
