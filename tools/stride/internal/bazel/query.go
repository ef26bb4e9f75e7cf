package bazel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

// ProtoQueryFlags are the flags QueryProto passes to `bazel query`. They
// are part of what a digest computed from the output means, so callers
// that cache such digests key them by these flags too.
var ProtoQueryFlags = []string{
	"--output=proto",
	"--order_output=no",
	// Keep select() structure: flattening merges branches.
	"--proto:flatten_selects=false",
	// Locations are absolute paths and line numbers: they differ between
	// checkouts and move when an unrelated rule above is edited.
	"--proto:locations=false",
	// Attributes not set in the BUILD file are left out: their values come
	// from the rule's definition (covered by $rule_implementation_hash or
	// by the Bazel version) or from package() (compared apart). It halves
	// the output and makes decoding and digesting ~5x faster.
	"--noproto:default_values",
	"--tool_tag=stride",
}

// StackFlags add to a proto query which .bzl files defined each rule's
// class and which macros instantiated it. They make the output a third
// larger and slower; callers ask for them only when they explain a .bzl
// change with them. They do not change any other field.
var StackFlags = []string{"--proto:definition_stack", "--proto:instantiation_stack"}

// QueryProto runs `bazel query EXPR` with ProtoQueryFlags (plus extra) and
// decodes the result. A Bazel failure gives an *Error carrying stderr.
func (b *Bazel) QueryProto(ctx context.Context, expr string, extra ...string) (*buildpb.QueryResult, error) {
	args := append([]string{"query"}, ProtoQueryFlags...)
	args = append(args, extra...)
	args = append(args, "--", expr)
	out, err := b.Run(ctx, Options{}, args...)
	if err != nil {
		return nil, err
	}
	res := &buildpb.QueryResult{}
	if err := proto.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("decode output of bazel query %q in %s (%d bytes): %w", expr, b.Dir, len(out), err)
	}
	return res, nil
}

// VersionKey returns a string that changes when the Bazel in use changes:
// the output of `bazel --version`, and for builds that carry no version
// (Debian's "no_version", development builds) also a hash of the bazel
// executable found on PATH.
func (b *Bazel) VersionKey(ctx context.Context) (string, error) {
	bin := b.Binary
	if bin == "" {
		bin = "bazel"
	}
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Dir = b.Dir
	if b.Env != nil {
		cmd.Env = b.Env
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bazel --version in %s: %v: %s", b.Dir, err, strings.TrimSpace(string(out)+"\n"+stderr.String()))
	}
	v := strings.TrimSpace(string(out))
	if strings.Contains(v, "no_version") || strings.Contains(v, "development") || v == "bazel" {
		if p, err := exec.LookPath(bin); err == nil {
			if f, err := os.Open(p); err == nil {
				h := sha256.New()
				_, _ = io.Copy(h, f)
				f.Close()
				v += " sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
			}
			// Debian's /usr/bin/bazel is an 8 KB launcher script that an
			// upgrade may leave unchanged; the server it starts is named by
			// /usr/share/bazel/install_base_key (a digest of the install
			// base), so an upgraded Bazel gets a new key.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				ibk := filepath.Join(filepath.Dir(real), "..", "share", "bazel", "install_base_key")
				if b, err := os.ReadFile(ibk); err == nil {
					v += " install_base_key:" + strings.TrimSpace(string(b))
				}
			}
		}
	}
	return v, nil
}
