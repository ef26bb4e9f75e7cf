// Package publish is `stride publish`: it takes a finished, green `stride
// run` and publishes its build assets so the build can be installed,
// inspected and promoted later:
//
//   - the services' .deb packages, re-versioned 0.<commit count>.0+g<sha>
//     (a service whose package content did not change keeps its earlier
//     version and bytes), added to the aptly repository, snapshotted as
//     build-<id>, and the dev distribution switched to that snapshot;
//   - docs/ rendered to HTML with an index of the services' versions;
//   - the run's perf.json and its comparison with the previous build that
//     ran the same benchmarks;
//   - the run's report.json, merged junit.xml and the logs of tests that
//     did not pass on the first try;
//
// all as blobs of the content-addressed store, named by one manifest per
// build that is written last. The steps are idempotent, so a publish that
// was killed is completed by running it again, and publishing a build that
// is already published only makes sure its APT snapshot exists.
//
// Publish is the hook `stride run` calls after a green run.
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
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/docsite"
	"github.com/strideci/monorepo/tools/stride/internal/perf"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// Errors that mean bad input (exit 2), checked with errors.Is.
var (
	// ErrNotGreen: the run did not finish green.
	ErrNotGreen = errors.New("the run is not green")
	// ErrNoRun: no report.json in the run directory.
	ErrNoRun = errors.New("no finished run")
	// ErrNotReproducible: the build is published with other packages.
	ErrNotReproducible = errors.New("the build was published before with different packages (a reproducibility bug)")
	// ErrBadInput: a malformed report.json, a bad distribution name, a
	// --deb file that is missing or not a .deb.
	ErrBadInput = errors.New("bad input")
)

// Store is what Publish needs of the store: the Store interface plus the
// writer lock.
type Store interface {
	store.Store
	Lock(ctx context.Context) (unlock func(), err error)
}

var _ Store = (*store.FS)(nil)

// Options configure Publish.
type Options struct {
	// Dir is the workspace root; docs/ is read from it.
	Dir string
	// RunDir holds the run's report.json (default Dir/out/runs/<HEAD sha>,
	// resolved by the caller).
	RunDir string
	// Debs are the services' .deb files. When empty, FindDebs is called.
	Debs     []string
	FindDebs func(ctx context.Context) ([]string, error)
	// DocsDir is the Markdown to render (default Dir/docs; "-" skips docs).
	DocsDir string

	Store Store
	// Aptly is the APT repository; nil skips APT (the packages are still
	// stored).
	Aptly *apt.Aptly
	// Distribution is the environment a new build is published to
	// (default "dev").
	Distribution string
	// Number is the commit count of the build's commit; 0 computes it from
	// the repository at Dir.
	Number int
	// AllowDirty publishes a run of a working tree with uncommitted
	// changes (its packages do not match the commit).
	AllowDirty bool

	// Now gives the publish time (tests); nil is time.Now.
	Now func() time.Time
	// Hook, when set, is called after each step: "blob" (after each blob),
	// "aptly-add", "snapshot", "manifest", "switch". Tests kill the
	// process there.
	Hook func(step string)
	// Log receives one line per step (nil: discarded).
	Log io.Writer
}

// PackageResult is what happened to one package.
type PackageResult struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Since is the build that first published this version when the
	// service did not change.
	Since string `json:"since,omitempty"`
	// From is the .deb file it came from.
	From string `json:"from"`
}

// Result is what Publish did.
type Result struct {
	Build    string          `json:"build"`
	Manifest *store.Manifest `json:"manifest"`
	// Already: the build was published before; nothing new was stored.
	Already bool `json:"already_published"`
	// Distribution is the environment, and Switched whether it now serves
	// this build because of this call.
	Distribution string           `json:"distribution,omitempty"`
	Switched     bool             `json:"switched"`
	Snapshot     string           `json:"snapshot,omitempty"`
	Packages     []PackageResult  `json:"packages"`
	Perf         *perf.Comparison `json:"perf,omitempty"`
	Warnings     []string         `json:"warnings,omitempty"`
	// Steps are the durations of the steps, in milliseconds.
	Steps map[string]int64 `json:"steps_ms"`
}

type publisher struct {
	o     Options
	s     Store
	res   *Result
	m     *store.Manifest
	tmp   string
	debs  map[string]string // artifact name -> local file (for aptly)
	clock time.Time
}

func (p *publisher) hook(step string) {
	if p.o.Hook != nil {
		p.o.Hook(step)
	}
}

func (p *publisher) logf(format string, a ...interface{}) {
	if p.o.Log != nil {
		fmt.Fprintf(p.o.Log, format+"\n", a...)
	}
}

func (p *publisher) step(name string, start time.Time) {
	p.res.Steps[name] += time.Since(start).Milliseconds()
}

// ReadRun reads and checks a run directory's report: it must exist and be
// green.
func ReadRun(dir string) (*report.Report, error) {
	path := filepath.Join(dir, report.JSONFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (run `stride run` first, or give --run DIR)", path, ErrNoRun)
	}
	r, err := report.Read(path)
	if err != nil {
		var pe *fs.PathError
		if !errors.As(err, &pe) { // it was read, and is malformed
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		return nil, err
	}
	if r.Status != report.StatusGreen {
		return nil, fmt.Errorf("%s: status %q (%s): %w", path, r.Status, r.Summary, ErrNotGreen)
	}
	if r.Head.SHA == "" {
		return nil, fmt.Errorf("%s: no head commit: %w", path, ErrBadInput)
	}
	return r, nil
}

// Publish publishes the run in opts.RunDir. See the package doc.
func Publish(ctx context.Context, opts Options) (*Result, error) {
	if opts.Store == nil {
		return nil, errors.New("publish: no store")
	}
	if opts.Distribution == "" {
		opts.Distribution = "dev"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DocsDir == "" {
		opts.DocsDir = filepath.Join(opts.Dir, "docs")
	}
	if err := apt.ValidateDistribution(opts.Distribution); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	start := time.Now()
	rep, err := ReadRun(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if rep.Dirty && !opts.AllowDirty {
		return nil, fmt.Errorf("%s: the run was of a working tree with uncommitted changes; commit and run again (or --allow-dirty): %w", opts.RunDir, ErrNotGreen)
	}
	build := rep.Head.SHA
	if err := store.ValidateBuildID(build); err != nil {
		return nil, err
	}
	unlock, err := opts.Store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	p := &publisher{o: opts, s: opts.Store, debs: map[string]string{},
		res: &Result{Build: build, Packages: []PackageResult{}, Steps: map[string]int64{}}}
	p.tmp, err = os.MkdirTemp("", "stride-publish-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(p.tmp)
	if opts.Aptly != nil {
		t := time.Now()
		if opts.Aptly.Keyring != nil {
			defer opts.Aptly.Keyring.KillAgent() // gpg starts one to sign
		}
		if err := opts.Aptly.Init(ctx); err != nil {
			return nil, err
		}
		p.step("aptly-init", t)
	}

	if m, err := p.s.Manifest(ctx, build); err == nil {
		return p.republish(ctx, m, start)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}

	number := opts.Number
	if number == 0 {
		if number, err = CommitCount(opts.Dir, build); err != nil {
			return nil, err
		}
	}
	p.m = &store.Manifest{
		Schema: store.Schema, Build: build, Commit: build, Branch: rep.Branch, Number: number,
		Time: opts.Now().UTC().Truncate(time.Second),
		Run:  &store.RunInfo{Status: string(rep.Status), Summary: rep.Summary, Base: rep.Base.SHA},
	}
	history, err := loadHistory(ctx, p.s, build)
	if err != nil {
		return nil, err
	}
	if err := p.packages(ctx, history); err != nil {
		return nil, err
	}
	if err := p.docs(ctx); err != nil {
		return nil, err
	}
	if err := p.runFiles(ctx, rep, history); err != nil {
		return nil, err
	}
	if opts.Aptly != nil {
		if err := p.apt(ctx, p.m); err != nil {
			return nil, err
		}
	}
	t := time.Now()
	if err := p.s.PutManifest(ctx, p.m); err != nil {
		return nil, err
	}
	p.step("manifest", t)
	p.logf("stored manifest of build %s (%d artifacts, %d bytes)", build, len(p.m.Artifacts), p.m.Size())
	p.hook("manifest")
	p.res.Manifest = p.m
	if opts.Aptly != nil {
		if err := p.switchDist(ctx, p.m, history); err != nil {
			return nil, err
		}
	}
	p.res.Steps["total"] = time.Since(start).Milliseconds()
	return p.res, nil
}

// republish completes the publication of a build whose manifest exists:
// its snapshot (re-imported from the stored packages if aptly lost it) and
// the distribution, if the build is newer than what it serves.
func (p *publisher) republish(ctx context.Context, m *store.Manifest, start time.Time) (*Result, error) {
	p.res.Already = true
	p.res.Manifest = m
	for _, pk := range m.Packages {
		p.res.Packages = append(p.res.Packages, PackageResult{Name: pk.Name, Version: pk.Version, Since: pk.Since, From: "store"})
	}
	// The packages must be the same as published: compare what the caller
	// gave, when it gave anything.
	if len(p.o.Debs) > 0 {
		for _, path := range p.o.Debs {
			d, err := readDeb(ctx, path)
			if err != nil {
				return nil, err
			}
			pk, ok := m.Package(d.Package)
			if !ok || string(pk.Content) != d.Content {
				return nil, fmt.Errorf("build %s, package %s (%s): %w", m.Build, d.Package, path, ErrNotReproducible)
			}
		}
	}
	p.logf("build %s is already published", m.Build)
	if p.o.Aptly != nil {
		if err := p.apt(ctx, m); err != nil {
			return nil, err
		}
		history, err := loadHistory(ctx, p.s, m.Build)
		if err != nil {
			return nil, err
		}
		if err := p.switchDist(ctx, m, history); err != nil {
			return nil, err
		}
	}
	p.res.Steps["total"] = time.Since(start).Milliseconds()
	return p.res, nil
}

// readDeb reads a package to publish; a missing file or one that is not a
// .deb is bad input.
func readDeb(ctx context.Context, path string) (*apt.Deb, error) {
	d, err := apt.ReadDeb(ctx, path)
	if errors.Is(err, apt.ErrNotDeb) {
		return nil, fmt.Errorf("%w: --deb %v", ErrBadInput, err)
	}
	return d, err
}

// put stores a file or bytes as an artifact of the manifest.
func (p *publisher) put(ctx context.Context, name, kind string, r io.Reader) error {
	t := time.Now()
	b, err := p.s.PutBlob(ctx, r)
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	p.step("blobs", t)
	p.m.Artifacts = append(p.m.Artifacts, store.Artifact{Name: name, Kind: kind, Digest: b.Digest, Size: b.Size})
	p.hook("blob")
	return nil
}

func (p *publisher) putFile(ctx context.Context, name, kind, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	defer f.Close()
	return p.put(ctx, name, kind, f)
}

// packages re-versions and stores the .deb files.
func (p *publisher) packages(ctx context.Context, h *history) error {
	t := time.Now()
	paths := p.o.Debs
	if len(paths) == 0 && p.o.FindDebs != nil {
		var err error
		if paths, err = p.o.FindDebs(ctx); err != nil {
			return err
		}
		p.step("find-debs", t)
	}
	seen := map[string]string{}
	version := apt.BuildVersion(p.m.Number, p.m.Commit)
	for _, path := range paths {
		t := time.Now()
		d, err := readDeb(ctx, path)
		if err != nil {
			return err
		}
		if other, dup := seen[d.Package]; dup {
			return fmt.Errorf("package %s given twice: %s and %s", d.Package, other, path)
		}
		seen[d.Package] = path
		pr := PackageResult{Name: d.Package, From: path}
		pkg := store.Package{Name: d.Package, Architecture: d.Architecture, Content: store.Digest(d.Content)}
		prev, prevBuild, ok := h.latest(d.Package)
		if ok && string(prev.Content) == d.Content {
			// Unchanged: keep the version and the very bytes published.
			a, _ := prevBuild.Artifact(prev.Artifact)
			pkg.Version, pkg.Artifact = prev.Version, prev.Artifact
			pkg.Since = prev.Since
			if pkg.Since == "" {
				pkg.Since = prevBuild.Build
			}
			local := filepath.Join(p.tmp, filepath.Base(prev.Artifact))
			if err := store.CopyBlobToFile(ctx, p.s, a.Digest, local); err != nil {
				return fmt.Errorf("package %s: the stored %s: %w", d.Package, prev.Artifact, err)
			}
			p.m.Artifacts = append(p.m.Artifacts, a)
			p.debs[a.Name] = local
			p.step("debs", t)
			p.logf("%s %s unchanged since build %s", d.Package, pkg.Version, pkg.Since)
		} else {
			if ok && apt.CompareVersions(version, prev.Version) <= 0 {
				p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("%s: new version %s is not newer than the published %s (build %s): apt will not upgrade to it", d.Package, version, prev.Version, prevBuild.Build))
			}
			// aptly tells packages apart by file name too: always the canonical one.
			name := (&apt.Deb{Package: d.Package, Version: version, Architecture: d.Architecture}).Filename()
			nd, err := apt.SetVersion(ctx, path, filepath.Join(p.tmp, name), version)
			if err != nil {
				return err
			}
			pkg.Version = nd.Version
			pkg.Artifact = "debs/" + nd.Filename()
			p.step("debs", t)
			if err := p.putFile(ctx, pkg.Artifact, store.KindDeb, nd.Path); err != nil {
				return err
			}
			p.debs[pkg.Artifact] = nd.Path
			p.logf("%s %s stored", d.Package, pkg.Version)
		}
		pr.Version, pr.Since = pkg.Version, pkg.Since
		p.m.Packages = append(p.m.Packages, pkg)
		p.res.Packages = append(p.res.Packages, pr)
	}
	sort.Slice(p.res.Packages, func(i, j int) bool { return p.res.Packages[i].Name < p.res.Packages[j].Name })
	return nil
}

// docs renders docs/ and stores the site under docs/.
func (p *publisher) docs(ctx context.Context) error {
	if p.o.DocsDir == "-" {
		return nil
	}
	if _, err := os.Stat(p.o.DocsDir); errors.Is(err, os.ErrNotExist) {
		p.res.Warnings = append(p.res.Warnings, "no docs directory "+p.o.DocsDir)
		return nil
	}
	t := time.Now()
	site := docsite.Site{Build: p.m.Build, Commit: p.m.Commit, Branch: p.m.Branch}
	for _, pk := range p.m.Packages {
		site.Services = append(site.Services, docsite.Service{Name: pk.Name, Version: pk.Version, Since: pk.Since})
	}
	files, err := docsite.Render(os.DirFS(p.o.DocsDir), site)
	if err != nil {
		return err
	}
	p.step("docs", t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := p.put(ctx, "docs/"+n, store.KindDoc, strings.NewReader(string(files[n]))); err != nil {
			return err
		}
	}
	p.logf("docs: %d files", len(files))
	return nil
}

// runFiles stores report.json, junit.xml, the logs of tests that did not
// pass on the first try, perf.json and the perf comparison.
func (p *publisher) runFiles(ctx context.Context, rep *report.Report, h *history) error {
	dir := p.o.RunDir
	if err := p.putFile(ctx, "report.json", store.KindReport, filepath.Join(dir, report.JSONFile)); err != nil {
		return err
	}
	junit := rep.Files.JUnit
	if junit == "" {
		junit = report.JUnitFile
	}
	if _, err := os.Stat(filepath.Join(dir, junit)); err == nil {
		if err := p.putFile(ctx, "test/junit.xml", store.KindJUnit, filepath.Join(dir, junit)); err != nil {
			return err
		}
	}
	for _, tr := range rep.Tests.Results {
		if tr.Status == "PASSED" || tr.Log == "" {
			continue
		}
		log := tr.Log
		if !filepath.IsAbs(log) {
			log = filepath.Join(dir, log)
		}
		if _, err := os.Stat(log); err != nil {
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("log of %s (%s): %v", tr.Label, tr.Status, err))
			continue
		}
		if err := p.putFile(ctx, "test/logs/"+labelPath(tr.Label)+".log", store.KindTestLog, log); err != nil {
			return err
		}
	}
	perfFile := rep.Files.Perf
	if perfFile != "" {
		if err := p.putFile(ctx, "perf/perf.json", store.KindPerf, filepath.Join(dir, perfFile)); err != nil {
			return err
		}
	}
	if len(rep.Benchmarks) > 0 {
		t := time.Now()
		c := perf.Compare(p.m.Build, rep.Benchmarks, h.baselines(ctx, p.s, rep.Benchmarks))
		p.res.Perf = c
		js, err := c.JSON()
		if err != nil {
			return err
		}
		p.step("perf", t)
		if err := p.put(ctx, "perf/compare.json", store.KindPerfCompare, strings.NewReader(string(js))); err != nil {
			return err
		}
		if err := p.put(ctx, "perf/compare.txt", store.KindPerfCompare, strings.NewReader(c.Text())); err != nil {
			return err
		}
	}
	return nil
}

// labelPath turns "//a/b:c" into "a/b/c".
func labelPath(label string) string {
	s := strings.TrimPrefix(label, "@")
	s = strings.TrimPrefix(s, "//")
	s = strings.ReplaceAll(s, ":", "/")
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '.' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "/")
	var parts []string
	for _, el := range strings.Split(out, "/") {
		if el == "" || strings.HasPrefix(el, ".") {
			el = "_" + el
		}
		parts = append(parts, el)
	}
	return strings.Join(parts, "/")
}

// apt adds the build's packages to the aptly repository and makes its
// snapshot (both idempotent). The packages come from the store when they
// are not at hand, so a lost aptly database is rebuilt from the store.
func (p *publisher) apt(ctx context.Context, m *store.Manifest) error {
	a := p.o.Aptly
	snap := apt.SnapshotName(m.Build)
	p.res.Snapshot = snap
	t := time.Now()
	has, err := a.HasSnapshot(ctx, snap)
	if err != nil {
		return err
	}
	if has {
		return nil
	}
	var files []string
	var refs []apt.PackageRef
	for _, pk := range m.Packages {
		local, ok := p.debs[pk.Artifact]
		if !ok {
			art, _ := m.Artifact(pk.Artifact)
			local = filepath.Join(p.tmp, filepath.Base(pk.Artifact))
			if err := store.CopyBlobToFile(ctx, p.s, art.Digest, local); err != nil {
				return fmt.Errorf("re-import %s of build %s: %w", pk.Artifact, m.Build, err)
			}
		}
		files = append(files, local)
		refs = append(refs, apt.PackageRef{Name: pk.Name, Version: pk.Version, Architecture: pk.Architecture})
	}
	if err := a.Add(ctx, files...); err != nil {
		return err
	}
	p.step("aptly-add", t)
	p.hook("aptly-add")
	t = time.Now()
	if err := a.CreateSnapshot(ctx, snap, refs); err != nil {
		return err
	}
	p.step("snapshot", t)
	p.logf("aptly snapshot %s: %d packages", snap, len(refs))
	p.hook("snapshot")
	return nil
}

// switchDist points the distribution at the build's snapshot unless it
// serves a newer build.
func (p *publisher) switchDist(ctx context.Context, m *store.Manifest, h *history) error {
	a := p.o.Aptly
	dist := p.o.Distribution
	p.res.Distribution = dist
	t := time.Now()
	pub, err := a.Published(ctx)
	if err != nil {
		return err
	}
	snap := apt.SnapshotName(m.Build)
	if cur, ok := pub[dist]; ok {
		if cur == snap {
			return nil
		}
		if cb := h.byID[apt.BuildOfSnapshot(cur)]; cb != nil && cb.Number > m.Number {
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("%s serves the newer build %s (commit %d > %d); left as it is", dist, cb.Build, cb.Number, m.Number))
			return nil
		}
	}
	if err := a.Publish(ctx, dist, snap); err != nil {
		return err
	}
	p.res.Switched = true
	p.step("switch", t)
	p.logf("%s now serves %s", dist, snap)
	p.hook("switch")
	return nil
}

// history is the store's other builds, newest first.
type history struct {
	builds []*store.Manifest
	byID   map[string]*store.Manifest
}

func loadHistory(ctx context.Context, s store.Store, except string) (*history, error) {
	ids, err := s.Builds(ctx)
	if err != nil {
		return nil, err
	}
	h := &history{byID: map[string]*store.Manifest{}}
	for _, id := range ids {
		if id == except {
			continue
		}
		m, err := s.Manifest(ctx, id)
		if err != nil {
			return nil, err
		}
		h.builds = append(h.builds, m)
		h.byID[id] = m
	}
	sort.Slice(h.builds, func(i, j int) bool {
		a, b := h.builds[i], h.builds[j]
		if a.Number != b.Number {
			return a.Number > b.Number
		}
		return a.Time.After(b.Time)
	})
	return h, nil
}

// latest is the highest published version of a package.
func (h *history) latest(name string) (store.Package, *store.Manifest, bool) {
	var best store.Package
	var bestM *store.Manifest
	for _, m := range h.builds {
		if pk, ok := m.Package(name); ok {
			if bestM == nil || apt.CompareVersions(pk.Version, best.Version) > 0 {
				best, bestM = pk, m
			}
		}
	}
	return best, bestM, bestM != nil
}

// baselines finds, for each target with benchmarks now, the newest earlier
// build whose perf.json has results of that target.
func (h *history) baselines(ctx context.Context, s store.Store, current []report.Benchmark) map[string]perf.Baseline {
	want := map[string]bool{}
	for _, b := range current {
		want[b.Target] = true
	}
	out := map[string]perf.Baseline{}
	for _, m := range h.builds {
		if len(out) == len(want) {
			break
		}
		a, ok := m.Artifact("perf/perf.json")
		if !ok {
			continue
		}
		b, err := store.ReadBlob(ctx, s, a.Digest)
		if err != nil {
			continue
		}
		bs, err := perf.ParsePerfJSON(m.Build+":perf/perf.json", b)
		if err != nil {
			continue
		}
		byTarget := map[string][]report.Benchmark{}
		for _, x := range bs {
			byTarget[x.Target] = append(byTarget[x.Target], x)
		}
		for t, xs := range byTarget {
			if _, done := out[t]; !done && want[t] {
				out[t] = perf.Baseline{Build: m.Build, Benchmarks: xs}
			}
		}
	}
	return out
}
