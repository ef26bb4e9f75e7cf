package board

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// CSP is the pages' Content-Security-Policy: only the board's own script,
// style and live-update stream; no inline script or style, no frames.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the board:
//
//	GET /                  the overview          /api/overview
//	GET /builds/ID         a build               /api/builds/ID
//	GET /envs/NAME         an environment        /api/envs/NAME
//	GET /change?base=&head= a change's status    /api/change?base=&head=
//	GET /events            live updates (server-sent events)
//	GET /static/board.js, /static/board.css, /favicon.ico
//
// Every JSON twin is the Go value its page renders.
func (b *Board) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", b.get(b.serveOverview))
	mux.HandleFunc("/builds/", b.get(b.serveBuild))
	mux.HandleFunc("/envs/", b.get(b.serveEnv))
	mux.HandleFunc("/change", b.get(b.serveChange))
	mux.HandleFunc("/api/overview", b.get(b.serveOverview))
	mux.HandleFunc("/api/builds/", b.get(b.serveBuild))
	mux.HandleFunc("/api/envs/", b.get(b.serveEnv))
	mux.HandleFunc("/api/change", b.get(b.serveChange))
	mux.HandleFunc("/events", b.get(b.serveEvents))
	mux.HandleFunc("/static/board.js", b.get(static("text/javascript; charset=utf-8", boardJS)))
	mux.HandleFunc("/static/board.css", b.get(static("text/css; charset=utf-8", boardCSS)))
	mux.HandleFunc("/favicon.ico", b.get(static("image/svg+xml", favicon)))
	return mux
}

func (b *Board) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the board only reads", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

func static(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write([]byte(body))
	}
}

var bufPool = sync.Pool{New: func() interface{} { return new(bytes.Buffer) }}

// respond writes v as the page tmpl, or as JSON under /api/.
func (b *Board) respond(w http.ResponseWriter, r *http.Request, tmpl string, v interface{}) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		enc := json.NewEncoder(buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/json")
	} else {
		if err := pages.ExecuteTemplate(buf, tmpl, v); err != nil {
			http.Error(w, "internal server error: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP)
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

func (b *Board) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Security-Policy", CSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	pages.ExecuteTemplate(w, "error", map[string]string{"Title": b.opts.Title, "Error": msg})
}

// Overview is the current overview.
func (b *Board) Overview() *Overview { return b.current().overview }

func (b *Board) serveOverview(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/api/overview" {
		b.fail(w, r, http.StatusNotFound, "no such page")
		return
	}
	b.respond(w, r, "overview", b.Overview())
}

func tail(path, prefix string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, "/api"), prefix)
}

func (b *Board) serveBuild(w http.ResponseWriter, r *http.Request) {
	id := tail(r.URL.Path, "/builds/")
	p, err := b.buildPage(r.Context(), id)
	if errors.Is(err, errNotFound) {
		b.fail(w, r, http.StatusNotFound, "no published build "+id)
		return
	}
	if err != nil {
		b.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	b.respond(w, r, "build", p)
}

func (b *Board) serveEnv(w http.ResponseWriter, r *http.Request) {
	name := tail(r.URL.Path, "/envs/")
	p, err := b.envPage(name)
	if err != nil {
		b.fail(w, r, http.StatusNotFound, "no environment "+name)
		return
	}
	b.respond(w, r, "env", p)
}

func (b *Board) serveChange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	head := q.Get("head")
	if head == "" {
		b.respond(w, r, "change", &ChangePage{Schema: ChangeSchema, Title: b.opts.Title})
		return
	}
	p, err := b.changePage(q.Get("base"), head)
	if errors.Is(err, errBadChange) {
		b.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		b.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	b.respond(w, r, "change", p)
}

// md renders Markdown with GitHub's tables; raw HTML is dropped
// (goldmark's safe default), and status escapes what it writes anyway.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

func renderMarkdown(s string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := md.Convert([]byte(s), &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil // goldmark escapes text and drops raw HTML
}
