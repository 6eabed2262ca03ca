package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/latchid/latch/internal/storage"
)

// Group commit. With synchronous=FULL every commit costs an fsync, and one
// writer commits one transaction at a time, so committing each refresh's
// rotation on its own caps refreshes at the disk's fsync rate. Outside Tx,
// RotateSession, TouchSession and CreateSession therefore go through a
// committer: one goroutine that takes every such write waiting, runs them
// in one transaction in the order they arrived, each inside a SAVEPOINT of
// its own, commits once, and only then answers each caller with its own
// result. A write that fails on its own (ErrStale, ErrNotFound,
// ErrConflict, or any error that leaves the transaction usable) rolls back
// to its savepoint, and only itself; one that finds the database unable to
// write (ErrUnavailable), that leaves the transaction unusable (a failed
// savepoint) or that panics ends the group: the transaction rolls back and
// every write of the group is answered with that error, as is every write
// of a group whose commit fails. A write is acknowledged only after the
// commit that holds it, so what was acknowledged survives kill -9 and
// power loss as before; what a crash interrupts is rolled back whole.
//
// A caller whose ctx ends while its write waits gets ctx's error (a
// deadline as ErrUnavailable) at once. If its group had not yet taken the
// write, the write is never made. If it had, the write commits or rolls
// back with its group: that is the "commit whose answer was lost" of the
// storage package comment. Statements of a group run to completion under
// the committer's own context, never interrupted by one caller's: an
// interrupted UPDATE would roll back the whole transaction, other
// callers' writes with it.

// maxGroup bounds how many writes one transaction holds, so that a burst
// is answered in a few commits rather than waiting for one huge one.
const maxGroup = 256

// errClosed answers a grouped write made after Close.
var errClosed = errors.New("sqlite: store closed")

// The states of a groupedWrite.
const (
	waiting   int32 = iota // in the queue
	taken                  // a group runs it: it commits or rolls back with the group
	abandoned              // its caller left first: never run
)

// groupedWrite is one caller's write waiting for a group.
type groupedWrite struct {
	fn    func(ctx context.Context, q querier) error
	state atomic.Int32
	done  chan error // buffered: the committer never waits for the caller
}

// committer runs grouped writes on the write pool's one connection.
type committer struct {
	write *pool
	queue chan *groupedWrite
	quit  chan struct{}
	once  sync.Once // closes quit
	wg    sync.WaitGroup
	batch []*groupedWrite // the group being committed, reused
	// commits counts the groups committed, for tests.
	commits atomic.Int64
}

// newCommitter starts a committer on write; stop ends it.
func newCommitter(write *pool) *committer {
	c := &committer{write: write, queue: make(chan *groupedWrite, 4*maxGroup), quit: make(chan struct{})}
	c.wg.Go(c.run)
	return c
}

// stop ends the committer once the group it is committing, if any, is
// done. Calls after the first do nothing.
func (c *committer) stop() {
	c.once.Do(func() { close(c.quit) })
	c.wg.Wait()
}

// do runs fn in the next group and returns its result once the group
// committed, or ctx's error when ctx ends first (see Group commit).
func (c *committer) do(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	if err := ctx.Err(); err != nil {
		return mapErr(err)
	}
	w := &groupedWrite{fn: fn, done: make(chan error, 1)}
	select {
	case c.queue <- w:
	case <-ctx.Done():
		return mapErr(ctx.Err())
	case <-c.quit:
		return errClosed
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		// Not taken yet: never will be. Taken: the group decides, and
		// the answer is lost to this caller.
		w.state.CompareAndSwap(waiting, abandoned)
		return mapErr(ctx.Err())
	case <-c.quit:
		if w.state.CompareAndSwap(waiting, abandoned) {
			return errClosed
		}
		return <-w.done // its group is finishing
	}
}

// run commits groups until stop.
func (c *committer) run() {
	for {
		var first *groupedWrite
		select {
		case first = <-c.queue:
		case <-c.quit:
			return
		}
		c.commitGroup(first)
	}
}

// commitGroup begins a transaction (waiting for the write connection, while
// more writes queue), takes first and every write waiting by then, runs
// each in a savepoint, commits, and answers each.
func (c *committer) commitGroup(first *groupedWrite) {
	ctx := context.Background()
	tx, beginErr := c.write.BeginTx(ctx, nil)
	group := append(c.batch[:0], first)
drain:
	for len(group) < maxGroup {
		select {
		case w := <-c.queue:
			group = append(group, w)
		default:
			break drain
		}
	}
	defer func() {
		clear(group)
		c.batch = group[:0]
	}()
	if beginErr != nil {
		answerAll(group, fmt.Errorf("begin: %w", mapErr(beginErr)))
		return
	}

	q := &txQuerier{tx, c.write}
	errs := make([]error, len(group))
	ran := false
	for i, w := range group {
		if !w.state.CompareAndSwap(waiting, taken) {
			group[i] = nil // its caller has left
			continue
		}
		if err := c.runOne(ctx, q, w); err != nil {
			if !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, errAborted) {
				errs[i] = err
				continue
			}
			tx.Rollback()
			answerAll(group, err)
			return
		}
		ran = true
	}
	if !ran {
		// Nothing to commit: no fsync for writes that all failed.
		if err := tx.Rollback(); err != nil {
			answerAll(group, fmt.Errorf("rollback: %w", mapErr(err)))
			return
		}
	} else if err := tx.Commit(); err == nil {
		c.commits.Add(1)
	} else {
		commitErr := fmt.Errorf("commit: %w", mapErr(err))
		for i := range errs {
			if errs[i] == nil {
				errs[i] = commitErr
			}
		}
	}
	for i, w := range group {
		if w != nil {
			w.done <- errs[i]
		}
	}
}

// errAborted marks a failure that leaves a group's transaction unusable.
var errAborted = errors.New("sqlite: group aborted")

// runOne runs w inside a savepoint on q. w's own error comes back mapped,
// its changes rolled back; an error that leaves the transaction unusable
// wraps ErrUnavailable or errAborted.
func (c *committer) runOne(ctx context.Context, q querier, w *groupedWrite) error {
	if _, err := q.ExecContext(ctx, savepointSQL); err != nil {
		return abortErr(err)
	}
	err := runGuarded(ctx, q, w.fn)
	if err == nil {
		if _, err := q.ExecContext(ctx, releaseSQL); err != nil {
			return abortErr(err)
		}
		return nil
	}
	err = mapErr(err)
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, errAborted) {
		return err
	}
	if _, rerr := q.ExecContext(ctx, rollbackToSQL); rerr != nil {
		return abortErr(rerr)
	}
	if _, rerr := q.ExecContext(ctx, releaseSQL); rerr != nil {
		return abortErr(rerr)
	}
	return err
}

// runGuarded runs fn, a panic in it as an error that ends the group: the
// committer serves every caller and must outlive one write's bug.
func runGuarded(ctx context.Context, q querier, fn func(context.Context, querier) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: panic: %v", errAborted, p)
		}
	}()
	return fn(ctx, q)
}

// abortErr is err, which left a group's transaction unusable, mapped.
func abortErr(err error) error {
	err = mapErr(err)
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", errAborted, err)
}

// answerAll answers every write of group still waiting or taken with err.
func answerAll(group []*groupedWrite, err error) {
	for _, w := range group {
		if w == nil {
			continue
		}
		if w.state.CompareAndSwap(waiting, taken) || w.state.Load() == taken {
			w.done <- err
		}
	}
}

// The savepoint each grouped write runs in.
const (
	savepointSQL  = "SAVEPOINT grouped"
	releaseSQL    = "RELEASE grouped"
	rollbackToSQL = "ROLLBACK TO grouped"
)

// grouped runs fn in the Store's transaction inside Tx, else in the next
// group of the committer.
func (s *Store) grouped(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	if s.txq != nil {
		return fn(ctx, s.txq)
	}
	return s.group.do(ctx, fn)
}
