package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/storagetest"
)

// openAt opens a Store on the database at u, closed at cleanup (before the
// schema pgtest.Schema registered is dropped).
func openAt(tb testing.TB, u string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, u)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a Store on a new schema.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	return openAt(tb, pgtest.Schema(tb))
}

func TestConformance(t *testing.T) {
	pgtest.URL(t) // skip (or fail) once, not in every subtest
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) })
}

func TestConcurrency(t *testing.T) {
	pgtest.URL(t) // skip (or fail) once, not in every subtest
	t.Parallel()
	storagetest.RunConcurrency(t, func(t *testing.T) storage.Store { return openTemp(t) })
}

// Fixtures of the tests below.

func testID(name string) string {
	h := sha256.Sum256([]byte("postgres-test:" + name))
	return hex.EncodeToString(h[:16])
}

func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// world is a tenant, an application and a user, named name.
type world struct {
	tenant api.Tenant
	app    storage.Application
	user   storage.User
}

func mustWorld(tb testing.TB, s storage.Store, name string) world {
	tb.Helper()
	ctx := context.Background()
	w := world{tenant: api.Tenant{ID: testID(name + "-tenant"), Name: name}}
	w.app = storage.Application{Application: api.Application{ID: testID(name + "-app"), TenantID: w.tenant.ID, Name: name}}
	w.user = storage.User{ID: testID(name + "-user"), TenantID: w.tenant.ID, Email: name + "@example.com",
		Password: storage.PasswordHash{Scheme: "x", Hash: "y"}, Active: true, Inserted: t0}
	if err := s.CreateTenant(ctx, w.tenant); err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	if err := s.CreateApplication(ctx, w.app); err != nil {
		tb.Fatalf("CreateApplication: %v", err)
	}
	if err := s.CreateUser(ctx, w.user); err != nil {
		tb.Fatalf("CreateUser: %v", err)
	}
	return w
}

func session(w world, name string) storage.Session {
	return storage.Session{ID: testID(name), TenantID: w.tenant.ID, UserID: w.user.ID, ApplicationID: w.app.ID,
		TokenHash: sum(name + "/0"), Inserted: t0, StartInstant: t0, ExpiresAt: t0.Add(24 * time.Hour),
		AuthenticationType: api.AuthPassword}
}

func rotation(name string, n int) storage.Rotation {
	when := t0.Add(time.Duration(n) * time.Second)
	return storage.Rotation{TokenHash: sum(fmt.Sprintf("%s/%d", name, n)), SealedSuccessor: []byte("sealed"),
		RotatedAt: when, StartInstant: when, ExpiresAt: when.Add(24 * time.Hour), LastUsed: when}
}

// TestTwoNodes runs two Stores on one schema, as two Latch nodes on one
// database: they migrate at once, see each other's writes at once, and
// concurrent rotations of one refresh token spread over both have exactly
// one winner.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	nodes := make([]*Store, 2)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i] = openAt(t, u) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	a, b := nodes[0], nodes[1]
	ctx := t.Context()

	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Errorf("schema_migrations has %d rows after two concurrent Opens, want %d", applied, len(ms))
	}

	// Writes on one node are visible on the other at once.
	w := mustWorld(t, a, "w")
	got, err := b.GetUserByEmail(ctx, w.tenant.ID, "W@EXAMPLE.COM")
	if err != nil || got.ID != w.user.ID {
		t.Fatalf("node b: GetUserByEmail of a user node a created = %v, %v", got.ID, err)
	}
	x := session(w, "s")
	if err := b.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	if _, m, err := a.FindSession(ctx, x.TokenHash); err != nil || m != storage.MatchCurrent {
		t.Fatalf("node a: FindSession of a session node b created: %v, %v", m, err)
	}
	if err := a.RotateSession(ctx, x.ID, x.TokenHash, rotation("s", 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.RotateSession(ctx, x.ID, x.TokenHash, rotation("s", 2)); !errors.Is(err, storage.ErrStale) {
		t.Fatalf("node b: RotateSession with the value node a replaced: err = %v, want ErrStale", err)
	}
	if _, m, err := b.FindSession(ctx, x.TokenHash); err != nil || m != storage.MatchPrevious {
		t.Fatalf("node b: FindSession of the value node a replaced: %v, %v", m, err)
	}
	presented := sum("s/1")
	generation := 1

	// 16 goroutines over the two nodes rotate one value: one winner.
	const racers = 16
	for round := range 3 {
		errs := make([]error, racers)
		rots := make([]storage.Rotation, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			rots[i] = rotation("s", 100*(round+1)+i)
			wg.Go(func() {
				<-start
				errs[i] = nodes[i%2].RotateSession(ctx, x.ID, presented, rots[i])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("round %d: racers %d and %d both won", round, winner, i)
				}
				winner = i
			case !errors.Is(err, storage.ErrStale):
				t.Errorf("round %d: racer %d: err = %v, want nil or ErrStale", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer won", round)
		}
		generation++
		for _, n := range nodes {
			got, m, err := n.FindSession(ctx, rots[winner].TokenHash)
			if err != nil || m != storage.MatchCurrent || got.Generation != generation {
				t.Fatalf("round %d: FindSession of the winner's value: %v, generation %d, %v", round, m, got.Generation, err)
			}
			if _, m, err := n.FindSession(ctx, presented); err != nil || m != storage.MatchPrevious {
				t.Fatalf("round %d: FindSession of the raced value: %v, %v", round, m, err)
			}
		}
		presented = rots[winner].TokenHash
	}

	// A revocation on one node stops rotation on the other.
	if _, err := a.RevokeSessions(ctx, storage.SessionFilter{UserID: w.user.ID}, t0.Add(time.Hour), "logout"); err != nil {
		t.Fatal(err)
	}
	if err := b.RotateSession(ctx, x.ID, presented, rotation("s", 999)); !errors.Is(err, storage.ErrStale) {
		t.Errorf("node b: RotateSession of a session node a revoked: err = %v, want ErrStale", err)
	}
}

// TestTxCountsAcrossNodes increments one login-attempt count from two
// nodes, alone and inside transactions, as logins do: the row lock
// UpdateLoginAttempts takes loses no increment, and a new key's first
// increments on both nodes do not collide.
func TestTxCountsAcrossNodes(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	nodes := []*Store{openAt(t, u), openAt(t, u)}
	ctx := t.Context()
	w := mustWorld(t, nodes[0], "w")
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range each {
				inc := func(s storage.Store) error {
					_, err := s.UpdateLoginAttempts(ctx, w.tenant.ID, "k", func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
						a.Count++
						a.FirstAt, a.Expires = t0, t0.Add(time.Hour)
						return a, nil
					})
					return err
				}
				var err error
				if i%4 < 2 {
					err = inc(nodes[i%2])
				} else {
					err = nodes[i%2].Tx(ctx, func(tx storage.Store) error { return inc(tx) })
				}
				if err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	f, err := nodes[1].GetLoginAttempts(ctx, w.tenant.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	if f.Count != workers*each {
		t.Errorf("count %d after %d increments: updates lost", f.Count, workers*each)
	}
}

// TestTxGoesOnAfterRefusedWrite checks what PostgreSQL does not do by
// itself: a transaction in which a write was refused (ErrConflict,
// ErrNotFound for a missing reference) stays usable, as in SQLite, and a
// failed nested Tx leaves the outer one usable too.
func TestTxGoesOnAfterRefusedWrite(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	w := mustWorld(t, s, "w")

	dup := w.user
	dup.ID = testID("dup")
	dup.Email = "W@example.com"
	orphan := w.user
	orphan.ID, orphan.Email, orphan.TenantID = testID("orphan"), "orphan@example.com", testID("no-tenant")
	err := s.Tx(ctx, func(tx storage.Store) error {
		if err := tx.CreateTenant(ctx, api.Tenant{ID: testID("t2"), Name: "t2"}); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, dup); !errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("CreateUser with a taken email: err = %v, want ErrConflict", err)
		}
		// What identity.insertUser does next: find who holds the email.
		holder, err := tx.GetUserByEmail(ctx, w.tenant.ID, dup.Email)
		if err != nil {
			return fmt.Errorf("GetUserByEmail after a refused CreateUser: %w", err)
		}
		if holder.ID != w.user.ID {
			return fmt.Errorf("holder %s, want %s", holder.ID, w.user.ID)
		}
		if err := tx.CreateUser(ctx, orphan); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("CreateUser in a missing tenant: err = %v, want ErrNotFound", err)
		}
		errInner := errors.New("inner")
		err = tx.Tx(ctx, func(tx2 storage.Store) error {
			if err := tx2.PutMeta(ctx, "inner", "x"); err != nil {
				return err
			}
			if err := tx2.PutMeta(ctx, "inner", "y"); !errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("PutMeta twice: err = %v, want ErrConflict", err)
			}
			return errInner
		})
		if !errors.Is(err, errInner) {
			return fmt.Errorf("nested Tx: err = %v, want %v", err, errInner)
		}
		if _, err := tx.GetMeta(ctx, "inner"); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("write of a failed nested Tx: err = %v, want ErrNotFound", err)
		}
		return tx.PutMeta(ctx, "outer", "z")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTenant(ctx, testID("t2")); err != nil {
		t.Errorf("write before the refused ones was not committed: %v", err)
	}
	if v, err := s.GetMeta(ctx, "outer"); err != nil || v != "z" {
		t.Errorf("write after the refused ones: %q, %v", v, err)
	}
	if _, err := s.GetUser(ctx, dup.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused user: err = %v, want ErrNotFound", err)
	}
}

// TestTxConcurrentCalls makes calls on one transaction's Store from several
// goroutines, which the contract allows (every method is safe for
// concurrent use) and a pgx connection alone does not.
func TestTxConcurrentCalls(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	w := mustWorld(t, s, "w")
	err := s.Tx(ctx, func(tx storage.Store) error {
		var wg sync.WaitGroup
		var failed atomic.Int32
		for i := range 8 {
			wg.Go(func() {
				if err := tx.PutMeta(ctx, fmt.Sprint("k", i), "v"); err != nil {
					t.Errorf("PutMeta: %v", err)
					failed.Add(1)
				}
				if _, err := tx.GetUser(ctx, w.user.ID); err != nil {
					t.Errorf("GetUser: %v", err)
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if failed.Load() > 0 {
			return errors.New("calls failed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := s.GetMeta(ctx, fmt.Sprint("k", i)); err != nil {
			t.Errorf("GetMeta: %v", err)
		}
	}
}

// BenchmarkRotateSession measures RotateSession: one session rotated over
// and over (each rotation presenting the value the last one issued), and
// goroutines each rotating sessions of their own.
func BenchmarkRotateSession(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	w := mustWorld(b, s, "w")
	var sessions atomic.Int64 // names sessions across the framework's runs

	b.Run("Serial", func(b *testing.B) {
		name := fmt.Sprintf("serial-%d", sessions.Add(1))
		x := session(w, name)
		if err := s.CreateSession(ctx, x); err != nil {
			b.Fatal(err)
		}
		presented, n := x.TokenHash, 0
		for b.Loop() {
			n++
			r := rotation(name, n)
			if err := s.RotateSession(ctx, x.ID, presented, r); err != nil {
				b.Fatal(err)
			}
			presented = r.TokenHash
		}
	})

	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			name := fmt.Sprintf("parallel-%d", sessions.Add(1))
			x := session(w, name)
			if err := s.CreateSession(ctx, x); err != nil {
				b.Error(err)
				return
			}
			presented, n := x.TokenHash, 0
			for pb.Next() {
				n++
				r := rotation(name, n)
				if err := s.RotateSession(ctx, x.ID, presented, r); err != nil {
					b.Error(err)
					return
				}
				presented = r.TokenHash
			}
		})
	})
}

// TestLockoutAcrossNodes runs the lockout's rule for 50 parallel attempts
// of one login ID on two nodes: at most the threshold's checks are granted
// however the attempts interleave, the rest are crowded out, and only the
// granted checks' failures lock the login ID; the same attempts with the
// right password (each giving its slot back) lock nothing.
func TestLockoutAcrossNodes(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	nodes := []*Store{openAt(t, u), openAt(t, u)}
	ctx := t.Context()
	w := mustWorld(t, nodes[0], "w")
	policy := lockout.Policy{Threshold: 5, Window: time.Minute, Duration: 3 * time.Minute}
	for _, tc := range []struct {
		key    string
		finish func(a, reserved storage.LoginAttempts) storage.LoginAttempts
		locked bool
	}{
		{"wrong", func(a, reserved storage.LoginAttempts) storage.LoginAttempts { return policy.Fail(a, reserved, t0) }, true},
		{"right", func(a, reserved storage.LoginAttempts) storage.LoginAttempts { return policy.Release(a, reserved) }, false},
	} {
		const attempts = 50
		var granted atomic.Int64
		var reserved [attempts]storage.LoginAttempts
		var ok [attempts]bool
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Go(func() {
				r, err := nodes[i%2].UpdateLoginAttempts(ctx, w.tenant.ID, tc.key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
					var v lockout.Verdict
					a, v = policy.Reserve(a, t0)
					ok[i] = v == lockout.Granted
					return a, nil
				})
				if err != nil {
					t.Errorf("reserve: %v", err)
				}
				reserved[i] = r
				if ok[i] {
					granted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := granted.Load(); n != int64(policy.Threshold) {
			t.Errorf("%s: %d of %d parallel attempts on two nodes granted, want %d", tc.key, n, attempts, policy.Threshold)
		}
		for i := range attempts {
			if !ok[i] {
				continue
			}
			if _, err := nodes[(i+1)%2].UpdateLoginAttempts(ctx, w.tenant.ID, tc.key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
				return tc.finish(a, reserved[i]), nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := nodes[0].GetLoginAttempts(ctx, w.tenant.ID, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if a.InFlight != 0 || policy.Locked(a, t0) != tc.locked {
			t.Errorf("%s: after the checks %+v; want none in flight, locked %v", tc.key, a, tc.locked)
		}
	}
}
