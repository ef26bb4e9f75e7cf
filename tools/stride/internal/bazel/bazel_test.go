package bazel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBazel writes a shell script standing in for the bazel binary.
func fakeBazel(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bazel")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		wantOut  string
		wantCode int // -1: no error
		wantErr  string
	}{
		{name: "ok", script: `echo "$@"`, wantOut: "--output_base=/ob info bazel-bin\n", wantCode: -1},
		{name: "tests failed", script: "echo 'ERROR: //a:b failed' >&2; exit 3", wantCode: 3, wantErr: "ERROR: //a:b failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &Bazel{Binary: fakeBazel(t, tc.script), Dir: t.TempDir(), Startup: []string{"--output_base=/ob"}}
			out, err := b.Run(context.Background(), Options{}, "info", "bazel-bin")
			if tc.wantCode == -1 {
				if err != nil {
					t.Fatal(err)
				}
				if string(out) != tc.wantOut {
					t.Fatalf("out = %q, want %q", out, tc.wantOut)
				}
				return
			}
			if !IsExit(err, tc.wantCode) {
				t.Fatalf("err = %v, want exit %d", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q lacks stderr %q", err, tc.wantErr)
			}
		})
	}
}

func TestMissingBinary(t *testing.T) {
	b := &Bazel{Binary: filepath.Join(t.TempDir(), "nope"), Dir: t.TempDir()}
	_, err := b.Run(context.Background(), Options{}, "version")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want one naming the binary", err)
	}
}
