package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// killConfig is what the parent test passes to the child process.
type killConfig struct {
	Store, Run, Docs, Aptly, GnuPG string
	Debs                           []string
	Number                         int
	Kill                           string // "step:N": SIGKILL at the Nth step (rename = inside a blob write)
}

const killEnv = "STRIDE_PUBLISH_KILL_CONFIG"

func (c *killConfig) options(t testing.TB) publish.Options {
	s, err := store.OpenFS(c.Store)
	if err != nil {
		t.Fatal(err)
	}
	o := publish.Options{Dir: filepath.Dir(c.Run), RunDir: c.Run, Debs: c.Debs, DocsDir: c.Docs, Store: s, Number: c.Number}
	if c.Aptly != "" {
		o.Aptly = &apt.Aptly{Root: c.Aptly, Keyring: &apt.Keyring{Home: c.GnuPG}}
	}
	return o
}

// TestKillHelper is the child process of TestKillDuringPublish: it
// publishes and kills itself with SIGKILL at the configured point.
func TestKillHelper(t *testing.T) {
	raw := os.Getenv(killEnv)
	if raw == "" {
		t.Skip("only run as the child of TestKillDuringPublish")
	}
	var c killConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	step, nstr, _ := strings.Cut(c.Kill, ":")
	n, _ := strconv.Atoi(nstr)
	count := map[string]int{}
	at := func(s string) {
		count[s]++
		if s == step && count[s] == n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	o := c.options(t)
	o.Store.(*store.FS).BeforeRename = func(tmp, final string) { at("rename") }
	o.Hook = at
	if _, err := publish.Publish(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// TestKillDuringPublish kills a publish (kill -9) at several points and
// checks that the store stays consistent (verify passes, the build is
// invisible until its manifest is written) and that publishing again
// completes the build, its snapshot and the dev distribution.
func TestKillDuringPublish(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" && apt.Available() == nil {
		t.Skip("skipping under bazel test: runs in go test ./... (ci/test)")
	}
	withApt := apt.Available() == nil
	if !withApt {
		t.Logf("aptly or gpg missing (%v): testing the store only", apt.Available())
	}
	ws := t.TempDir()
	debDir := t.TempDir()
	var debs []string
	for _, name := range []string{"hello", "world"} {
		d := filepath.Join(debDir, name)
		os.MkdirAll(d, 0o755)
		debs = append(debs, apttest.Build(t, d, apttest.Package{Name: name, Payload: name}))
	}
	run := publishtest.MakeRun(t, ws, publishtest.Sha(4), report.StatusGreen, 1000)
	docs := publishtest.DocsDir(t)
	var gnupg string
	if withApt {
		var err error
		if gnupg, err = os.MkdirTemp("", "g"); err != nil {
			t.Fatal(err)
		}
		kr := &apt.Keyring{Home: gnupg}
		t.Cleanup(func() { kr.KillAgent(); os.RemoveAll(gnupg) })
		if _, _, err := kr.Ensure(context.Background(), "test", "test@example.invalid"); err != nil {
			t.Fatal(err)
		}
	}
	// blob:1 is the first .deb; the docs, report and perf follow.
	points := []string{"rename:1", "blob:1", "rename:4", "blob:6", "manifest:1"}
	if withApt {
		points = []string{"rename:1", "blob:6", "aptly-add:1", "snapshot:1", "manifest:1"}
	}
	for _, point := range points {
		point := point
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			ctx := context.Background()
			base := t.TempDir()
			c := killConfig{Store: filepath.Join(base, "store"), Run: run, Docs: docs, Debs: debs, Number: 7, Kill: point}
			if withApt {
				c.Aptly, c.GnuPG = filepath.Join(base, "store", "aptly"), gnupg
			}
			raw, _ := json.Marshal(c)
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), killEnv+"="+string(raw))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at %s: %v\n%s", point, err, out)
			}
			o := c.options(t)
			s := o.Store.(*store.FS)
			res, err := store.Verify(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("store inconsistent after kill at %s: %+v", point, res.Problems)
			}
			ids, _ := s.Builds(ctx)
			if visible, want := len(ids) == 1, point == "manifest:1"; visible != want {
				t.Fatalf("after kill at %s: builds %v (visible %v, want %v)", point, ids, visible, want)
			}
			// Publishing again completes the build.
			r, err := publish.Publish(ctx, o)
			if err != nil {
				t.Fatalf("publish after kill at %s: %v", point, err)
			}
			if r.Manifest == nil || len(r.Manifest.Packages) != 2 {
				t.Fatalf("publish after kill: %+v", r)
			}
			res, err = store.Verify(ctx, s)
			if err != nil || !res.OK() || res.Builds != 1 {
				t.Fatalf("Verify after re-publish = %+v, %v", res, err)
			}
			if withApt {
				pub, err := o.Aptly.Published(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if pub["dev"] != apt.SnapshotName(publishtest.Sha(4)) {
					t.Fatalf("dev serves %q after re-publish, want %s", pub["dev"], apt.SnapshotName(publishtest.Sha(4)))
				}
				pkgs, err := o.Aptly.SnapshotPackages(ctx, apt.SnapshotName(publishtest.Sha(4)))
				if err != nil || len(pkgs) != 2 {
					t.Fatalf("snapshot packages = %v, %v", pkgs, err)
				}
			}
			gc, err := store.GC(ctx, s, store.GCOptions{Keep: map[string]string{publishtest.Sha(4): "dev"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(gc.Removed) != 0 {
				t.Fatalf("GC removed %v", gc.Removed)
			}
			t.Logf("kill at %s: re-publish %s; gc removed %d orphan blobs, %d leftovers", point, fmt.Sprint(r.Steps["total"])+"ms", gc.Blobs, len(gc.Leftovers))
		})
	}
}
