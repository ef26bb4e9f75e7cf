package bazel

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// A launcher is what `bazel` on PATH often is: a script (Debian's
// /usr/bin/bazel, Bazel's own bazel.sh) that picks the Bazel client for
// the workspace (.bazelversion, USE_BAZEL_VERSION, the newest installed)
// and execs it. Deciding costs it ~25 ms per command (a shell, uname,
// find), an eighth of a warm `bazel query //...`. Once a command has shown
// which client the launcher execs, stride runs that client itself, with
// the same arguments and argv[0], for as long as nothing that decides the
// choice changes: the cache entry sits under the fingerprint that
// CachedVersionKey uses, which covers the launcher, the installed bazel*
// files beside it, .bazelversion, tools/bazel and USE_BAZEL_VERSION.
//
// The client is learnt from /proc/PID/exe of a running command, which
// names the executable the process image became after the launcher's
// exec. Only a client other than the launcher itself, named bazel*, and
// outside the workspace (a tools/bazel wrapper is never bypassed, it may
// need the launcher's environment) is remembered. Bazelisk runs the
// client as a child process: its own PID never changes executable, so
// nothing is learnt and every command goes through it, as before.

// clientSuffix keys a fingerprint's client in the version cache file
// (CachedVersionAndClient returns it).
const clientSuffix = " client"

// knownClient returns the client recorded under fingerprint fp in a
// version cache map, or "" when none is or the file it names is gone.
func knownClient(known map[string]string, fp string) string {
	c := known[fp+clientSuffix]
	if c == "" || !filepath.IsAbs(c) {
		return ""
	}
	if fi, err := os.Stat(c); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return ""
	}
	return c
}

// command returns the command that runs Bazel with args in the workspace:
// Client when it is known (argv[0] stays the launcher's name, as the
// launcher's `exec -a "$0"` leaves it), else Binary.
func (b *Bazel) command(ctx context.Context, args []string) *exec.Cmd {
	bin := b.Binary
	if bin == "" {
		bin = "bazel"
	}
	var cmd *exec.Cmd
	if b.Client != "" {
		cmd = exec.CommandContext(ctx, b.Client, args...)
		if p, err := exec.LookPath(bin); err == nil {
			cmd.Args[0] = p
		}
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = b.Dir
	if b.Env != nil {
		cmd.Env = b.Env
	}
	return cmd
}

// learnClient watches the command with pid (started through Binary) until
// its launcher execs the client, then records the client in the version
// cache file b.LearnClient. It gives up when the process ends or after
// wait; it never changes what the command does.
func (b *Bazel) learnClient(pid int, wait time.Duration) {
	if b.LearnClient == "" || b.Client != "" {
		return
	}
	fp, ok := b.versionFingerprint()
	if !ok {
		return
	}
	bin := b.Binary
	if bin == "" {
		bin = "bazel"
	}
	launcher, err := exec.LookPath(bin)
	if err != nil {
		return
	}
	if real, err := filepath.EvalSymlinks(launcher); err == nil {
		launcher = real
	}
	exe := filepath.Join("/proc", strconv.Itoa(pid), "exe")
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		got, err := os.Readlink(exe)
		if err != nil {
			return // the process ended (or there is no /proc)
		}
		if got != launcher && strings.HasPrefix(filepath.Base(got), "bazel") {
			if b.Dir != "" && (got == b.Dir || strings.HasPrefix(got, strings.TrimSuffix(b.Dir, "/")+"/")) {
				return
			}
			recordClient(b.LearnClient, fp+clientSuffix, got)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recordClient adds key=client to the version cache file (a lost race
// with another writer only means learning again).
func recordClient(file, key, client string) {
	known := map[string]string{}
	if data, err := os.ReadFile(file); err == nil {
		_ = json.Unmarshal(data, &known)
	}
	if known[key] == client {
		return
	}
	known[key] = client
	if data, err := json.Marshal(known); err == nil && os.MkdirAll(filepath.Dir(file), 0o755) == nil {
		_ = atomicfile.Write(file, data)
	}
}
