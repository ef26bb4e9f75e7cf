package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// Problem is one finding of Verify.
type Problem struct {
	// Object is what is wrong: "blob sha256:...", "build <id>".
	Object string `json:"object"`
	Error  string `json:"error"`
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Builds   int       `json:"builds"`
	Blobs    int       `json:"blobs"`
	Bytes    int64     `json:"bytes"`
	Problems []Problem `json:"problems"`
	// Leftovers are temporary files of interrupted writes: harmless (no
	// build refers to them), removed by GC.
	Leftovers []string `json:"leftovers,omitempty"`
}

// OK reports whether nothing is wrong.
func (r *VerifyResult) OK() bool { return len(r.Problems) == 0 }

// Verify checks the whole store: every manifest parses and names blobs that
// exist with the right size, and every blob's bytes match its digest. It
// returns an error only when it could not look; findings are in the result.
func Verify(ctx context.Context, s Maintainer) (*VerifyResult, error) {
	res := &VerifyResult{Problems: []Problem{}}
	ids, err := s.Builds(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		res.Builds++
		m, err := s.Manifest(ctx, id)
		if err != nil {
			res.Problems = append(res.Problems, Problem{"build " + id, err.Error()})
			continue
		}
		for _, a := range m.Artifacts {
			size, err := s.StatBlob(ctx, a.Digest)
			switch {
			case err != nil:
				res.Problems = append(res.Problems, Problem{"build " + id, fmt.Sprintf("artifact %s: %v", a.Name, err)})
			case size != a.Size:
				res.Problems = append(res.Problems, Problem{"build " + id, fmt.Sprintf("artifact %s: blob %s has %d bytes, manifest says %d", a.Name, a.Digest.Short(), size, a.Size)})
			}
		}
	}
	err = s.WalkBlobs(ctx, func(d Digest, size int64, _ os.FileInfo) error {
		res.Blobs++
		res.Bytes += size
		if err := d.Validate(); err != nil {
			res.Problems = append(res.Problems, Problem{"blob " + string(d), "a file in the blob directory with a name that is not a digest"})
			return nil
		}
		if err := s.CheckBlob(ctx, d); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Problems = append(res.Problems, Problem{"blob " + string(d), err.Error()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Leftovers, err = s.Leftovers(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// GCOptions configure GC.
type GCOptions struct {
	// Keep are builds to keep and why (e.g. "environment dev"). Pinned
	// builds are always kept.
	Keep map[string]string
	// KeepLast keeps the newest N builds as well (by Number, then Time).
	KeepLast int
	// Grace spares unreferenced blobs and leftovers younger than this: they
	// may belong to a publish in progress (which holds the lock, but a
	// backend may be shared).
	Grace time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Now is the current time (tests); zero means time.Now().
	Now time.Time
}

// KeptBuild is a build GC kept, and why.
type KeptBuild struct {
	Build  string `json:"build"`
	Reason string `json:"reason"`
}

// GCResult is what GC removed (or would remove, in a dry run).
type GCResult struct {
	DryRun    bool        `json:"dry_run"`
	Kept      []KeptBuild `json:"kept"`
	Removed   []string    `json:"removed_builds"`
	Blobs     int         `json:"removed_blobs"`
	Bytes     int64       `json:"removed_bytes"`
	Leftovers []string    `json:"removed_leftovers"`
}

// GC removes the builds that are neither kept (opts.Keep, pins, the newest
// opts.KeepLast) nor needed, then every blob no remaining manifest names,
// and stale leftovers. Manifests go first, so a build never appears with
// missing blobs. The caller holds the writer lock.
func GC(ctx context.Context, s Maintainer, opts GCOptions) (*GCResult, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &GCResult{DryRun: opts.DryRun, Kept: []KeptBuild{}, Removed: []string{}, Leftovers: []string{}}
	keep := map[string]string{}
	for id, why := range opts.Keep {
		keep[id] = why
	}
	pins, err := s.Pins(ctx)
	if err != nil {
		return nil, err
	}
	for id, why := range pins {
		if _, ok := keep[id]; !ok {
			keep[id] = "pinned: " + why
		}
	}
	ids, err := s.Builds(ctx)
	if err != nil {
		return nil, err
	}
	type build struct {
		id string
		m  *Manifest
	}
	var builds []build
	for _, id := range ids {
		m, err := s.Manifest(ctx, id)
		if err != nil {
			// An unreadable manifest is kept (verify reports it); its blobs
			// cannot be known, so nothing else is removed this time.
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("gc: %w (run stride store verify)", err)
		}
		builds = append(builds, build{id, m})
	}
	sort.Slice(builds, func(i, j int) bool {
		a, b := builds[i].m, builds[j].m
		if a.Number != b.Number {
			return a.Number > b.Number
		}
		return a.Time.After(b.Time)
	})
	for i, b := range builds {
		if _, ok := keep[b.id]; !ok && i < opts.KeepLast {
			keep[b.id] = fmt.Sprintf("among the newest %d", opts.KeepLast)
		}
	}
	referenced := map[Digest]bool{}
	for _, b := range builds {
		if why, ok := keep[b.id]; ok {
			res.Kept = append(res.Kept, KeptBuild{b.id, why})
			for _, a := range b.m.Artifacts {
				referenced[a.Digest] = true
			}
			continue
		}
		res.Removed = append(res.Removed, b.id)
	}
	sort.Slice(res.Kept, func(i, j int) bool { return res.Kept[i].Build < res.Kept[j].Build })
	sort.Strings(res.Removed)
	if !opts.DryRun {
		for _, id := range res.Removed {
			if err := s.DeleteManifest(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	err = s.WalkBlobs(ctx, func(d Digest, size int64, info os.FileInfo) error {
		if referenced[d] || now.Sub(info.ModTime()) < opts.Grace {
			return nil
		}
		res.Blobs++
		res.Bytes += size
		if opts.DryRun {
			return nil
		}
		return s.DeleteBlob(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	left, err := s.Leftovers(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range left {
		res.Leftovers = append(res.Leftovers, name)
		if !opts.DryRun {
			if err := s.RemoveLeftover(ctx, name); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}
