// Package server is artifactd's HTTP handler: it serves the files under a
// root directory, read-only.
//
// What a client gets:
//   - GET and HEAD only; other methods get 405 with "Allow: GET, HEAD".
//   - A Content-Type from the file's extension (see ContentType), else
//     application/octet-stream; never sniffed, and "X-Content-Type-Options:
//     nosniff" is set.
//   - A strong ETag, the quoted lower-case hex SHA-256 of the content, so a
//     client can also check a download against it. Digests are cached,
//     keyed by path, size and modification time, so a file is hashed once
//     until it changes.
//   - If-None-Match → 304, If-Match / If-Range, and Range requests (single
//     and multiple ranges), all by http.ServeContent. "Cache-Control:
//     no-cache" makes caches revalidate, which the ETag makes cheap.
//   - Directories: an HTML listing when Options.ListDirs is set (a path
//     without the trailing slash is redirected to it, with a relative
//     Location, so a redirect never leaves the origin), else 404.
//   - 404 for anything outside the root: ".." segments are refused (400),
//     and a symbolic link is followed only when its target is inside the
//     root. Names starting with "." (".git", ".tmp-upload") are never
//     served or listed.
//   - Regular files only: the type is checked before the file is opened
//     (and the open never blocks), so a FIFO, socket or device in the tree
//     is a 404, not a hung request.
//   - A path longer than MaxPath bytes is 414, a segment longer than
//     MaxSegment bytes (no file can have that name) is 404, without an
//     error log.
package server

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/strideci/monorepo/libs/log"
	"github.com/strideci/monorepo/libs/metrics"
)

// Options configure New.
type Options struct {
	// Root is the directory to serve.
	Root string
	// ListDirs serves HTML listings of directories; otherwise they are 404.
	ListDirs bool
	// CacheEntries bounds the digest cache (least recently used entries are
	// dropped); zero means 100000.
	CacheEntries int
	// Registry, if set, receives the digest cache metrics.
	Registry *metrics.Registry
}

// Handler serves the files under a root directory. It is safe for
// concurrent use.
type Handler struct {
	root     string // absolute, symbolic links resolved
	listDirs bool
	digests  *digestCache
}

// New returns a Handler for opts.Root, which must be an existing directory.
func New(opts Options) (*Handler, error) {
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", opts.Root)
	}
	n := opts.CacheEntries
	if n <= 0 {
		n = 100000
	}
	h := &Handler{root: root, listDirs: opts.ListDirs, digests: newDigestCache(n)}
	if opts.Registry != nil {
		h.digests.register(opts.Registry)
	}
	return h, nil
}

// Root returns the served directory (absolute, symbolic links resolved).
func (h *Handler) Root() string { return h.root }

// contentTypes maps file extensions (lower case) to media types.
var contentTypes = map[string]string{
	".deb":    "application/vnd.debian.binary-package",
	".udeb":   "application/vnd.debian.binary-package",
	".ddeb":   "application/vnd.debian.binary-package",
	".dsc":    "text/plain; charset=utf-8",
	".json":   "application/json",
	".md":     "text/markdown; charset=utf-8",
	".html":   "text/html; charset=utf-8",
	".htm":    "text/html; charset=utf-8",
	".xml":    "application/xml",
	".txt":    "text/plain; charset=utf-8",
	".log":    "text/plain; charset=utf-8",
	".sha256": "text/plain; charset=utf-8",
	".gpg":    "application/pgp-keys",
	".asc":    "application/pgp-signature",
	".sig":    "application/pgp-signature",
	".css":    "text/css; charset=utf-8",
	".js":     "text/javascript; charset=utf-8",
	".svg":    "image/svg+xml",
	".png":    "image/png",
	".gz":     "application/gzip",
	".tgz":    "application/gzip",
	".xz":     "application/x-xz",
	".bz2":    "application/x-bzip2",
	".zst":    "application/zstd",
	".tar":    "application/x-tar",
	".zip":    "application/zip",
}

// contentTypesByName covers files of an APT repository that have no
// extension, or whose extension says the wrong thing.
var contentTypesByName = map[string]string{
	"Release":     "text/plain; charset=utf-8",
	"InRelease":   "text/plain; charset=utf-8",
	"Packages":    "text/plain; charset=utf-8",
	"Sources":     "text/plain; charset=utf-8",
	"Release.gpg": "application/pgp-signature", // a detached signature, not a key
}

// ContentType returns the media type artifactd sends for a file name:
// by exact name for APT index files (Release, InRelease, Packages, Sources,
// Release.gpg), else by extension (.deb → application/vnd.debian.binary-package,
// .json, .md, .html, .xml, .gpg → application/pgp-keys, .asc/.sig →
// application/pgp-signature, compressed and text formats), else
// application/octet-stream.
func ContentType(name string) string {
	base := path.Base(name)
	if ct, ok := contentTypesByName[base]; ok {
		return ct
	}
	if ct, ok := contentTypes[strings.ToLower(path.Ext(base))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// errOutside marks a path that resolves outside the root.
var errOutside = errors.New("outside the root")

// Path limits: PATH_MAX and NAME_MAX of Linux. Longer paths cannot name a
// file; they are answered before touching the disk.
const (
	MaxPath    = 4096
	MaxSegment = 255
)

// ErrNotRegular: the name is not a regular file (a FIFO, socket, device).
var ErrNotRegular = errors.New("not a regular file")

// CheckPath answers the requests whose path cannot name a file: 414 for a
// path longer than MaxPath, 404 for a segment longer than MaxSegment. It
// returns false when it answered.
func CheckPath(w http.ResponseWriter, r *http.Request, upath string) bool {
	if len(upath) > MaxPath {
		http.Error(w, "request URI too long", http.StatusRequestURITooLong)
		return false
	}
	for _, seg := range strings.Split(upath, "/") { // at most MaxPath bytes
		if len(seg) > MaxSegment {
			http.NotFound(w, r)
			return false
		}
	}
	return true
}

// OpenRegular opens name for reading if it is a directory or a regular
// file: the type is checked before opening, and the open does not block
// (a FIFO put in place meanwhile is refused by the type check after it).
// Anything else is ErrNotRegular.
func OpenRegular(name string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(name), ErrNotRegular)
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(name), ErrNotRegular)
	}
	return f, fi, nil
}

// IsNotFound reports the errors that mean "no such file to serve": absent,
// outside the root, not a directory, a name too long, not a regular file.
func IsNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errOutside) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, ErrNotRegular)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	upath := r.URL.Path
	if !strings.HasPrefix(upath, "/") {
		upath = "/" + upath
	}
	if !CheckPath(w, r, upath) {
		return
	}
	if strings.IndexByte(upath, 0) >= 0 || strings.Contains(upath, "\\") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	for _, seg := range strings.Split(upath, "/") {
		if seg == ".." {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		if strings.HasPrefix(seg, ".") { // hidden files, and "." itself
			http.NotFound(w, r)
			return
		}
	}

	name, err := h.resolve(upath)
	if err != nil {
		h.fail(w, r, upath, err)
		return
	}
	f, fi, err := OpenRegular(name)
	if err != nil {
		h.fail(w, r, upath, err)
		return
	}
	defer f.Close()
	if fi.IsDir() {
		h.serveDir(w, r, upath, f)
		return
	}
	if !fi.Mode().IsRegular() || strings.HasSuffix(upath, "/") {
		http.NotFound(w, r)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", ContentType(upath))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-cache")
	sum, err := h.digests.get(upath, f, fi)
	if err != nil {
		h.fail(w, r, upath, err)
		return
	}
	if sum != "" {
		hdr.Set("ETag", `"`+sum+`"`)
	}
	// ServeContent answers conditional and range requests, and HEAD.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// resolve maps a URL path to a file name under the root, following symbolic
// links only when the result stays inside the root.
func (h *Handler) resolve(upath string) (string, error) {
	joined := filepath.Join(h.root, filepath.FromSlash(path.Clean(upath)))
	real, err := filepath.EvalSymlinks(joined)
	if err != nil {
		return "", err
	}
	if real != h.root && !strings.HasPrefix(real, h.root+string(filepath.Separator)) {
		return "", errOutside
	}
	return real, nil
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, upath string, err error) {
	switch {
	case IsNotFound(err):
		http.NotFound(w, r)
	case errors.Is(err, fs.ErrPermission):
		log.FromContext(r.Context()).Warn("permission denied", "path", upath, "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
	default:
		log.FromContext(r.Context()).Error("serve file", "path", upath, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
	}
}

// RedirectToDir answers 301 to the directory name/ next to the request's
// path, with a relative Location ("./name/"): it stays on the origin
// whatever name holds (a name like "https:evil.example" is a path segment
// after "./", never a scheme) and whatever prefix the handler is mounted
// under. name must be a single path segment.
func RedirectToDir(w http.ResponseWriter, r *http.Request, name string) {
	target := "./" + url.PathEscape(name) + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusMovedPermanently)
	if r.Method == http.MethodGet {
		fmt.Fprintf(w, "<a href=\"%s\">Moved Permanently</a>.\n", template.HTMLEscapeString(target))
	}
}

type dirEntry struct {
	Name    string
	IsDir   bool
	Size    int64
	ModTime time.Time
}

var dirTemplate = template.Must(template.New("dir").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Index of {{.Path}}</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:0 1em 0 0}td.n{text-align:right}</style></head>
<body>
<h1>Index of {{.Path}}</h1>
<table>
<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>
{{- if ne .Path "/"}}
<tr><td><a href="../">../</a></td><td></td><td></td></tr>
{{- end}}
{{- range .Entries}}
<tr><td><a href="{{.Name}}{{if .IsDir}}/{{end}}">{{.Name}}{{if .IsDir}}/{{end}}</a></td><td class="n">{{if not .IsDir}}{{.Size}}{{end}}</td><td>{{.ModTime.UTC.Format "2006-01-02 15:04:05"}}</td></tr>
{{- end}}
</table>
</body>
</html>
`))

func (h *Handler) serveDir(w http.ResponseWriter, r *http.Request, upath string, f *os.File) {
	if !h.listDirs {
		http.NotFound(w, r)
		return
	}
	if !strings.HasSuffix(upath, "/") {
		RedirectToDir(w, r, path.Base(upath))
		return
	}
	infos, err := f.Readdir(-1)
	if err != nil {
		h.fail(w, r, upath, err)
		return
	}
	entries := make([]dirEntry, 0, len(infos))
	for _, fi := range infos {
		name := fi.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		e := dirEntry{Name: name, IsDir: fi.IsDir(), Size: fi.Size(), ModTime: fi.ModTime()}
		if fi.Mode()&fs.ModeSymlink != 0 { // list what a link points to, if it is inside
			real, err := h.resolve(path.Join(upath, name))
			if err != nil {
				continue
			}
			st, err := os.Stat(real)
			if err != nil {
				continue
			}
			e.IsDir, e.Size, e.ModTime = st.IsDir(), st.Size(), st.ModTime()
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].IsDir != entries[j].IsDir {
			return entries[i].IsDir
		}
		return entries[i].Name < entries[j].Name
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	if err := dirTemplate.Execute(w, struct {
		Path    string
		Entries []dirEntry
	}{upath, entries}); err != nil {
		log.FromContext(r.Context()).Warn("render listing", "path", upath, "err", err)
	}
}

// digestKey identifies one version of a file.
type digestKey struct {
	path  string
	size  int64
	mtime int64 // UnixNano
}

type digestEntry struct {
	key digestKey
	sum string
}

// digestCache maps file versions to their SHA-256, least recently used
// entries dropped beyond max; concurrent misses for one version hash once.
type digestCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // of *digestEntry, most recent first
	items map[digestKey]*list.Element
	group singleflight.Group

	hits, misses prometheus.Counter
}

func newDigestCache(max int) *digestCache {
	return &digestCache{
		max:    max,
		ll:     list.New(),
		items:  map[digestKey]*list.Element{},
		hits:   prometheus.NewCounter(prometheus.CounterOpts{Name: "artifactd_digest_cache_hits_total", Help: "ETag digests found in the cache."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "artifactd_digest_cache_misses_total", Help: "ETag digests computed by hashing the file."}),
	}
}

func (c *digestCache) register(reg *metrics.Registry) {
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "artifactd_digest_cache_entries",
		Help: "File versions whose digest is cached.",
	}, func() float64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return float64(c.ll.Len())
	})
	reg.MustRegister(c.hits, c.misses, entries)
}

// get returns the hex SHA-256 of f (whose Stat is fi), from the cache when
// the same path, size and mtime were hashed before. It returns "" without
// error when the file changed while it was hashed: no ETag is better than a
// wrong one.
func (c *digestCache) get(upath string, f *os.File, fi os.FileInfo) (string, error) {
	key := digestKey{upath, fi.Size(), fi.ModTime().UnixNano()}
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		sum := el.Value.(*digestEntry).sum
		c.mu.Unlock()
		c.hits.Inc()
		return sum, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do(fmt.Sprintf("%s\x00%d\x00%d", key.path, key.size, key.mtime), func() (interface{}, error) {
		c.misses.Inc()
		hash := sha256.New()
		if _, err := io.Copy(hash, io.NewSectionReader(f, 0, fi.Size())); err != nil {
			return "", fmt.Errorf("hash %s: %w", upath, err)
		}
		after, err := f.Stat()
		if err != nil {
			return "", err
		}
		if after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
			return "", nil // changed under us
		}
		sum := hex.EncodeToString(hash.Sum(nil))
		c.add(key, sum)
		return sum, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (c *digestCache) add(key digestKey, sum string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&digestEntry{key, sum})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*digestEntry).key)
	}
}

// len returns the number of cached digests (for tests).
func (c *digestCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
