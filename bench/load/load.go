// Package load is a closed-loop load generator: a fixed number of workers,
// each sending its next call as soon as its last one was answered, for a
// fixed time. It records every answered call's latency.
package load

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Call makes one call for a worker and reports whether it failed. A worker
// that keeps state between calls (a refresh token chain) keeps it in the
// closure.
type Call func(ctx context.Context) error

// Result is what one run measured.
type Result struct {
	// Calls counts the calls that succeeded within the measured window;
	// Errors counts those that failed.
	Calls, Errors int
	// AllCalls counts every call that succeeded, the warm-up's and the
	// tail's included: what a server's CPU time over the whole run paid for.
	AllCalls int
	// Elapsed is the length of the measured window.
	Elapsed time.Duration
	// Latencies holds the latency of every successful call in the
	// measured window, sorted ascending.
	Latencies []time.Duration
	// FirstError is the first error seen, for the log.
	FirstError error
}

// Throughput is successful calls per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p <= 100) of r's latencies.
func (r Result) Percentile(p float64) time.Duration {
	return Percentile(r.Latencies, p)
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p percent of the
// values do not exceed. It returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n) + 0.9999999)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Run runs one worker per element of workers for warmup plus measure:
// calls that start during warmup are made but not counted, calls that start
// after the measured window ends are not made. Each worker's calls follow
// one another (a closed loop). Run returns once every worker's last call
// has been answered.
func Run(ctx context.Context, workers []Call, warmup, measure time.Duration) Result {
	start := time.Now()
	from := start.Add(warmup)
	until := from.Add(measure)
	type tally struct {
		lat    []time.Duration
		all    int
		errs   int
		first  error
		lastAt time.Time
	}
	tallies := make([]tally, len(workers))
	var wg sync.WaitGroup
	for i, call := range workers {
		wg.Go(func() {
			t := &tallies[i]
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(until) {
					return
				}
				err := call(ctx)
				took := time.Since(began)
				if err == nil {
					t.all++
				}
				if began.Before(from) {
					continue
				}
				if err != nil {
					t.errs++
					if t.first == nil {
						t.first = err
					}
					continue
				}
				t.lat = append(t.lat, took)
			}
		})
	}
	wg.Wait()
	var r Result
	for _, t := range tallies {
		r.Latencies = append(r.Latencies, t.lat...)
		r.Errors += t.errs
		r.AllCalls += t.all
		if r.FirstError == nil {
			r.FirstError = t.first
		}
	}
	r.Calls = len(r.Latencies)
	slices.Sort(r.Latencies)
	// The window is the time calls could start in; the tail (calls
	// started before its end, answered after) is counted, which the
	// closed loop makes at most one call per worker.
	r.Elapsed = measure
	if end := time.Now(); end.Before(until) { // cancelled early
		r.Elapsed = max(end.Sub(from), 0)
	}
	return r
}
