// Package serving reads which build each environment (a published APT
// distribution: dev, uat, preprod, prod) serves, from each record that says
// so, as store.ServingSource values:
//
//   - Tree: aptly's published tree itself, what clients download. For each
//     dists/ENV/Release, the Packages indexes it lists (checked against the
//     sizes and SHA-256 sums in the Release file) name the packages, their
//     versions and the SHA-256 of each .deb; the environment serves the
//     build (or builds) of the store whose packages are exactly those.
//   - DB: aptly's database, the snapshot each distribution is published
//     from (build-<id>).
//   - the ledger (internal/ledger, refs/stride/ledger) adds itself as a
//     third source.
//
// store.GC keeps what the sources agree on and refuses to run when one
// cannot be read or they disagree, so losing aptly's database (or its tree)
// never loses a served build; `stride store rebuild-apt` rebuilds the
// database from the store and the tree.
package serving

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Tree reads aptly's published tree.
type Tree struct {
	// Dir is the published tree (STORE/aptly/public).
	Dir string
	// Store holds the builds whose packages are matched.
	Store store.Store
}

// SourceName implements store.ServingSource.
func (t *Tree) SourceName() string { return "published tree" }

// Entry is one package of a published Packages index.
type Entry struct {
	Package, Version, Architecture string
	// SHA256 is the .deb's sha256, hex.
	SHA256 string
}

func (e Entry) key() string {
	return e.Package + " " + e.Version + " " + e.Architecture + " " + e.SHA256
}

// packagesIndex matches the uncompressed Packages indexes a Release lists.
var packagesIndex = regexp.MustCompile(`^[^/]+/binary-[^/]+/Packages$`)

// Dists reads the published distributions: distribution → its packages,
// sorted. A distribution directory without a Release file is not published
// (a first publish was interrupted); a Release whose Packages index is
// missing or does not match its size and sum is an error.
func (t *Tree) Dists() (map[string][]Entry, error) {
	out := map[string][]Entry{}
	dists := filepath.Join(t.Dir, "dists")
	ents, err := os.ReadDir(dists)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("published tree: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		rel := filepath.Join(dists, e.Name(), "Release")
		b, err := os.ReadFile(rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("published tree: %w", err)
		}
		files, err := releaseSHA256(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		entries := []Entry{}
		for _, f := range files {
			if !packagesIndex.MatchString(f.name) {
				continue
			}
			p := filepath.Join(dists, e.Name(), filepath.FromSlash(f.name))
			idx, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("published tree: %w", err)
			}
			sum := sha256.Sum256(idx)
			if int64(len(idx)) != f.size || hex.EncodeToString(sum[:]) != f.sum {
				return nil, fmt.Errorf("published tree: %s does not match its size and SHA256 in %s", p, rel)
			}
			es, err := parsePackages(p, idx)
			if err != nil {
				return nil, err
			}
			entries = append(entries, es...)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].key() < entries[j].key() })
		out[e.Name()] = entries
	}
	return out, nil
}

type releaseFile struct {
	sum  string
	size int64
	name string
}

// releaseSHA256 reads the SHA256 field of a Release file.
func releaseSHA256(b []byte) ([]releaseFile, error) {
	var out []releaseFile
	in := false
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if !in {
				continue
			}
			f := strings.Fields(line)
			if len(f) != 3 {
				return nil, fmt.Errorf("bad SHA256 line %q", line)
			}
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad SHA256 line %q", line)
			}
			out = append(out, releaseFile{f[0], n, f[2]})
			continue
		}
		in = strings.HasPrefix(line, "SHA256:")
		found = found || in
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("no SHA256 field")
	}
	return out, nil
}

// parsePackages reads the stanzas of a Packages index.
func parsePackages(name string, b []byte) ([]Entry, error) {
	var out []Entry
	for i, stanza := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(stanza) == "" {
			continue
		}
		var e Entry
		for _, line := range strings.Split(stanza, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.HasPrefix(line, " ") {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "Package":
				e.Package = v
			case "Version":
				e.Version = v
			case "Architecture":
				e.Architecture = v
			case "SHA256":
				e.SHA256 = v
			}
		}
		if e.Package == "" || e.Version == "" || e.Architecture == "" || e.SHA256 == "" {
			return nil, fmt.Errorf("%s: stanza %d lacks Package, Version, Architecture or SHA256", name, i+1)
		}
		out = append(out, e)
	}
	return out, nil
}

// packagesKey identifies a set of packages.
func packagesKey(es []Entry) string {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.key()
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}

// ManifestEntries are the packages a build publishes, as a Packages index
// lists them.
func ManifestEntries(m *store.Manifest) []Entry {
	var out []Entry
	for _, p := range m.Packages {
		a, _ := m.Artifact(p.Artifact)
		out = append(out, Entry{p.Name, p.Version, p.Architecture, a.Digest.Hex()})
	}
	return out
}

// Environments implements store.ServingSource: each published distribution
// and the builds whose packages are exactly the ones it lists (none when
// no build has them).
func (t *Tree) Environments(ctx context.Context) (store.Environments, error) {
	dists, err := t.Dists()
	if err != nil {
		return nil, err
	}
	out := store.Environments{}
	if len(dists) == 0 {
		return out, nil
	}
	ids, err := t.Store.Builds(ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]string{}
	for _, id := range ids {
		m, err := t.Store.Manifest(ctx, id)
		if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
			// A malformed manifest (verify reports it) matches nothing: an
			// environment serving it shows as serving an unknown build,
			// and GC refuses to run.
			continue
		}
		if err != nil {
			return nil, err
		}
		k := packagesKey(ManifestEntries(m))
		byKey[k] = append(byKey[k], id)
	}
	for dist, es := range dists {
		out[dist] = append([]string{}, byKey[packagesKey(es)]...)
	}
	return out, nil
}

// DB reads aptly's database: the snapshot each distribution is published
// from.
type DB struct {
	Aptly *apt.Aptly
}

// SourceName implements store.ServingSource.
func (d *DB) SourceName() string { return "aptly database" }

// Environments implements store.ServingSource.
func (d *DB) Environments(ctx context.Context) (store.Environments, error) {
	pub, err := d.Aptly.Published(ctx)
	if err != nil {
		return nil, err
	}
	out := store.Environments{}
	for dist, snap := range pub {
		out[dist] = []string{}
		if b := apt.BuildOfSnapshot(snap); b != "" {
			out[dist] = []string{b}
		}
	}
	return out, nil
}

// Sources are the records of a store whose aptly is a (nil: the store has
// no APT repository, so no environment serves anything): the published
// tree and aptly's database. The ledger appends itself.
func Sources(s store.Store, a *apt.Aptly) []store.ServingSource {
	if a == nil {
		return nil
	}
	return []store.ServingSource{&Tree{Dir: a.PublicDir(), Store: s}, &DB{Aptly: a}}
}

// Newest picks, for each environment, the newest of the builds it may
// serve (they publish the same packages, so any serves the same bytes; the
// newest is the one publish would have switched to).
func Newest(ctx context.Context, s store.Store, envs store.Environments) (map[string]string, error) {
	out := map[string]string{}
	for env, builds := range envs {
		var best *store.Manifest
		for _, id := range builds {
			m, err := s.Manifest(ctx, id)
			if err != nil {
				return nil, err
			}
			if best == nil || m.Number > best.Number || m.Number == best.Number && m.Time.After(best.Time) {
				best = m
			}
		}
		if best == nil {
			return nil, fmt.Errorf("environment %s serves packages no build in the store has", env)
		}
		out[env] = best.Build
	}
	return out, nil
}

// Override is a record of which build each environment serves that wins
// over another for the environments it names: the ledger over the
// published tree, for rebuild-apt (an environment the ledger never named,
// such as dev, which publish fills directly, keeps what the tree says).
type Override struct {
	// Base is read first; Builds replaces its answer per environment.
	Base store.ServingSource
	// Name names the overriding record ("ledger").
	Name string
	// Builds maps an environment to the build the record says it serves.
	Builds map[string]string
}

// SourceName says both records.
func (o *Override) SourceName() string {
	return o.Name + " over the " + o.Base.SourceName()
}

// Environments reads Base and replaces the environments Builds names.
func (o *Override) Environments(ctx context.Context) (store.Environments, error) {
	envs, err := o.Base.Environments(ctx)
	if err != nil {
		return nil, err
	}
	out := store.Environments{}
	for env, builds := range envs {
		out[env] = builds
	}
	for env, build := range o.Builds {
		if build != "" {
			out[env] = []string{build}
		}
	}
	return out, nil
}
