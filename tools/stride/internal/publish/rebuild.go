package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/serving"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// RebuildOptions configure RebuildAPT.
type RebuildOptions struct {
	Store Store
	Aptly *apt.Aptly
	// Serving says which build each environment serves: the ledger when
	// it exists, else the published tree (serving.Tree, the default). It
	// is read before aptly's database is touched.
	Serving store.ServingSource
	// Hook, when set, is called after each step: "db-aside", "add" (after
	// each batch of packages), "snapshot" (after each build), "publish"
	// (after each environment), "cleanup". Tests kill the process there.
	Hook func(step string)
	// Log receives one line per step (nil: discarded).
	Log io.Writer
}

// RebuildResult is what RebuildAPT did.
type RebuildResult struct {
	// Builds is the number of builds whose snapshot was made.
	Builds int `json:"builds"`
	// Packages is the number of distinct .deb files imported.
	Packages int `json:"packages"`
	// Environments maps each environment to the build it serves again.
	Environments map[string]string `json:"environments"`
	Steps        map[string]int64  `json:"steps_ms"`
}

// addBatch is how many .deb files one `aptly repo add` gets.
const addBatch = 200

// dbAside is where RebuildAPT keeps aptly's old database until it is done.
const dbAside = "db.before-rebuild"

// RebuildAPT rebuilds aptly's database from the store, holding the store's
// lock: it reads which build each environment serves (o.Serving), moves the
// old database aside (aptly/db.before-rebuild, removed at the end), imports
// every manifest's packages from their blobs, makes every build's snapshot
// and publishes each environment from the snapshot of the build it served,
// so clients see the same packages, re-signed. Every step can be killed: a
// rebuild that did not finish leaves the published tree as it was, and
// running it again completes it.
func RebuildAPT(ctx context.Context, o RebuildOptions) (*RebuildResult, error) {
	if o.Store == nil || o.Aptly == nil {
		return nil, errors.New("rebuild: no store or no aptly")
	}
	if o.Serving == nil {
		o.Serving = &serving.Tree{Dir: o.Aptly.PublicDir(), Store: o.Store}
	}
	hook := func(step string) {
		if o.Hook != nil {
			o.Hook(step)
		}
	}
	logf := func(format string, a ...interface{}) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	res := &RebuildResult{Environments: map[string]string{}, Steps: map[string]int64{}}
	start := time.Now()
	unlock, err := o.Store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	envs, err := o.Serving.Environments(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild: read what the environments serve from the %s: %w", o.Serving.SourceName(), err)
	}
	if res.Environments, err = serving.Newest(ctx, o.Store, envs); err != nil {
		return nil, fmt.Errorf("rebuild: the %s: %w", o.Serving.SourceName(), err)
	}
	ids, err := o.Store.Builds(ctx)
	if err != nil {
		return nil, err
	}
	var builds []*store.Manifest
	for _, id := range ids {
		m, err := o.Store.Manifest(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("rebuild: %w (run stride store verify)", err)
		}
		builds = append(builds, m)
	}
	sort.Slice(builds, func(i, j int) bool {
		if builds[i].Number != builds[j].Number {
			return builds[i].Number < builds[j].Number
		}
		return builds[i].Time.Before(builds[j].Time)
	})

	// The old database goes aside; a rebuild killed before the end left a
	// partial database and the old one aside: the partial one goes.
	a := o.Aptly
	db, aside := filepath.Join(a.Root, "db"), filepath.Join(a.Root, dbAside)
	if _, err := os.Stat(aside); err == nil {
		if err := os.RemoveAll(db); err != nil {
			return nil, fmt.Errorf("rebuild: %w", err)
		}
	} else if err := os.Rename(db, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("rebuild: move aptly's database aside: %w", err)
	}
	hook("db-aside")
	if a.Keyring != nil {
		defer a.Keyring.KillAgent()
	}
	t := time.Now()
	if err := a.Init(ctx); err != nil {
		return nil, err
	}
	res.Steps["aptly-init"] = time.Since(t).Milliseconds()

	// Each distinct .deb once, in batches.
	t = time.Now()
	tmp, err := os.MkdirTemp("", "stride-rebuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	seen := map[store.Digest]bool{}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := a.Add(ctx, batch...); err != nil {
			return err
		}
		for _, f := range batch {
			os.Remove(f)
		}
		batch = batch[:0]
		hook("add")
		return nil
	}
	for _, m := range builds {
		for _, pk := range m.Packages {
			art, _ := m.Artifact(pk.Artifact)
			if seen[art.Digest] {
				continue
			}
			seen[art.Digest] = true
			dir := filepath.Join(tmp, art.Digest.Hex())
			if err := os.Mkdir(dir, 0o755); err != nil {
				return nil, err
			}
			local := filepath.Join(dir, filepath.Base(pk.Artifact))
			if err := store.CopyBlobToFile(ctx, o.Store, art.Digest, local); err != nil {
				return nil, fmt.Errorf("rebuild: %s of build %s: %w", pk.Artifact, m.Build, err)
			}
			batch = append(batch, local)
			res.Packages++
			if len(batch) == addBatch {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	res.Steps["aptly-add"] = time.Since(t).Milliseconds()
	logf("imported %d packages of %d builds", res.Packages, len(builds))

	t = time.Now()
	for _, m := range builds {
		var refs []apt.PackageRef
		for _, pk := range m.Packages {
			refs = append(refs, apt.PackageRef{Name: pk.Name, Version: pk.Version, Architecture: pk.Architecture})
		}
		if err := a.CreateSnapshot(ctx, apt.SnapshotName(m.Build), refs); err != nil {
			return nil, err
		}
		res.Builds++
		hook("snapshot")
	}
	res.Steps["snapshot"] = time.Since(t).Milliseconds()
	logf("made %d snapshots", res.Builds)

	t = time.Now()
	envNames := make([]string, 0, len(res.Environments))
	for env := range res.Environments {
		envNames = append(envNames, env)
	}
	sort.Strings(envNames)
	for _, env := range envNames {
		b := res.Environments[env]
		if err := a.Publish(ctx, env, apt.SnapshotName(b)); err != nil {
			return nil, err
		}
		logf("%s serves %s again", env, apt.SnapshotName(b))
		hook("publish")
	}
	res.Steps["publish"] = time.Since(t).Milliseconds()

	t = time.Now()
	if err := a.Cleanup(ctx); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(aside); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	hook("cleanup")
	res.Steps["cleanup"] = time.Since(t).Milliseconds()
	res.Steps["total"] = time.Since(start).Milliseconds()
	return res, nil
}
