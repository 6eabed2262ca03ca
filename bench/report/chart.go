package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Series is one line of a chart: a name and a y value per x category.
type Series struct {
	Name   string
	Values []float64 // one per category; NaN where there is none
}

// Chart is a line chart of series over categories along x (the
// concurrencies), spaced evenly whatever their values.
type Chart struct {
	Title, XLabel, YLabel string
	Categories            []string
	Series                []Series
}

// The SVG elements a chart is made of, marshalled by encoding/xml.
type (
	svgDoc struct {
		XMLName xml.Name `xml:"svg"`
		Xmlns   string   `xml:"xmlns,attr"`
		Width   int      `xml:"width,attr"`
		Height  int      `xml:"height,attr"`
		ViewBox string   `xml:"viewBox,attr"`
		Font    string   `xml:"font-family,attr"`
		Items   []any
	}
	svgRect struct {
		XMLName xml.Name `xml:"rect"`
		X       int      `xml:"x,attr"`
		Y       int      `xml:"y,attr"`
		Width   int      `xml:"width,attr"`
		Height  int      `xml:"height,attr"`
		Fill    string   `xml:"fill,attr"`
	}
	svgLine struct {
		XMLName xml.Name `xml:"line"`
		Class   string   `xml:"class,attr"`
		X1      float64  `xml:"x1,attr"`
		Y1      float64  `xml:"y1,attr"`
		X2      float64  `xml:"x2,attr"`
		Y2      float64  `xml:"y2,attr"`
		Stroke  string   `xml:"stroke,attr"`
		Width   float64  `xml:"stroke-width,attr"`
	}
	svgText struct {
		XMLName xml.Name `xml:"text"`
		X       float64  `xml:"x,attr"`
		Y       float64  `xml:"y,attr"`
		Anchor  string   `xml:"text-anchor,attr,omitempty"`
		Size    int      `xml:"font-size,attr"`
		Fill    string   `xml:"fill,attr,omitempty"`
		Rotate  string   `xml:"transform,attr,omitempty"`
		Text    string   `xml:",chardata"`
	}
	svgPolyline struct {
		XMLName xml.Name `xml:"polyline"`
		Class   string   `xml:"class,attr"`
		Points  string   `xml:"points,attr"`
		Fill    string   `xml:"fill,attr"`
		Stroke  string   `xml:"stroke,attr"`
		Width   float64  `xml:"stroke-width,attr"`
		Title   string   `xml:"title"`
	}
	svgCircle struct {
		XMLName xml.Name `xml:"circle"`
		CX      float64  `xml:"cx,attr"`
		CY      float64  `xml:"cy,attr"`
		R       float64  `xml:"r,attr"`
		Fill    string   `xml:"fill,attr"`
	}
)

// palette is eight colours that stay apart for most colour vision.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"}

// WriteSVG writes c as an SVG document: two axes with ticks and labels, a
// polyline per series (its points where the series has values) and a
// legend.
func (c Chart) WriteSVG(w io.Writer) error {
	const (
		width, height          = 760, 440
		left, right, top, foot = 70, 200, 40, 60
	)
	plotW, plotH := float64(width-left-right), float64(height-top-foot)
	top0, bottom := float64(top), float64(height-foot)
	ymax := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				ymax = max(ymax, v)
			}
		}
	}
	step, ytop := niceScale(ymax, 5)
	x := func(i int) float64 {
		if len(c.Categories) <= 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(len(c.Categories)-1)
	}
	y := func(v float64) float64 { return bottom - plotH*v/ytop }

	doc := svgDoc{Xmlns: "http://www.w3.org/2000/svg", Width: width, Height: height,
		ViewBox: fmt.Sprintf("0 0 %d %d", width, height), Font: "sans-serif"}
	add := func(v any) { doc.Items = append(doc.Items, v) }
	add(svgRect{Width: width, Height: height, Fill: "#ffffff"})
	add(svgText{X: float64(width) / 2, Y: 24, Anchor: "middle", Size: 16, Text: c.Title})
	// y grid, ticks and labels
	for v := 0.0; v <= ytop*1.0000001; v += step {
		add(svgLine{Class: "grid", X1: left, Y1: y(v), X2: left + plotW, Y2: y(v), Stroke: "#dddddd", Width: 1})
		add(svgText{X: left - 8, Y: y(v) + 4, Anchor: "end", Size: 12, Text: formatTick(v)})
	}
	// x ticks and labels
	for i, cat := range c.Categories {
		add(svgLine{Class: "tick", X1: x(i), Y1: bottom, X2: x(i), Y2: bottom + 5, Stroke: "#000000", Width: 1})
		add(svgText{X: x(i), Y: bottom + 20, Anchor: "middle", Size: 12, Text: cat})
	}
	add(svgLine{Class: "axis x", X1: left, Y1: bottom, X2: left + plotW, Y2: bottom, Stroke: "#000000", Width: 1.5})
	add(svgLine{Class: "axis y", X1: left, Y1: top0, X2: left, Y2: bottom, Stroke: "#000000", Width: 1.5})
	add(svgText{X: left + plotW/2, Y: float64(height) - 18, Anchor: "middle", Size: 13, Text: c.XLabel})
	add(svgText{X: 18, Y: top0 + plotH/2, Anchor: "middle", Size: 13, Text: c.YLabel,
		Rotate: fmt.Sprintf("rotate(-90 18 %.1f)", top0+plotH/2)})
	// series
	for si, s := range c.Series {
		colour := palette[si%len(palette)]
		var pts []byte
		for i, v := range s.Values {
			if i >= len(c.Categories) || math.IsNaN(v) {
				continue
			}
			pts = fmt.Appendf(pts, "%.1f,%.1f ", x(i), y(v))
		}
		add(svgPolyline{Class: "series", Points: string(trimSpace(pts)), Fill: "none", Stroke: colour, Width: 2, Title: s.Name})
		for i, v := range s.Values {
			if i < len(c.Categories) && !math.IsNaN(v) {
				add(svgCircle{CX: x(i), CY: y(v), R: 3, Fill: colour})
			}
		}
		ly := top0 + 10 + 20*float64(si)
		lx := float64(width - right + 20)
		add(svgLine{Class: "legend", X1: lx, Y1: ly, X2: lx + 24, Y2: ly, Stroke: colour, Width: 2})
		add(svgText{X: lx + 30, Y: ly + 4, Size: 12, Text: s.Name})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten, and the
// smallest multiple of it at or above vmax, for about n ticks.
func niceScale(vmax float64, n int) (step, top float64) {
	if vmax <= 0 || math.IsNaN(vmax) || math.IsInf(vmax, 0) {
		return 1, 1
	}
	raw := vmax / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return step, math.Ceil(vmax/step-1e-9) * step
}

func formatTick(v float64) string {
	if v >= 1000 && math.Mod(v, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
