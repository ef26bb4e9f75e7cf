package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCIExamplesParse: every YAML block of docs/ci-examples.md is valid
// YAML, every stride command in its scripts exists with the flags it is
// given, and the sharded pipelines merge as many shards as they run.
func TestCIExamplesParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs", "ci-examples.md"))
	if err != nil {
		t.Skip("not in the monorepo's source tree (bazel test)")
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d yaml blocks, want the GitHub, status, GitLab, sharded GitHub and Buildkite ones", len(blocks))
	}
	env := &Env{Dir: t.TempDir()}
	strideCmd := regexp.MustCompile(`(?:ci/)?stride ([a-z]+)(?: ([a-z-]+))?((?: [^|;&]*)?)`)
	var sharded, buildkite bool
	for i, m := range blocks {
		var doc interface{}
		if err := yaml.Unmarshal([]byte(m[1]), &doc); err != nil {
			t.Errorf("yaml block %d: %v", i+1, err)
			continue
		}
		var scripts []string
		walkYAML(doc, "", func(key, v string) {
			switch key {
			case "run", "command", "script":
				scripts = append(scripts, v)
			}
		})
		var lines []string
		for _, s := range scripts {
			lines = append(lines, strings.Split(s, "\n")...)
		}
		for _, line := range lines {
			for _, c := range strideCmd.FindAllStringSubmatch(line, -1) {
				cmd, ok := commands[c[1]]
				if !ok {
					t.Errorf("yaml block %d: unknown command stride %s", i+1, c[1])
					continue
				}
				sub, rest := c[2], c[3]
				if !inList(cmd.Subs, sub) {
					sub, rest = "", " "+c[2]+rest
				}
				fs := commandFlags(env, cmd, sub)
				for _, f := range regexp.MustCompile(` --([a-z][a-z0-9-]*)`).FindAllStringSubmatch(rest, -1) {
					if fs == nil || fs.Lookup(f[1]) == nil {
						t.Errorf("yaml block %d: stride %s has no flag --%s", i+1, strings.TrimSpace(c[1]+" "+sub), f[1])
					}
				}
			}
		}
		text := m[1]
		if d, ok := doc.(map[string]interface{}); ok {
			if jobs, ok := d["jobs"].(map[string]interface{}); ok {
				if shard, ok := jobs["shard"].(map[string]interface{}); ok {
					sharded = true
					matrix := shard["strategy"].(map[string]interface{})["matrix"].(map[string]interface{})["shard"].([]interface{})
					checkMerge(t, "GitHub Actions", text, len(matrix))
				}
			}
			if steps, ok := d["steps"].([]interface{}); ok {
				for _, st := range steps {
					if m, ok := st.(map[string]interface{}); ok {
						if p, ok := m["parallelism"].(int); ok {
							buildkite = true
							checkMerge(t, "Buildkite", text, p)
						}
					}
				}
			}
		}
	}
	if !sharded || !buildkite {
		t.Errorf("sharded GitHub Actions workflow found: %v, Buildkite pipeline: %v", sharded, buildkite)
	}
}

// checkMerge: the pipeline's `stride report merge` names n shards.
func checkMerge(t *testing.T, name, text string, n int) {
	t.Helper()
	m := regexp.MustCompile(`stride report merge --out \S+((?: \S+)+)`).FindStringSubmatch(text)
	if m == nil {
		t.Errorf("%s: no `stride report merge --out DIR SHARDS...`", name)
		return
	}
	if got := len(strings.Fields(m[1])); got != n {
		t.Errorf("%s runs %d shards but merges %d: %s", name, n, got, m[0])
	}
}

// walkYAML calls f with every string value in doc and the key it is
// under (list items inherit their list's key).
func walkYAML(doc interface{}, key string, f func(key, v string)) {
	switch v := doc.(type) {
	case map[string]interface{}:
		for k, x := range v {
			walkYAML(x, k, f)
		}
	case []interface{}:
		for _, x := range v {
			walkYAML(x, key, f)
		}
	case string:
		f(key, v)
	}
}
