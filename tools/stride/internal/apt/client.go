package apt

import (
	"fmt"
	"os"
	"path/filepath"
)

// ClientDir prepares dir for an apt-get confined to it — its sources list
// (written with sources), lists and cache — and returns the options that
// make apt-get use only those: what the environments' deployer
// (internal/env) and the APT tests run apt-get with. As root, apt-get's
// sandbox user is root, so that it can read and write dir.
func ClientDir(dir, sources string) ([]string, error) {
	for _, d := range []string{"lists/partial", "cache/archives/partial", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("apt-get directory %s: %w", dir, err)
		}
	}
	list := filepath.Join(dir, "etc", "sources.list")
	if err := os.WriteFile(list, []byte(sources), 0o644); err != nil {
		return nil, fmt.Errorf("apt-get sources: %w", err)
	}
	opts := []string{
		"-o", "Dir::Etc::SourceList=" + list,
		"-o", "Dir::Etc::SourceParts=/dev/null",
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "Acquire::Retries=0",
	}
	if os.Geteuid() == 0 {
		opts = append(opts, "-o", "APT::Sandbox::User=root")
	}
	return opts, nil
}
