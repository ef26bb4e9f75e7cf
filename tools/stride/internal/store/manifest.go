package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// Schema is the value of a manifest's "schema" field.
const Schema = "stride.manifest/v1"

// Artifact kinds.
const (
	KindDeb         = "deb"          // a service's Debian package
	KindDoc         = "doc"          // a file of the rendered docs site
	KindPerf        = "perf"         // the run's benchmark results (perf.json)
	KindPerfCompare = "perf-compare" // the comparison with the previous build
	KindJUnit       = "junit"        // the run's merged JUnit XML
	KindTestLog     = "test-log"     // the log of a failed test
	KindReport      = "report"       // the run's report.json
)

// Manifest describes one published build. It is written once, after all
// its blobs, and never changes. docs/store.md documents it with an example.
type Manifest struct {
	Schema string `json:"schema"`
	// Build is the build id: the head commit's full sha.
	Build  string `json:"build"`
	Commit string `json:"commit"`
	Branch string `json:"branch,omitempty"`
	// Number is the count of commits reachable from Commit; it orders
	// builds and is the minor part of package versions.
	Number int `json:"number"`
	// Time is when the build was published (UTC).
	Time time.Time `json:"time"`
	// Run sums up the `stride run` whose outputs were published.
	Run *RunInfo `json:"run,omitempty"`
	// Packages are the services' Debian packages of this build, by name.
	Packages []Package `json:"packages"`
	// Artifacts are every stored file of the build, by name.
	Artifacts []Artifact `json:"artifacts"`
}

// RunInfo is what a manifest keeps of the run report.
type RunInfo struct {
	Status  string `json:"status"`
	Summary string `json:"summary,omitempty"`
	Base    string `json:"base,omitempty"` // base commit of the run
}

// Package is one Debian package of a build.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	// Artifact names the .deb among the manifest's artifacts.
	Artifact string `json:"artifact"`
	// Content is the digest of what the package holds apart from its
	// version (its data member and its other control fields): equal
	// content means an unchanged service, which keeps its version.
	Content Digest `json:"content"`
	// Since is the build that first published this version, when it is not
	// this build (the service did not change).
	Since string `json:"since,omitempty"`
}

// Artifact is one stored file of a build.
type Artifact struct {
	// Name is a relative slash-separated path, e.g. "debs/x_1_amd64.deb",
	// "docs/index.html", "test/junit.xml".
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Digest Digest `json:"digest"`
	Size   int64  `json:"size"`
}

// Artifact returns the artifact called name.
func (m *Manifest) Artifact(name string) (Artifact, bool) {
	for _, a := range m.Artifacts {
		if a.Name == name {
			return a, true
		}
	}
	return Artifact{}, false
}

// Package returns the package called name.
func (m *Manifest) Package(name string) (Package, bool) {
	for _, p := range m.Packages {
		if p.Name == name {
			return p, true
		}
	}
	return Package{}, false
}

// Size is the sum of the artifacts' sizes.
func (m *Manifest) Size() int64 {
	var n int64
	for _, a := range m.Artifacts {
		n += a.Size
	}
	return n
}

// Normalize sorts the packages and artifacts by name and sets the schema.
func (m *Manifest) Normalize() {
	m.Schema = Schema
	m.Time = m.Time.UTC()
	sort.Slice(m.Packages, func(i, j int) bool { return m.Packages[i].Name < m.Packages[j].Name })
	sort.Slice(m.Artifacts, func(i, j int) bool { return m.Artifacts[i].Name < m.Artifacts[j].Name })
	if m.Packages == nil {
		m.Packages = []Package{}
	}
	if m.Artifacts == nil {
		m.Artifacts = []Artifact{}
	}
}

// Validate checks the manifest: schema, build id, artifact names (relative,
// clean, unique), digests, and that each package names a deb artifact.
func (m *Manifest) Validate() error {
	if m.Schema != Schema {
		return fmt.Errorf("manifest: schema %q, want %q: %w", m.Schema, Schema, ErrInvalid)
	}
	if err := ValidateBuildID(m.Build); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if m.Commit == "" {
		return fmt.Errorf("manifest %s: no commit: %w", m.Build, ErrInvalid)
	}
	seen := map[string]Artifact{}
	for _, a := range m.Artifacts {
		if err := ValidateArtifactName(a.Name); err != nil {
			return fmt.Errorf("manifest %s: %w", m.Build, err)
		}
		if _, dup := seen[a.Name]; dup {
			return fmt.Errorf("manifest %s: artifact %q listed twice: %w", m.Build, a.Name, ErrInvalid)
		}
		if err := a.Digest.Validate(); err != nil {
			return fmt.Errorf("manifest %s: artifact %q: %w", m.Build, a.Name, err)
		}
		if a.Size < 0 || a.Kind == "" {
			return fmt.Errorf("manifest %s: artifact %q: bad size or kind: %w", m.Build, a.Name, ErrInvalid)
		}
		seen[a.Name] = a
	}
	names := map[string]bool{}
	for _, p := range m.Packages {
		if p.Name == "" || p.Version == "" || names[p.Name] {
			return fmt.Errorf("manifest %s: package %q: empty or duplicate name or version: %w", m.Build, p.Name, ErrInvalid)
		}
		names[p.Name] = true
		if a, ok := seen[p.Artifact]; !ok || a.Kind != KindDeb {
			return fmt.Errorf("manifest %s: package %s: artifact %q is not a deb of the manifest: %w", m.Build, p.Name, p.Artifact, ErrInvalid)
		}
	}
	return nil
}

// ValidateArtifactName checks that name is a clean relative slash path with
// no "." or ".." element and no element starting with '.'.
func ValidateArtifactName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || strings.Contains(name, "\\") {
		return fmt.Errorf("artifact name %q: %w (want a clean relative path)", name, ErrInvalid)
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || strings.HasPrefix(el, ".") {
			return fmt.Errorf("artifact name %q: %w (no element may start with '.')", name, ErrInvalid)
		}
	}
	return nil
}

// Marshal renders the manifest as indented JSON with a trailing newline,
// after normalizing it.
func (m *Manifest) Marshal() ([]byte, error) {
	m.Normalize()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest %s: %w", m.Build, err)
	}
	return buf.Bytes(), nil
}

// ParseManifest decodes and validates a manifest; name is used in errors.
func ParseManifest(name string, b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w: %v", name, ErrInvalid, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}
