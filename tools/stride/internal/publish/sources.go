package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/strideci/monorepo/tools/stride/internal/bazel"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// CommitCount returns the number of commits reachable from commit in the
// repository at dir (what `git rev-list --count` says). A shallow clone
// cannot count: the error says to pass the number.
func CommitCount(dir, commit string) (int, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return 0, err
	}
	if r.IsShallow() {
		return 0, fmt.Errorf("%s is a shallow clone: cannot count the commits of %s (fetch the full history, or pass --number)", dir, commit)
	}
	h, err := r.ResolveRevision(commit)
	if err != nil {
		return 0, err
	}
	iter, err := r.Git().Log(&git.LogOptions{From: h})
	if err != nil {
		return 0, fmt.Errorf("count commits of %s: %w", commit, err)
	}
	defer iter.Close()
	n := 0
	err = iter.ForEach(func(*object.Commit) error {
		n++
		return nil
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("count commits of %s: %w", commit, err)
	}
	return n, nil
}

// Bazel is what BazelDebs needs (*bazel.Bazel).
type Bazel interface {
	Run(ctx context.Context, opts bazel.Options, args ...string) ([]byte, error)
	Info(ctx context.Context, key string) (string, error)
}

var _ Bazel = (*bazel.Bazel)(nil)

// DebRule is the rule kind of the services' packages (tools/bazel/deb.bzl).
const DebRule = "deb_package"

// BazelDebs builds every deb_package target of the workspace and returns
// the .deb files: `bazel query 'kind(deb_package, //...)'`, `bazel build`
// of those labels, then the .deb files in each label's bazel-bin package
// directory.
func BazelDebs(ctx context.Context, b Bazel, opts bazel.Options) ([]string, error) {
	out, err := b.Run(ctx, opts, "query", "kind("+DebRule+", //...)", "--output=label")
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "//") {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("no %s targets in the workspace", DebRule)
	}
	if _, err := b.Run(ctx, opts, append([]string{"build"}, labels...)...); err != nil {
		return nil, err
	}
	bin, err := b.Info(ctx, "bazel-bin")
	if err != nil {
		return nil, err
	}
	var debs []string
	for _, l := range labels {
		pkg := strings.TrimPrefix(l, "//")
		if i := strings.IndexByte(pkg, ':'); i >= 0 {
			pkg = pkg[:i]
		}
		matches, err := filepath.Glob(filepath.Join(bin, filepath.FromSlash(pkg), "*.deb"))
		if err != nil {
			return nil, err
		}
		if len(matches) != 1 {
			return nil, fmt.Errorf("%s: want one .deb in %s, found %d", l, filepath.Join(bin, pkg), len(matches))
		}
		debs = append(debs, matches[0])
	}
	sort.Strings(debs)
	return debs, nil
}
