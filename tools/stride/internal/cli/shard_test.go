package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/run/runtest"
)

// TestShardedRun runs one change as three shards (`stride run --shard
// i/3`) on a real workspace, merges them with `stride report merge`, and
// checks that every affected test ran exactly once and that the merged
// report, report.md and junit.xml hold them all. A second sharded run
// balances by the first one's recorded durations.
func TestShardedRun(t *testing.T) {
	runtest.RequireBazel(t)
	files := map[string]string{"lib/BUILD": `sh_library(name = "lib", srcs = ["lib.sh"], visibility = ["//visibility:public"])`, "lib/lib.sh": "v=1\n"}
	for i := 0; i < 5; i++ {
		files[fmt.Sprintf("t%d/BUILD", i)] = fmt.Sprintf(`sh_test(name = "t%d_test", srcs = ["t.sh"], deps = ["//lib"])`, i)
		files[fmt.Sprintf("t%d/t.sh", i)] = "#!/bin/sh\necho ok\n"
	}
	dir := runtest.Workspace(t, files)
	runtest.Git(t, dir, "init", "-q", "-b", "main")
	runtest.Commit(t, dir, "workspace")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	runtest.Write(t, dir, map[string]string{"lib/lib.sh": "v=2\n"})
	head := runtest.Commit(t, dir, "change lib")

	runShards := func(extra ...string) []string {
		var dirs []string
		for i := 1; i <= 3; i++ {
			out := filepath.Join(dir, "out", "runs", head, fmt.Sprintf("shard-%d-of-3", i))
			code, stdout, stderr := stride(t, dir, append([]string{"run", "--base", "HEAD~1", "--jobs", "2", "--shard", fmt.Sprintf("%d/3", i)}, extra...)...)
			if code != 0 {
				t.Fatalf("shard %d/3: exit %d\n%s\n%s", i, code, stdout, stderr)
			}
			dirs = append(dirs, out)
		}
		return dirs
	}
	dirs := runShards()
	ran := map[string]int{}
	for i, d := range dirs {
		r, err := report.Read(filepath.Join(d, report.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if r.Shard == nil || r.Shard.Index != i+1 || r.Shard.Balance != "targets" || r.Affected.Count != 6 {
			t.Errorf("shard %d report: shard %+v, affected %d", i+1, r.Shard, r.Affected.Count)
		}
		for _, tr := range r.Tests.Results {
			ran[tr.Label]++
		}
	}
	if len(ran) != 5 {
		t.Errorf("tests run by the shards: %v, want the 5 affected", ran)
	}
	for l, n := range ran {
		if n != 1 {
			t.Errorf("%s ran %d times", l, n)
		}
	}

	code, stdout, stderr := stride(t, dir, append([]string{"report", "merge"}, dirs...)...)
	if code != 0 {
		t.Fatalf("report merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	merged := filepath.Join(dir, "out", "runs", head)
	m, err := report.Read(filepath.Join(merged, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != report.StatusGreen || m.Tests.Total != 5 || len(m.Shards) != 3 || m.Files.JUnit == "" {
		t.Errorf("merged: %s, %d tests, %d shards, junit %q", m.Status, m.Tests.Total, len(m.Shards), m.Files.JUnit)
	}
	j, err := os.ReadFile(filepath.Join(merged, report.JUnitFile))
	if err != nil || strings.Count(string(j), "<testsuite ") != 5 {
		t.Errorf("merged junit.xml: %v\n%s", err, j)
	}
	if md, _ := os.ReadFile(filepath.Join(merged, report.MarkdownFile)); !strings.Contains(string(md), "| 3/3 | green |") {
		t.Errorf("report.md:\n%s", md)
	}

	// A missing shard: exit 1, naming it, and nothing written.
	os.Remove(filepath.Join(merged, report.JSONFile))
	code, _, stderr = stride(t, dir, "report", "merge", dirs[0], dirs[2])
	if code != 1 || !strings.Contains(stderr, "missing shard(s) 2/3") {
		t.Errorf("merge without shard 2: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(merged, report.JSONFile)); err == nil {
		t.Errorf("a refused merge wrote a report")
	}

	// Bad shard specs.
	for _, bad := range []string{"0/0", "4/3", "x"} {
		if code, _, stderr := stride(t, dir, "run", "--shard", bad); code != 2 || !strings.Contains(stderr, "--shard") {
			t.Errorf("--shard %s: exit %d\n%s", bad, code, stderr)
		}
	}
	if code, _, stderr := stride(t, dir, "run", "--shard", "1/2", "--publish"); code != 2 || !strings.Contains(stderr, "stride report merge") {
		t.Errorf("--shard with --publish: exit %d\n%s", code, stderr)
	}

	// With history (the first run's merged report under out/runs), the
	// next sharded run balances by durations.
	if code, stdout, stderr := stride(t, dir, append([]string{"report", "merge"}, dirs...)...); code != 0 {
		t.Fatalf("report merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
	runtest.Write(t, dir, map[string]string{"lib/lib.sh": "v=3\n"})
	head = runtest.Commit(t, dir, "change lib again")
	dirs = runShards()
	var balance []string
	for _, d := range dirs {
		r, err := report.Read(filepath.Join(d, report.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		balance = append(balance, r.Shard.Balance)
	}
	sort.Strings(balance)
	if strings.Join(balance, ",") != "durations,durations,durations" {
		t.Errorf("second run balanced by %v, want durations", balance)
	}
	if code, stdout, stderr := stride(t, dir, append([]string{"report", "merge", "--json"}, dirs...)...); code != 0 || !strings.Contains(stdout, `"shards"`) {
		t.Errorf("second merge: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
