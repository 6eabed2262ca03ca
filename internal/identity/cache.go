package identity

import (
	"context"
	"sync"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// DefaultCacheTTL is how long a tenant, an application or the signing-key
// ring read from the store serves the refresh and login paths before it
// is read again: the bound within which a change made on another node
// (through the same database) is in force on this one. A change made
// through this node is in force on it at once.
const DefaultCacheTTL = time.Second

// recordCache keeps the tenants and applications the refresh and login
// paths read, decoded, for at most ttl, measured on the Service's clock
// from the moment the read that filled an entry began: a change committed
// before that read is in it, and one committed after it is seen once the
// entry expires. A write through this node (see invalidating) clears the
// cache when it is attempted and again once its transaction has ended,
// and a read that began before a clearing is not kept, so no read of the
// old record outlives the write on this node.
//
// The records it returns are shared: callers read them and never modify
// them (their maps and slices included).
type recordCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by every clearing
	tenants map[string]cached[api.Tenant]
	apps    map[string]cached[storage.Application]
}

// cached is a record and when the read that got it began.
type cached[T any] struct {
	v  T
	at time.Time
}

func newRecordCache(ttl time.Duration, now func() time.Time) *recordCache {
	return &recordCache{ttl: ttl, now: now, tenants: map[string]cached[api.Tenant]{}, apps: map[string]cached[storage.Application]{}}
}

// clear drops every entry, and keeps out the results of reads begun before.
func (c *recordCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.tenants)
	clear(c.apps)
}

// through returns m[id] while fresh, else reads it with read and keeps it
// unless the cache was cleared meanwhile. Errors are not kept.
func through[T any](c *recordCache, m map[string]cached[T], id string, read func() (T, error)) (T, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		m[id] = cached[T]{v: v, at: now}
	}
	c.mu.Unlock()
	return v, nil
}

// cachedReads is a store whose GetTenant and GetApplication go through a
// recordCache; everything else goes to the store it wraps.
type cachedReads struct {
	storage.Store
	c *recordCache
}

// GetTenant returns the tenant from the cache, or the store.
func (r cachedReads) GetTenant(ctx context.Context, id string) (api.Tenant, error) {
	return through(r.c, r.c.tenants, id, func() (api.Tenant, error) { return r.Store.GetTenant(ctx, id) })
}

// GetApplication returns the application from the cache, or the store.
func (r cachedReads) GetApplication(ctx context.Context, id string) (storage.Application, error) {
	return through(r.c, r.c.apps, id, func() (storage.Application, error) { return r.Store.GetApplication(ctx, id) })
}

// reads returns s's store with cached reads of tenants and applications:
// for the refresh and login paths. In a transaction the reads go to the
// transaction, which must see its own writes.
func (s *Service) reads() storage.Store {
	if s.tx != nil || s.cache == nil {
		return s.store
	}
	return cachedReads{Store: s.store, c: s.cache}
}

// invalidating is a store whose writes of tenants, applications and
// signing keys clear the caches: when attempted, and again once the
// outermost transaction they are in has ended (committed or rolled back),
// so that a read on this node that began before the commit is not kept.
type invalidating struct {
	storage.Store
	c *recordCache
	k *keyRing
	// wrote, in a transaction, records a write of the kind the caches
	// hold; nil outside one.
	wrote *bool
}

// changed clears the caches, and marks the transaction, if any.
func (st invalidating) changed() {
	st.c.clear()
	st.k.invalidate()
	if st.wrote != nil {
		*st.wrote = true
	}
}

// Tx runs fn on the transaction's store, itself invalidating; after the
// outermost transaction, the caches are cleared if fn wrote what they hold.
func (st invalidating) Tx(ctx context.Context, fn func(tx storage.Store) error) error {
	if st.wrote != nil { // joins the outer transaction, which clears after it
		return st.Store.Tx(ctx, func(tx storage.Store) error {
			return fn(invalidating{Store: tx, c: st.c, k: st.k, wrote: st.wrote})
		})
	}
	wrote := false
	err := st.Store.Tx(ctx, func(tx storage.Store) error {
		return fn(invalidating{Store: tx, c: st.c, k: st.k, wrote: &wrote})
	})
	if wrote {
		st.c.clear()
		st.k.invalidate()
	}
	return err
}

// UpdateTenant clears the caches and updates the tenant.
func (st invalidating) UpdateTenant(ctx context.Context, t api.Tenant) error {
	defer st.changed()
	st.changed()
	return st.Store.UpdateTenant(ctx, t)
}

// DeleteTenant clears the caches and deletes the tenant.
func (st invalidating) DeleteTenant(ctx context.Context, id string) error {
	defer st.changed()
	st.changed()
	return st.Store.DeleteTenant(ctx, id)
}

// UpdateApplication clears the caches and updates the application.
func (st invalidating) UpdateApplication(ctx context.Context, a storage.Application) error {
	defer st.changed()
	st.changed()
	return st.Store.UpdateApplication(ctx, a)
}

// DeleteApplication clears the caches and deletes the application.
func (st invalidating) DeleteApplication(ctx context.Context, id string) error {
	defer st.changed()
	st.changed()
	return st.Store.DeleteApplication(ctx, id)
}

// CreateKey clears the caches and stores the key.
func (st invalidating) CreateKey(ctx context.Context, k storage.SigningKey) error {
	defer st.changed()
	st.changed()
	return st.Store.CreateKey(ctx, k)
}

// UpdateKey clears the caches and updates the key.
func (st invalidating) UpdateKey(ctx context.Context, k storage.SigningKey) error {
	defer st.changed()
	st.changed()
	return st.Store.UpdateKey(ctx, k)
}

// DeleteKey clears the caches and deletes the key.
func (st invalidating) DeleteKey(ctx context.Context, id string) error {
	defer st.changed()
	st.changed()
	return st.Store.DeleteKey(ctx, id)
}

var _ storage.Store = invalidating{}
