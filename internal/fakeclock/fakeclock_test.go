package fakeclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	c := New(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", c.Now(), want)
	}
	c.Set(start.Add(-time.Hour))
	if want := start.Add(-time.Hour); !c.Now().Equal(want) {
		t.Errorf("after Set: %v, want %v", c.Now(), want)
	}
	// Concurrent use: every Advance counts.
	c.Set(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Advance(time.Second); _ = c.Now() })
	}
	wg.Wait()
	if want := start.Add(50 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after 50 concurrent Advances: %v, want %v", c.Now(), want)
	}
}
