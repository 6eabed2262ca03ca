package httpapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/latchid/latch/internal/identity"
)

// GET /api/status answers whether Latch can serve: the database must
// answer (Ping) and accept a write (identity.Service.ProbeWrite, one
// small durable write), so that a database that serves reads but refuses
// writes, as a full disk does, is seen. The endpoint is anonymous: so that
// it cannot make Latch write at any rate, a check's result is reused for
// healthReuse after it ended, and concurrent requests wait for the check
// in progress rather than start their own.
const (
	// healthTimeout bounds one check, so that a load balancer's probe is
	// answered in time while the database does not answer.
	healthTimeout = 2 * time.Second
	// healthReuse is how long a check's result is reused.
	healthReuse = 2 * time.Second
)

// errNoWrites is the check's error when the database answers but does
// not take the probe's write.
var errNoWrites = errors.New("the database refuses writes")

// health is the status endpoint's check, with its last result.
type health struct {
	mu  sync.Mutex // held during a check: one at a time
	at  time.Time  // when the last check ended, by the service's clock
	err error
}

// check returns the result of a check that ended less than healthReuse ago
// (by the service's clock), or makes one.
func (h *health) check(ctx context.Context, id *identity.Service) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now := id.Now(); !h.at.IsZero() && !now.Before(h.at) && now.Sub(h.at) < healthReuse {
		return h.err
	}
	// Not the request's own end: a caller that gives up must not leave a
	// failed check for the others to reuse.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthTimeout)
	defer cancel()
	h.err = id.Ping(ctx)
	if h.err == nil {
		if err := id.ProbeWrite(ctx); err != nil {
			h.err = fmt.Errorf("%w: %w", errNoWrites, err)
		}
	}
	h.at = id.Now()
	return h.err
}
