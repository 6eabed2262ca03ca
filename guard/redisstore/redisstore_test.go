package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/dpop/replaytest"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/redisstore"
	"github.com/latchid/latch/guard/revocationtest"
	"github.com/latchid/latch/internal/redistest"
)

// client returns a client of the test Redis (redistest), closed at
// cleanup.
func client(tb testing.TB) *redis.Client { return redistest.Client(tb) }

// prefix returns a key prefix of the test's own, whose keys are deleted
// at cleanup.
func prefix(tb testing.TB, rdb *redis.Client) string {
	tb.Helper()
	var b [8]byte
	rand.Read(b[:])
	p := "latchtest:redisstore:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// The prefix is hex: no glob character to escape.
		iter := rdb.Scan(ctx, 0, p+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("cleanup: scan %s*: %v", p, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
				tb.Errorf("cleanup: del: %v", err)
				return
			}
			keys = keys[n:]
		}
	})
	return p
}

func TestRevocationStoreConformance(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) guard.RevocationStore {
		rdb := client(t)
		return redisstore.New(rdb, redisstore.Config{Prefix: prefix(t, rdb), Now: now})
	})
}

func TestReplayCacheConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T, now func() time.Time) dpop.ReplayCache {
		rdb := client(t)
		return redisstore.New(rdb, redisstore.Config{Prefix: prefix(t, rdb), Now: now})
	})
}

// Both suites on one Store, as a backend uses it: revocations, events and
// proofs do not mix.
func TestOneStoreForBoth(t *testing.T) {
	rdb := client(t)
	s := redisstore.New(rdb, redisstore.Config{Prefix: prefix(t, rdb)})
	ctx := t.Context()
	now := time.Now()
	if err := s.MarkSeen(ctx, "id", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.Use(ctx, "client", "id", now.Add(time.Minute))
	if err != nil || !fresh {
		t.Errorf("Use of a jti named like a seen event: %v, %v; want fresh", fresh, err)
	}
	if err := s.Add(ctx, guard.Revocation{Scope: guard.Scope{SessionID: "other"}, At: now, Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	fresh, err = s.Use(ctx, "client", "other", now.Add(time.Minute))
	if err != nil || !fresh {
		t.Errorf("Use of a jti named like a revoked session: %v, %v; want fresh", fresh, err)
	}
	if seen, err := s.Seen(ctx, "other"); err != nil || seen {
		t.Errorf("Seen of an id used as a jti and a session: %v, %v; want false", seen, err)
	}
}

func TestDefaultPrefix(t *testing.T) {
	s := redisstore.New(unreachable(t), redisstore.Config{})
	if s.Prefix() != redisstore.DefaultPrefix {
		t.Errorf("Prefix() = %q, want %q", s.Prefix(), redisstore.DefaultPrefix)
	}
}

// Every key the Store writes carries the prefix and a TTL: the time left
// by the Store's clock until the record's expiry (the later Until, for a
// revocation recorded twice), rounded up to the millisecond.
func TestKeysAndTTLs(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	// A clock ahead of the real time by a day: TTLs follow the Store's
	// clock, not Redis's.
	now := time.Now().Add(24 * time.Hour)
	s := redisstore.New(rdb, redisstore.Config{Prefix: p, Now: func() time.Time { return now }})
	ctx := t.Context()
	sc := guard.Scope{UserID: "u", ApplicationID: "a"}
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: now, Until: now.Add(10 * time.Minute)}))
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: now.Add(-time.Minute), Until: now.Add(20 * time.Minute)}))
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: now.Add(-time.Minute), Until: now.Add(5 * time.Minute)}))
	must(t, s.MarkSeen(ctx, "event-1", now.Add(30*time.Minute)))
	if _, err := s.Use(ctx, "client", "jti-1", now.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{
		p + `rev:"","u","a"`: 20 * time.Minute,
		p + "event:event-1":  30 * time.Minute,
		p + "dpop:jti-1":     90 * time.Second,
	}
	keys, err := rdb.Keys(ctx, p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(want) {
		t.Errorf("keys under the prefix: %q, want %d", keys, len(want))
	}
	for key, ttl := range want {
		got, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got > ttl || got < ttl-5*time.Second {
			t.Errorf("PTTL %s = %v, want about %v", key, got, ttl)
		}
	}
	got, err := s.Lookup(ctx, []guard.Scope{sc})
	if err != nil || len(got) != 1 || !got[0].At.Equal(now) || !got[0].Until.Equal(now.Add(20*time.Minute)) {
		t.Errorf("Lookup = %+v, %v", got, err)
	}
}

// Nothing is kept for a record that has expired on arrival.
func TestExpiredNotKept(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Config{Prefix: p})
	ctx := t.Context()
	past := time.Now().Add(-time.Second)
	must(t, s.Add(ctx, guard.Revocation{Scope: guard.Scope{SessionID: "s"}, At: past.Add(-time.Hour), Until: past}))
	must(t, s.MarkSeen(ctx, "event", past))
	if fresh, err := s.Use(ctx, "client", "jti", past); err != nil || !fresh {
		t.Errorf("Use with a past expiry: %v, %v", fresh, err)
	}
	if n, err := rdb.Exists(ctx, p+`rev:"s","",""`, p+"event:event", p+"dpop:jti").Result(); err != nil || n != 0 {
		t.Errorf("keys of expired records: %d, %v; want none", n, err)
	}
}

// Redis drops the keys in real time: with the real clock and short
// expiries, records go away of themselves.
func TestRealTimeExpiry(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Config{Prefix: p})
	ctx := t.Context()
	now := time.Now()
	until := now.Add(150 * time.Millisecond)
	sc := guard.Scope{SessionID: "brief"}
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: now, Until: until}))
	must(t, s.MarkSeen(ctx, "brief", until))
	if fresh, err := s.Use(ctx, "client", "brief", until); err != nil || !fresh {
		t.Fatalf("Use: %v, %v", fresh, err)
	}
	// Redis expires the keys by its own clock: wait for it, a few seconds
	// at most.
	keys := []string{p + `rev:"brief","",""`, p + "event:brief", p + "dpop:brief"}
	deadline := until.Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := rdb.Exists(ctx, keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys 5s after their expiry; want none", n)
		}
		<-tick.C
	}
	if early := time.Until(until); early > 50*time.Millisecond { // Redis rounds to the millisecond
		t.Fatalf("the keys were gone %v before their expiry", early)
	}
	if got, err := s.Lookup(ctx, []guard.Scope{sc}); err != nil || len(got) != 0 {
		t.Errorf("Lookup after Until: %+v, %v", got, err)
	}
	if fresh, err := s.Use(ctx, "client", "brief", time.Now().Add(time.Minute)); err != nil || !fresh {
		t.Errorf("Use after expiry: %v, %v", fresh, err)
	}
}

// A record that is not the Store's own is an error, not a miss: the
// Store fails closed.
func TestMalformedRecord(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Config{Prefix: p})
	ctx := t.Context()
	sc := guard.Scope{UserID: "u"}
	for _, key := range []string{p + `rev:"","u",""`, p + "event:e", p + "dpop:j"} {
		must(t, rdb.Set(ctx, key, "garbage", time.Minute).Err())
	}
	now := time.Now()
	if _, err := s.Lookup(ctx, []guard.Scope{{SessionID: "x"}, sc}); err == nil {
		t.Error("Lookup of a malformed record: no error")
	}
	if err := s.Add(ctx, guard.Revocation{Scope: sc, At: now, Until: now.Add(time.Hour)}); err == nil {
		t.Error("Add over a malformed record: no error")
	}
	if _, err := s.Seen(ctx, "e"); err == nil {
		t.Error("Seen of a malformed record: no error")
	}
	if err := s.MarkSeen(ctx, "e", now.Add(time.Hour)); err == nil {
		t.Error("MarkSeen over a malformed record: no error")
	}
	if fresh, err := s.Use(ctx, "client", "j", now.Add(time.Minute)); err == nil || fresh {
		t.Errorf("Use over a malformed record: %v, %v; want an error", fresh, err)
	}
}

// Times keep their nanoseconds, and times far apart compare right (as
// (seconds, nanoseconds) pairs, not as one float).
func TestTimePrecision(t *testing.T) {
	rdb := client(t)
	s := redisstore.New(rdb, redisstore.Config{Prefix: prefix(t, rdb)})
	ctx := t.Context()
	now := time.Now()
	sc := guard.Scope{SessionID: "ns"}
	at := time.Unix(now.Unix(), 123456789)
	until := time.Unix(now.Unix()+3600, 987654321)
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: at, Until: until}))
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: at.Add(-time.Nanosecond), Until: until.Add(-time.Nanosecond)}))
	got, err := s.Lookup(ctx, []guard.Scope{sc})
	if err != nil || len(got) != 1 || !got[0].At.Equal(at) || !got[0].Until.Equal(until) {
		t.Fatalf("Lookup = %+v, %v; want At %v, Until %v", got, err, at, until)
	}
	must(t, s.Add(ctx, guard.Revocation{Scope: sc, At: at.Add(time.Nanosecond), Until: until.Add(time.Nanosecond)}))
	got, err = s.Lookup(ctx, []guard.Scope{sc})
	if err != nil || len(got) != 1 || !got[0].At.Equal(at.Add(time.Nanosecond)) || !got[0].Until.Equal(until.Add(time.Nanosecond)) {
		t.Fatalf("Lookup after a nanosecond later = %+v, %v", got, err)
	}
	// Far future: a TTL of centuries.
	far := time.Date(2900, 1, 1, 0, 0, 0, 1, time.UTC)
	sc2 := guard.Scope{UserID: "far"}
	must(t, s.Add(ctx, guard.Revocation{Scope: sc2, At: now, Until: far}))
	got, err = s.Lookup(ctx, []guard.Scope{sc2})
	if err != nil || len(got) != 1 || !got[0].Until.Equal(far) {
		t.Fatalf("Lookup of a far Until = %+v, %v", got, err)
	}
}

// Two Stores over one Redis (two instances of a backend) share
// everything; two prefixes share nothing.
func TestInstancesShare(t *testing.T) {
	rdb := client(t)
	p := prefix(t, rdb)
	a := redisstore.New(rdb, redisstore.Config{Prefix: p})
	b := redisstore.New(client(t), redisstore.Config{Prefix: p})
	other := redisstore.New(rdb, redisstore.Config{Prefix: prefix(t, rdb)})
	ctx := t.Context()
	now := time.Now()
	r := guard.Revocation{Scope: guard.Scope{UserID: "u"}, At: now, Until: now.Add(time.Hour)}
	must(t, a.Add(ctx, r))
	must(t, a.MarkSeen(ctx, "e", r.Until))
	if fresh, err := a.Use(ctx, "client", "j", now.Add(time.Minute)); err != nil || !fresh {
		t.Fatalf("Use: %v, %v", fresh, err)
	}
	if got, err := b.Lookup(ctx, []guard.Scope{r.Scope}); err != nil || len(got) != 1 {
		t.Errorf("Lookup on the other instance: %+v, %v", got, err)
	}
	if seen, err := b.Seen(ctx, "e"); err != nil || !seen {
		t.Errorf("Seen on the other instance: %v, %v", seen, err)
	}
	if fresh, err := b.Use(ctx, "client", "j", now.Add(time.Minute)); err != nil || fresh {
		t.Errorf("replay on the other instance: fresh %v, %v", fresh, err)
	}
	if got, err := other.Lookup(ctx, []guard.Scope{r.Scope}); err != nil || len(got) != 0 {
		t.Errorf("Lookup under another prefix: %+v, %v", got, err)
	}
	if fresh, err := other.Use(ctx, "client", "j", now.Add(time.Minute)); err != nil || !fresh {
		t.Errorf("Use under another prefix: %v, %v", fresh, err)
	}
}

// With Redis unreachable, every method returns an error (and Use is not
// fresh). This test needs no Redis.
func TestUnreachable(t *testing.T) {
	rdb := unreachable(t)
	s := redisstore.New(rdb, redisstore.Config{})
	ctx := t.Context()
	now := time.Now()
	if err := s.Add(ctx, guard.Revocation{Scope: guard.Scope{UserID: "u"}, At: now, Until: now.Add(time.Hour)}); err == nil {
		t.Error("Add: no error")
	}
	if _, err := s.Lookup(ctx, []guard.Scope{{UserID: "u"}, {SessionID: "s"}}); err == nil {
		t.Error("Lookup: no error")
	}
	if _, err := s.Seen(ctx, "e"); err == nil {
		t.Error("Seen: no error")
	}
	if err := s.MarkSeen(ctx, "e", now.Add(time.Hour)); err == nil {
		t.Error("MarkSeen: no error")
	}
	fresh, err := s.Use(ctx, "client", "j", now.Add(time.Minute))
	if err == nil || fresh {
		t.Errorf("Use: %v, %v; want an error, not fresh", fresh, err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "redisstore: ") {
		t.Errorf("Use error %q: not prefixed", err)
	}
	// A canceled context: an error too.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := redisstore.New(rdb, redisstore.Config{}).Lookup(cctx, []guard.Scope{{UserID: "u"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup with a canceled context: %v", err)
	}
}

// unreachable returns a client of a port where no Redis listens, that
// gives up at once.
func unreachable(tb testing.TB) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
