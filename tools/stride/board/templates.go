package board

import (
	"fmt"
	"html/template"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/status"
)

func stamp(t interface{}) string {
	switch v := t.(type) {
	case time.Time:
		if !v.IsZero() {
			return v.UTC().Format("2006-01-02 15:04Z")
		}
	case *time.Time:
		if v != nil && !v.IsZero() {
			return v.UTC().Format("2006-01-02 15:04Z")
		}
	}
	return ""
}

var funcs = template.FuncMap{
	"short":     status.Short,
	"stamp":     stamp,
	"statemark": status.StateMark,
	"pct": func(p *float64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf("%+.1f%%", *p)
	},
	"num": func(v float64) string { return short(v) },
	"pval": func(p *float64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf("%.3f", *p)
	},
	"rate": func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
}

var pages = template.Must(template.New("pages").Funcs(funcs).Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/static/board.css">
<script src="/static/board.js" defer></script>
</head>
<body>
<header><a href="/" class="home">{{.}}</a> <nav><a href="/change">change status</a> · <a href="/api/overview">JSON</a></nav> <span id="live-status" class="live">connecting…</span></header>
<main>
{{end}}

{{define "foot"}}
</main>
<footer>Read-only: the ledger (refs/stride/ledger) and the build store. Pages update live.</footer>
</body>
</html>
{{end}}

{{define "events"}}
<ol id="live-events" class="events">
{{- range .}}
<li class="event" data-seq="{{.Seq}}">{{.Line}}</li>
{{- end}}
</ol>
{{end}}

{{define "criteria"}}
<table class="criteria">
<thead><tr><th></th><th>criterion</th><th>evidence</th></tr></thead>
<tbody>
{{- range .Criteria}}
<tr class="c-{{.Status}}"><td class="mark">{{.Mark}}</td><td><code>{{.Criterion}}</code></td><td>{{.Evidence}}</td></tr>
{{- end}}
</tbody>
</table>
{{end}}

{{define "owners"}}
{{- if .Error}}<p class="unknown">? cannot check OWNERS: {{.Error}}</p>
{{- else if .OK}}<p class="ok">✓ all {{.Files}} changed files are approved by their owners.</p>
{{- else}}
<p class="fail">✗ {{.Missing}} of {{.Files}} changed files lack their owners' approval.</p>
<table><thead><tr><th>OWNERS file</th><th>files</th><th>needs</th><th>can approve</th></tr></thead><tbody>
{{- range .Blocking}}
<tr><td><code>{{.OwnersFile}}</code></td><td>{{.Missing}}</td><td>{{.Needs}}</td><td>{{range $i, $c := .CanApprove}}{{if $i}}, {{end}}{{$c}}{{end}}</td></tr>
{{- end}}
</tbody></table>
{{- if .Suggested}}<p>Suggested reviewers: {{range $i, $r := .Suggested}}{{if $i}}, {{end}}{{$r.Email}}{{end}} (<code>{{.Command}}</code>)</p>{{end}}
{{- end}}
{{end}}

{{define "overview"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<section class="verdicts">
{{- range .Envs}}
<div class="env" id="env-{{.Env}}">
<h2><a href="/envs/{{.Env}}">{{.Env}}</a></h2>
<p class="verdict {{.Class}}" data-verdict-env="{{.Env}}">{{.Text}}</p>
<p class="serves">{{if .Serves}}serves <a href="/builds/{{.Serves}}"><code>{{short .Serves}}</code></a> for {{.Age}}{{else}}serves nothing yet{{end}}</p>
{{- if .Held}}<p class="held">⏸ held by {{.Held.Actor}}: {{.Held.Reason}}</p>{{end}}
{{- with .Running}}<p class="running">{{if .Up}}runs{{else}}supervisor down; last ran{{end}} {{if .Build}}<code>{{short .Build}}</code>{{else}}nothing yet{{end}}{{with .Deploy}} · deploy {{.Phase}} of <code>{{short .Build}}</code>{{end}}</p>{{end}}
</div>
{{- end}}
</section>
<section>
<h2>Services</h2>
<table class="matrix">
<thead><tr><th>service</th>{{range .Envs}}<th>{{.Env}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Services}}
<tr><th>{{.Service}}</th>
{{- range .Cells}}
<td>{{if .Build}}<a href="/builds/{{.Build}}"><code>{{short .Build}}</code></a><br>{{.Version}}<br><span class="age">{{.Age}}</span> · <span class="health h-{{.Health}}">{{.Health}}</span>{{with .Instances}}<br><span class="instances">{{.}}</span>{{end}}{{else}}—{{end}}</td>
{{- end}}
</tr>
{{- end}}
</tbody>
</table>
</section>
<section>
<h2>Ledger <small>(<span id="event-count">{{.Events}}</span> events)</small></h2>
{{template "events" .Recent}}
</section>
<section>
<h2>Newest builds</h2>
<ul class="builds">
{{- range .Builds}}
<li><a href="/builds/{{.Build}}"><code>{{short .Build}}</code></a> #{{.Number}} {{stamp .Time}} {{.Status}}</li>
{{- end}}
</ul>
</section>
{{template "foot"}}{{end}}

{{define "build"}}{{template "head" .Title}}
<h1>Build <code>{{short .Build}}</code> <small>#{{.Number}}</small></h1>
<p class="subject" id="subject">{{.Subject}}</p>
<p>commit <code>{{.Commit}}</code> by {{.Author}}, published {{stamp .Published}}{{range .Packages}} · {{.Name}} {{.Version}}{{end}}</p>
<section>
<h2>Environments</h2>
<table class="where">
<thead><tr>{{range .Where.Envs}}<th><a href="/envs/{{.Env}}">{{.Env}}</a></th>{{end}}</tr></thead>
<tbody><tr>{{range .Where.Envs}}<td class="s-{{.State}}">{{statemark .State}} {{.State}} {{stamp .Since}}{{if .WaitsFor}}<br>waits for: {{range $i, $w := .WaitsFor}}{{if $i}}, {{end}}{{$w}}{{end}}{{end}}{{if .Detail}}<br><span class="detail">{{.Detail}}</span>{{end}}</td>{{end}}</tr></tbody>
</table>
{{- range .Where.Envs}}{{if .Evaluation}}
<h3>{{.Env}}: {{.Evaluation.Verdict}} <small>({{if .Evaluation.Recorded}}recorded by {{.Evaluation.Actor}}{{else}}the robot's dry run{{end}}, {{stamp .Evaluation.Time}})</small></h3>
{{template "criteria" .Evaluation}}
{{- end}}{{end}}
</section>
<section>
<h2>Tests</h2>
{{- with .Tests}}
{{- if .Error}}<p class="unknown">{{.Error}}</p>{{else}}
<p id="tests">{{.Status}}: {{.Total}} tests, {{.Passed}} passed, {{.Failed}} failed, {{.Flaky}} flaky</p>
{{- if .FailedTests}}<h3>Failed</h3><ul>{{range .FailedTests}}<li class="fail"><code>{{.Label}}</code> {{.Status}}</li>{{end}}</ul>{{end}}
{{- if .FlakyTests}}<h3>Flaky</h3><ul id="flaky">{{range .FlakyTests}}<li><code>{{.Label}}</code></li>{{end}}</ul>{{end}}
{{- end}}
{{- end}}
</section>
<section>
<h2>Performance</h2>
{{- with .Perf}}
{{- with .Comparison}}
<table class="perf"><thead><tr><th>benchmark</th><th>unit</th><th>before</th><th>now</th><th>change</th><th>p</th></tr></thead><tbody>
{{- range .Rows}}
<tr class="{{if .Significant}}sig{{end}}"><td><code>{{.Target}}</code> {{.Name}}</td><td>{{.Unit}}</td><td>{{with .Old}}{{num .Median}}{{end}}</td><td>{{with .New}}{{num .Median}}{{end}}</td><td>{{pct .ChangePct}}</td><td>{{pval .P}}</td></tr>
{{- end}}
</tbody></table>
{{- end}}
{{- range .Trends}}
<figure class="trend"><figcaption>{{.Title}}</figcaption>{{.SVG}}</figure>
{{- end}}
{{- else}}<p>No benchmarks in this build.</p>
{{- end}}
</section>
<section>
<h2>OWNERS</h2>
{{template "owners" .Owners}}
</section>
<section>
<h2>Ledger events</h2>
{{template "events" .Events}}
</section>
{{template "foot"}}{{end}}

{{define "env"}}{{template "head" .Title}}
<h1>{{.Verdict.Env}}</h1>
<p class="verdict {{.Verdict.Class}}" data-verdict-env="{{.Verdict.Env}}">{{.Verdict.Text}}</p>
<p>{{if .Verdict.Serves}}serves <a href="/builds/{{.Verdict.Serves}}"><code>{{short .Verdict.Serves}}</code></a> since {{stamp .Verdict.Since}} ({{.Verdict.Age}}), health: {{.Verdict.Health}}{{else}}serves nothing yet{{end}}</p>
{{- with .Verdict.Evaluation}}<h2>Next build's criteria</h2>{{template "criteria" .}}{{end}}
<section class="dora">
<h2>Lead time and change failure rate</h2>
<p>{{.DORA.Deployments}} deployments; median lead time {{if .DORA.LeadTimeMedian}}{{.DORA.LeadTimeMedian}}{{else}}—{{end}}; change failure rate {{rate .DORA.ChangeFailureRate}}.</p>
<figure class="trend"><figcaption>{{.DORA.LeadTime.Title}}</figcaption>{{.DORA.LeadTime.SVG}}</figure>
<figure class="trend"><figcaption>{{.DORA.FailureRate.Title}}</figcaption>{{.DORA.FailureRate.SVG}}</figure>
</section>
<section>
<h2>History</h2>
<table><thead><tr><th>time</th><th>event</th><th>build</th><th>from</th><th>by</th><th>reason</th></tr></thead><tbody>
{{- range .History}}
<tr class="k-{{.Kind}}"><td>{{stamp .Time}}</td><td>{{.Kind}}{{if .Override}} (override){{end}}</td><td>{{if .Build}}<a href="/builds/{{.Build}}"><code>{{short .Build}}</code></a>{{end}}</td><td>{{if .From}}<code>{{short .From}}</code>{{end}}</td><td>{{.Actor}}</td><td>{{.Reason}}</td></tr>
{{- end}}
</tbody></table>
</section>
<section><h2>Events</h2><ol id="live-events" class="events"></ol></section>
{{template "foot"}}{{end}}

{{define "change"}}{{template "head" .Title}}
<h1>Change status</h1>
<form method="get" action="/change"><label>base <input name="base"></label> <label>head <input name="head"></label> <button>show</button></form>
{{- if .Status}}
<article class="status-md">{{.HTML}}</article>
{{- end}}
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" .Title}}
<h1>Not here</h1>
<p class="fail">{{.Error}}</p>
{{template "foot"}}{{end}}
`))

const boardCSS = `body{font-family:system-ui,sans-serif;margin:0;color:#202124;background:#fafafa}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.5rem;background:#fff;border-bottom:1px solid #ddd}
header .home{font-weight:600;color:#202124;text-decoration:none}
.live{margin-left:auto;font-size:.85rem;color:#5f6368}
main{padding:1rem 1.5rem;max-width:80rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}
.verdicts{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.8rem}
.env{background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.2rem .9rem}
.env h2{margin:.5rem 0}
.verdict{padding:.5rem .7rem;border-radius:.3rem;font-weight:600}
.can{background:#e6f4ea;color:#137333}.wait{background:#fef7e0;color:#8a5300}.idle{background:#f1f3f4;color:#3c4043}
.ok{color:#137333}.fail{color:#a50e0e}.unknown{color:#5f6368}.held{color:#8a5300}
table{border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.3rem .7rem;border-bottom:1px solid #eee;vertical-align:top}
.matrix td{min-width:9rem}
.c-fail td,.c-unknown td{background:#fce8e6}.c-pass .mark{color:#137333}
.s-promoted{background:#e6f4ea}.s-held,.s-waiting{background:#fef7e0}.s-rolled{background:#fce8e6}
.events{font-family:ui-monospace,monospace;font-size:.8rem;padding-left:1.5rem}
.event.new{background:#e8f0fe}
.age,.detail{color:#5f6368;font-size:.85rem}
.h-healthy{color:#137333}.h-failing,.h-crashed,.h-down{color:#a50e0e}.instances,.running{color:#5f6368;font-size:.85rem}
svg.chart{background:#fff;border:1px solid #eee}
svg .frame{fill:none;stroke:#ccc}svg .grid{stroke:#eee}svg .axis{font-size:10px;fill:#5f6368}
svg .line{fill:none;stroke:#1a73e8;stroke-width:2}svg .dot{fill:#1a73e8}svg .bar{fill:#1a73e8}svg .empty{font-size:12px;fill:#999}
.perf .sig td{background:#fce8e6}
figure{margin:.8rem 0}figcaption{font-size:.9rem;color:#5f6368}
.status-md table{margin:.5rem 0}
footer{padding:1rem 1.5rem;color:#5f6368;font-size:.85rem}
`

// favicon is the board's icon: a green check.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#137333"/><path d="M4 8.5l2.5 2.5L12 5.5" stroke="#fff" stroke-width="2" fill="none"/></svg>`

// boardJS follows the live updates: new ledger events are added to the
// page's event list and the verdicts replaced, with textContent only.
const boardJS = `(function () {
  'use strict';
  var status = document.getElementById('live-status');
  function say(t) { if (status) { status.textContent = t; } }
  if (!window.EventSource) { say('no live updates in this browser'); return; }
  function verdicts(vs) {
    (vs || []).forEach(function (v) {
      document.querySelectorAll('[data-verdict-env]').forEach(function (el) {
        if (el.getAttribute('data-verdict-env') === v.env) {
          el.textContent = v.text;
          el.className = 'verdict ' + v.class;
        }
      });
    });
  }
  var es = new EventSource('/events');
  es.onopen = function () { say('live'); };
  es.onerror = function () { say('reconnecting…'); };
  es.addEventListener('ledger', function (m) {
    var d = JSON.parse(m.data);
    var list = document.getElementById('live-events');
    if (list && d.event && !list.querySelector('[data-seq="' + d.event.seq + '"]')) {
      var li = document.createElement('li');
      li.className = 'event new';
      li.setAttribute('data-seq', String(d.event.seq));
      li.textContent = d.event.line;
      list.insertBefore(li, list.firstChild);
    }
    var c = document.getElementById('event-count');
    if (c) { c.textContent = String(d.events); }
    verdicts(d.verdicts);
  });
  es.addEventListener('refresh', function (m) { verdicts(JSON.parse(m.data).verdicts); });
})();
`
