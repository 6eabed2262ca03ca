package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// The checks of writes that arrive together, as a backend that commits
// them in groups (SQLite) sees them: each write's outcome is its own, and
// every acknowledged one is there afterwards.

// queueWindow is how long behindTx keeps its transaction open once every
// write has started, so that they queue behind it and, on a backend that
// groups writes, land in one group. The checks hold whatever the window:
// it decides only how many groups the writes make.
const queueWindow = 20 * time.Millisecond

// behindTx starts every call of calls at once while a transaction that
// wrote holds s's writer (SQLite's one write connection), lets it go once
// every call has started and queueWindow has passed, and returns the
// calls' errors.
func behindTx(t *testing.T, s storage.Store, calls []func() error) []error {
	t.Helper()
	ctx := withTimeout(t, time.Minute)
	held, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.Tx(ctx, func(tx storage.Store) error {
			if err := tx.PutMeta(ctx, "storagetest.hold", "held"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-txDone:
		t.Fatalf("the holding transaction: %v", err)
	}
	errs := make([]error, len(calls))
	var started, done sync.WaitGroup
	started.Add(len(calls))
	for i, call := range calls {
		done.Go(func() {
			started.Done()
			errs[i] = call()
		})
	}
	started.Wait()
	time.Sleep(queueWindow)
	close(release)
	if err := <-txDone; err != nil {
		t.Fatalf("the holding transaction: %v", err)
	}
	done.Wait()
	return errs
}

// testGroupDistinct rotates, touches and creates many distinct sessions
// at once: every write succeeds and every one is there afterwards.
func testGroupDistinct(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	const n = 4 * racers
	var xs, fresh []storage.Session
	var rots []storage.Rotation
	for i := range n {
		xs = append(xs, mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, fmt.Sprintf("s%d", i), t0)))
		rots = append(rots, rotation(fmt.Sprintf("s%d", i), 1, at(time.Minute)))
		fresh = append(fresh, sessionFixture(w.user, w.app.ID, fmt.Sprintf("new%d", i), at(time.Minute)))
	}
	touched := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "touched", t0))
	touch := storage.Touch{StartInstant: at(time.Minute), ExpiresAt: at(time.Hour), LastUsed: at(time.Minute)}
	var calls []func() error
	for i := range n {
		calls = append(calls,
			func() error { return s.RotateSession(ctx, xs[i].ID, xs[i].TokenHash, rots[i]) },
			func() error { return s.CreateSession(ctx, fresh[i]) })
	}
	calls = append(calls, func() error { return s.TouchSession(ctx, touched.ID, touch) })
	for i, err := range behindTx(t, s, calls) {
		if err != nil {
			t.Errorf("write #%d of %d distinct ones: %v", i, len(calls), err)
		}
	}
	for i := range n {
		mustEqual(t, "GetSession of a rotated one", rotated(xs[i], rots[i]), mustGetSession(t, s, xs[i].ID))
		mustFind(t, s, rots[i].TokenHash, storage.MatchCurrent)
		mustFind(t, s, xs[i].TokenHash, storage.MatchPrevious)
		mustEqual(t, "GetSession of a created one", fresh[i], mustGetSession(t, s, fresh[i].ID))
	}
	touched.StartInstant, touched.ExpiresAt, touched.LastUsed = touch.StartInstant, touch.ExpiresAt, touch.LastUsed
	touched.Device = touch.Device
	mustEqual(t, "GetSession of the touched one", touched, mustGetSession(t, s, touched.ID))
}

// testGroupOneValue rotates one value from many callers at once, among
// rotations of other sessions: exactly one of the one value's rotations
// succeeds, the others are ErrStale, and the other sessions' all succeed.
func testGroupOneValue(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "raced", t0))
	var others []storage.Session
	var calls []func() error
	rots := make([]storage.Rotation, racers)
	for i := range racers {
		rots[i] = rotation("raced", 1+i, at(time.Minute))
		calls = append(calls, func() error { return s.RotateSession(ctx, x.ID, x.TokenHash, rots[i]) })
		o := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, fmt.Sprintf("other%d", i), t0))
		others = append(others, o)
		calls = append(calls, func() error { return s.RotateSession(ctx, o.ID, o.TokenHash, rotation(o.ID, 1, at(time.Minute))) })
	}
	errs := behindTx(t, s, calls)
	var raced []error
	for i, err := range errs {
		if i%2 == 0 {
			raced = append(raced, err)
		} else if err != nil {
			t.Errorf("rotation of another session beside the race: %v", err)
		}
	}
	winner := oneWinner(t, "RotateSession of one value, queued together", raced, storage.ErrStale)
	if winner < 0 {
		t.FailNow()
	}
	mustEqual(t, "GetSession after the race", rotated(x, rots[winner]), mustGetSession(t, s, x.ID))
	for i, r := range rots {
		if i != winner {
			mustNotFind(t, s, "FindSession of a losing rotation's value", r.TokenHash)
		}
	}
	for _, o := range others {
		mustEqual(t, "GetSession of another session", rotated(o, rotation(o.ID, 1, at(time.Minute))), mustGetSession(t, s, o.ID))
	}
}

// testGroupFailures queues writes that fail on their own (a stale value,
// a session that does not exist, a new value that is another session's,
// a revoked session's touch, an id that exists) among writes that
// succeed: each fails with its own error and changes nothing, and the
// others all succeed.
func testGroupFailures(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	var good []storage.Session
	for i := range racers {
		good = append(good, mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, fmt.Sprintf("good%d", i), t0)))
	}
	stale := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "stale", t0))
	taken := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "taken", t0))
	gone := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "gone", t0))
	if _, err := s.RevokeSessions(ctx, storage.SessionFilter{ID: gone.ID}, at(time.Second), "test"); err != nil {
		t.Fatal(err)
	}
	gone = mustGetSession(t, s, gone.ID)
	clash := rotation("clash", 1, at(time.Minute))
	clash.TokenHash = taken.TokenHash

	failing := []struct {
		name string
		call func() error
		want error
	}{
		{"a stale value", func() error {
			return s.RotateSession(ctx, stale.ID, sum("not its value"), rotation("stale", 1, at(time.Minute)))
		}, storage.ErrStale},
		{"a missing session", func() error {
			return s.RotateSession(ctx, id("missing"), sum("missing/0"), rotation("missing", 1, at(time.Minute)))
		}, storage.ErrNotFound},
		{"another session's value", func() error { return s.RotateSession(ctx, stale.ID, stale.TokenHash, clash) }, storage.ErrConflict},
		{"a revoked session's touch", func() error {
			return s.TouchSession(ctx, gone.ID, storage.Touch{ExpiresAt: at(time.Hour), LastUsed: at(time.Minute)})
		}, storage.ErrStale},
		{"an id that exists", func() error { return s.CreateSession(ctx, sessionFixture(w.user, w.app.ID, "taken", t0)) }, storage.ErrConflict},
	}
	var calls []func() error
	for i := range good {
		calls = append(calls, func() error {
			return s.RotateSession(ctx, good[i].ID, good[i].TokenHash, rotation(good[i].ID, 1, at(time.Minute)))
		})
		if i < len(failing) {
			calls = append(calls, failing[i].call)
		}
	}
	errs := behindTx(t, s, calls)
	k := 0
	for i := range good {
		if errs[k] != nil {
			t.Errorf("rotation of a good session beside failing writes: %v", errs[k])
		}
		k++
		if i < len(failing) {
			checkErr(t, "a queued write of "+failing[i].name, errs[k], failing[i].want)
			k++
		}
	}
	for _, g := range good {
		mustEqual(t, "GetSession of a good session", rotated(g, rotation(g.ID, 1, at(time.Minute))), mustGetSession(t, s, g.ID))
	}
	mustEqual(t, "GetSession of the stale one", stale, mustGetSession(t, s, stale.ID))
	mustEqual(t, "GetSession of the one whose value was asked for", taken, mustGetSession(t, s, taken.ID))
	mustEqual(t, "GetSession of the revoked one", gone, mustGetSession(t, s, gone.ID))
	if _, err := s.GetSession(ctx, id("missing")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession of the missing one: %v, want ErrNotFound", err)
	}
}

// testGroupCancelledWaiter cancels a rotation while it waits behind a
// transaction that holds the writer (and, on PostgreSQL, the session's
// row): it returns at once with an error wrapping context.Canceled, the
// rotation is never made, and writes go on afterwards.
func testGroupCancelledWaiter(t *testing.T, s storage.Store) {
	live := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))
	touch := storage.Touch{StartInstant: x.StartInstant, ExpiresAt: x.ExpiresAt, LastUsed: at(time.Second), Device: x.Device}

	waiterCtx, cancel := context.WithCancel(live)
	defer cancel()
	waited := make(chan error, 1)
	err := s.Tx(live, func(tx storage.Store) error {
		if err := tx.TouchSession(live, x.ID, touch); err != nil {
			return err
		}
		go func() { waited <- s.RotateSession(waiterCtx, x.ID, x.TokenHash, rotation("s", 1, at(time.Minute))) }()
		time.Sleep(queueWindow) // most often, the rotation is waiting by now
		cancel()
		select {
		case err := <-waited:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("RotateSession cancelled while waiting: %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("RotateSession cancelled while waiting has not returned while the transaction holds the writer")
			return errors.New("waiter stuck")
		}
		return nil
	})
	mustOK(t, "the holding transaction", err)
	x.LastUsed = touch.LastUsed
	mustEqual(t, "GetSession after the cancelled rotation", x, mustGetSession(t, s, x.ID))
	mustNotFind(t, s, "FindSession of the cancelled rotation's value", rotation("s", 1, at(time.Minute)).TokenHash)

	next := rotation("s", 2, at(time.Minute))
	mustOK(t, "RotateSession after the cancelled one", s.RotateSession(live, x.ID, x.TokenHash, next))
	mustEqual(t, "GetSession after the next rotation", rotated(x, next), mustGetSession(t, s, x.ID))
}
