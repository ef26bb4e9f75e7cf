// Package storeserver serves stride's build store (docs/store.md), read-only:
//
//	/apt/...                      aptly's published tree (ROOT/aptly/public):
//	                              dists/, pool/ and the archive key
//	/builds/                      the builds, newest first (JSON), a page at a time:
//	                              ?limit=N (default 100, at most 1000) and
//	                              ?after=<id>; a Link: <...>; rel="next" header
//	                              names the next page
//	/builds/<id>/                 the build's manifest (JSON, schema stride.manifest/v1)
//	/builds/<id>/<artifact name>  an artifact, e.g. debs/x_0.4.0+gabc_amd64.deb
//	/docs/<id>/...                the build's rendered docs (/docs/<id>/ is its index)
//	/docs/latest/...              the docs of the newest build
//
// The list of builds is cached until the store changes: the builds
// directory's modification time is the cheap signal (publish and gc add
// and remove manifests there), and a listing is only cached when that time
// is more than two seconds old, so two changes within one timestamp tick
// are never mistaken for one.
//
// Redirects ("/builds/<id>" → "./<id>/") are relative and only for valid
// build ids, so they never leave the origin; over-long paths are 414 or
// 404 without an error log; blobs and manifests are served only when they
// are regular files (a FIFO is a 404, never a hung request).
//
// Artifacts are served from their blobs with the content type of their
// name, a strong ETag that is their sha256 (the digest in the manifest),
// "Cache-Control: immutable" (a build's artifacts never change), and
// conditional and range requests. A blob is hashed before it is first
// served and whenever its size or modification time changes; a blob whose
// bytes do not match its digest is never served (500, and counted in
// artifactd_store_corrupt_blobs_total). The APT tree is served by the
// plain file handler of package server.
//
// artifactd cannot import stride's store package (it is internal to
// tools/stride), so the manifest is decoded here into the few fields
// served; the golden manifest of tools/stride/internal/store is tested
// against this decoder.
package storeserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/libs/metrics"
	"github.com/strideci/monorepo/services/artifactd/internal/server"
)

// ManifestSchema is the manifest schema this package reads.
const ManifestSchema = "stride.manifest/v1"

// Manifest is the part of a build manifest artifactd serves.
type Manifest struct {
	Schema    string     `json:"schema"`
	Build     string     `json:"build"`
	Commit    string     `json:"commit"`
	Branch    string     `json:"branch,omitempty"`
	Number    int        `json:"number"`
	Time      time.Time  `json:"time"`
	Packages  []Package  `json:"packages"`
	Artifacts []Artifact `json:"artifacts"`
}

// Package is a Debian package of a build.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Artifact is a stored file of a build.
type Artifact struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// ParseManifest decodes a manifest and checks the fields served.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("schema %q, want %q", m.Schema, ManifestSchema)
	}
	for _, a := range m.Artifacts {
		if !validDigest(a.Digest) {
			return nil, fmt.Errorf("artifact %s: bad digest %q", a.Name, a.Digest)
		}
	}
	return &m, nil
}

func validDigest(d string) bool {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) != 64 || len(d) != 64+len("sha256:") {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Options configure New.
type Options struct {
	// Root is the store's directory (stride's --store).
	Root string
	// AptDir is aptly's published tree (default Root/aptly/public).
	AptDir string
	// Registry receives the metrics (optional).
	Registry *metrics.Registry
}

// Handler serves the store. Mount it at "/apt/", "/builds/" and "/docs/"
// (Routes gives the patterns).
type Handler struct {
	root   string
	aptDir string
	aptMu  sync.Mutex
	apt    *server.Handler // nil until the published tree exists

	mu        sync.Mutex
	manifests map[string]cachedManifest
	verified  map[blobKey]bool
	list      *cachedList
	group     singleflight.Group

	requests *prometheus.CounterVec
	corrupt  prometheus.Counter
	hashed   prometheus.Counter
}

type cachedManifest struct {
	m     *Manifest
	raw   []byte
	size  int64
	mtime time.Time
}

// cachedList is the sorted list of builds as of one modification time of
// the builds directory.
type cachedList struct {
	mtime  int64
	builds []BuildSummary
	index  map[string]int // build id → position
}

type blobKey struct {
	digest string
	size   int64
	mtime  int64
}

// Routes are the patterns to mount the handler at.
var Routes = []string{"/apt/", "/builds/", "/docs/"}

// New returns a Handler for the store at opts.Root.
func New(opts Options) (*Handler, error) {
	fi, err := os.Stat(opts.Root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", opts.Root)
	}
	aptDir := opts.AptDir
	if aptDir == "" {
		aptDir = filepath.Join(opts.Root, "aptly", "public")
	}
	h := &Handler{
		root: opts.Root, aptDir: aptDir,
		manifests: map[string]cachedManifest{},
		verified:  map[blobKey]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "artifactd_store_requests_total",
			Help: "Requests for the build store, by area (apt, builds, docs) and result (ok, not_found, corrupt, error).",
		}, []string{"area", "result"}),
		corrupt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "artifactd_store_corrupt_blobs_total",
			Help: "Requests refused because a blob's bytes did not match its digest.",
		}),
		hashed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "artifactd_store_blob_verifications_total",
			Help: "Blobs hashed to check them against their digest before serving.",
		}),
	}
	if opts.Registry != nil {
		opts.Registry.MustRegister(h.requests, h.corrupt, h.hashed)
	}
	return h, nil
}

// statusWriter records the status code for the request counter.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile for large downloads.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

func (w *statusWriter) result() string {
	switch {
	case w.code == 0 || w.code < 400:
		return "ok"
	case w.code == http.StatusNotFound:
		return "not_found"
	case w.code == http.StatusInternalServerError:
		return "error"
	}
	return "other"
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	upath := r.URL.Path
	area := strings.SplitN(strings.TrimPrefix(upath, "/"), "/", 2)[0]
	if !server.CheckPath(sw, r, upath) {
		h.requests.WithLabelValues(labelArea(area), sw.result()).Inc()
		return
	}
	var corrupt bool
	switch area {
	case "apt":
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(upath, "/apt")
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		if apt := h.aptHandler(); apt != nil {
			apt.ServeHTTP(sw, r2)
		} else {
			http.NotFound(sw, r)
		}
	case "builds", "docs":
		corrupt = h.serveStore(sw, r, area, strings.TrimPrefix(upath, "/"+area))
	default:
		http.NotFound(sw, r)
	}
	res := sw.result()
	if corrupt {
		res = "corrupt"
	}
	h.requests.WithLabelValues(labelArea(area), res).Inc()
}

// aptHandler serves the published tree once it exists (stride publish
// creates it, possibly after artifactd started).
func (h *Handler) aptHandler() *server.Handler {
	h.aptMu.Lock()
	defer h.aptMu.Unlock()
	if h.apt == nil {
		if a, err := server.New(server.Options{Root: h.aptDir, ListDirs: true}); err == nil {
			h.apt = a
		}
	}
	return h.apt
}

func labelArea(a string) string {
	switch a {
	case "apt", "builds", "docs":
		return a
	}
	return "other"
}

func (h *Handler) serveStore(w http.ResponseWriter, r *http.Request, area, rest string) (corrupt bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	rest = strings.TrimPrefix(rest, "/")
	if area == "builds" && rest == "" {
		h.serveList(w, r)
		return false
	}
	id, name := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		id, name = rest[:i], rest[i+1:]
	} else {
		// "/builds/<id>" → "./<id>/", only for what can be a build.
		if !validID(id) && !(area == "docs" && id == "latest") {
			http.NotFound(w, r)
			return false
		}
		server.RedirectToDir(w, r, id)
		return false
	}
	if area == "docs" && id == "latest" {
		latest, err := h.latest()
		if err != nil || latest == "" {
			http.NotFound(w, r)
			return false
		}
		id = latest
	}
	if !validID(id) {
		http.NotFound(w, r)
		return false
	}
	m, raw, err := h.manifest(id)
	if err != nil {
		h.fail(w, r, "manifest "+id, err)
		return false
	}
	if area == "docs" {
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		name = "docs/" + name
	} else if name == "" || name == "manifest.json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		sum := sha256.Sum256(raw)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(raw)))
		return false
	}
	var art *Artifact
	for i := range m.Artifacts {
		if m.Artifacts[i].Name == name {
			art = &m.Artifacts[i]
			break
		}
	}
	if art == nil {
		http.NotFound(w, r)
		return false
	}
	return h.serveBlob(w, r, art)
}

func validID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '.' || id[0] == '-' {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (h *Handler) blobPath(digest string) string {
	hx := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(h.root, "blobs", "sha256", hx[:2], hx)
}

func (h *Handler) serveBlob(w http.ResponseWriter, r *http.Request, a *Artifact) (corrupt bool) {
	f, fi, err := server.OpenRegular(h.blobPath(a.Digest))
	if err == nil && fi.IsDir() {
		f.Close()
		err = fmt.Errorf("blob %s: %w", a.Digest, server.ErrNotRegular)
	}
	if err != nil {
		h.fail(w, r, "blob "+a.Digest, err)
		return false
	}
	defer f.Close()
	if err := h.verify(a.Digest, f, fi); err != nil {
		h.corrupt.Inc()
		log.FromContext(r.Context()).Error("refusing to serve a corrupt blob", "artifact", a.Name, "digest", a.Digest, "err", err)
		http.Error(w, "stored artifact is damaged (run stride store verify)", http.StatusInternalServerError)
		return true
	}
	hdr := w.Header()
	hdr.Set("Content-Type", server.ContentType(a.Name))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("ETag", `"`+strings.TrimPrefix(a.Digest, "sha256:")+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
	return false
}

// verify hashes the blob unless this version of the file was checked.
func (h *Handler) verify(digest string, f *os.File, fi os.FileInfo) error {
	key := blobKey{digest, fi.Size(), fi.ModTime().UnixNano()}
	h.mu.Lock()
	ok := h.verified[key]
	h.mu.Unlock()
	if ok {
		return nil
	}
	_, err, _ := h.group.Do(fmt.Sprintf("%s/%d/%d", key.digest, key.size, key.mtime), func() (interface{}, error) {
		h.hashed.Inc()
		sum := sha256.New()
		if _, err := io.Copy(sum, io.NewSectionReader(f, 0, fi.Size())); err != nil {
			return nil, err
		}
		if got := "sha256:" + hex.EncodeToString(sum.Sum(nil)); got != digest {
			return nil, fmt.Errorf("bytes hash to %s", got)
		}
		h.mu.Lock()
		if len(h.verified) > 100000 {
			h.verified = map[blobKey]bool{}
		}
		h.verified[key] = true
		h.mu.Unlock()
		return nil, nil
	})
	return err
}

// manifest reads a build's manifest, cached until the file changes.
func (h *Handler) manifest(id string) (*Manifest, []byte, error) {
	p := filepath.Join(h.root, "builds", id+".json")
	fi, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w", p, server.ErrNotRegular)
	}
	h.mu.Lock()
	c, ok := h.manifests[id]
	h.mu.Unlock()
	if ok && c.size == fi.Size() && c.mtime.Equal(fi.ModTime()) {
		return c.m, c.raw, nil
	}
	f, fi, err := server.OpenRegular(p)
	if err == nil && fi.IsDir() {
		f.Close()
		err = fmt.Errorf("%s: %w", p, server.ErrNotRegular)
	}
	if err != nil {
		return nil, nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > maxManifest {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", p, maxManifest)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p, err)
	}
	h.mu.Lock()
	if len(h.manifests) > 10000 {
		h.manifests = map[string]cachedManifest{}
	}
	h.manifests[id] = cachedManifest{m, raw, fi.Size(), fi.ModTime()}
	h.mu.Unlock()
	return m, raw, nil
}

// maxManifest bounds what is read of a manifest (a real one is a few KB
// per hundred artifacts).
const maxManifest = 64 << 20

// BuildSummary is one entry of /builds/.
type BuildSummary struct {
	Build    string    `json:"build"`
	Commit   string    `json:"commit"`
	Branch   string    `json:"branch,omitempty"`
	Number   int       `json:"number"`
	Time     time.Time `json:"time"`
	Packages []Package `json:"packages"`
}

// builds returns the builds, newest first, from the cache when the builds
// directory has not changed since it was listed.
func (h *Handler) builds() (*cachedList, error) {
	dir := filepath.Join(h.root, "builds")
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &cachedList{builds: []BuildSummary{}, index: map[string]int{}}, nil
	}
	if err != nil {
		return nil, err
	}
	mtime := fi.ModTime().UnixNano()
	h.mu.Lock()
	c := h.list
	h.mu.Unlock()
	if c != nil && c.mtime == mtime {
		return c, nil
	}
	v, err, _ := h.group.Do(fmt.Sprintf("builds/%d", mtime), func() (interface{}, error) {
		c, err := h.readBuilds(dir, mtime)
		if err != nil {
			return nil, err
		}
		// A change within the same timestamp tick as the listing would not
		// change the time: only a listing older than that is cached.
		if time.Since(fi.ModTime()) > 2*time.Second {
			h.mu.Lock()
			h.list = c
			h.mu.Unlock()
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cachedList), nil
}

func (h *Handler) readBuilds(dir string, mtime int64) (*cachedList, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := []BuildSummary{}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") {
			continue
		}
		m, _, err := h.manifest(strings.TrimSuffix(n, ".json"))
		if err != nil {
			continue // removed meanwhile, or unreadable: stride store verify says which
		}
		out = append(out, BuildSummary{m.Build, m.Commit, m.Branch, m.Number, m.Time, m.Packages})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number > out[j].Number
		}
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.After(out[j].Time)
		}
		return out[i].Build < out[j].Build
	})
	c := &cachedList{mtime: mtime, builds: out, index: make(map[string]int, len(out))}
	for i, b := range out {
		c.index[b.Build] = i
	}
	return c, nil
}

func (h *Handler) latest() (string, error) {
	c, err := h.builds()
	if err != nil || len(c.builds) == 0 {
		return "", err
	}
	return c.builds[0].Build, nil
}

// Page sizes of /builds/.
const (
	DefaultPage = 100
	MaxPage     = 1000
)

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			http.Error(w, fmt.Sprintf("limit: want 1 to %d", MaxPage), http.StatusBadRequest)
			return
		}
		limit = n
	}
	c, err := h.builds()
	if err != nil {
		h.fail(w, r, "builds", err)
		return
	}
	start := 0
	if after := q.Get("after"); after != "" {
		i, ok := c.index[after]
		if !ok {
			http.Error(w, "after: no such build", http.StatusNotFound)
			return
		}
		start = i + 1
	}
	end := start + limit
	if end > len(c.builds) {
		end = len(c.builds)
	}
	page := c.builds[start:end]
	b, err := json.MarshalIndent(page, "", "  ")
	if err != nil {
		h.fail(w, r, "builds", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Total-Count", strconv.Itoa(len(c.builds)))
	if end < len(c.builds) {
		next := url.Values{"after": {page[len(page)-1].Build}, "limit": {strconv.Itoa(limit)}}
		w.Header().Set("Link", "<./?"+next.Encode()+">; rel=\"next\"")
	}
	w.Write(append(b, '\n'))
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if server.IsNotFound(err) {
		http.NotFound(w, r)
		return
	}
	log.FromContext(r.Context()).Error("serve store", "object", what, "err", err)
	http.Error(w, "internal server error", http.StatusInternalServerError)
}
