package bazel

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLearnClient runs launchers the way Debian's /usr/bin/bazel works
// (a script that execs the client it picks) and checks which client is
// learnt, that CachedVersionAndClient finds it, and that it is forgotten when the
// files that decide the pick change.
func TestLearnClient(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("no /proc")
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		script string // the launcher; CLIENT and WS are replaced
		learn  bool
	}{
		{"exec", "#!/bin/sh\nexec 'CLIENT' \"$@\"\n", true},
		{"child process (Bazelisk)", "#!/bin/sh\n'CLIENT' \"$@\"\n", false},
		{"tools/bazel in the workspace", "#!/bin/sh\nexec 'WS/tools/bazel' \"$@\"\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, ws := t.TempDir(), t.TempDir()
			client := filepath.Join(dir, "bazel-9")
			if err := os.WriteFile(client, data, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(ws, "tools"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ws, "tools", "bazel"), data, 0o755); err != nil {
				t.Fatal(err)
			}
			launcher := filepath.Join(dir, "bazel")
			script := strings.NewReplacer("CLIENT", client, "WS", ws).Replace(tc.script)
			if err := os.WriteFile(launcher, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "versions.json")
			b := &Bazel{Binary: launcher, Dir: ws, LearnClient: file}
			cmd := exec.Command(launcher, "0.3")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			b.learnClient(cmd.Process.Pid, 250*time.Millisecond)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			resolve := func() string {
				t.Helper()
				_, c, err := b.CachedVersionAndClient(context.Background(), file)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			got := resolve()
			want := ""
			if tc.learn {
				want = client
			}
			if got != want {
				t.Fatalf("client = %q, want %q", got, want)
			}
			if !tc.learn {
				return
			}
			c := (&Bazel{Binary: launcher, Dir: ws, Client: got}).command(context.Background(), []string{"0"})
			if c.Path != client || c.Args[0] != launcher {
				t.Errorf("command runs %s as %q, want %s as %q", c.Path, c.Args[0], client, launcher)
			}
			// Another Bazel installed beside the launcher may change its pick.
			if err := os.WriteFile(filepath.Join(dir, "bazel-10"), data, 0o755); err != nil {
				t.Fatal(err)
			}
			if got := resolve(); got != "" {
				t.Errorf("after bazel-10 was installed, client = %q, want none", got)
			}
		})
	}
}
