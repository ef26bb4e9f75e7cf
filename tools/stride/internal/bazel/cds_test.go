package bazel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fakeServer writes /proc/PID/{cmdline,exe} of a Bazel server JVM.
func fakeServer(t *testing.T, proc string, pid int, workspace string, jvmArgs ...string) {
	t.Helper()
	dir := filepath.Join(proc, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"bazel(ws)"}, jvmArgs...)
	args = append(args, "-jar", "/usr/share/bazel/A-server.jar", "--max_idle_secs=600", "--workspace_directory="+workspace)
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/lib/jvm/x/bin/java", filepath.Join(dir, "exe")); err != nil {
		t.Fatal(err)
	}
}

// cdsDirs makes an archive directory, a fake /proc and a workspace (its
// path with symbolic links resolved, as a Bazel server reports it).
func cdsDirs(t *testing.T) (dir, proc, ws string) {
	t.Helper()
	root := t.TempDir()
	dir, proc, ws = filepath.Join(root, "cds"), filepath.Join(root, "proc"), filepath.Join(root, "ws")
	for _, d := range []string{dir, proc, ws} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(ws, "WORKSPACE"), "")
	if r, err := filepath.EvalSymlinks(ws); err == nil {
		ws = r
	}
	return dir, proc, ws
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestCDSPlan(t *testing.T) {
	const key = "k1"
	const record = `{"java":"/usr/lib/jvm/x/bin/java","jar":"/usr/share/bazel/A-server.jar"}`
	tests := []struct {
		name string
		// setup gets the archive dir, the fake /proc and the workspace.
		setup     func(t *testing.T, dir, proc, ws string)
		validate  error
		wantFlag  string // prefix of the one flag; "" means no flags
		wantFiles []string
	}{
		{
			name:     "nothing yet: the server writes a temporary archive",
			setup:    func(t *testing.T, dir, proc, ws string) {},
			wantFlag: "--host_jvm_args=-XX:ArchiveClassesAtExit=DIR/k1.",
		},
		{
			name: "finished valid archive is promoted and used",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp"), "archive")
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp.json"), record)
			},
			wantFlag:  "--host_jvm_args=-XX:SharedArchiveFile=DIR/k1.jsa",
			wantFiles: []string{"k1.jsa"},
		},
		{
			name: "finished archive java rejects is removed",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp"), "truncated")
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp.json"), record)
			},
			validate: errors.New("java rejects it"),
			wantFlag: "--host_jvm_args=-XX:ArchiveClassesAtExit=DIR/k1.",
		},
		{
			name: "archive without a record of its writer is removed",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp"), "archive")
			},
			wantFlag: "--host_jvm_args=-XX:ArchiveClassesAtExit=DIR/k1.",
		},
		{
			name: "archive still being written by another workspace's server is kept",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp"), "partial")
				writeFile(t, filepath.Join(dir, "k1.1-2.jsa.tmp.json"), record)
				fakeServer(t, proc, 10, "/elsewhere", "-XX:ArchiveClassesAtExit="+filepath.Join(dir, "k1.1-2.jsa.tmp"))
			},
			wantFlag:  "--host_jvm_args=-XX:ArchiveClassesAtExit=DIR/k1.",
			wantFiles: []string{"k1.1-2.jsa.tmp", "k1.1-2.jsa.tmp.json"},
		},
		{
			name: "archives of another key nobody maps are removed",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.jsa"), "archive")
				writeFile(t, filepath.Join(dir, "old.jsa"), "archive")
				writeFile(t, filepath.Join(dir, "old.3-4.jsa.tmp"), "archive")
			},
			wantFlag:  "--host_jvm_args=-XX:SharedArchiveFile=DIR/k1.jsa",
			wantFiles: []string{"k1.jsa"},
		},
		{
			name: "the workspace's server runs with stride's flag: repeat it",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.jsa"), "archive")
				fakeServer(t, proc, 11, ws, "-Xverify:none", "-XX:SharedArchiveFile="+filepath.Join(dir, "k1.jsa"))
			},
			wantFlag:  "--host_jvm_args=-XX:SharedArchiveFile=DIR/k1.jsa",
			wantFiles: []string{"k1.jsa"},
		},
		{
			name: "the workspace's server runs without it: leave it alone",
			setup: func(t *testing.T, dir, proc, ws string) {
				writeFile(t, filepath.Join(dir, "k1.jsa"), "archive")
				fakeServer(t, proc, 12, ws, "-Xverify:none")
			},
			wantFiles: []string{"k1.jsa"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, proc, ws := cdsDirs(t)
			tc.setup(t, dir, proc, ws)
			c := &CDS{Dir: dir, Workspace: ws, Key: key, ProcDir: proc,
				Validate: func(ctx context.Context, archive string, w CDSWriter) error {
					if w.Java == "" || w.Jar == "" {
						t.Errorf("Validate got writer %+v", w)
					}
					return tc.validate
				}}
			plan, err := c.Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(tc.wantFlag, "DIR", dir)
			switch {
			case want == "" && len(plan.Flags) != 0:
				t.Errorf("flags %q, want none (%s)", plan.Flags, plan.Note)
			case want != "" && (len(plan.Flags) != 1 || !strings.HasPrefix(plan.Flags[0], want)):
				t.Errorf("flags %q, want one starting %q (%s)", plan.Flags, want, plan.Note)
			}
			if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(tc.wantFiles, " ") {
				t.Errorf("archive dir holds %q, want %q", got, tc.wantFiles)
			}
		})
	}
}

func TestCDSServerStarted(t *testing.T) {
	dir, proc, ws := cdsDirs(t)
	c := &CDS{Dir: dir, Workspace: ws, Key: "k", ProcDir: proc}
	plan, err := c.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.ServerStarted(); err == nil {
		t.Fatal("ServerStarted with no server running: want an error")
	}
	fakeServer(t, proc, 20, ws, strings.TrimPrefix(plan.Flags[0], "--host_jvm_args="))
	if err := plan.ServerStarted(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(plan.writing + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"java":"/usr/lib/jvm/x/bin/java","jar":"/usr/share/bazel/A-server.jar"}`; got != want {
		t.Errorf("record %s, want %s", got, want)
	}
	if flags, running := c.LiveFlags(); !running || len(flags) != 1 || flags[0] != plan.Flags[0] {
		t.Errorf("LiveFlags = %q, %v; want %q, true", flags, running, plan.Flags)
	}
}

func TestCDSWithoutProc(t *testing.T) {
	dir, _, ws := cdsDirs(t)
	c := &CDS{Dir: dir, Workspace: ws, Key: "k", ProcDir: filepath.Join(dir, "no-proc")}
	plan, err := c.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Flags) != 0 {
		t.Errorf("flags %q without /proc, want none: a running server could not be seen", plan.Flags)
	}
}
