// Package fakeclock is a clock that moves only when told to: tests, and
// `latch demo`'s accelerated walk, hand its Now to the packages that take
// a clock function (Latch's server, the storefront, guard, the client
// SDK, the stores' conformance suites). It is safe for concurrent use.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a time that stands still until Advance or Set moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock that reads start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the clock to t, backwards or forwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
