package dpop

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the proofs a Verifier accepted, so that none is
// accepted twice (RFC 9449 §11.1).
//
// The Verifier calls Use only for a proof that passed every other check,
// and passes as jti not the proof's jti but a fixed-size hash of the
// proof key's thumbprint and the jti: an implementation stores the value
// as it comes, and one client's jtis cannot collide with another's.
//
// client names who the proof is charged to (Request.Client: the proof
// key's thumbprint, or the address of a client that has no verified
// access token to show). It is for accounting only: a jti is one record
// whatever client comes with it, and a cache may bound what each client
// holds, as MemoryReplayCache does, or ignore client.
//
// A cache serves the Verifiers that share it. Several backend instances
// (or Latch nodes) behind one URL must share one cache, for example a
// table or a Redis SET NX with an expiry, or a proof accepted by one can
// be replayed at another within the window.
type ReplayCache interface {
	// Use records jti until expires, atomically: fresh is true if jti was
	// not recorded or its record had expired, and false if it is already
	// recorded. When several calls race with the same jti, exactly one
	// sees fresh. An error means nothing is known; Verify then refuses
	// the proof.
	Use(ctx context.Context, client, jti string, expires time.Time) (fresh bool, err error)
}

// Defaults of a MemoryReplayCache.
const (
	// DefaultReplayCacheEntries is a MemoryReplayCache's MaxEntries unless
	// set: with the default one-minute window, room for over 1,500 proofs
	// a second.
	DefaultReplayCacheEntries = 100_000
	// DefaultReplayCacheShare is a MemoryReplayCache's MaxPerClient unless
	// set: with the default window, over 15 proofs a second from one
	// client, in bursts of up to a thousand; a hundred clients at their
	// share to fill the cache.
	DefaultReplayCacheShare = 1_000
)

// MemoryReplayCache is a ReplayCache in the process's memory, for one
// instance. Its zero value is ready to use; it is safe for concurrent use.
//
// It never forgets an unexpired record early (which would let that proof
// be replayed); it drops expired ones as it goes, and bounds what it
// holds instead by refusing to record more. Each client has a share:
// when a client holds MaxPerClient unexpired records, Use fails for that
// client alone with ErrTooManyProofs, so that one client sending proofs
// faster than any app does fills its own share, not the cache. When the
// cache holds MaxEntries unexpired records in all, Use fails for every
// client with ErrReplayCacheFull; that takes MaxEntries / MaxPerClient
// clients at their share at once. Either way the request fails, and no
// proof is accepted twice.
type MemoryReplayCache struct {
	// MaxEntries bounds the records held; zero means
	// DefaultReplayCacheEntries. Set it before first use.
	MaxEntries int
	// MaxPerClient bounds the records held for one client; zero means
	// DefaultReplayCacheShare. Set it before first use.
	MaxPerClient int
	// Now is the clock, which should be the Verifier's; nil means
	// time.Now. Set it before first use.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]time.Time
	clients map[string]int // unexpired records held, by client
	byExp   expiryHeap
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// Use implements ReplayCache. A record whose expiry has already passed is
// not kept, and Use reports it fresh. A jti already recorded is not fresh,
// whatever client it came with first; a new one is refused
// (ErrTooManyProofs) while client holds MaxPerClient records, and
// (ErrReplayCacheFull) while the cache holds MaxEntries.
func (c *MemoryReplayCache) Use(ctx context.Context, client, jti string, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evict(t)
	if _, seen := c.entries[jti]; seen {
		return false, nil
	}
	if !expires.After(t) {
		return true, nil
	}
	if c.clients[client] >= orDefault(c.MaxPerClient, DefaultReplayCacheShare) {
		return false, ErrTooManyProofs
	}
	if len(c.entries) >= orDefault(c.MaxEntries, DefaultReplayCacheEntries) {
		return false, ErrReplayCacheFull
	}
	if c.entries == nil {
		c.entries = make(map[string]time.Time)
		c.clients = make(map[string]int)
	}
	c.entries[jti] = expires
	c.clients[client]++
	heap.Push(&c.byExp, record{key: jti, client: client, expires: expires})
	return true, nil
}

// orDefault returns n, or def when n is not positive.
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// Len returns the number of records held, expired ones not yet dropped
// included.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// evict drops the records expired at t. Each key has one record in the
// heap: a key is inserted only when absent, and removed only here; so
// does each record count once for its client.
func (c *MemoryReplayCache) evict(t time.Time) {
	for len(c.byExp) > 0 && !c.byExp[0].expires.After(t) {
		r := heap.Pop(&c.byExp).(record)
		delete(c.entries, r.key)
		if n := c.clients[r.client] - 1; n > 0 {
			c.clients[r.client] = n
		} else {
			delete(c.clients, r.client)
		}
	}
}

// record is one key, the client it is charged to, and its expiry.
type record struct {
	key     string
	client  string
	expires time.Time
}

// expiryHeap orders records by expiry, soonest first.
type expiryHeap []record

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(record)) }
func (h *expiryHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = record{}
	*h = old[:len(old)-1]
	return r
}
