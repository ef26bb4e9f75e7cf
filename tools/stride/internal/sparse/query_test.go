package sparse

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// TestKeepGoingQuerier runs a fake bazel that prints a query result and
// exits with a given code.
func TestKeepGoingQuerier(t *testing.T) {
	dir := t.TempDir()
	data, err := proto.Marshal(&buildpb.QueryResult{Target: []*buildpb.Target{rule("//a:a", "//b:b")}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pb")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, script string
		ok           bool
		warn         string
	}{
		{"ok", "cat " + out + "\n", true, ""},
		{"partial", "cat " + out + "\necho 'ERROR: no such package x' >&2\nexit 3\n", true, "ERROR: no such package x"},
		{"failed", "echo 'ERROR: bad' >&2\nexit 7\n", false, ""},
		{"partial without output", "exit 3\n", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "bazel")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+tc.script), 0o755); err != nil {
				t.Fatal(err)
			}
			var warn bytes.Buffer
			q := &KeepGoingQuerier{Bazel: &bazel.Bazel{Binary: bin, Dir: dir}, Warn: &warn}
			res, err := q.QueryProto(context.Background(), "deps(//...)")
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && len(res.GetTarget()) != 1 {
				t.Errorf("targets = %v", res.GetTarget())
			}
			if !strings.Contains(warn.String(), tc.warn) {
				t.Errorf("warning %q lacks %q", warn.String(), tc.warn)
			}
		})
	}
}
