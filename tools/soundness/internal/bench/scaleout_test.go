package bench

import (
	"strings"
	"testing"
)

func TestProcessCounts(t *testing.T) {
	for _, tc := range []struct {
		log             string
		hits, processes int64
	}{
		{"", 0, 0},
		{"INFO: 31 processes: 7 remote cache hit, 24 internal.\n", 7, 7},
		{"INFO: 120 processes: 3 internal, 117 linux-sandbox.\n", 0, 117},
		{"INFO: 1 process: 1 remote cache hit.\nINFO: 9 processes: 2 remote cache hit, 1 internal, 6 linux-sandbox.\n", 3, 9},
	} {
		h, p := processCounts([]byte(tc.log))
		if h != tc.hits || p != tc.processes {
			t.Errorf("processCounts(%q) = %d, %d; want %d, %d", tc.log, h, p, tc.hits, tc.processes)
		}
	}
}

func TestWriteScaleMarkdown(t *testing.T) {
	r := &ScaleResult{
		Steps: []ScaleStep{
			{Name: "full: bazel test //..., empty remote cache (cold)", WallMS: 100000, Processes: 500},
			{Name: "full: bazel test //..., warm remote cache", WallMS: 20000, Hits: 500, Processes: 500, HitRate: 1},
			{Name: "change: stride run, no remote cache", WallMS: 60000, AffectedMS: 9000, BaseMap: "query-scratch"},
			{Name: "change: stride run, warm remote cache, maps not shared", WallMS: 15000},
			{Name: "change: stride run, warm remote cache, shared maps", WallMS: 10000, BaseMap: "remote-cache"},
			{Name: "affected: stride affected, no shared maps", WallMS: 8000},
			{Name: "affected: stride affected, shared maps", WallMS: 1000},
		},
		Shards:       map[int][]ScaleStep{1: {{Name: "shard 1/1", WallMS: 10000}}, 2: {{Name: "shard 1/2", WallMS: 9000}, {Name: "shard 2/2", WallMS: 9500}}},
		ShardTotalMS: map[int]int64{1: 10000, 2: 9500},
	}
	var b strings.Builder
	WriteScaleMarkdown(&b, "t", r)
	for _, want := range []string{
		"warm remote cache / empty remote cache: 0.20×",
		"warm remote cache + shared maps / no remote cache: 0.17×",
		"stride affected, shared maps / no shared maps: 0.12×",
		"2 shard(s) at once / 1 shard: 0.95×",
		"| change: stride run, warm remote cache, shared maps | 10.0 s | - | remote-cache |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}
