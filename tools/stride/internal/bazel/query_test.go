package bazel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

func TestQueryProto(t *testing.T) {
	want := &buildpb.QueryResult{Target: []*buildpb.Target{{
		Type:       buildpb.Target_SOURCE_FILE.Enum(),
		SourceFile: &buildpb.SourceFile{Name: proto.String("//a:b.go")},
	}}}
	b, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.pb")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := filepath.Join(t.TempDir(), "args")
	bz := &Bazel{Binary: fakeBazel(t, `echo "$@" > `+args+`; cat `+out), Dir: t.TempDir()}
	got, err := bz.QueryProto(context.Background(), "deps(//...)")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("QueryProto = %v, want %v", got, want)
	}
	a, _ := os.ReadFile(args)
	if !strings.Contains(string(a), "query --output=proto") || !strings.HasSuffix(strings.TrimSpace(string(a)), "-- deps(//...)") {
		t.Errorf("bazel args = %q", a)
	}

	bad := &Bazel{Binary: fakeBazel(t, "echo 'ERROR: no such package' >&2; exit 7"), Dir: t.TempDir()}
	if _, err := bad.QueryProto(context.Background(), "//..."); !IsExit(err, 7) || !strings.Contains(err.Error(), "no such package") {
		t.Errorf("err = %v, want exit 7 with stderr", err)
	}
}

func TestVersionKey(t *testing.T) {
	bz := &Bazel{Binary: fakeBazel(t, "echo 'bazel 6.4.0'"), Dir: t.TempDir()}
	v, err := bz.VersionKey(context.Background())
	if err != nil || v != "bazel 6.4.0" {
		t.Errorf("VersionKey = %q, %v", v, err)
	}
	dev := &Bazel{Binary: fakeBazel(t, "echo 'bazel no_version'"), Dir: t.TempDir()}
	v, err = dev.VersionKey(context.Background())
	if err != nil || !strings.Contains(v, "sha256:") {
		t.Errorf("VersionKey of a build without version = %q, %v; want a binary hash", v, err)
	}

	// Debian's layout: PREFIX/bin/bazel is a launcher script, and
	// PREFIX/share/bazel/install_base_key names the Bazel it starts.
	prefix := t.TempDir()
	launcher := filepath.Join(prefix, "bin", "bazel")
	keyFile := filepath.Join(prefix, "share", "bazel", "install_base_key")
	for p, content := range map[string]string{
		launcher: "#!/bin/sh\necho 'bazel no_version'\n",
		keyFile:  "ee2c1e5e\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deb := &Bazel{Binary: launcher, Dir: t.TempDir()}
	before, err := deb.VersionKey(context.Background())
	if err != nil || !strings.Contains(before, "install_base_key:ee2c1e5e") {
		t.Fatalf("VersionKey with an install_base_key = %q, %v", before, err)
	}
	if err := os.WriteFile(keyFile, []byte("0123abcd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after, err := deb.VersionKey(context.Background())
	if err != nil || after == before {
		t.Errorf("an upgraded Bazel behind the same launcher kept its key %q (%v)", after, err)
	}
}
