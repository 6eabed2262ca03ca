// Package ratelimit limits requests per client: a token bucket
// (golang.org/x/time/rate) for each key, typically the client's address,
// with memory bounded by forgetting buckets that have refilled.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds the buckets kept; past it, refilled buckets are dropped
// and, if that is not enough, the oldest.
const maxKeys = 100_000

// Limiter allows each key Burst events at once and Rate events per second
// after that. It is safe for concurrent use.
type Limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a Limiter of perMinute events a minute per key, with bursts
// of burst. now is the clock (time.Now when nil).
func New(perMinute, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: rate.Limit(float64(perMinute) / 60), burst: burst, now: now, buckets: map[string]*bucket{}}
}

// Allow takes one event for key. When none is left it reports false and
// how long until one is: the Retry-After of a 429.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	return false, l.wait(b, now)
}

// Check reports what Allow would, without taking an event: whether key
// has one left now and, if not, how long until it has. A key Allow has not
// seen has its whole burst, and Check does not start tracking it, so
// checking keys costs no memory.
func (l *Limiter) Check(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok || b.lim.TokensAt(now) >= 1 {
		return true, 0
	}
	return false, l.wait(b, now)
}

// wait is how long until b has an event, at least a second (Retry-After
// counts whole seconds).
func (l *Limiter) wait(b *bucket, now time.Time) time.Duration {
	missing := 1 - b.lim.TokensAt(now)
	wait := time.Duration(math.Ceil(missing / float64(l.rate) * float64(time.Second)))
	return max(wait, time.Second)
}

// sweep drops the buckets that have refilled (they hold no memory of
// anything), then, if still full, the least recently seen half.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxKeys {
		return
	}
	var cutoff time.Time
	for _, b := range l.buckets {
		if cutoff.IsZero() || b.seen.Before(cutoff) {
			cutoff = b.seen
		}
	}
	cutoff = cutoff.Add(now.Sub(cutoff) / 2)
	for k, b := range l.buckets {
		if b.seen.Before(cutoff) {
			delete(l.buckets, k)
		}
	}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
