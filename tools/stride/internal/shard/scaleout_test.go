package shard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/remotecache/remotecachetest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// TestShardsShareRemoteCache is the scale-out scenario: one change run as
// 3 shards by 3 stride processes at once, each in a clone of its own with
// its own Bazel output base (as on 3 CI runners), all sharing one real
// bazel-remote; the partial reports merge into one report with every
// affected test run exactly once, and the merged run is published once.
// A 4th fresh runner then builds the same change from the cache, and a
// run given a cache that does not answer still passes and says so.
func TestShardsShareRemoteCache(t *testing.T) {
	runtest.RequireBazel(t)
	cache := remotecachetest.Start(t)
	stride := runtest.Stride(t)
	tmp := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "xdg"))
	storeDir := filepath.Join(tmp, "store")

	deb, err := os.ReadFile(filepath.Join(runtest.ModuleRoot(t), "tools", "bazel", "deb.bzl"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"lib/BUILD": `sh_library(name = "lib", srcs = ["lib.sh"], visibility = ["//visibility:public"])

exports_files(["lib.sh"])
`,
		"lib/lib.sh":          "v=1\n",
		"tools/bazel/BUILD":   "",
		"tools/bazel/deb.bzl": string(deb),
		"svc/BUILD": `load("//tools/bazel:deb.bzl", "deb_package")

sh_binary(name = "svc", srcs = ["svc.sh"], deps = ["//lib"])

deb_package(name = "svc_deb", package = "svc", binary = ":svc", systemd_unit = "svc.service", description = "A test service.")
`,
		"svc/svc.sh":      "#!/bin/sh\necho svc\n",
		"svc/svc.service": "[Service]\nExecStart=/usr/bin/svc\n",
	}
	for i := 0; i < 6; i++ {
		files[fmt.Sprintf("t%d/BUILD", i)] = fmt.Sprintf(`genrule(name = "gen", srcs = ["//lib:lib.sh"], outs = ["gen.txt"], cmd = "cat $< > $@; echo %d >> $@")

sh_test(name = "t%d_test", srcs = ["t.sh"], data = [":gen"], deps = ["//lib"])
`, i, i)
		files[fmt.Sprintf("t%d/t.sh", i)] = "#!/bin/sh\necho ok\n"
	}
	origin := runtest.Workspace(t, files)
	runtest.Git(t, origin, "init", "-q", "-b", "main")
	runtest.Commit(t, origin, "workspace")
	runtest.Write(t, origin, map[string]string{"lib/lib.sh": "v=2\n"})
	head := runtest.Commit(t, origin, "change lib")

	// A runner: a clone, and a bazel wrapper giving it an output base of
	// its own (a command-line startup flag beats the committed .bazelrc's).
	// Its --cache-dir is its own and starts empty (a hosted runner's).
	runner := func(name string) (dir, bazel, cacheDir string) {
		dir = filepath.Join(tmp, name)
		cacheDir = filepath.Join(tmp, name+"-cache")
		runtest.Git(t, tmp, "clone", "-q", origin, dir)
		ob := filepath.Join(tmp, name+"-ob")
		bazel = filepath.Join(tmp, name+"-bazel")
		// The same script for every runner (it finds its output base by
		// its own name): a Bazel without a version is known by a hash of
		// its executable, which is part of a digest map's key, and the
		// runners of a CI share one Bazel.
		script := "#!/bin/sh\nexec bazel --output_base=\"$(dirname \"$0\")/$(basename \"$0\" -bazel)-ob\" \"$@\"\n"
		if err := os.WriteFile(bazel, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c := exec.Command(bazel, "shutdown")
			c.Dir = dir
			_ = c.Run()
			runtest.MakeWritable(ob)
		})
		return dir, bazel, cacheDir
	}
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	env := append(os.Environ(), "STRIDE_STORE="+storeDir, "STRIDE_GNUPGHOME="+filepath.Join(tmp, "gnupg"))
	var procs []*proc
	var dirs []string
	for i := 1; i <= 3; i++ {
		dir, bazel, cacheDir := runner(fmt.Sprintf("runner%d", i))
		out := filepath.Join(tmp, "shards", fmt.Sprint(i))
		p := &proc{cmd: exec.Command(stride, "-C", dir, "run", "--base", "HEAD~1", "--jobs", "2", "--bazel", bazel,
			"--shard", fmt.Sprintf("%d/3", i), "--remote-cache", cache.GRPC, "--map-cache", cache.HTTP,
			"--cache-dir", cacheDir, "--out", out)}
		p.cmd.Env = env
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		dirs = append(dirs, out)
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			md, _ := os.ReadFile(filepath.Join(dirs[i], report.MarkdownFile))
			t.Fatalf("shard %d/3: %v\n%s\n%s\n%s", i+1, err, p.stdout.String(), p.stderr.String(), md)
		}
	}

	merged := filepath.Join(tmp, "merged")
	mergeCmd := exec.Command(stride, append([]string{"report", "merge", "--out", merged}, dirs...)...)
	if out, err := mergeCmd.CombinedOutput(); err != nil {
		t.Fatalf("report merge: %v\n%s", err, out)
	}
	m, err := report.Read(filepath.Join(merged, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	for _, tr := range m.Tests.Results {
		ran[tr.Label]++
	}
	if m.Status != report.StatusGreen || len(ran) != 6 || m.Tests.Total != 6 || len(m.Shards) != 3 {
		t.Errorf("merged report: %s, tests %v, %d shards", m.Status, ran, len(m.Shards))
	}
	for l, n := range ran {
		if n != 1 {
			t.Errorf("%s ran %d times", l, n)
		}
	}
	if rc := m.Cache.Remote; rc == nil || !rc.Used {
		t.Errorf("merged report's remote cache: %+v", rc)
	}
	t.Logf("3 shards: actions executed %d, remote cache hits %d; shards took %v", m.Cache.ActionsExecuted, m.Cache.RemoteCacheHits, shardTimes(m))

	// Publish the merged run once (from runner 1, whose Bazel builds the
	// .deb from the cache).
	args := []string{"-C", filepath.Join(tmp, "runner1"), "publish", "--run", merged, "--bazel", filepath.Join(tmp, "runner1-bazel")}
	if _, err := exec.LookPath("aptly"); err != nil {
		args = append(args, "--no-apt")
	}
	pub := exec.Command(stride, args...)
	pub.Env = env
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	ls := exec.Command(stride, "-C", origin, "store", "ls", "--json")
	ls.Env = env
	lsOut, err := ls.Output()
	var builds []struct {
		Build string `json:"build"`
	}
	if err == nil {
		err = json.Unmarshal(lsOut, &builds)
	}
	if err != nil || len(builds) != 1 || builds[0].Build != head {
		t.Errorf("store after one publish: %s, %v; want build %s", lsOut, err, head)
	}

	// A 4th fresh runner (empty output base, empty cache directory)
	// running the whole change takes its actions from the cache, and both
	// digest maps from the shards' uploads (no query).
	dir, bazel, cacheDir := runner("runner4")
	fresh := exec.Command(stride, "-C", dir, "run", "--base", "HEAD~1", "--jobs", "2", "--bazel", bazel, "--remote-cache", cache.GRPC,
		"--map-cache", cache.HTTP, "--cache-dir", cacheDir, "--json")
	fresh.Env = env
	out, err := fresh.Output()
	if err != nil {
		t.Fatalf("fresh runner: %v\n%s", err, out)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "out", "runs", head, "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "process") {
				t.Logf("%s: %s", filepath.Base(l), line)
			}
		}
	}
	r, err := report.Parse("fresh", out)
	if err != nil {
		t.Fatal(err)
	}
	if rc := r.Cache.Remote; rc == nil || rc.HitRate == nil || *rc.HitRate < 0.9 {
		t.Errorf("fresh runner: the shards' cache served too little: %+v %+v", r.Cache, rc)
	} else {
		t.Logf("fresh runner: %d remote cache hits of %d processes (hit rate %.2f)", r.Cache.RemoteCacheHits, r.Cache.Processes, *rc.HitRate)
	}
	if r.Affected.BaseMap != "remote-cache" || r.Affected.HeadMap != "remote-cache" || r.Affected.SharedMapsNote != "" {
		t.Errorf("fresh runner's digest maps: base from %q, head from %q (%s); want both from remote-cache",
			r.Affected.BaseMap, r.Affected.HeadMap, r.Affected.SharedMapsNote)
	}

	// A cache that does not answer: the run passes without it, says so
	// once, and the report records it.
	runtest.Write(t, dir, map[string]string{"lib/lib.sh": "v=3\n"})
	runtest.Commit(t, dir, "change lib again")
	down := exec.Command(stride, "-C", dir, "run", "--base", "HEAD~1", "--jobs", "2", "--bazel", bazel, "--remote-cache", "grpc://127.0.0.1:1",
		"--map-cache", "http://127.0.0.1:1", "--cache-dir", cacheDir, "--json")
	down.Env = env
	var stderr bytes.Buffer
	down.Stderr = &stderr
	out, err = down.Output()
	if err != nil {
		t.Fatalf("run with a dead cache: %v\n%s", err, stderr.String())
	}
	r, err = report.Parse("down", out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != report.StatusGreen || r.Cache.Remote == nil || r.Cache.Remote.Used || !strings.Contains(r.Cache.Remote.Note, "does not answer") {
		t.Errorf("run with a dead cache: %s, %+v", r.Status, r.Cache.Remote)
	}
	if n := strings.Count(stderr.String(), "does not answer"); n != 1 {
		t.Errorf("the dead cache is mentioned %d times, want once:\n%s", n, stderr.String())
	}
}

func shardTimes(m *report.Report) []string {
	var out []string
	for _, s := range m.Shards {
		out = append(out, fmt.Sprintf("%d/%d %dms", s.Index, s.Count, s.TotalMS))
	}
	return out
}
