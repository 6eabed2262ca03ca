// Package report writes what a benchmark run measured: BENCHMARKS.md with
// its tables and ratios, and an SVG chart of throughput against
// concurrency.
package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Machine describes where a run ran.
type Machine struct {
	CPU    string
	Cores  int
	Kernel string
	Go     string
}

// Row is one operation at one concurrency: the medians across rounds.
type Row struct {
	Target      string
	Concurrency int
	Rounds      int
	Throughput  float64       // successful calls per second
	P50, P99    time.Duration // latency
	CPUPerCall  time.Duration // the server's CPU time per successful call
	Errors      int           // failed calls, summed over rounds
}

// Ratio names two targets whose rows are compared at each concurrency: Of
// divided by To.
type Ratio struct {
	Name   string
	Of, To string
}

// Memory is a server's peak resident memory.
type Memory struct {
	Server string
	Bytes  int64
}

// Section is a titled set of rows measured in a mode of their own (stored
// sessions, PostgreSQL nodes), each row labelled.
type Section struct {
	Title string
	// Text is a paragraph above the table.
	Text string
	// Label names the column that tells rows apart (e.g. "sessions").
	Label  string
	Labels []string
	Rows   []Row // Rows[i] is labelled Labels[i]
	// Summary is a line below the table (e.g. a ratio and its target).
	Summary string
}

// Report is everything BENCHMARKS.md says.
type Report struct {
	Generated time.Time
	Command   string
	Machine   Machine
	Versions  [][2]string // name, version
	Notes     []string    // said first: how the machine was used, what failed
	Method    []string    // paragraphs
	Targets   []Target    // in the order of the tables
	Rows      []Row
	Ratios    []Ratio
	Memory    []Memory
	Sections  []Section
	// ChartFile is the SVG's path relative to the Markdown file ("" for no
	// chart).
	ChartFile string
}

// Target is an operation the tables name, and what it is.
type Target struct {
	Name, Description string
}

// Chart returns the throughput of every target against concurrency.
func (r Report) Chart() Chart {
	cs := r.concurrencies()
	c := Chart{Title: "Throughput against concurrency (median of rounds)", XLabel: "concurrent clients",
		YLabel: "calls per second"}
	for _, n := range cs {
		c.Categories = append(c.Categories, fmt.Sprint(n))
	}
	for _, t := range r.Targets {
		s := Series{Name: t.Name}
		has := false
		for _, n := range cs {
			if row, ok := r.find(t.Name, n); ok {
				s.Values = append(s.Values, row.Throughput)
				has = true
			} else {
				s.Values = append(s.Values, math.NaN())
			}
		}
		if has {
			c.Series = append(c.Series, s)
		}
	}
	return c
}

func (r Report) concurrencies() []int {
	var cs []int
	for _, row := range r.Rows {
		if !slices.Contains(cs, row.Concurrency) {
			cs = append(cs, row.Concurrency)
		}
	}
	slices.Sort(cs)
	return cs
}

func (r Report) find(target string, c int) (Row, bool) {
	for _, row := range r.Rows {
		if row.Target == target && row.Concurrency == c {
			return row, true
		}
	}
	return Row{}, false
}

// WriteMarkdown writes r as BENCHMARKS.md.
func (r Report) WriteMarkdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `%s` on %s.\n\n", r.Command, r.Generated.UTC().Format("2006-01-02 15:04 MST"))
	for i, n := range r.Notes {
		if i > 0 {
			p(">\n")
		}
		p("> %s\n", n)
	}
	if len(r.Notes) > 0 {
		p("\n")
	}
	p("## Machine and versions\n\n| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %d |\n| kernel | %s |\n| Go | %s |\n", r.Machine.CPU, r.Machine.Cores, r.Machine.Kernel, r.Machine.Go)
	for _, v := range r.Versions {
		p("| %s | %s |\n", v[0], v[1])
	}
	p("\n")
	if len(r.Method) > 0 {
		p("## Method\n\n")
		for _, m := range r.Method {
			p("%s\n\n", m)
		}
	}
	if len(r.Targets) > 0 {
		p("| operation | what it is |\n|---|---|\n")
		for _, t := range r.Targets {
			p("| `%s` | %s |\n", t.Name, t.Description)
		}
		p("\n")
	}
	if r.ChartFile != "" && len(r.Rows) > 0 {
		p("![Throughput against concurrency](%s)\n\n", r.ChartFile)
	}
	for _, t := range r.Targets {
		var rows []Row
		for _, c := range r.concurrencies() {
			if row, ok := r.find(t.Name, c); ok {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p("### `%s`\n\n", t.Name)
		writeRows(w, "concurrency", nil, rows)
	}
	if len(r.Ratios) > 0 && len(r.Rows) > 0 {
		p("## Ratios\n\n")
		p("Each cell is *throughput ratio* / *CPU-per-call ratio* of the first operation to the second at that concurrency, from the medians above.\n\n")
		cs := r.concurrencies()
		p("| ratio |")
		for _, c := range cs {
			p(" c=%d |", c)
		}
		p("\n|---|%s\n", strings.Repeat("---|", len(cs)))
		for _, ra := range r.Ratios {
			p("| %s |", ra.Name)
			for _, c := range cs {
				of, ok1 := r.find(ra.Of, c)
				to, ok2 := r.find(ra.To, c)
				if !ok1 || !ok2 {
					p(" – |")
					continue
				}
				p(" %s / %s |", ratio(of.Throughput, to.Throughput), ratio(float64(of.CPUPerCall), float64(to.CPUPerCall)))
			}
			p("\n")
		}
		p("\n")
	}
	if len(r.Memory) > 0 {
		p("## Peak memory\n\nResident set high-water mark (VmHWM) of each server process over the whole run.\n\n| server | peak RSS |\n|---|---|\n")
		for _, m := range r.Memory {
			p("| %s | %s |\n", m.Server, mib(m.Bytes))
		}
		p("\n")
	}
	for _, s := range r.Sections {
		p("## %s\n\n", s.Title)
		if s.Text != "" {
			p("%s\n\n", s.Text)
		}
		writeRows(w, s.Label, s.Labels, s.Rows)
		if s.Summary != "" {
			p("%s\n\n", s.Summary)
		}
	}
	return w.Flush()
}

// writeRows writes a table of rows, the first column the row's label (its
// concurrency when labels is nil).
func writeRows(w io.Writer, label string, labels []string, rows []Row) {
	fmt.Fprintf(w, "| %s | calls/s | p50 | p99 | CPU per call | errors |\n|---:|---:|---:|---:|---:|---:|\n", label)
	for i, row := range rows {
		l := fmt.Sprint(row.Concurrency)
		if labels != nil {
			l = labels[i]
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %d |\n", l, row.Throughput, dur(row.P50), dur(row.P99), dur(row.CPUPerCall), row.Errors)
	}
	fmt.Fprintln(w)
}

// ratio formats a/b as "0.42×", or "–" when b is zero.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// dur formats d in the unit that suits it, to three significant digits.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3g s", d.Seconds())
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Median returns the median of vs (the mean of the middle two for an even
// count), or 0 for none.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
