package bazel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
// returns its targets. A Bazel failure gives an *Error carrying stderr.
func (b *Bazel) QueryProto(ctx context.Context, expr string, extra ...string) (*buildpb.QueryResult, error) {
	res := &buildpb.QueryResult{}
	err := b.QueryStream(ctx, expr, func(t *buildpb.Target) error {
		res.Target = append(res.Target, t)
		return nil
	}, extra...)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// QueryStream runs `bazel query EXPR` with ProtoQueryFlags (plus extra),
// asking Bazel to stream its result (--output=streamed_proto: the same
// targets as --output=proto, written one by one), and calls fn with each
// target as it is decoded, in order, from the calling goroutine. Targets
// are decoded on another goroutine, so fn's work overlaps Bazel's output:
// on a 5,000-target graph the output takes ~0.1 s to arrive. An error from
// fn stops Bazel and is returned; a Bazel failure gives an *Error carrying
// stderr, even when some targets were already passed to fn.
func (b *Bazel) QueryStream(ctx context.Context, expr string, fn func(*buildpb.Target) error, extra ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	args := []string{"query"}
	for _, f := range ProtoQueryFlags {
		if f == "--output=proto" {
			f = "--output=streamed_proto"
		}
		args = append(args, f)
	}
	args = append(args, extra...)
	args = append(args, "--", expr)
	full := append(append([]string{}, b.Startup...), args...)
	cmd := b.command(ctx, full)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, err)
	}
	learnt := make(chan struct{})
	go func() {
		defer close(learnt)
		b.learnClient(cmd.Process.Pid, 500*time.Millisecond)
	}()
	defer func() { <-learnt }()
	// Batches of targets from the decoding goroutine; decErr is set
	// before batches is closed.
	batches := make(chan []*buildpb.Target, 64)
	var decErr error
	var read int64
	go func() {
		defer close(batches)
		br := bufio.NewReaderSize(stdout, 1<<18)
		batch := make([]*buildpb.Target, 0, 64)
		for {
			n, err := binary.ReadUvarint(br)
			if err == io.EOF {
				break
			}
			if err == nil && n > 1<<30 {
				err = fmt.Errorf("target of %d bytes", n)
			}
			var buf []byte
			if err == nil {
				buf = make([]byte, n)
				_, err = io.ReadFull(br, buf)
			}
			t := &buildpb.Target{}
			if err == nil {
				err = proto.Unmarshal(buf, t)
			}
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				decErr = fmt.Errorf("decode output of bazel query %q in %s at byte %d: %w", expr, b.Dir, read, err)
				if len(batch) > 0 {
					batches <- batch
				}
				_, _ = io.Copy(io.Discard, br)
				return
			}
			read += int64(n) + int64(uvarintLen(n))
			batch = append(batch, t)
			if len(batch) == cap(batch) {
				batches <- batch
				batch = make([]*buildpb.Target, 0, 64)
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
	}()
	var fnErr error
	for batch := range batches {
		if fnErr != nil {
			continue // drain, so that Bazel is not blocked on a full pipe
		}
		for _, t := range batch {
			if fnErr = fn(t); fnErr != nil {
				cancel()
				break
			}
		}
	}
	waitErr := cmd.Wait()
	if fnErr != nil {
		return fnErr
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			return &Error{Args: full, ExitCode: ee.ExitCode(), Stderr: stderr.String()}
		}
		return fmt.Errorf("run bazel %s in %s: %w", strings.Join(full, " "), b.Dir, waitErr)
	}
	return decErr
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
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
		return "", fmt.Errorf("%w: bazel --version in %s: %v: %s", ErrStart, b.Dir, err, strings.TrimSpace(string(out)+"\n"+stderr.String()))
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
