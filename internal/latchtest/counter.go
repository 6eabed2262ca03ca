package latchtest

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Counter is an http.RoundTripper for the HTTP client of a Latch client
// under test (guard, the storefront): it counts the requests it sends, by
// "METHOD /path", and can hold calls to Latch's refresh API back so that
// concurrent requests surely overlap. The zero value is ready to use.
type Counter struct {
	// Base sends the requests; http.DefaultTransport when nil.
	Base http.RoundTripper

	mu           sync.Mutex
	counts       map[string]int
	refreshDelay time.Duration
}

// RoundTrip counts the request and sends it through Base.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[req.Method+" "+req.URL.Path]++
	delay := c.refreshDelay
	c.mu.Unlock()
	if req.URL.Path == "/api/jwt/refresh" && delay > 0 {
		time.Sleep(delay)
	}
	if c.Base != nil {
		return c.Base.RoundTrip(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// SetRefreshDelay makes the requests to /api/jwt/refresh sent from now on
// wait d before they go out.
func (c *Counter) SetRefreshDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshDelay = d
}

// N returns the count of one call, "METHOD /path".
func (c *Counter) N(call string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[call]
}

// Total returns the count of every request.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Counts returns a copy of the counts by call (nil when there are none).
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Reset forgets the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = nil
}
