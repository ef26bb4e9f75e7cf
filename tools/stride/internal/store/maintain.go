package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
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
			res.Problems = append(res.Problems, problem("build "+id, err))
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
	err = s.WalkBlobs(ctx, func(b BlobFile) error {
		res.Blobs++
		res.Bytes += b.Size
		switch {
		case b.Digest.Validate() != nil:
			res.Problems = append(res.Problems, Problem{"file " + b.Where, "a file among the blobs whose name is not a digest"})
			return nil
		case b.Misplaced:
			res.Problems = append(res.Problems, Problem{"blob " + string(b.Digest), "misplaced: it is " + b.Where + ", not where its digest puts it, so the store cannot find it"})
			return nil
		}
		if err := s.CheckBlob(ctx, b.Digest); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Problems = append(res.Problems, problem("blob "+string(b.Digest), err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	left, err := s.Leftovers(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range left {
		res.Leftovers = append(res.Leftovers, l.Name)
	}
	return res, nil
}

// problem is a Problem about object, without the object repeated at the
// start of the error's text ("blob X: blob X: ...").
func problem(object string, err error) Problem {
	return Problem{object, strings.TrimPrefix(err.Error(), object+": ")}
}

// GCOptions configure GC.
type GCOptions struct {
	// Keep are builds to keep and why. Pinned builds are always kept.
	Keep map[string]string
	// Sources record which build each environment serves (the published
	// APT tree, aptly's database, the ledger). GC reads them all before it
	// removes anything, keeps every build they agree is served, and
	// refuses to run, removing nothing, when one cannot be read or they
	// disagree (ErrSourcesDisagree).
	Sources []ServingSource
	// KeepLast keeps the newest N builds as well (by Number, then Time).
	KeepLast int
	// Grace spares unreferenced blobs and leftovers younger than this: they
	// may belong to a write in progress (writers hold the lock, but a
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
	// Skipped are files among the blobs that are not blobs where they
	// belong (stray or misplaced files): left alone, verify reports them.
	Skipped []string `json:"skipped_files,omitempty"`
}

// GC removes the builds that are neither kept (served according to
// opts.Sources, opts.Keep, pins, the newest opts.KeepLast) nor needed, then
// every blob no remaining manifest names, and leftovers older than
// opts.Grace. Everything that decides what is kept is read before anything
// is removed; manifests go first, so a build never appears with missing
// blobs. The caller holds the writer lock (pin and unpin take it too).
func GC(ctx context.Context, s Maintainer, opts GCOptions) (*GCResult, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &GCResult{DryRun: opts.DryRun, Kept: []KeptBuild{}, Removed: []string{}, Leftovers: []string{}}
	keep := map[string]string{}
	served, err := Served(ctx, opts.Sources)
	if err != nil {
		return nil, fmt.Errorf("gc: %w; nothing was removed", err)
	}
	for id, envs := range served.ServedBuilds() {
		keep[id] = "environment " + strings.Join(envs, ", ")
	}
	for id, why := range opts.Keep {
		if _, ok := keep[id]; !ok {
			keep[id] = why
		}
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
	err = s.WalkBlobs(ctx, func(b BlobFile) error {
		if b.Digest.Validate() != nil || b.Misplaced {
			res.Skipped = append(res.Skipped, b.Where)
			return nil
		}
		if referenced[b.Digest] || now.Sub(b.ModTime) < opts.Grace {
			return nil
		}
		res.Blobs++
		res.Bytes += b.Size
		if opts.DryRun {
			return nil
		}
		return s.DeleteBlob(ctx, b.Digest)
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(res.Skipped)
	left, err := s.Leftovers(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range left {
		if now.Sub(l.ModTime) < opts.Grace {
			continue
		}
		res.Leftovers = append(res.Leftovers, l.Name)
		if !opts.DryRun {
			if err := s.RemoveLeftover(ctx, l.Name); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}
