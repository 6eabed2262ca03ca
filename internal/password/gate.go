package password

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is Gate.Enter's answer when the hashes waiting have filled the
// queue, or a wait lasted too long: callers answer 503 with Retry-After.
var ErrBusy = errors.New("password: too many password hashes in progress")

// Gate bounds the password hashes computed at once. An argon2id hash
// holds 19 MiB and a core for tens of milliseconds; more of them at once
// than there are cores only add memory and latency (and garbage to
// collect), so a Gate lets a number of hashes run, queues a bounded number
// more for a bounded time, and refuses the rest at once. A Gate is safe
// for concurrent use.
type Gate struct {
	slots  chan struct{}
	queued atomic.Int64
	queue  int64
	wait   time.Duration
}

// NewGate returns a Gate that runs slots hashes at once (at least one) and
// queues up to queue more, each for at most wait.
func NewGate(slots, queue int, wait time.Duration) *Gate {
	return &Gate{slots: make(chan struct{}, max(slots, 1)), queue: int64(max(queue, 0)), wait: wait}
}

// DefaultGate returns a Gate with a slot per core the Go scheduler uses
// (GOMAXPROCS) and room for 32 waiting hashes per slot, each for at most
// two seconds: about as many as a slot hashes in a second, so that the
// slots stay busy under a burst while a queued login waits well under
// its bound.
func DefaultGate() *Gate {
	n := runtime.GOMAXPROCS(0)
	return NewGate(n, 32*n, 2*time.Second)
}

// Enter waits for a slot and returns the function that gives it back,
// which must be called once the hash is done (calling it again does
// nothing). It fails with ErrBusy when the queue is full or the wait
// ends, and with ctx's error when ctx ends first.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	default:
	}
	if g.queued.Add(1) > g.queue {
		g.queued.Add(-1)
		return nil, ErrBusy
	}
	defer g.queued.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Full reports whether Enter would refuse at once: every slot taken and
// the queue full. It is a hint (the answer may change the next moment),
// for callers that would otherwise do work before Enter only to undo it.
func (g *Gate) Full() bool {
	return len(g.slots) == cap(g.slots) && g.queued.Load() >= g.queue
}

func (g *Gate) releaser() func() {
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			<-g.slots
		}
	}
}
