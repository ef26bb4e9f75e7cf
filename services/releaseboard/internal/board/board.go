// Package board is the releaseboard's web interface: the "can I release?"
// page (GET /) and its JSON twin (GET /api/info).
//
// For now the board shows what the service knows about itself: its build
// (version, commit, Go version), when it started, and its health. Release
// data sources (run reports, the promotion ledger) will add sections to the
// same Info value, so the page and the JSON always say the same thing.
//
// The page is rendered with html/template into a buffer before anything is
// written, so a template error is a clean 500, never half a page. It uses no
// JavaScript and sends a Content-Security-Policy that forbids it.
package board

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/strideci/monorepo/libs/buildinfo"
	"github.com/strideci/monorepo/libs/log"
)

// Schema identifies the JSON document served on /api/info.
const Schema = "releaseboard.info/v1"

// Options configure New.
type Options struct {
	// Title heads the page.
	Title string
	// Build is the build information shown; usually buildinfo.Get().
	Build buildinfo.Info
	// Health reports the service's health: nil when healthy. Nil means
	// always healthy.
	Health func() error
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Info is the document of /api/info, and what the page renders.
type Info struct {
	Schema        string    `json:"schema"`
	Service       string    `json:"service"`
	Title         string    `json:"title"`
	Version       string    `json:"version"`
	Commit        string    `json:"commit"`
	GoVersion     string    `json:"go_version"`
	StartTime     time.Time `json:"start_time"`
	UptimeSeconds int64     `json:"uptime_seconds"`
	Health        Health    `json:"health"`
}

// Health is the service's health in Info.
type Health struct {
	OK     bool   `json:"ok"`
	Status string `json:"status"`          // "ok" or "failing"
	Error  string `json:"error,omitempty"` // why, when failing
}

// Board serves the page and the JSON. It is safe for concurrent use.
type Board struct {
	opts Options
}

// New returns a Board.
func New(opts Options) *Board {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "Can I release?"
	}
	return &Board{opts: opts}
}

// Info returns the current Info.
func (b *Board) Info() Info {
	h := Health{OK: true, Status: "ok"}
	if b.opts.Health != nil {
		if err := b.opts.Health(); err != nil {
			h = Health{OK: false, Status: "failing", Error: err.Error()}
		}
	}
	bi := b.opts.Build
	return Info{
		Schema:        Schema,
		Service:       "releaseboard",
		Title:         b.opts.Title,
		Version:       bi.Version,
		Commit:        bi.Commit,
		GoVersion:     bi.GoVersion,
		StartTime:     bi.StartTime.UTC(),
		UptimeSeconds: int64(b.opts.Now().Sub(bi.StartTime) / time.Second),
		Health:        h,
	}
}

func allowGetHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

var bufPool = sync.Pool{New: func() interface{} { return new(bytes.Buffer) }}

// ServeInfo serves Info as JSON (GET /api/info).
func (b *Board) ServeInfo(w http.ResponseWriter, r *http.Request) {
	if !allowGetHead(w, r) {
		return
	}
	body, err := json.MarshalIndent(b.Info(), "", "  ")
	if err != nil { // cannot happen with these types
		log.FromContext(r.Context()).Error("encode info", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(append(body, '\n'))
}

// ServePage serves the HTML page (GET /); other paths are 404.
func (b *Board) ServePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if !allowGetHead(w, r) {
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := b.Render(buf); err != nil {
		log.FromContext(r.Context()).Error("render page", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

// Render writes the page for the current Info to buf.
func (b *Board) Render(buf *bytes.Buffer) error {
	info := b.Info()
	return page.Execute(buf, pageData{Info: info, Uptime: (time.Duration(info.UptimeSeconds) * time.Second).String()})
}

type pageData struct {
	Info
	Uptime string
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}
.status{padding:.8rem 1rem;border-radius:.4rem;font-weight:600}
.ok{background:#e6f4ea;color:#137333}
.failing{background:#fce8e6;color:#a50e0e}
.unknown{background:#f1f3f4;color:#3c4043}
table{border-collapse:collapse}
th,td{text-align:left;padding:.25rem 1rem .25rem 0}
th{font-weight:500;color:#5f6368}
code{font-size:.95em}
footer{margin-top:2rem;color:#5f6368;font-size:.9rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<section>
<h2>Release</h2>
<p class="status unknown" id="release">Unknown: no release criteria are configured yet.</p>
</section>
<section>
<h2>Health</h2>
{{- if .Health.OK}}
<p class="status ok" id="health">Healthy</p>
{{- else}}
<p class="status failing" id="health">Failing: {{.Health.Error}}</p>
{{- end}}
</section>
<section>
<h2>Build</h2>
<table>
<tr><th>Version</th><td id="version">{{.Version}}</td></tr>
<tr><th>Commit</th><td><code id="commit">{{.Commit}}</code></td></tr>
<tr><th>Go</th><td>{{.GoVersion}}</td></tr>
<tr><th>Started</th><td><time datetime="{{.StartTime.Format "2006-01-02T15:04:05Z07:00"}}">{{.StartTime.Format "2006-01-02 15:04:05 UTC"}}</time> (up {{.Uptime}})</td></tr>
</table>
</section>
<footer><a href="/api/info">/api/info</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · <a href="/metrics">/metrics</a></footer>
</body>
</html>
`))
