package main

import (
	"bytes"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	goroot := t.TempDir()
	api := filepath.Join(goroot, "api")
	if err := os.MkdirAll(api, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go1.txt":    "pkg errors, func New(string) error\npkg time, type Time struct\npkg net/http, type Server struct\npkg sync/atomic, func AddInt32(*int32, int32) int32\npkg unicode, const Version = \"6.0.0\"\npkg unicode, const Version ideal-string\n",
		"go1.18.txt": "pkg strings, func Clone(string) string\n",
		"go1.19.txt": "pkg syscall (linux-386), const CLONE_NEWNS = 131072\n",
		"go1.20.txt": "pkg errors, func Join(...error) error #53435\n" +
			"pkg time, method (Time) Compare(Time) int #50770\n" +
			"pkg net/http, type Server struct, DisableGeneralOptionsHandler bool #53896\n" +
			"pkg syscall (freebsd-riscv64), const CLONE_NEWNS = 131072\n" +
			"pkg unicode, const Version = \"15.0.0\" #55079\n",
		"go1.21.txt": "pkg slices, func Contains[$0 interface{ ~[]$1 }, $1 comparable]($0, $1) bool #57433\n" +
			"pkg sync/atomic, method (*Pointer[$0]) Load() *$0\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(api, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for minor := 1; minor <= 17; minor++ { // the files in between
		name := filepath.Join(api, "go1."+strconv.Itoa(minor)+".txt")
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "table.go")
	if err := run(goroot, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(string(b)), " ") // gofmt aligns the values
	for _, want := range []string{
		`"slices": 21,`,
		`"errors.Join": 20,`,
		`"time.Time.Compare": 20,`,
		`"net/http.Server.DisableGeneralOptionsHandler": 20,`,
		`"sync/atomic.Pointer.Load": 21,`,
		"API files of Go 1.21;",
		`var newPackages = map[string]int{ "slices": 21, }`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %s:\n%s", want, got)
		}
	}
	for _, notWant := range []string{"CLONE_NEWNS", "unicode.Version", "strings.Clone", "slices.Contains"} {
		if strings.Contains(got, notWant) {
			t.Errorf("table has %s, which is not new (or is covered by its package):\n%s", notWant, got)
		}
	}
}

func TestBadLine(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "go1.20.txt")
	if err := os.WriteFile(f, []byte("pkg errors, func Join(...error) error\nnonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readAPI(f)
	if err == nil || !strings.Contains(err.Error(), "go1.20.txt:2: unrecognised line") {
		t.Fatalf("err = %v, want one naming go1.20.txt:2", err)
	}
}

// TestTableUpToDate regenerates the checked-in table from this Go's API
// files when they are the ones it was generated from.
func TestTableUpToDate(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("needs the source tree and a GOROOT with api/ files; run with go test")
	}
	goroot := build.Default.GOROOT
	checked, err := os.ReadFile(filepath.Join("..", "table.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`API files of Go 1\.(\d+);`).FindSubmatch(checked)
	if m == nil {
		t.Fatal("table.go lacks its header")
	}
	newest := filepath.Join(goroot, "api", "go1."+string(m[1])+".txt")
	next, _ := strconv.Atoi(string(m[1]))
	if _, err := os.Stat(newest); err != nil {
		t.Skipf("this Go (%s) lacks %s: the table was generated with a newer Go", goroot, newest)
	}
	if _, err := os.Stat(filepath.Join(goroot, "api", "go1."+strconv.Itoa(next+1)+".txt")); err == nil {
		t.Fatalf("this Go has API files newer than Go 1.%d: regenerate with\n"+
			"  go run ./tools/lint/newstdlib/gentable -goroot \"$(go env GOROOT)\" -o tools/lint/newstdlib/table.go", next)
	}
	out := filepath.Join(t.TempDir(), "table.go")
	if err := run(goroot, out); err != nil {
		t.Fatal(err)
	}
	regen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(regen, checked) {
		t.Errorf("tools/lint/newstdlib/table.go differs from what gentable makes of %s/api; regenerate it", goroot)
	}
}
