package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The plots are plain SVG written here: two small charts do not need a plotting library.

const svgFont = `font-family="sans-serif" font-size="12"`

// panel is one chart's frame: its place on the canvas and the ranges of its axes.
type panel struct {
	x, y, w, h   float64 // plot area on the canvas
	xMax, yMax   float64
	title, xName string
}

func (p panel) px(v float64) float64 { return p.x + v/p.xMax*p.w }
func (p panel) py(v float64) float64 { return p.y + p.h - v/p.yMax*p.h }

// frame draws the axes, their ticks and the titles.
func (p panel) frame(b *strings.Builder) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" %s font-weight="bold">%s</text>`+"\n", p.x, p.y-10, svgFont, html.EscapeString(p.title))
	fmt.Fprintf(b, `<path d="M%.1f %.1f V%.1f H%.1f" fill="none" stroke="#333"/>`+"\n", p.x, p.y, p.y+p.h, p.x+p.w)
	for _, xv := range ticks(p.xMax) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" %s text-anchor="middle">%s</text>`+"\n", p.px(xv), p.y+p.h+16, svgFont, tick(xv))
	}
	for _, yv := range ticks(p.yMax) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" %s text-anchor="end">%s</text>`+"\n", p.x-6, p.py(yv)+4, svgFont, tick(yv))
		if yv > 0 {
			fmt.Fprintf(b, `<path d="M%.1f %.1f H%.1f" stroke="#ddd"/>`+"\n", p.x, p.py(yv), p.x+p.w)
		}
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" %s text-anchor="middle">%s</text>`+"\n", p.x+p.w/2, p.y+p.h+34, svgFont, html.EscapeString(p.xName))
}

// ticks splits [0, top], top from niceMax, into four or five round steps.
func ticks(top float64) []float64 {
	steps := 5.0
	if mantissa := top / math.Pow(10, math.Floor(math.Log10(top))); math.Abs(mantissa-2) < 1e-9 {
		steps = 4
	}
	var out []float64
	for i := 0.0; i <= steps; i++ {
		out = append(out, top*i/steps)
	}
	return out
}

func tick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func svg(w, h int, body string) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n"+
		`<rect width="100%%" height="100%%" fill="white"/>`+"\n%s</svg>\n", w, h, w, h, body)
}

// niceMax rounds a range's top up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// scalingPlot draws the cold start and peak RSS against N, side by side.
func scalingPlot(curve []curvePoint) string {
	var b strings.Builder
	maxN, maxS, maxM := 0.0, 0.0, 0.0
	for _, p := range curve {
		maxN, maxS, maxM = math.Max(maxN, float64(p.N)), math.Max(maxS, p.Seconds), math.Max(maxM, p.RSSMiB)
	}
	panels := []struct {
		panel
		value func(curvePoint) float64
		unit  string
	}{
		{panel{70, 40, 280, 200, niceMax(maxN), niceMax(maxS), "cold start (s)", "FigmaTokens"}, func(p curvePoint) float64 { return p.Seconds }, "s"},
		{panel{440, 40, 280, 200, niceMax(maxN), niceMax(maxM), "peak RSS (MiB)", "FigmaTokens"}, func(p curvePoint) float64 { return p.RSSMiB }, "MiB"},
	}
	for _, pl := range panels {
		pl.frame(&b)
		var points []string
		for i, p := range curve {
			x, y := pl.px(float64(p.N)), pl.py(pl.value(p))
			points = append(points, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="#1f77b4"/>`+"\n", x, y)
			if i == len(curve)-1 { // the table beside the plot has every value
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" %s text-anchor="end">%.1f %s at N = %d</text>`+"\n", x-8, y-8, svgFont, pl.value(p), pl.unit, p.N)
			}
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1f77b4" stroke-width="2"/>`+"\n", strings.Join(points, " "))
	}
	return svg(760, 290, b.String())
}

// latenessPlot draws a histogram of refresh lateness in 50 ms bins, with the p99 and the
// goal marked.
func latenessPlot(sorted []float64, label string) string {
	const bin = 0.05
	var b strings.Builder
	top := 0.5
	if len(sorted) > 0 {
		top = math.Max(top, sorted[len(sorted)-1])
	}
	top = niceMax(top + bin)
	bins := make([]int, int(math.Round(top/bin)))
	maxCount := 1
	for _, v := range sorted {
		i := min(int(v/bin), len(bins)-1)
		bins[i]++
		maxCount = max(maxCount, bins[i])
	}
	p := panel{70, 40, 600, 220, top, niceMax(float64(maxCount)), "refresh lateness: " + label, "seconds after nextRefreshTime"}
	p.frame(&b)
	for i, c := range bins {
		if c == 0 {
			continue
		}
		x0, x1 := p.px(float64(i)*bin), p.px(float64(i+1)*bin)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f77b4"/>`+"\n", x0+0.5, p.py(float64(c)), x1-x0-1, p.y+p.h-p.py(float64(c)))
	}
	mark := func(v, dy float64, color, text string) {
		x := p.px(v)
		fmt.Fprintf(&b, `<path d="M%.1f %.1f V%.1f" stroke="%s" stroke-dasharray="4 3"/>`+"\n", x, p.y, p.y+p.h, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" %s fill="%s">%s</text>`+"\n", x+4, p.y+dy, svgFont, color, html.EscapeString(text))
	}
	mark(0.5, 12, "#d62728", "goal: p99 < 0.5 s")
	if len(sorted) > 0 {
		p99 := percentile(sorted, 0.99)
		mark(p99, 30, "#2ca02c", fmt.Sprintf("p99 %.2f s", p99))
	}
	return svg(720, 310, b.String())
}
