package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/fakeclock"
)

func TestLimiter_BurstThenRate(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := New(60, 5, c.Now) // one a second, bursts of five
	for i := 0; i < 5; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok {
		t.Fatal("sixth event allowed")
	}
	if wait != time.Second {
		t.Errorf("retry after %v, want 1s", wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key was limited by the first")
	}
	c.Advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after a second refilled one token")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("allowed twice after one second")
	}
}

func TestLimiter_RetryAfterRoundsUp(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := New(6, 1, c.Now) // one every 10 s
	l.Allow("a")
	c.Advance(2500 * time.Millisecond)
	if _, wait := l.Allow("a"); wait != 7500*time.Millisecond {
		t.Errorf("retry after %v, want 7.5s", wait)
	}
}

func TestLimiter_SweepBoundsMemory(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := New(60, 1, c.Now)
	for i := 0; i < maxKeys; i++ {
		l.Allow(fmt.Sprint(i))
	}
	c.Advance(2 * time.Second) // every bucket has refilled
	l.Allow("new")
	if n := l.Len(); n != 1 {
		t.Errorf("%d keys after the sweep, want 1", n)
	}
}

func TestLimiter_Concurrent(t *testing.T) {
	l := New(60, 10, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.Allow("k"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed < 10 || allowed > 11 {
		t.Errorf("%d of 50 concurrent events allowed, want the burst of 10", allowed)
	}
}
