// Package revocationtest is a conformance suite for implementations of
// guard.RevocationStore: a store over Redis, a database or anything else
// runs the same checks as guard.MemoryRevocationStore, from its own test:
//
//	func TestConformance(t *testing.T) {
//		revocationtest.Run(t, func(t *testing.T, now func() time.Time) guard.RevocationStore {
//			return mystore.New(..., mystore.Config{Now: now}) // empty, cleaned up by t.Cleanup
//		})
//	}
//
// The suite controls time: the store it is handed must judge expiry (a
// revocation's Until, and MarkSeen's until) by the clock now, as guard's
// stores take guard.Config.Now. The clock starts at the real time, in
// whole milliseconds, and only moves forward, by minutes or hours, so a
// store that also expires its records in real time (Redis TTLs, say, set
// from Until minus now) keeps every record the suite looks for. Every
// time the suite passes to a store is in whole milliseconds: a store may
// keep times at that precision. The suite never looks at a record at the
// exact instant it expires.
package revocationtest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/fakeclock"
)

// Run checks the documented behaviour of a guard.RevocationStore, in
// subtests, each with a store of its own from open: open returns a new,
// empty store whose clock is now, and arranges with t.Cleanup for what
// must be released or deleted afterwards. Every subtest calls open
// exactly once. The checks:
//
//   - Lookup returns the records of the scopes asked for, exact matches
//     only (a user's record is not the record of that user for one
//     application, nor of a session with the same id), and any number of
//     them at once, with their At and Until as recorded.
//   - Lookup skips a record whose Until has passed, and returns it while
//     Until has not.
//   - Add of a scope recorded before keeps the later At and the later
//     Until, each on its own; and a record added again after it expired
//     is in force again.
//   - Seen is false for an event never marked, and true after MarkSeen
//     until its until has passed; MarkSeen again keeps the later until.
//     Event ids and revocation scopes do not mix. Whether Seen turns false
//     once until has passed is left to the store: the interface only
//     allows it to drop the record.
//   - Concurrent Adds of one scope end with the greatest At and the
//     greatest Until; concurrent Adds, Lookups, Seens and MarkSeens of
//     different scopes and events lose none (run with -race).
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) guard.RevocationStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, guard.RevocationStore, *fakeclock.Clock)
	}{
		{"Empty", testEmpty},
		{"AddLookup", testAddLookup},
		{"ExactMatch", testExactMatch},
		{"Expiry", testExpiry},
		{"KeepLater", testKeepLater},
		{"AddAfterExpiry", testAddAfterExpiry},
		{"Seen", testSeen},
		{"SeenApart", testSeenApart},
		{"ConcurrentSameScope", testConcurrentSameScope},
		{"ConcurrentMixed", testConcurrentMixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := open(t, c.Now)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tt.fn(t, s, c)
		})
	}
}

// newClock is the suite's clock: it starts at the real time, in whole
// milliseconds (so that a store that also sets real TTLs keeps every
// record the suite looks for), and moves only when a test moves it, and
// only forward.
func newClock() *fakeclock.Clock {
	return fakeclock.New(time.UnixMilli(time.Now().UnixMilli()))
}

func rev(s guard.Scope, at, until time.Time) guard.Revocation {
	return guard.Revocation{Scope: s, At: at, Until: until}
}

func mustAdd(t *testing.T, s guard.RevocationStore, r guard.Revocation) {
	t.Helper()
	if err := s.Add(t.Context(), r); err != nil {
		t.Fatalf("Add(%s): %v", fmtRev(r), err)
	}
}

func mustLookup(t *testing.T, s guard.RevocationStore, scopes ...guard.Scope) []guard.Revocation {
	t.Helper()
	got, err := s.Lookup(t.Context(), scopes)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", fmtScopes(scopes), err)
	}
	return got
}

func mustSeen(t *testing.T, s guard.RevocationStore, id string) bool {
	t.Helper()
	seen, err := s.Seen(t.Context(), id)
	if err != nil {
		t.Fatalf("Seen(%q): %v", id, err)
	}
	return seen
}

func mustMarkSeen(t *testing.T, s guard.RevocationStore, id string, until time.Time) {
	t.Helper()
	if err := s.MarkSeen(t.Context(), id, until); err != nil {
		t.Fatalf("MarkSeen(%q, %v): %v", id, until, err)
	}
}

// expect checks that Lookup of scopes returns exactly want, in any order,
// times compared with Equal.
func expect(t *testing.T, what string, s guard.RevocationStore, scopes []guard.Scope, want ...guard.Revocation) {
	t.Helper()
	got := mustLookup(t, s, scopes...)
	if !sameRevs(got, want) {
		t.Errorf("%s: Lookup(%s) = %s, want %s", what, fmtScopes(scopes), fmtRevs(got), fmtRevs(want))
	}
}

func sameRevs(got, want []guard.Revocation) bool {
	if len(got) != len(want) {
		return false
	}
	used := make([]bool, len(got))
next:
	for _, w := range want {
		for i, g := range got {
			if !used[i] && sameRev(g, w) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}

func sameRev(a, b guard.Revocation) bool {
	return a.Scope == b.Scope && a.At.Equal(b.At) && a.Until.Equal(b.Until)
}

// fmtScope shows a scope with its ids quoted, binary ones included.
func fmtScope(s guard.Scope) string {
	return fmt.Sprintf("{SessionID:%q UserID:%q ApplicationID:%q}", s.SessionID, s.UserID, s.ApplicationID)
}

func fmtScopes(ss []guard.Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmtScope(s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func fmtRev(r guard.Revocation) string {
	return fmt.Sprintf("{%s At:%s Until:%s}", fmtScope(r.Scope), r.At.UTC().Format(time.RFC3339Nano), r.Until.UTC().Format(time.RFC3339Nano))
}

func fmtRevs(rs []guard.Revocation) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmtRev(r)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func testEmpty(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	expect(t, "empty store, no scopes", s, nil)
	expect(t, "empty store", s, []guard.Scope{{SessionID: "s"}, {UserID: "u"}, {ApplicationID: "a"}, {UserID: "u", ApplicationID: "a"}})
	if mustSeen(t, s, "event-1") {
		t.Error("Seen of an event never marked: true")
	}
}

func testAddLookup(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	now := c.Now()
	sess := rev(guard.Scope{SessionID: "f4b7c1de-session"}, now.Add(-time.Minute), now.Add(time.Hour))
	user := rev(guard.Scope{UserID: "8f3e5b4e-user"}, now.Add(-2*time.Second), now.Add(2*time.Hour))
	app := rev(guard.Scope{ApplicationID: "3c219e58-app"}, now, now.Add(30*time.Minute))
	userApp := rev(guard.Scope{UserID: "8f3e5b4e-user", ApplicationID: "3c219e58-app"}, now.Add(-time.Hour), now.Add(90*time.Minute))
	for _, r := range []guard.Revocation{sess, user, app, userApp} {
		mustAdd(t, s, r)
	}
	for _, r := range []guard.Revocation{sess, user, app, userApp} {
		expect(t, "one scope", s, []guard.Scope{r.Scope}, r)
	}
	all := []guard.Scope{sess.Scope, user.Scope, app.Scope, userApp.Scope}
	expect(t, "four scopes", s, all, sess, user, app, userApp)
	// As guard asks: the token's session, user, audience and application.
	mixed := []guard.Scope{{SessionID: "other-session"}, user.Scope, {ApplicationID: "other-app"}, {UserID: user.UserID, ApplicationID: "other-app"}, app.Scope}
	expect(t, "known and unknown scopes", s, mixed, user, app)
	expect(t, "unknown scopes", s, []guard.Scope{{SessionID: "nope"}, {UserID: "nope"}})
	expect(t, "no scopes", s, nil)
}

func testExactMatch(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	now := c.Now()
	until := now.Add(time.Hour)
	// Scopes that a careless key encoding (a join on ":" or "/", fields
	// without their names, an empty field dropped) would confuse.
	scopes := []guard.Scope{
		{UserID: "u", ApplicationID: "a"},
		{UserID: "u"},
		{ApplicationID: "u"},
		{SessionID: "u"},
		{ApplicationID: "a"},
		{UserID: "a"},
		{UserID: "x:y", ApplicationID: "z"},
		{UserID: "x", ApplicationID: "y:z"},
		{UserID: "x/y", ApplicationID: "z"},
		{UserID: "x", ApplicationID: "y/z"},
		{UserID: "x,y", ApplicationID: "z"},
		{UserID: "x", ApplicationID: "y,z"},
		{UserID: `x","y`, ApplicationID: "z"},
		{UserID: "x", ApplicationID: `","y`},
		{UserID: "x y", ApplicationID: "z"},
		{UserID: "x", ApplicationID: "y z"},
		{SessionID: "s", UserID: "u", ApplicationID: "a"},
		{SessionID: "s", UserID: "u"},
		{SessionID: "{tag}*?[]\\"},
		{SessionID: "ünï\u00a0cødé ✓"},
		{SessionID: "\x00\xff binary"},
		{SessionID: strings.Repeat("long-", 200)},
	}
	// Each scope alone first: none may show up under another.
	for i, sc := range scopes {
		r := rev(sc, now.Add(-time.Duration(i)*time.Millisecond), until.Add(time.Duration(i)*time.Millisecond))
		mustAdd(t, s, r)
		for _, other := range scopes {
			if other == sc {
				expect(t, fmt.Sprintf("scope %d", i), s, []guard.Scope{sc}, r)
			} else if slices.Index(scopes, other) > i {
				expect(t, fmt.Sprintf("scope %s not recorded, after adding %s", fmtScope(other), fmtScope(sc)), s, []guard.Scope{other})
			}
		}
	}
	// All together: each its own.
	var want []guard.Revocation
	for i, sc := range scopes {
		want = append(want, rev(sc, now.Add(-time.Duration(i)*time.Millisecond), until.Add(time.Duration(i)*time.Millisecond)))
	}
	expect(t, "every scope", s, scopes, want...)
	expect(t, "scopes never recorded", s, []guard.Scope{{}, {SessionID: "a"}, {UserID: "x"}, {ApplicationID: "z"}, {SessionID: "U"}, {UserID: "u", ApplicationID: "A"}})
}

func testExpiry(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	now := c.Now()
	short := rev(guard.Scope{SessionID: "short"}, now, now.Add(10*time.Minute))
	long := rev(guard.Scope{UserID: "long"}, now, now.Add(time.Hour))
	past := rev(guard.Scope{ApplicationID: "past"}, now.Add(-2*time.Hour), now.Add(-time.Hour))
	mustAdd(t, s, short)
	mustAdd(t, s, long)
	if err := s.Add(t.Context(), past); err != nil {
		t.Fatalf("Add of a record whose Until has passed: %v", err)
	}
	scopes := []guard.Scope{short.Scope, long.Scope, past.Scope}
	expect(t, "at once", s, scopes, short, long)

	c.Set(short.Until.Add(-time.Millisecond))
	expect(t, "a millisecond before the first Until", s, scopes, short, long)
	c.Set(short.Until.Add(time.Millisecond))
	expect(t, "a millisecond after the first Until", s, scopes, long)
	c.Set(long.Until.Add(-time.Millisecond))
	expect(t, "a millisecond before the second Until", s, scopes, long)
	c.Set(long.Until.Add(time.Millisecond))
	expect(t, "a millisecond after the second Until", s, scopes)
	c.Advance(24 * time.Hour)
	expect(t, "a day later", s, scopes)
}

func testKeepLater(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	t0 := c.Now()
	sc := guard.Scope{UserID: "u", ApplicationID: "a"}
	other := rev(guard.Scope{UserID: "u"}, t0, t0.Add(time.Hour))
	mustAdd(t, s, other)

	mustAdd(t, s, rev(sc, t0, t0.Add(time.Hour)))
	// A later At, an earlier Until: the At is taken, the Until kept.
	mustAdd(t, s, rev(sc, t0.Add(10*time.Minute), t0.Add(30*time.Minute)))
	expect(t, "later At, earlier Until", s, []guard.Scope{sc}, rev(sc, t0.Add(10*time.Minute), t0.Add(time.Hour)))
	// An earlier At, a later Until: the At kept, the Until taken.
	mustAdd(t, s, rev(sc, t0.Add(-5*time.Minute), t0.Add(2*time.Hour)))
	want := rev(sc, t0.Add(10*time.Minute), t0.Add(2*time.Hour))
	expect(t, "earlier At, later Until", s, []guard.Scope{sc}, want)
	// Earlier both: nothing changes.
	mustAdd(t, s, rev(sc, t0.Add(-time.Hour), t0.Add(time.Minute)))
	expect(t, "earlier At and Until", s, []guard.Scope{sc}, want)
	// The same again: nothing changes.
	mustAdd(t, s, want)
	expect(t, "the same record again", s, []guard.Scope{sc}, want)
	expect(t, "another scope", s, []guard.Scope{other.Scope}, other)

	// The later Until holds the record past the earlier ones.
	c.Set(t0.Add(90 * time.Minute))
	expect(t, "past the first Until, before the latest", s, []guard.Scope{sc, other.Scope}, want)
	c.Set(want.Until.Add(-time.Millisecond))
	expect(t, "a millisecond before the latest Until", s, []guard.Scope{sc}, want)
	c.Set(want.Until.Add(time.Millisecond))
	expect(t, "a millisecond after the latest Until", s, []guard.Scope{sc})
}

func testAddAfterExpiry(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	t0 := c.Now()
	sc := guard.Scope{SessionID: "again"}
	mustAdd(t, s, rev(sc, t0, t0.Add(time.Hour)))
	c.Advance(2 * time.Hour)
	t1 := c.Now()
	expect(t, "expired", s, []guard.Scope{sc})
	r := rev(sc, t1, t1.Add(time.Hour))
	mustAdd(t, s, r)
	expect(t, "added again after it expired", s, []guard.Scope{sc}, r)
	c.Advance(59 * time.Minute)
	expect(t, "59 minutes later", s, []guard.Scope{sc}, r)
}

func testSeen(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	t0 := c.Now()
	if mustSeen(t, s, "e1") {
		t.Error("Seen(e1) before MarkSeen: true")
	}
	mustMarkSeen(t, s, "e1", t0.Add(time.Hour))
	if !mustSeen(t, s, "e1") {
		t.Error("Seen(e1) after MarkSeen: false")
	}
	for _, id := range []string{"e2", "E1", "e", "e1 ", ""} {
		if mustSeen(t, s, id) {
			t.Errorf("Seen(%q), never marked, after MarkSeen(e1): true", id)
		}
	}
	mustMarkSeen(t, s, "e2", t0.Add(10*time.Minute))
	// MarkSeen again keeps the later until.
	mustMarkSeen(t, s, "e2", t0.Add(2*time.Hour))
	mustMarkSeen(t, s, "e2", t0.Add(20*time.Minute))
	if err := s.MarkSeen(t.Context(), "e3", t0.Add(-time.Minute)); err != nil {
		t.Errorf("MarkSeen with an until that has passed: %v", err)
	}

	c.Set(t0.Add(time.Hour - time.Millisecond))
	if !mustSeen(t, s, "e1") {
		t.Error("Seen(e1) a millisecond before its until: false")
	}
	if !mustSeen(t, s, "e2") {
		t.Error("Seen(e2), marked until 10 min, then 2 h, then 20 min, at 1 h: false")
	}
	c.Set(t0.Add(2*time.Hour - time.Millisecond))
	if !mustSeen(t, s, "e2") {
		t.Error("Seen(e2) a millisecond before its latest until: false")
	}
	// Past until the store may drop the record: Seen may answer either way,
	// but must answer.
	c.Advance(time.Hour)
	for _, id := range []string{"e1", "e2", "e3"} {
		if _, err := s.Seen(t.Context(), id); err != nil {
			t.Errorf("Seen(%q) after its until: %v", id, err)
		}
	}
	t1 := c.Now()
	mustMarkSeen(t, s, "e1", t1.Add(time.Hour))
	if !mustSeen(t, s, "e1") {
		t.Error("Seen(e1) marked again after its until had passed: false")
	}
	c.Set(t1.Add(time.Hour - time.Millisecond))
	if !mustSeen(t, s, "e1") {
		t.Error("Seen(e1) marked again, a millisecond before its new until: false")
	}
}

func testSeenApart(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	now := c.Now()
	// An event id that is also a session, user or application id.
	mustMarkSeen(t, s, "shared-id", now.Add(time.Hour))
	expect(t, "scopes named like a seen event", s, []guard.Scope{{SessionID: "shared-id"}, {UserID: "shared-id"}, {ApplicationID: "shared-id"}})
	r := rev(guard.Scope{SessionID: "other-id"}, now, now.Add(time.Hour))
	mustAdd(t, s, r)
	if mustSeen(t, s, "other-id") {
		t.Error("Seen of an id recorded only as a revoked session: true")
	}
	if !mustSeen(t, s, "shared-id") {
		t.Error("Seen(shared-id) after MarkSeen and an Add: false")
	}
	expect(t, "the session after MarkSeen", s, []guard.Scope{r.Scope}, r)
}

func testConcurrentSameScope(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	const n = 32
	t0 := c.Now()
	sc := guard.Scope{UserID: "race", ApplicationID: "app"}
	// The greatest At and the greatest Until come from different Adds,
	// neither the first nor the last started.
	added := make([]guard.Revocation, n)
	for i := range added {
		added[i] = rev(sc, t0.Add(time.Duration((i*7)%n)*time.Second), t0.Add(time.Hour+time.Duration((i*13)%n)*time.Minute))
	}
	var maxAt, maxUntil time.Time
	for _, r := range added {
		if r.At.After(maxAt) {
			maxAt = r.At
		}
		if r.Until.After(maxUntil) {
			maxUntil = r.Until
		}
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if err := s.Add(ctx, added[i]); err != nil {
				errs <- fmt.Errorf("Add(%s): %w", fmtRev(added[i]), err)
			}
		})
		wg.Go(func() {
			<-start
			got, err := s.Lookup(ctx, []guard.Scope{sc})
			if err != nil {
				errs <- fmt.Errorf("Lookup: %w", err)
				return
			}
			if len(got) > 1 {
				errs <- fmt.Errorf("Lookup of one scope during Adds: %d records", len(got))
				return
			}
			for _, g := range got {
				if g.Scope != sc || g.At.Before(t0) || g.At.After(maxAt) || g.Until.Before(t0.Add(time.Hour)) || g.Until.After(maxUntil) {
					errs <- fmt.Errorf("Lookup during Adds: %s, not a combination of what was added", fmtRev(g))
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	expect(t, "after concurrent Adds", s, []guard.Scope{sc}, rev(sc, maxAt, maxUntil))
}

func testConcurrentMixed(t *testing.T, s guard.RevocationStore, c *fakeclock.Clock) {
	const n = 16
	t0 := c.Now()
	ctx := t.Context()
	scopeOf := func(i int) guard.Scope {
		switch i % 4 {
		case 0:
			return guard.Scope{SessionID: fmt.Sprintf("s%d", i)}
		case 1:
			return guard.Scope{UserID: fmt.Sprintf("u%d", i)}
		case 2:
			return guard.Scope{ApplicationID: fmt.Sprintf("a%d", i)}
		}
		return guard.Scope{UserID: fmt.Sprintf("u%d", i), ApplicationID: fmt.Sprintf("a%d", i)}
	}
	revOf := func(i int) guard.Revocation {
		return rev(scopeOf(i), t0.Add(-time.Duration(i)*time.Second), t0.Add(time.Hour+time.Duration(i)*time.Second))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if err := s.Add(ctx, revOf(i)); err != nil {
				errs <- fmt.Errorf("Add: %w", err)
			}
			id := fmt.Sprintf("event-%d", i)
			if err := s.MarkSeen(ctx, id, t0.Add(time.Hour)); err != nil {
				errs <- fmt.Errorf("MarkSeen: %w", err)
			}
		})
		wg.Go(func() {
			<-start
			// A reader of other scopes and events, meanwhile.
			j := (i + 1) % n
			if _, err := s.Lookup(ctx, []guard.Scope{scopeOf(i), scopeOf(j)}); err != nil {
				errs <- fmt.Errorf("Lookup: %w", err)
			}
			if _, err := s.Seen(ctx, fmt.Sprintf("event-%d", j)); err != nil {
				errs <- fmt.Errorf("Seen: %w", err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var scopes []guard.Scope
	var want []guard.Revocation
	for i := range n {
		scopes = append(scopes, scopeOf(i))
		want = append(want, revOf(i))
		if !mustSeen(t, s, fmt.Sprintf("event-%d", i)) {
			t.Errorf("Seen(event-%d) after concurrent MarkSeens: false", i)
		}
	}
	expect(t, "after concurrent Adds", s, scopes, want...)
}
