// Package deps pins the modules the monorepo depends on while the code that
// uses them is being written. It is imported by nothing.
package deps

import (
	_ "github.com/bazelbuild/buildtools/build"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "golang.org/x/sync/errgroup"
)
