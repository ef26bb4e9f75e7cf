package bazel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// VersionCacheFile is where callers with a cache directory keep
// CachedVersionKey's file, so that they share it.
func VersionCacheFile(cacheDir string) string {
	return filepath.Join(cacheDir, "bazel-versions.json")
}

// CachedVersionKey is VersionKey, remembered in file (a JSON map) under a
// fingerprint of what decides which Bazel runs: the bazel executable found
// on PATH and the file it resolves to (path, size, modification time),
// Debian's install_base_key, the workspace's .bazelversion and tools/bazel
// wrapper, and Bazelisk's USE_BAZEL_VERSION. `bazel --version` costs about
// 0.1 s (a shell launcher and the client), a stat a few microseconds. An
// unreadable or corrupt file is recomputed and rewritten atomically.
func (b *Bazel) CachedVersionKey(ctx context.Context, file string) (string, error) {
	v, _, err := b.CachedVersionAndClient(ctx, file)
	return v, err
}

// CachedVersionAndClient is CachedVersionKey, and also returns the client
// a launcher is known to exec for this workspace (client.go), or "": one
// fingerprint and one read of file serve both.
func (b *Bazel) CachedVersionAndClient(ctx context.Context, file string) (version, client string, err error) {
	fp, ok := b.versionFingerprint()
	if !ok || file == "" {
		v, err := b.VersionKey(ctx)
		return v, "", err
	}
	known := map[string]string{}
	if data, err := os.ReadFile(file); err == nil {
		_ = json.Unmarshal(data, &known)
	}
	if v, ok := known[fp]; ok && v != "" {
		return v, knownClient(known, fp), nil
	}
	v, err := b.VersionKey(ctx)
	if err != nil {
		return "", "", err
	}
	if len(known) > 64 {
		known = map[string]string{}
	}
	known[fp] = v
	if data, err := json.Marshal(known); err == nil {
		if os.MkdirAll(filepath.Dir(file), 0o755) == nil {
			_ = atomicfile.Write(file, data)
		}
	}
	return v, knownClient(known, fp), nil
}

func (b *Bazel) versionFingerprint() (string, bool) {
	bin := b.Binary
	if bin == "" {
		bin = "bazel"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", false
	}
	h := sha256.New()
	stat := func(p string) {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
		} else {
			fmt.Fprintf(h, "%s missing\n", p)
		}
	}
	stat(p)
	if real, err := filepath.EvalSymlinks(p); err == nil {
		stat(real)
		ibk, _ := os.ReadFile(filepath.Join(filepath.Dir(real), "..", "share", "bazel", "install_base_key"))
		fmt.Fprintf(h, "ibk %s\n", ibk)
		// A launcher picks among the bazel* files beside it (the newest
		// when nothing names a version): installing one changes its pick.
		if entries, err := os.ReadDir(filepath.Dir(real)); err == nil {
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "bazel") {
					stat(filepath.Join(filepath.Dir(real), e.Name()))
				}
			}
		}
	}
	if b.Dir != "" {
		bv, _ := os.ReadFile(filepath.Join(b.Dir, ".bazelversion"))
		fmt.Fprintf(h, "bazelversion %q\n", bv)
		stat(filepath.Join(b.Dir, "tools", "bazel"))
	}
	fmt.Fprintf(h, "USE_BAZEL_VERSION=%s\n", os.Getenv("USE_BAZEL_VERSION"))
	return hex.EncodeToString(h.Sum(nil))[:32], true
}
