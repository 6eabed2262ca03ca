package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
	"github.com/latchid/latch/internal/storage/storagetest"
)

// openSQLite opens a SQLite store in a temporary directory, closed at
// cleanup.
func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// holdWriteLock has st take SQLite's write lock, as another process would,
// and returns the function that releases it and waits for st's
// transaction to commit.
func holdWriteLock(t *testing.T, st storage.Store) (release func()) {
	t.Helper()
	locked, rel, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- st.Tx(context.Background(), func(tx storage.Store) error {
			if err := tx.PutMeta(context.Background(), "other", "x"); err != nil {
				return err
			}
			close(locked)
			<-rel
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-done:
		t.Fatalf("taking the write lock: %v", err)
	}
	return func() {
		t.Helper()
		close(rel)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// WithDeadlines changes nothing a call does in time: the conformance
// suite passes through it.
func TestWithDeadlines_Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return storage.WithDeadlines(openSQLite(t, filepath.Join(t.TempDir(), "latch.db")), 0, nil)
	})
}

// A database that does not answer in time (here, one whose write lock
// another process holds) gives ErrUnavailable at the deadline, not when it
// answers; the outage is logged once when it starts and once when it ends.
func TestWithDeadlines_NoAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	other := openSQLite(t, path)
	logs := new(latchtest.LogBuffer)
	outage := storage.NewOutage(logs.Logger(), nil, 0)
	s := storage.WithDeadlines(openSQLite(t, path), 300*time.Millisecond, outage)
	ctx := t.Context()
	if err := s.PutMeta(ctx, "before", "x"); err != nil {
		t.Fatal(err)
	}

	// Another process takes the write lock and keeps it until released.
	release := holdWriteLock(t, other)
	for i, call := range []func() error{
		func() error { return s.PutMeta(ctx, "blocked", "x") },
		func() error {
			return s.Tx(ctx, func(tx storage.Store) error { return tx.PutMeta(ctx, "blocked", "x") })
		},
		func() error { return s.ProbeWrite(ctx, time.Now()) },
	} {
		start := time.Now()
		err := call()
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("call %d with the write lock held elsewhere: %v, want ErrUnavailable", i, err)
		}
		// busy_timeout is 5 s: an answer well before it is the deadline's.
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("call %d answered after %v, want about 300ms", i, d)
		}
	}
	if v, err := s.GetMeta(ctx, "before"); err != nil || v != "x" {
		t.Errorf("a read while writes are blocked: %q, %v", v, err)
	}
	if !outage.Down() {
		t.Error("the outage is not down")
	}
	release()
	if err := s.PutMeta(ctx, "after", "x"); err != nil {
		t.Fatalf("a write once the lock is released: %v", err)
	}
	if outage.Down() {
		t.Error("still down after a write worked")
	}
	if _, err := s.GetMeta(ctx, "blocked"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the writes that gave up: %v, want none written", err)
	}
	text := logs.String()
	if n := strings.Count(text, "level=ERROR"); n != 1 || !strings.Contains(text, "storage unavailable") {
		t.Errorf("log has %d errors, want 1 (the outage's start):\n%s", n, text)
	}
	if !strings.Contains(text, "storage available again") {
		t.Errorf("log lacks the end of the outage:\n%s", text)
	}
}

// Tx has one deadline, from start to commit: a transaction that outlives
// it rolls back and is ErrUnavailable, and the calls made on it after the
// deadline fail at once.
func TestWithDeadlines_TxAsAWhole(t *testing.T) {
	s := storage.WithDeadlines(openSQLite(t, filepath.Join(t.TempDir(), "latch.db")), 200*time.Millisecond, nil)
	ctx := t.Context()
	var late error
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.PutMeta(ctx, "early", "x"); err != nil {
			return err
		}
		// ctx has no deadline: wait for the transaction's own, probing
		// until a call fails.
		giveUp := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if late = tx.ProbeWrite(ctx, time.Now()); late != nil {
				return late
			}
			if time.Now().After(giveUp) {
				return errors.New("the transaction's deadline never came")
			}
			<-tick.C
		}
	})
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(late, storage.ErrUnavailable) {
		t.Errorf("Tx past its deadline: %v (the late call: %v), want ErrUnavailable", err, late)
	}
	if _, err := s.GetMeta(ctx, "early"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a write of the transaction that ran out of time: %v, want rolled back", err)
	}
	if got := storage.Unwrap(s); got == s {
		t.Error("Unwrap returned the wrapper")
	} else if _, ok := got.(*sqlite.Store); !ok {
		t.Errorf("Unwrap = %T, want *sqlite.Store", got)
	}
}
