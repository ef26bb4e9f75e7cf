package board

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Point is one value of a chart.
type Point struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Chart is a chart drawn on the server as SVG (no script needed).
type Chart struct {
	Title  string  `json:"title"`
	Kind   string  `json:"kind"` // "line" or "bar"
	Points []Point `json:"points"`
	// SVG is the drawing; every text in it is escaped.
	SVG template.HTML `json:"-"`
}

const (
	chartW, chartH = 560, 180
	padL, padR     = 56, 12
	padT, padB     = 12, 34
)

func lineChart(title string, pts []Point) Chart {
	return Chart{Title: title, Kind: "line", Points: pts, SVG: draw(title, "line", pts)}
}

func barChart(title string, pts []Point) Chart {
	if pts == nil {
		pts = []Point{}
	}
	return Chart{Title: title, Kind: "bar", Points: pts, SVG: draw(title, "bar", pts)}
}

// draw renders pts as an SVG line or bar chart with a y axis from 0 to
// the largest value, and the labels of the first and last points.
func draw(title, kind string, pts []Point) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d"><title>%s</title>`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	x0, y0, w, h := float64(padL), float64(padT), float64(chartW-padL-padR), float64(chartH-padT-padB)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" class="frame"/>`, x0, y0, w, h)
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="empty">no data yet</text></svg>`, x0+w/2-30, y0+h/2)
		return template.HTML(b.String())
	}
	max := 0.0
	for _, p := range pts {
		max = math.Max(max, p.Value)
	}
	if max == 0 {
		max = 1
	}
	max = niceCeil(max)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		y := y0 + h - h*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.0f" y="%.1f" class="axis" text-anchor="end">%s</text>`,
			x0, x0+w, y, y, x0-4, y+4, html.EscapeString(short(v)))
	}
	n := len(pts)
	xAt := func(i int) float64 {
		if kind == "bar" {
			return x0 + w*(float64(i)+0.5)/float64(n)
		}
		if n == 1 {
			return x0 + w/2
		}
		return x0 + w*float64(i)/float64(n-1)
	}
	yAt := func(v float64) float64 { return y0 + h - h*v/max }
	if kind == "bar" {
		bw := math.Max(2, w/float64(n)*0.7)
		for i, p := range pts {
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
				xAt(i)-bw/2, yAt(p.Value), bw, y0+h-yAt(p.Value), html.EscapeString(p.Label), html.EscapeString(short(p.Value)))
		}
	} else {
		var path strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, xAt(i), yAt(p.Value))
		}
		fmt.Fprintf(&b, `<path class="line" d="%s"/>`, strings.TrimSpace(path.String()))
		for i, p := range pts {
			fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3"><title>%s: %s</title></circle>`,
				xAt(i), yAt(p.Value), html.EscapeString(p.Label), html.EscapeString(short(p.Value)))
		}
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="axis">%s</text>`, x0, chartH-8, html.EscapeString(pts[0].Label))
	if n > 1 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" class="axis" text-anchor="end">%s</text>`, x0+w, chartH-8, html.EscapeString(pts[n-1].Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// short formats a value with three significant digits.
func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
