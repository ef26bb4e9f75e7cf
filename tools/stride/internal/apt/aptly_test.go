package apt_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
)

// newAptly returns an initialized Aptly in a temporary directory, or skips
// the test when aptly or gpg is missing.
func newAptly(t *testing.T) *apt.Aptly {
	t.Helper()
	if err := apt.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: aptly and gpg run in go test ./... (ci/test)")
	}
	home, err := os.MkdirTemp("", "g") // short: gpg-agent's socket lives there
	if err != nil {
		t.Fatal(err)
	}
	kr := &apt.Keyring{Home: home}
	t.Cleanup(func() {
		kr.KillAgent()
		os.RemoveAll(home)
	})
	a := &apt.Aptly{Root: filepath.Join(t.TempDir(), "aptly"), Keyring: kr}
	if err := a.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAptlySnapshotsAndSwitch(t *testing.T) {
	ctx := context.Background()
	a := newAptly(t)
	if err := a.Init(ctx); err != nil { // idempotent
		t.Fatalf("second Init: %v", err)
	}
	fpr := a.Fingerprint()
	if len(fpr) != 40 {
		t.Fatalf("fingerprint %q", fpr)
	}
	if _, err := os.Stat(filepath.Join(a.PublicDir(), apt.KeyFile)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range []apttest.Package{{Name: "foo", Version: "0.1.0+g1111111"}, {Name: "bar", Version: "0.1.0+g1111111"}, {Name: "foo", Version: "0.2.0+g2222222", Payload: "new"}} {
		paths = append(paths, apttest.Build(t, dir, p))
	}
	if err := a.Add(ctx, paths...); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, paths[0]); err != nil {
		t.Fatalf("adding the same package again: %v", err)
	}
	b1 := []apt.PackageRef{{Name: "foo", Version: "0.1.0+g1111111", Architecture: "amd64"}, {Name: "bar", Version: "0.1.0+g1111111", Architecture: "amd64"}}
	b2 := []apt.PackageRef{{Name: "foo", Version: "0.2.0+g2222222", Architecture: "amd64"}, {Name: "bar", Version: "0.1.0+g1111111", Architecture: "amd64"}}
	if err := a.CreateSnapshot(ctx, apt.SnapshotName("b1"), b1); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSnapshot(ctx, apt.SnapshotName("b2"), b2); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSnapshot(ctx, apt.SnapshotName("b2"), b2); err != nil {
		t.Fatalf("existing snapshot: %v", err)
	}
	got, err := a.SnapshotPackages(ctx, apt.SnapshotName("b2"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bar_0.1.0+g1111111_amd64", "foo_0.2.0+g2222222_amd64"}; !cmp.Equal(got, want) {
		t.Errorf("snapshot b2 = %v, want %v", got, want)
	}
	if err := a.Publish(ctx, "dev", apt.SnapshotName("b1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "uat", apt.SnapshotName("b1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "dev", apt.SnapshotName("b2")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "dev", apt.SnapshotName("b2")); err != nil {
		t.Fatalf("publishing the current snapshot again: %v", err)
	}
	pub, err := a.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"dev": "build-b2", "uat": "build-b1"}; !cmp.Equal(pub, want) {
		t.Errorf("Published = %v, want %v", pub, want)
	}
	for _, f := range []string{"dists/dev/InRelease", "dists/dev/Release.gpg", "pool/main/f/foo/foo_0.2.0+g2222222_amd64.deb", "pool/main/f/foo/foo_0.1.0+g1111111_amd64.deb"} {
		if _, err := os.Stat(filepath.Join(a.PublicDir(), f)); err != nil {
			t.Errorf("published tree: %v", err)
		}
	}
	refs, err := a.RepoPackages(ctx)
	if err != nil || len(refs) != 3 {
		t.Fatalf("RepoPackages = %v, %v", refs, err)
	}
}

// TestCopiedStoreDrivesItsOwnAptly is issue 17's second defect: aptly.conf
// held the absolute rootDir of the store it was written in, so commands on
// a copy of the store read and changed the original's aptly.
func TestCopiedStoreDrivesItsOwnAptly(t *testing.T) {
	ctx := context.Background()
	orig := newAptly(t)
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "foo", Version: "0.1.0+g1111111"})
	if err := orig.Add(ctx, deb); err != nil {
		t.Fatal(err)
	}
	if err := orig.CreateSnapshot(ctx, apt.SnapshotName("b1"), []apt.PackageRef{{Name: "foo", Version: "0.1.0+g1111111", Architecture: "amd64"}}); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "aptly")
	if out, err := exec.Command("cp", "-a", orig.Root, moved).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	cp := &apt.Aptly{Root: moved, Keyring: orig.Keyring}
	if err := cp.DropSnapshot(ctx, apt.SnapshotName("b1")); err != nil {
		t.Fatal(err)
	}
	if ok, err := orig.HasSnapshot(ctx, apt.SnapshotName("b1")); err != nil || !ok {
		t.Fatalf("dropping the copy's snapshot dropped the original's: HasSnapshot = %v, %v", ok, err)
	}
	if ok, err := cp.HasSnapshot(ctx, apt.SnapshotName("b1")); err != nil || ok {
		t.Fatalf("the copy still has its snapshot: %v, %v", ok, err)
	}
	conf, err := os.ReadFile(cp.ConfigPath())
	if err != nil || !strings.Contains(string(conf), `"rootDir": "`+moved+`"`) {
		t.Fatalf("the copy's aptly.conf: %s, %v", conf, err)
	}
}

// TestAptlyTreeIgnoresUmask: the published tree is readable by everyone
// (artifactd runs as another user) even when the caller's umask is 077.
func TestAptlyTreeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	ctx := context.Background()
	a := newAptly(t)
	deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "foo", Version: "0.1.0+g1111111"})
	if err := a.Add(ctx, deb); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSnapshot(ctx, apt.SnapshotName("b1"), []apt.PackageRef{{Name: "foo", Version: "0.1.0+g1111111", Architecture: "amd64"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "dev", apt.SnapshotName("b1")); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(a.PublicDir(), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o044 != 0o044 || fi.IsDir() && fi.Mode().Perm()&0o011 != 0o011 {
			t.Errorf("%s: mode %v, not readable by everyone", p, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
