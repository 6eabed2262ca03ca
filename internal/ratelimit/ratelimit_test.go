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

// Check tells what Allow would, takes nothing, and tracks no new key.
func TestLimiter_Check(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := New(60, 2, c.Now) // one a second, bursts of two
	for i := range 5 {
		if ok, _ := l.Check(fmt.Sprint("unseen-", i)); !ok {
			t.Fatalf("Check of an unseen key refused")
		}
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Check tracked %d keys, want none", n)
	}
	for i := range 2 {
		if ok, _ := l.Check("a"); !ok {
			t.Fatalf("Check before event %d refused", i)
		}
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d refused: Check took one", i)
		}
	}
	ok, wait := l.Check("a")
	if ok || wait != time.Second {
		t.Errorf("Check of a spent key = %v, %v; want false, 1s", ok, wait)
	}
	c.Advance(time.Second)
	if ok, _ := l.Check("a"); !ok {
		t.Error("Check refused after a second refilled one")
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Error("Allow refused what Check allowed")
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
