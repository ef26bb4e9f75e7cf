package publish_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/serving"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// aptFixture is a store with aptly where two builds are published: dev
// serves the second, uat the first.
type aptFixture struct {
	root   string
	s      *store.FS
	a      *apt.Aptly
	builds []*store.Manifest
}

func newAptFixture(t *testing.T) *aptFixture {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: runs in go test ./... (ci/test)")
	}
	if err := apt.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	ctx := context.Background()
	ws := t.TempDir()
	root, s, a, mk := newAptStore(t)
	f := &aptFixture{root: root, s: s, a: a}
	world := mk("w", apttest.Package{Name: "world", Payload: "stable"})
	for i, hello := range []string{mk("h1", apttest.Package{Name: "hello", Payload: "one"}), mk("h2", apttest.Package{Name: "hello", Payload: "two"})} {
		o := publish.Options{Dir: ws, RunDir: publishtest.MakeRun(t, ws, publishtest.Sha(5+i), report.StatusGreen, 0), Debs: []string{hello, world},
			DocsDir: "-", Store: s, Aptly: f.a, Number: 20 + i}
		r, err := publish.Publish(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		f.builds = append(f.builds, r.Manifest)
		if i == 0 { // uat gets the first build too
			o.Distribution = "uat"
			if _, err := publish.Publish(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// newAptStore makes an empty store with aptly, a short-lived GnuPG home
// (its agent stopped at the end) and a maker of test packages.
func newAptStore(t *testing.T) (root string, s *store.FS, a *apt.Aptly, mk func(sub string, p apttest.Package) string) {
	t.Helper()
	s, a = publishtest.APTStore(t)
	root = s.Root()
	debDir := t.TempDir()
	mk = func(sub string, p apttest.Package) string {
		d := filepath.Join(debDir, sub)
		os.MkdirAll(d, 0o755)
		return apttest.Build(t, d, p)
	}
	return root, s, a, mk
}

func (f *aptFixture) served(t *testing.T) map[string]string {
	t.Helper()
	pub, err := f.a.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestGCRefusesWhenAptlyDBIsLost is issue 17's first defect: with aptly's
// database gone, gc took the served builds from it alone and deleted every
// build. Now the published tree says what is served too, the records
// disagree, and gc refuses, removing nothing.
func TestGCRefusesWhenAptlyDBIsLost(t *testing.T) {
	f := newAptFixture(t)
	ctx := context.Background()
	if err := os.RemoveAll(filepath.Join(f.a.Root, "db")); err != nil {
		t.Fatal(err)
	}
	_, err := store.GC(ctx, f.s, store.GCOptions{Sources: serving.Sources(f.s, f.a)})
	if !errors.Is(err, store.ErrSourcesDisagree) || !strings.Contains(err.Error(), "dev: the published tree says build "+publishtest.Sha(6)[:12]+", the aptly database does not publish it") {
		t.Fatalf("GC without aptly's database = %v, want ErrSourcesDisagree naming dev", err)
	}
	if ids, _ := f.s.Builds(ctx); len(ids) != 2 {
		t.Fatalf("builds after the refused gc: %v", ids)
	}
	// The published tree alone is enough to know what is served.
	envs, err := (&serving.Tree{Dir: f.a.PublicDir(), Store: f.s}).Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(envs) != fmt.Sprintf("map[dev:[%s] uat:[%s]]", publishtest.Sha(6), publishtest.Sha(5)) {
		t.Fatalf("tree says %v", envs)
	}
}

// TestRebuildAPT deletes aptly's database, rebuilds it from the store and
// checks with apt-get (signed-by, through artifactd on 127.0.0.1) that each
// environment serves the same packages, byte for byte; gc then works again
// and keeps both served builds.
func TestRebuildAPT(t *testing.T) {
	f := newAptFixture(t)
	ctx := context.Background()
	for _, bin := range []string{"apt-get", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping: %s is not installed", bin)
		}
	}
	before := f.served(t)
	if err := os.RemoveAll(filepath.Join(f.a.Root, "db")); err != nil {
		t.Fatal(err)
	}
	res, err := publish.RebuildAPT(ctx, publish.RebuildOptions{Store: f.s, Aptly: f.a})
	if err != nil {
		t.Fatal(err)
	}
	if res.Builds != 2 || res.Packages != 3 || res.Environments["dev"] != publishtest.Sha(6) || res.Environments["uat"] != publishtest.Sha(5) {
		t.Fatalf("RebuildAPT = %+v", res)
	}
	if after := f.served(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("published after the rebuild %v, before %v", after, before)
	}
	if _, err := os.Stat(filepath.Join(f.a.Root, "db.before-rebuild")); !os.IsNotExist(err) {
		t.Errorf("the old database is still aside: %v", err)
	}
	// Rebuilding again (the database is whole now) changes nothing.
	if _, err := publish.RebuildAPT(ctx, publish.RebuildOptions{Store: f.s, Aptly: f.a}); err != nil {
		t.Fatal(err)
	}

	base := publishtest.StartArtifactd(t, f.root)
	resp, err := http.Get(base + "/apt/" + apt.KeyFile)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET key: %v %v", resp, err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for i, env := range []string{"uat", "dev"} {
		m := f.builds[i]
		client := t.TempDir()
		keyFile := filepath.Join(client, "stride.gpg")
		os.WriteFile(keyFile, key, 0o644)
		sources := fmt.Sprintf("deb [signed-by=%s] %s/apt %s main\n", keyFile, base, env)
		out, err := publishtest.AptGet(t, client, sources, "update")
		if err != nil || strings.Contains(out, "W: ") || strings.Contains(out, "NO_PUBKEY") {
			t.Fatalf("%s: apt-get update: %v\n%s", env, err, out)
		}
		for _, pk := range m.Packages {
			out, err := publishtest.AptGet(t, client, sources, "download", pk.Name+"="+pk.Version)
			if err != nil {
				t.Fatalf("%s: apt-get download %s=%s: %v\n%s", env, pk.Name, pk.Version, err, out)
			}
			got, err := os.ReadFile(filepath.Join(client, filepath.Base(pk.Artifact)))
			if err != nil {
				t.Fatal(err)
			}
			art, _ := m.Artifact(pk.Artifact)
			want, err := store.ReadBlob(ctx, f.s, art.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: apt-get download %s: not the stored bytes", env, pk.Name)
			}
		}
	}
	gc, err := store.GC(ctx, f.s, store.GCOptions{Sources: serving.Sources(f.s, f.a), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(gc.Removed) != 0 || len(gc.Kept) != 2 || gc.Kept[0].Reason != "environment uat" || gc.Kept[1].Reason != "environment dev" {
		t.Fatalf("gc after the rebuild: %+v", gc)
	}
}

// TestPublishStopsGPGAgent is issue 17's item 11: the gpg-agent that
// signing starts kept running after publish.
func TestPublishStopsGPGAgent(t *testing.T) {
	f := newAptFixture(t)
	cmd := exec.Command("gpgconf", "--list-dirs", "agent-socket")
	cmd.Env = append(os.Environ(), "GNUPGHOME="+f.a.Keyring.Home)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("gpgconf: %v", err)
	}
	sock := strings.TrimSpace(string(out))
	if c, err := net.Dial("unix", sock); err == nil {
		c.Close()
		t.Fatalf("gpg-agent still answers on %s after publish", sock)
	}
}
