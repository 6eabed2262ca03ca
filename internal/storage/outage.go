package storage

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultOutageSummary is how often, at most, Outage logs that an outage
// goes on.
const DefaultOutageSummary = time.Minute

// Outage follows the store's availability from the outcome of its calls
// (WithDeadlines reports them) and the requests refused because of it
// (Refused), and tells the log about it in a few lines rather than one per
// failed request: one error when an outage starts, with its first cause;
// while it lasts, at most one error per summary interval with how long it
// has lasted and how many requests were refused; and one line when it
// ends, with its duration and the counts. Reads and writes are followed
// apart: a database that serves reads but refuses writes (a full disk) is
// down until a write succeeds, and a successful read does not end that.
//
// A nil *Outage does nothing. An Outage is safe for concurrent use; its
// methods cost an atomic load while the store is up.
type Outage struct {
	log   *slog.Logger
	now   func() time.Time
	every time.Duration

	down atomic.Bool // readsDown || writesDown

	mu                    sync.Mutex
	readsDown, writesDown bool
	since, summarized     time.Time
	failed, refused       int64
}

// NewOutage returns an Outage that logs to log (slog.Default when nil),
// by the clock now (time.Now when nil), with a summary at most every
// interval (DefaultOutageSummary when not positive).
func NewOutage(log *slog.Logger, now func() time.Time, every time.Duration) *Outage {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	if every <= 0 {
		every = DefaultOutageSummary
	}
	return &Outage{log: log, now: now, every: every}
}

// Down reports whether an outage is going on.
func (o *Outage) Down() bool { return o != nil && o.down.Load() }

// Refused counts a request answered "unavailable" because of the outage.
// Outside an outage (one that ended meanwhile) it does nothing.
func (o *Outage) Refused() {
	if !o.Down() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.readsDown || o.writesDown {
		o.refused++
		o.summarize(o.now())
	}
}

// access says what a call did: a failed write does not make reads
// unavailable, nor a successful read writes available.
type access int

const (
	reading access = iota
	writing
)

// observe records the outcome of a call: ErrUnavailable is a failure; no
// error, or one of the store's answers (ErrNotFound, ErrConflict,
// ErrStale), is a success; other errors (a cancelled context, a caller's
// own error out of a Tx function) say nothing about the database.
func (o *Outage) observe(a access, err error) {
	if o == nil {
		return
	}
	switch {
	case errors.Is(err, ErrUnavailable):
		o.fail(a, err)
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrStale):
		if o.down.Load() {
			o.recover(a)
		}
	}
}

func (o *Outage) fail(a access, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if !o.readsDown && !o.writesDown {
		o.since, o.summarized, o.failed, o.refused = now, now, 0, 0
		o.log.Error("storage unavailable: requests that need it are answered 503 until it recovers",
			"access", a.String(), "err", err)
		o.down.Store(true)
	}
	if a == reading {
		o.readsDown = true
	} else {
		o.writesDown = true
	}
	o.failed++
	o.summarize(now)
}

func (o *Outage) recover(a access) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.readsDown && !o.writesDown {
		return
	}
	// A write that commits proves reads too; a read proves only reads.
	o.readsDown = false
	if a == writing {
		o.writesDown = false
	}
	if o.writesDown {
		return
	}
	o.down.Store(false)
	o.log.Info("storage available again", "after", o.now().Sub(o.since).Round(time.Millisecond),
		"refused", o.refused, "failedCalls", o.failed)
}

// summarize logs that the outage goes on, if the last such line (or its
// start) is an interval old. Called with mu held.
func (o *Outage) summarize(now time.Time) {
	if now.Sub(o.summarized) < o.every {
		return
	}
	o.summarized = now
	o.log.Error("storage still unavailable", "for", now.Sub(o.since).Round(time.Second),
		"refused", o.refused, "failedCalls", o.failed, "writesOnly", !o.readsDown)
}

func (a access) String() string {
	if a == reading {
		return "read"
	}
	return "write"
}
