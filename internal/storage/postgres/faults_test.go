package postgres

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/latchid/latch/internal/faultproxy"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/storage"
)

// Faults of a real PostgreSQL, made by a proxy in front of it
// (internal/faultproxy): a server that stops answering, one that dies,
// one that never answers a new connection.

// openProxied opens a Store on a new schema through a proxy, with the
// URL's extra parameters (key, value pairs).
func openProxied(t *testing.T, params ...string) (*Store, *faultproxy.Proxy) {
	t.Helper()
	u := pgtest.Schema(t)
	p := faultproxy.Start(t, pgtest.Addr(t, u))
	u = pgtest.Via(t, u, p.Addr())
	for i := 0; i+1 < len(params); i += 2 {
		u = pgtest.WithParam(u, params[i], params[i+1])
	}
	return openAt(t, u), p
}

// within runs call and fails t unless it returns ErrUnavailable before
// limit (a bound generous enough for a loaded machine).
func within(t *testing.T, what string, limit time.Duration, call func() error) {
	t.Helper()
	start := time.Now()
	err := call()
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("%s: %v, want ErrUnavailable", what, err)
	}
	if d := time.Since(start); d > limit {
		t.Errorf("%s answered after %v, want within %v", what, d, limit)
	}
}

// A server that stops answering: every call gives up at its deadline
// with ErrUnavailable, reads, writes and transactions alike; the store
// serves again once the server answers.
func TestFrozenServer(t *testing.T) {
	t.Parallel()
	s, p := openProxied(t)
	w := storage.WithDeadlines(s, 500*time.Millisecond, nil)
	ctx := t.Context()
	if err := w.PutMeta(ctx, "before", "x"); err != nil {
		t.Fatal(err)
	}
	p.Freeze()
	calls := map[string]func() error{
		"GetMeta": func() error { _, err := w.GetMeta(ctx, "before"); return err },
		"PutMeta": func() error { return w.PutMeta(ctx, "frozen", "x") },
		"Tx": func() error {
			return w.Tx(ctx, func(tx storage.Store) error { return tx.PutMeta(ctx, "frozen-tx", "x") })
		},
		"Ping":       func() error { return w.Ping(ctx) },
		"ProbeWrite": func() error { return w.ProbeWrite(ctx, time.Now()) },
	}
	for name, call := range calls {
		within(t, name+" on a frozen server", 4*time.Second, call)
	}
	// Without WithDeadlines, the caller's deadline does the same.
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	within(t, "GetUser with the caller's deadline", 4*time.Second, func() error { _, err := s.GetUser(dctx, testID("u")); return err })
	p.Thaw()
	if err := w.PutMeta(ctx, "after", "x"); err != nil {
		t.Fatalf("PutMeta once the server answers again: %v", err)
	}
}

// A server that died: calls fail at once (the connection is refused),
// without waiting for their deadline, and the store serves again when the
// server is back.
func TestDeadServer(t *testing.T) {
	t.Parallel()
	s, p := openProxied(t)
	w := storage.WithDeadlines(s, 10*time.Second, nil)
	ctx := t.Context()
	if err := w.PutMeta(ctx, "before", "x"); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	within(t, "GetMeta on a dead server", 3*time.Second, func() error { _, err := w.GetMeta(ctx, "before"); return err })
	within(t, "PutMeta on a dead server", 3*time.Second, func() error { return w.PutMeta(ctx, "dead", "x") })
	within(t, "Tx on a dead server", 3*time.Second, func() error {
		return w.Tx(ctx, func(tx storage.Store) error { return tx.PutMeta(ctx, "dead", "x") })
	})
	p.Revive(t)
	if err := w.PutMeta(ctx, "after", "x"); err != nil {
		t.Fatalf("PutMeta once the server is back: %v", err)
	}
}

// A server that accepts connections but never answers them: Open gives
// up after the connect timeout (DefaultConnectTimeout, or the URL's
// connect_timeout) with ErrUnavailable, even under a context without a
// deadline.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	for _, c := range []struct {
		url   string
		limit time.Duration
	}{
		{"postgres://latch@" + ln.Addr().String() + "/latch?sslmode=disable&connect_timeout=1", 4 * time.Second},
		{"postgres://latch@" + ln.Addr().String() + "/latch?sslmode=disable", DefaultConnectTimeout + 4*time.Second},
	} {
		start := time.Now()
		_, err := Open(context.Background(), c.url)
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("Open of %s: %v, want ErrUnavailable", c.url, err)
		}
		if d := time.Since(start); d > c.limit {
			t.Errorf("Open of %s gave up after %v, want within %v", c.url, d, c.limit)
		}
	}
}

// A rotation whose statement is held in the network when the call gives
// up must not commit when the network delivers it later: otherwise the
// client, answered "unavailable", retries with a value the session no
// longer has, and a one-time-use policy takes that for reuse. Outside a
// transaction RotateSession runs in one of its own, whose COMMIT is never
// sent.
func TestRotateSessionHeldInTheNetwork(t *testing.T) {
	t.Parallel()
	s, p := openProxied(t, "pool_max_conns", "1")
	ctx := t.Context()
	sess := session(mustWorld(t, s, "w"), "s")
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	next := rotation("s", 1)
	// Freeze as the UPDATE's parameters (the new hash among them) go out.
	p.FreezeWhen(func(b []byte) bool { return bytes.Contains(b, next.TokenHash) })
	ended := p.Ended()
	rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	within(t, "RotateSession held in the network", 4*time.Second, func() error {
		return s.RotateSession(rctx, sess.ID, sess.TokenHash, next)
	})
	if !p.Frozen() {
		t.Fatal("the rotation's statement never went out")
	}
	// The partition heals: the held statement, then the end of the
	// connection the store gave up, reach the server.
	p.Thaw()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for p.Ended() == ended {
		if time.Now().After(deadline) {
			t.Fatal("the server never saw the end of the abandoned connection")
		}
		<-tick.C
	}
	got, err := s.GetSession(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.TokenHash, sess.TokenHash) || got.Generation != sess.Generation {
		t.Fatalf("the rotation the caller gave up on committed when the network delivered it (generation %d)", got.Generation)
	}
	// And the client's retry rotates as it should.
	if err := s.RotateSession(ctx, sess.ID, sess.TokenHash, next); err != nil {
		t.Fatalf("the retry: %v", err)
	}
}

// A write inside a transaction whose context had already ended sends
// nothing, so there is no savepoint to roll back to: it is
// ErrUnavailable, and the transaction goes on with the writes that
// follow, as after any refused write.
func TestTxGoesOnAfterWriteWithEndedContext(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	ended, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.PutMeta(ended, "ended", "x"); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("PutMeta with an ended context: %v, want ErrUnavailable", err)
		}
		return tx.PutMeta(ctx, "after", "x")
	})
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	if _, err := s.GetMeta(ctx, "after"); err != nil {
		t.Errorf("the write after: %v", err)
	}
}
