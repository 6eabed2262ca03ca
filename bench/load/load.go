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
	// Calls counts the calls that succeeded and ended within the measured
	// window; Errors counts those that failed.
	Calls, Errors int
	// AllCalls counts every call that succeeded, the warm-up's and the
	// tail's included: what a server's CPU time over the whole run paid for.
	AllCalls int
	// Elapsed is the length of the measured window.
	Elapsed time.Duration
	// Latencies holds the latency of every call Calls counts, sorted
	// ascending.
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

// Run runs one worker per element of workers for warmup plus measure.
// A call counts when it ends within the measured window, wherever it
// began: completions per second of window is the throughput a closed loop
// sustains, and a call still in flight when the window ends (most of a
// worker's last call) is made but not counted. No call starts after the
// window. The context a call gets ends with the window: a call that must
// not be cut short (a refresh whose answer carries the next token)
// detaches from it with context.WithoutCancel; one that waits for a turn
// can give up. Each worker's calls follow one another (a closed loop).
// Run returns once every worker's last call has returned.
func Run(ctx context.Context, workers []Call, warmup, measure time.Duration) Result {
	start := time.Now()
	from := start.Add(warmup)
	until := from.Add(measure)
	callCtx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	type tally struct {
		lat   []time.Duration
		all   int
		errs  int
		first error
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
				err := call(callCtx)
				ended := time.Now()
				if err == nil {
					t.all++
				}
				if ended.Before(from) || ended.After(until) {
					continue
				}
				if err != nil {
					t.errs++
					if t.first == nil {
						t.first = err
					}
					continue
				}
				t.lat = append(t.lat, ended.Sub(began))
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
	r.Elapsed = measure
	if ctx.Err() != nil { // cancelled early
		end := time.Now()
		if end.After(until) {
			end = until
		}
		r.Elapsed = max(end.Sub(from), 0)
	}
	return r
}
