package promote

import (
	"context"
	"fmt"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
)

// AptSwitcher switches an environment's APT distribution (named as the
// environment) to a build's snapshot with `aptly publish switch`, which is
// atomic for clients, under the store's writer lock so that aptly never
// runs twice at once.
type AptSwitcher struct {
	Aptly *apt.Aptly
	// Lock takes the store's writer lock (store.FS.Lock).
	Lock   func(ctx context.Context) (unlock func(), err error)
	inited bool
}

// Switch implements Switcher.
func (s *AptSwitcher) Switch(ctx context.Context, env, build string) error {
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if !s.inited {
		if err := s.Aptly.Init(ctx); err != nil {
			return err
		}
		s.inited = true
	}
	snap := apt.SnapshotName(build)
	has, err := s.Aptly.HasSnapshot(ctx, snap)
	if err != nil {
		return err
	}
	if !has {
		return fmt.Errorf("build %s has no APT snapshot %s (run stride publish for it again)", short(build), snap)
	}
	return s.Aptly.Publish(ctx, env, snap)
}
