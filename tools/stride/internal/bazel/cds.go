package bazel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Class-data sharing for the Bazel server.
//
// A fresh Bazel server spends about a second loading and linking its own
// Java classes before the first command, and more while the first
// analysis meets classes it has not used yet. HotSpot (JDK 13+) can save
// the classes a run used in an archive (-XX:ArchiveClassesAtExit, written
// when the JVM exits normally) and map them at the next start
// (-XX:SharedArchiveFile). Measured with Debian's Bazel 4.2.3 on JDK 17,
// 5,000-target synthetic workspace, fresh server: a `stride run` of a
// one-file change 6.4 s → 6.0 s (ci/bench run).
//
// Startup flags are part of a Bazel server's identity: a client whose
// startup flags differ from the running server's kills it and starts
// another. So CDS never adds a flag to a workspace whose server is up
// without it (the user's server stays), and repeats the flag of a server
// it started. A half-written archive crashes the JVM that maps it (SIGBUS,
// seen with a truncated copy), so an archive is written under a temporary
// name, and renamed into place only after its writer has exited and a
// `java -Xshare:on` with the same JVM and jar accepted it.

// CDS chooses the class-data-sharing startup flags for the Bazel server of
// one workspace.
type CDS struct {
	// Dir holds the archives (e.g. ~/.cache/stride/bazel-cds).
	Dir string
	// Workspace is the workspace root whose server the flags are for.
	Workspace string
	// Key names the archive: it must change when the Bazel binary or the
	// JVM that runs its server changes (see CDSKey).
	Key string
	// ProcDir is /proc (tests use a fake one).
	ProcDir string
	// Validate checks a finished archive before it is used; nil runs
	// `java -XX:SharedArchiveFile=ARCHIVE -Xshare:on -cp JAR -version` with
	// the JVM and jar its writer ran.
	Validate func(ctx context.Context, archive string, w CDSWriter) error
}

// CDSWriter is what was recorded of the server writing an archive: its
// JVM executable and the Bazel server jar, for validating the archive.
type CDSWriter struct {
	Java string `json:"java"`
	Jar  string `json:"jar"`
}

// CDSPlan is the outcome of CDS.Plan.
type CDSPlan struct {
	// Flags are the startup flags to add to every Bazel command on the
	// workspace (none, or one --host_jvm_args).
	Flags []string
	// Note says why, for -v logs.
	Note string

	c       *CDS
	writing string // archive being written by the server these flags start
}

const (
	cdsUseFlag   = "-XX:SharedArchiveFile="
	cdsWriteFlag = "-XX:ArchiveClassesAtExit="
	cdsTmpSuffix = ".jsa.tmp"
)

// CDSKey derives an archive key from the Bazel version key (VersionKey)
// and the JVM that will run the server: $JAVA_HOME, else the java on
// PATH, as Bazel's client chooses its default server JDK. ok is false when
// no JVM is found.
func CDSKey(versionKey string) (key string, ok bool) {
	home := os.Getenv("JAVA_HOME")
	if home == "" {
		p, err := exec.LookPath("java")
		if err != nil {
			return "", false
		}
		if p, err = filepath.EvalSymlinks(p); err != nil {
			return "", false
		}
		home = filepath.Dir(filepath.Dir(p))
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", versionKey, home)
	found := false
	for _, f := range []string{"lib/server/libjvm.so", "release"} {
		if st, err := os.Stat(filepath.Join(home, f)); err == nil {
			fmt.Fprintf(h, "%s %d %d\x00", f, st.Size(), st.ModTime().UnixNano())
			found = true
		}
	}
	if !found {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil))[:16], true
}

// Plan returns the flags for the workspace's next Bazel command:
//   - a server for the workspace is running: the CDS flag it was started
//     with, or none (never restart a server);
//   - no server: -XX:SharedArchiveFile with this key's archive when there
//     is one (promoting a finished, valid temporary archive first), else
//     -XX:ArchiveClassesAtExit to a new temporary archive.
//
// Errors are about the archive directory; callers may go on without CDS.
func (c *CDS) Plan(ctx context.Context) (*CDSPlan, error) {
	procs, ok := c.servers()
	if !ok {
		// Without /proc a running server cannot be seen, and a flag it
		// lacks would restart it.
		return &CDSPlan{Note: "off: no /proc to find a running server in", c: c}, nil
	}
	if p, flags, ok := c.live(procs); ok {
		if len(flags) > 0 {
			return &CDSPlan{Flags: flags, Note: "server running with " + flags[0], c: c}, nil
		}
		return &CDSPlan{Note: fmt.Sprintf("server running (pid %d) without a stride CDS archive; left as it is", p.pid), c: c}, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("bazel cds: %w", err)
	}
	final := filepath.Join(c.Dir, c.Key+".jsa")
	c.promote(ctx, final, procs)
	if _, err := os.Stat(final); err == nil {
		f := cdsUseFlag + final
		return &CDSPlan{Flags: []string{"--host_jvm_args=" + f}, Note: "using " + final, c: c}, nil
	}
	tmp := filepath.Join(c.Dir, fmt.Sprintf("%s.%d-%d%s", c.Key, os.Getpid(), time.Now().UnixNano()%1e9, cdsTmpSuffix))
	f := cdsWriteFlag + tmp
	return &CDSPlan{Flags: []string{"--host_jvm_args=" + f}, Note: "no archive yet; the server will write " + tmp + " when it exits", c: c, writing: tmp}, nil
}

// LiveFlags returns the CDS startup flags that the workspace's running
// server was started with (none if it has none of this Dir's), and
// whether a server runs at all: what a client must pass to talk to that
// server instead of replacing it (e.g. for `bazel shutdown`).
func (c *CDS) LiveFlags() (flags []string, running bool) {
	procs, _ := c.servers()
	_, flags, running = c.live(procs)
	return flags, running
}

func (c *CDS) live(procs []serverProc) (serverProc, []string, bool) {
	ws := workspaceRoot(c.Workspace)
	for _, p := range procs {
		if p.workspace != ws && p.workspace != c.Workspace {
			if r, err := filepath.EvalSymlinks(p.workspace); err != nil || r != ws {
				continue
			}
		}
		for _, a := range p.args {
			if strings.HasPrefix(a, cdsUseFlag+c.Dir+"/") || strings.HasPrefix(a, cdsWriteFlag+c.Dir+"/") {
				return p, []string{"--host_jvm_args=" + a}, true
			}
		}
		return p, nil, true
	}
	return serverProc{}, nil, false
}

// ServerStarted records, after the first command of a server that writes
// an archive, which JVM and jar it runs (Validate needs them). Without
// that record the archive is never used.
func (p *CDSPlan) ServerStarted() error {
	if p == nil || p.writing == "" {
		return nil
	}
	procs, _ := p.c.servers()
	for _, s := range procs {
		for _, a := range s.args {
			if a == cdsWriteFlag+p.writing {
				w := CDSWriter{Java: s.exe, Jar: s.jar}
				b, err := json.Marshal(w)
				if err != nil {
					return err
				}
				return atomicfile.Write(p.writing+".json", b)
			}
		}
	}
	return fmt.Errorf("bazel cds: no running server writes %s", p.writing)
}

// promote validates each temporary archive of this key whose writer has
// exited: the first valid one becomes final (if there is none yet), the
// rest are removed. Archives of other keys nobody runs are removed too.
func (c *CDS) promote(ctx context.Context, final string, procs []serverProc) {
	inUse := map[string]bool{}
	for _, p := range procs {
		for _, a := range p.args {
			if strings.HasPrefix(a, cdsUseFlag) {
				inUse[strings.TrimPrefix(a, cdsUseFlag)] = true
			}
			if strings.HasPrefix(a, cdsWriteFlag) {
				inUse[strings.TrimPrefix(a, cdsWriteFlag)] = true
			}
		}
	}
	ents, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(c.Dir, name)
		switch {
		case strings.HasSuffix(name, cdsTmpSuffix):
			if inUse[path] {
				continue
			}
			if !strings.HasPrefix(name, c.Key+".") {
				os.Remove(path)
				os.Remove(path + ".json")
				continue
			}
			if _, err := os.Stat(final); err == nil || c.validate(ctx, path) != nil {
				os.Remove(path)
				os.Remove(path + ".json")
				continue
			}
			if os.Rename(path, final) == nil {
				os.Remove(path + ".json")
				_ = atomicfile.SyncDir(c.Dir)
			}
		case strings.HasSuffix(name, cdsTmpSuffix+".json"):
			if _, err := os.Stat(strings.TrimSuffix(path, ".json")); os.IsNotExist(err) {
				os.Remove(path)
			}
		case strings.HasSuffix(name, ".jsa") && path != final && !inUse[path]:
			os.Remove(path)
		}
	}
}

func (c *CDS) validate(ctx context.Context, archive string) error {
	b, err := os.ReadFile(archive + ".json")
	if err != nil {
		return fmt.Errorf("no record of the server that wrote %s: %w", archive, err)
	}
	var w CDSWriter
	if err := json.Unmarshal(b, &w); err != nil || w.Java == "" || w.Jar == "" {
		return fmt.Errorf("corrupt record %s.json", archive)
	}
	if c.Validate != nil {
		return c.Validate(ctx, archive, w)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.Java, cdsUseFlag+archive, "-Xshare:on", "-XX:ErrorFile=/dev/null", "-cp", w.Jar, "-version")
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("java rejects %s: %v: %s", archive, err, tail(out.String(), 5))
	}
	return nil
}

// workspaceRoot is the directory Bazel takes as the workspace of dir: the
// nearest one up with a WORKSPACE file, symbolic links resolved.
func workspaceRoot(dir string) string {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	for d := dir; ; d = filepath.Dir(d) {
		for _, f := range []string{"WORKSPACE", "WORKSPACE.bazel"} {
			if st, err := os.Stat(filepath.Join(d, f)); err == nil && !st.IsDir() {
				return d
			}
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// serverProc is a running Bazel server, from /proc.
type serverProc struct {
	pid       int
	exe       string
	jar       string
	workspace string
	args      []string
}

// servers lists the running Bazel servers (JVMs whose arguments carry
// --workspace_directory= after -jar); ok is false without a /proc.
func (c *CDS) servers() (_ []serverProc, ok bool) {
	proc := c.ProcDir
	if proc == "" {
		proc = "/proc"
	}
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, false
	}
	var out []serverProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(proc, e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("--workspace_directory=")) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		p := serverProc{pid: pid, args: args}
		for i, a := range args {
			if a == "-jar" && i+1 < len(args) {
				p.jar = args[i+1]
			}
			if strings.HasPrefix(a, "--workspace_directory=") {
				p.workspace = strings.TrimPrefix(a, "--workspace_directory=")
			}
		}
		if p.jar == "" || p.workspace == "" {
			continue
		}
		p.exe, _ = os.Readlink(filepath.Join(proc, e.Name(), "exe"))
		out = append(out, p)
	}
	return out, true
}
