package load

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 of 100", ms(hundred...), 100, 100 * time.Millisecond},
		{"p1 of 100", ms(hundred...), 1, time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestRunClosedLoop(t *testing.T) {
	// Each worker's calls must follow one another: a call that finds its
	// worker already busy means the loop is open.
	const workers = 4
	var busy [workers]atomic.Bool
	var overlap atomic.Bool
	var calls atomic.Int64
	ws := make([]Call, workers)
	for i := range ws {
		ws[i] = func(ctx context.Context) error {
			if !busy[i].CompareAndSwap(false, true) {
				overlap.Store(true)
			}
			defer busy[i].Store(false)
			n := calls.Add(1)
			time.Sleep(time.Millisecond)
			if n%10 == 0 {
				return errors.New("every tenth call fails")
			}
			return nil
		}
	}
	r := Run(context.Background(), ws, 20*time.Millisecond, 100*time.Millisecond)
	if overlap.Load() {
		t.Fatal("a worker's calls overlapped")
	}
	if r.Calls == 0 || r.Errors == 0 || r.FirstError == nil {
		t.Fatalf("Calls %d, Errors %d, FirstError %v: want both counted", r.Calls, r.Errors, r.FirstError)
	}
	// Every tenth call made failed; AllCalls counts every success made,
	// in the window or not.
	if total := int(calls.Load()); r.AllCalls != total-total/10 {
		t.Errorf("AllCalls %d of %d calls made, want %d", r.AllCalls, total, total-total/10)
	}
	if r.Calls > r.AllCalls {
		t.Errorf("Calls %d > AllCalls %d", r.Calls, r.AllCalls)
	}
	if len(r.Latencies) != r.Calls {
		t.Errorf("%d latencies for %d calls", len(r.Latencies), r.Calls)
	}
	for i := 1; i < len(r.Latencies); i++ {
		if r.Latencies[i] < r.Latencies[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
	if r.Latencies[0] < time.Millisecond {
		t.Errorf("fastest call %v, shorter than the call's own sleep", r.Latencies[0])
	}
	if r.Elapsed != 100*time.Millisecond {
		t.Errorf("Elapsed = %v, want the measured window", r.Elapsed)
	}
	if got, want := r.Throughput(), float64(r.Calls)/0.1; got != want {
		t.Errorf("Throughput = %v, want %v", got, want)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ws := []Call{func(ctx context.Context) error {
		cancel()
		return nil
	}}
	done := make(chan Result)
	go func() { done <- Run(ctx, ws, 0, time.Hour) }()
	select {
	case r := <-done:
		if r.Elapsed >= time.Hour {
			t.Errorf("Elapsed = %v after a cancel", r.Elapsed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestRunCountsCallsThatEndInTheWindow(t *testing.T) {
	// One worker whose calls take 60 ms, in a 100 ms window after 30 ms of
	// warm-up: the call begun in the warm-up ends at 60 ms (counted), the
	// next at 120 ms (counted), the one begun at 120 ms ends at 180 ms,
	// after the window (not counted, though it is made).
	var made atomic.Int64
	slow := func(ctx context.Context) error {
		made.Add(1)
		time.Sleep(60 * time.Millisecond)
		return nil
	}
	r := Run(context.Background(), []Call{slow}, 30*time.Millisecond, 100*time.Millisecond)
	if r.Calls != 2 {
		t.Errorf("Calls = %d, want 2 (the calls that ended in the window)", r.Calls)
	}
	if int(made.Load()) != 3 || r.AllCalls != 3 {
		t.Errorf("made %d calls, AllCalls %d; want 3", made.Load(), r.AllCalls)
	}
}

func TestRunCallContextEndsWithTheWindow(t *testing.T) {
	// A call that waits for a turn gives up when the window ends, and is
	// not counted; a detached call runs on.
	var gaveUp, detachedOK atomic.Bool
	waiter := func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			gaveUp.Store(true)
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return nil
		}
	}
	detached := func(ctx context.Context) error {
		time.Sleep(80 * time.Millisecond)
		if context.WithoutCancel(ctx).Err() == nil {
			detachedOK.Store(true)
		}
		return nil
	}
	began := time.Now()
	r := Run(context.Background(), []Call{waiter, detached}, 0, 50*time.Millisecond)
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("Run took %v: the waiting call was not released at the window's end", took)
	}
	if !gaveUp.Load() || !detachedOK.Load() {
		t.Errorf("waiter gave up %v, detached call ran on %v", gaveUp.Load(), detachedOK.Load())
	}
	if r.Errors != 0 {
		t.Errorf("Errors = %d: a call that ended after the window must not count", r.Errors)
	}
}
