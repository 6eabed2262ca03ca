package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func sample() Report {
	row := func(t string, c int, tput float64, cpu time.Duration) Row {
		return Row{Target: t, Concurrency: c, Rounds: 3, Throughput: tput, P50: 2 * time.Millisecond,
			P99: 9 * time.Millisecond, CPUPerCall: cpu}
	}
	return Report{
		Generated: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
		Command:   "go run . -rounds 3",
		Machine:   Machine{CPU: "Test CPU", Cores: 2, Kernel: "6.1", Go: "go1.26"},
		Versions:  [][2]string{{"Hydra", "v2.3.0"}},
		Notes:     []string{"The machine was shared while this ran."},
		Targets:   []Target{{"floor", "the floor"}, {"latch", "Latch's refresh"}, {"hydra", "Hydra's refresh"}},
		Rows: []Row{
			row("floor", 1, 1000, 100*time.Microsecond), row("floor", 8, 4000, 100*time.Microsecond),
			row("latch", 1, 500, 300*time.Microsecond), row("latch", 8, 1000, 400*time.Microsecond),
			row("hydra", 8, 250, 2*time.Millisecond),
		},
		Ratios:    []Ratio{{"Latch ÷ floor", "latch", "floor"}, {"Latch ÷ Hydra", "latch", "hydra"}},
		Memory:    []Memory{{"latch", 30 << 20}},
		Sections:  []Section{{Title: "Stored sessions", Label: "sessions", Labels: []string{"10k"}, Rows: []Row{row("latch", 8, 990, 0)}, Summary: "p50 ratio 1.01×"}},
		ChartFile: "throughput.svg",
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"> The machine was shared while this ran.",
		"| CPU | Test CPU |", "| cores | 2 |", "| Hydra | v2.3.0 |",
		"![Throughput against concurrency](throughput.svg)",
		"### `latch`",
		"| 8 | 1000 | 2 ms | 9 ms | 400 µs | 0 |",
		// throughput 500/1000, CPU 300/100 at c=1; 1000/4000, 400/100 at c=8
		"| Latch ÷ floor | 0.50× / 3.00× | 0.25× / 4.00× |",
		// Hydra has no c=1 row
		"| Latch ÷ Hydra | – | 4.00× / 0.20× |",
		"| latch | 30.0 MiB |",
		"## Stored sessions", "| 10k | 990 |", "p50 ratio 1.01×",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
}

func TestChartSVG(t *testing.T) {
	c := sample().Chart()
	if len(c.Series) != 3 || strings.Join(c.Categories, ",") != "1,8" {
		t.Fatalf("chart has %d series over %v", len(c.Series), c.Categories)
	}
	if !math.IsNaN(c.Series[2].Values[0]) {
		t.Errorf("Hydra at c=1 = %v, want no value", c.Series[2].Values[0])
	}
	var b bytes.Buffer
	if err := c.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	// Valid XML, an svg root, both axes, one polyline per series with
	// the series' name, and the categories as labels.
	dec := xml.NewDecoder(&b)
	var root string
	polylines := map[string]int{}
	axes := 0
	texts := map[string]bool{}
	var inText bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = e.Name.Local
			}
			inText = e.Name.Local == "text" || e.Name.Local == "title"
			class := attr(e, "class")
			switch {
			case e.Name.Local == "line" && strings.HasPrefix(class, "axis"):
				axes++
			case e.Name.Local == "polyline":
				if class != "series" {
					t.Errorf("polyline of class %q", class)
				}
				n := len(strings.Fields(attr(e, "points")))
				polylines[attr(e, "points")] = n
			}
		case xml.CharData:
			if inText {
				texts[string(e)] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Errorf("root element %q", root)
	}
	if axes != 2 {
		t.Errorf("%d axes, want 2", axes)
	}
	if len(polylines) != 3 {
		t.Errorf("%d polylines, want one per series (3)", len(polylines))
	}
	for _, want := range []string{"floor", "latch", "hydra", "1", "8", "concurrent clients", "calls per second"} {
		if !texts[want] {
			t.Errorf("no text %q in the chart", want)
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestNiceScale(t *testing.T) {
	tests := []struct {
		max, step, top float64
	}{
		{0, 1, 1},
		{4000, 1000, 4000},
		{4100, 1000, 5000},
		{37, 10, 40},
		{0.9, 0.2, 1},
		{12345, 5000, 15000},
	}
	for _, tt := range tests {
		step, top := niceScale(tt.max, 5)
		if math.Abs(step-tt.step) > 1e-9 || math.Abs(top-tt.top) > 1e-9 {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.max, step, top, tt.step, tt.top)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}}
	for _, tt := range tests {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
