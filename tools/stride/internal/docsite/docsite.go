// Package docsite renders the repository's docs/ Markdown into a static
// HTML site with goldmark (CommonMark plus GitHub's tables, strikethrough,
// autolinks and task lists), plus an index page listing the docs and the
// build's services with their package versions.
//
// Links between pages keep working: a relative link to a .md file is
// rewritten to the .html page. Raw HTML in the Markdown is not passed
// through (goldmark's safe default). The output depends only on the input,
// so publishing the same docs twice stores the same blobs.
package docsite

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Service is one row of the index's service table.
type Service struct {
	Name    string
	Version string
	// Since is the build that first published this version ("" when it is
	// this build).
	Since string
}

// Site describes the build the docs belong to.
type Site struct {
	Title    string // default "stride docs"
	Build    string
	Commit   string
	Branch   string
	Services []Service
}

// IndexFile is the name of the generated index page.
const IndexFile = "index.html"

// Render renders every .md file under src (an fs.FS rooted at docs/) to
// NAME.html, copies other files (images) as they are, and adds index.html:
// the build, its services and a list of the pages, after the content of
// docs/index.md when there is one.
// It returns the files by slash-separated name.
func Render(src fs.FS, site Site) (map[string][]byte, error) {
	if site.Title == "" {
		site.Title = "stride docs"
	}
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(linkRewriter{}, 100)),
		),
	)
	out := map[string][]byte{}
	var pages []page
	var intro template.HTML
	var introTitle string
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(p, ".md") {
			out[p] = b
			return nil
		}
		var body bytes.Buffer
		doc := md.Parser().Parse(text.NewReader(b))
		if err := md.Renderer().Render(&body, b, doc); err != nil {
			return fmt.Errorf("render %s: %w", p, err)
		}
		name := strings.TrimSuffix(p, ".md") + ".html"
		pg := page{Name: name, Source: p, Title: title(doc, b, p)}
		if name == IndexFile {
			// docs/index.md opens the index page.
			intro, introTitle = template.HTML(body.String()), pg.Title
			return nil
		}
		var buf bytes.Buffer
		if err := pageTemplate.Execute(&buf, struct {
			Site  Site
			Page  page
			Root  string
			Body  template.HTML
			Index string
		}{site, pg, rootOf(name), template.HTML(body.String()), IndexFile}); err != nil {
			return fmt.Errorf("render %s: %w", p, err)
		}
		out[name] = buf.Bytes()
		pages = append(pages, pg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("render docs: %w", err)
	}
	if _, clash := out[IndexFile]; clash {
		return nil, fmt.Errorf("render docs: docs/%s would overwrite the generated index page (write docs/index.md instead)", IndexFile)
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].Name < pages[j].Name })
	services := append([]Service{}, site.Services...)
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, struct {
		Site       Site
		Pages      []page
		Services   []Service
		Intro      template.HTML
		IntroTitle string
	}{site, pages, services, intro, introTitle}); err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	out[IndexFile] = buf.Bytes()
	return out, nil
}

type page struct {
	Name, Source, Title string
}

// title is the text of the first level-1 heading, else the file name.
func title(doc ast.Node, src []byte, name string) string {
	var t string
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering && h.Level == 1 {
			t = plainText(h, src)
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if t == "" {
		return path.Base(name)
	}
	return t
}

func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			b.Write(t.Segment.Value(src))
		}
		if s, ok := c.(*ast.String); ok && entering {
			b.Write(s.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

func rootOf(name string) string {
	n := strings.Count(name, "/")
	if n == 0 {
		return ""
	}
	return strings.Repeat("../", n)
}

// linkRewriter turns relative links to .md files into links to .html pages.
type linkRewriter struct{}

func (linkRewriter) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			l.Destination = []byte(rewriteLink(string(l.Destination)))
		}
		return ast.WalkContinue, nil
	})
}

func rewriteLink(dest string) string {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || !strings.HasSuffix(u.Path, ".md") {
		return dest
	}
	u.Path = strings.TrimSuffix(u.Path, ".md") + ".html"
	return u.String()
}

const style = `body{font-family:system-ui,sans-serif;max-width:56em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
pre,code{font-family:ui-monospace,monospace;background:#f4f4f4}pre{padding:.8em;overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}nav{font-size:.9em;margin-bottom:1em}
.meta{color:#666;font-size:.9em}`

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Page.Title}} · {{.Site.Title}}</title>
<style>` + style + `</style></head>
<body>
<nav><a href="{{.Root}}{{.Index}}">{{.Site.Title}}</a>{{if .Site.Build}} <span class="meta">build {{.Site.Build}}</span>{{end}}</nav>
<main>
{{.Body}}</main>
<footer class="meta">Rendered from docs/{{.Page.Source}}{{if .Site.Commit}} at commit {{.Site.Commit}}{{end}}.</footer>
</body>
</html>
`))

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .IntroTitle}}{{.IntroTitle}} · {{end}}{{.Site.Title}}</title>
<style>` + style + `</style></head>
<body>
{{- if .Intro}}
{{.Intro}}
{{- else}}
<h1>{{.Site.Title}}</h1>
{{- end}}
{{- if .Site.Build}}
<p class="meta">Build {{.Site.Build}}{{if .Site.Branch}} on {{.Site.Branch}}{{end}}{{if .Site.Commit}}, commit {{.Site.Commit}}{{end}}.</p>
{{- end}}
<h2>Services</h2>
{{- if .Services}}
<table>
<tr><th>Service</th><th>Package version</th><th>Unchanged since build</th></tr>
{{- range .Services}}
<tr><td>{{.Name}}</td><td><code>{{.Version}}</code></td><td>{{.Since}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>No service packages in this build.</p>
{{- end}}
<h2>Documents</h2>
<ul>
{{- range .Pages}}
<li><a href="{{.Name}}">{{.Title}}</a> <span class="meta">({{.Source}})</span></li>
{{- end}}
</ul>
</body>
</html>
`))
