package guard

import (
	"context"
	"sync"
	"time"
)

// defaultMaxRevocations is how many records (revocations and remembered
// event ids together) a MemoryRevocationStore holds at most by default.
const defaultMaxRevocations = 100_000

// DefaultRevocationTTL is how long a revocation is kept when its event
// names no access-token lifetime (applicationTimeToLiveInSeconds).
const DefaultRevocationTTL = 24 * time.Hour

// Scope is what a revocation covers: exactly one session (SessionID, the
// JWT's sid), all of a user (UserID), all of an application
// (ApplicationID), or a user's tokens for one application (UserID and
// ApplicationID). It is comparable, so it can key a map.
type Scope struct {
	SessionID     string
	UserID        string
	ApplicationID string
}

// Revocation is one revocation, from a jwt.refresh-token.revoke event.
type Revocation struct {
	Scope
	// At is when the tokens were revoked (the event's createInstant). A
	// session's tokens are refused whatever their iat; a user's or an
	// application's are refused when issued at or before At (iat, in whole
	// seconds, at most At's second), so that tokens of a later login pass.
	// When the event lists the sessions it revoked, each has a record of
	// its own and At is the second before the event's, so that a login in
	// the event's own second passes too.
	At time.Time
	// Until is when the record may be dropped: every token it covers has
	// expired by then (At plus the access-token lifetime, plus the leeway).
	Until time.Time
}

// RevocationStore keeps the revocations guard learnt from events, and the
// ids of the events it applied, for as long as they matter. The in-memory
// default (MemoryRevocationStore) serves one process. A backend with
// several instances behind one webhook URL receives each event on one
// instance only: its instances must share a store (an implementation over
// Redis or their database, say), or each instance must be a webhook of its
// own (its own URL) so that each receives every event. Methods are called
// concurrently; Lookup is on the path of every request, so it should be
// fast (a local cache that the events refresh is fine).
type RevocationStore interface {
	// Add records r. Recording a scope again keeps the later At and the
	// later Until. Records may be dropped once Until has passed.
	Add(ctx context.Context, r Revocation) error
	// Lookup returns the records of the given scopes (exact matches) whose
	// Until has not passed.
	Lookup(ctx context.Context, scopes []Scope) ([]Revocation, error)
	// Seen reports whether the event with the id was recorded with
	// MarkSeen and not yet dropped.
	Seen(ctx context.Context, eventID string) (bool, error)
	// MarkSeen records that the event with the id was applied; the record
	// may be dropped after until.
	MarkSeen(ctx context.Context, eventID string, until time.Time) error
}

// MemoryRevocationStoreConfig configures a MemoryRevocationStore.
type MemoryRevocationStoreConfig struct {
	// MaxEntries bounds the records held; defaultMaxRevocations when zero.
	MaxEntries int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// MemoryRevocationStore is a RevocationStore in this process's memory,
// bounded: records are dropped once expired, and when MaxEntries records
// are in force, Add and MarkSeen fail with an error of kind ErrUnavailable rather
// than forget a revocation early. It is safe for concurrent use.
type MemoryRevocationStore struct {
	max int
	now func() time.Time

	mu      sync.RWMutex
	revs    map[Scope]Revocation
	seen    map[string]time.Time
	sweptAt time.Time
}

var _ RevocationStore = (*MemoryRevocationStore)(nil)

// sweepEvery is how often Add and MarkSeen drop expired records even when
// the store is not full.
const sweepEvery = time.Minute

// NewMemoryRevocationStore returns an empty MemoryRevocationStore.
func NewMemoryRevocationStore(cfg MemoryRevocationStoreConfig) *MemoryRevocationStore {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = defaultMaxRevocations
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryRevocationStore{max: cfg.MaxEntries, now: cfg.Now, revs: map[Scope]Revocation{}, seen: map[string]time.Time{}}
}

// Len returns how many records (revocations and event ids) the store holds.
func (m *MemoryRevocationStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.revs) + len(m.seen)
}

// roomLocked makes room for one more record: it drops the expired records
// when the store is full or was not swept for a while, and reports
// errRevocationStoreFull when it is still full. m.mu is held.
func (m *MemoryRevocationStore) roomLocked() error {
	now := m.now()
	full := len(m.revs)+len(m.seen) >= m.max
	if full || now.Sub(m.sweptAt) >= sweepEvery {
		for k, r := range m.revs {
			if !now.Before(r.Until) {
				delete(m.revs, k)
			}
		}
		for id, until := range m.seen {
			if !now.Before(until) {
				delete(m.seen, id)
			}
		}
		m.sweptAt = now
	}
	if len(m.revs)+len(m.seen) >= m.max {
		return errRevocationStoreFull
	}
	return nil
}

// Add implements RevocationStore.
func (m *MemoryRevocationStore) Add(_ context.Context, r Revocation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.revs[r.Scope]; ok {
		if old.At.After(r.At) {
			r.At = old.At
		}
		if old.Until.After(r.Until) {
			r.Until = old.Until
		}
		m.revs[r.Scope] = r
		return nil
	}
	if err := m.roomLocked(); err != nil {
		return err
	}
	m.revs[r.Scope] = r
	return nil
}

// Lookup implements RevocationStore.
func (m *MemoryRevocationStore) Lookup(_ context.Context, scopes []Scope) ([]Revocation, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.revs) == 0 {
		return nil, nil
	}
	now := m.now()
	var out []Revocation
	for _, s := range scopes {
		if r, ok := m.revs[s]; ok && now.Before(r.Until) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Seen implements RevocationStore.
func (m *MemoryRevocationStore) Seen(_ context.Context, eventID string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	until, ok := m.seen[eventID]
	return ok && m.now().Before(until), nil
}

// MarkSeen implements RevocationStore.
func (m *MemoryRevocationStore) MarkSeen(_ context.Context, eventID string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.seen[eventID]; ok {
		if until.After(old) {
			m.seen[eventID] = until
		}
		return nil
	}
	if err := m.roomLocked(); err != nil {
		return err
	}
	m.seen[eventID] = until
	return nil
}
