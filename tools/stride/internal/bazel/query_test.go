package bazel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

// streamed encodes targets as --output=streamed_proto does: each one
// preceded by its length as a varint.
func streamed(t *testing.T, targets ...*buildpb.Target) []byte {
	var out []byte
	for _, tg := range targets {
		b, err := proto.Marshal(tg)
		if err != nil {
			t.Fatal(err)
		}
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func sourceTarget(name string) *buildpb.Target {
	return &buildpb.Target{
		Type:       buildpb.Target_SOURCE_FILE.Enum(),
		SourceFile: &buildpb.SourceFile{Name: proto.String(name)},
	}
}

func TestQueryProto(t *testing.T) {
	want := &buildpb.QueryResult{Target: []*buildpb.Target{sourceTarget("//a:b.go"), sourceTarget("//a:c.go")}}
	out := filepath.Join(t.TempDir(), "out.pb")
	if err := os.WriteFile(out, streamed(t, want.Target...), 0o644); err != nil {
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
	if !strings.Contains(string(a), "query --output=streamed_proto") || !strings.HasSuffix(strings.TrimSpace(string(a)), "-- deps(//...)") {
		t.Errorf("bazel args = %q", a)
	}
}

func TestQueryStreamErrors(t *testing.T) {
	two := streamed(t, sourceTarget("//a:b.go"), sourceTarget("//a:c.go"))
	stop := errors.New("stop")
	for _, tc := range []struct {
		name   string
		output []byte
		script string // after writing output
		fn     func(n int) error
		want   func(error) bool
		calls  int
	}{
		{name: "bazel fails", script: "echo 'ERROR: no such package' >&2; exit 7",
			want: func(err error) bool { return IsExit(err, 7) && strings.Contains(err.Error(), "no such package") }},
		{name: "bazel fails after output", output: two, script: "echo 'ERROR: boom' >&2; exit 2", calls: 2,
			want: func(err error) bool { return IsExit(err, 2) && strings.Contains(err.Error(), "boom") }},
		{name: "truncated", output: two[:len(two)-3], calls: 1,
			want: func(err error) bool {
				return err != nil && strings.Contains(err.Error(), fmt.Sprintf("at byte %d", len(two)/2)) && errors.Is(err, io.ErrUnexpectedEOF)
			}},
		{name: "fn fails", output: two, fn: func(n int) error { return stop }, calls: 1,
			want: func(err error) bool { return errors.Is(err, stop) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pb")
			if err := os.WriteFile(out, tc.output, 0o644); err != nil {
				t.Fatal(err)
			}
			bz := &Bazel{Binary: fakeBazel(t, "cat "+out+"; "+tc.script), Dir: t.TempDir()}
			calls := 0
			err := bz.QueryStream(context.Background(), "//...", func(*buildpb.Target) error {
				calls++
				if tc.fn != nil {
					return tc.fn(calls)
				}
				return nil
			})
			if !tc.want(err) {
				t.Errorf("err = %v", err)
			}
			if calls != tc.calls {
				t.Errorf("fn called %d times, want %d", calls, tc.calls)
			}
		})
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
