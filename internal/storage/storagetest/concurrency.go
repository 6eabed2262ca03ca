package storagetest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// racers is how many goroutines each concurrency check runs.
const racers = 16

// RunConcurrency runs the concurrency checks (real goroutines): one winner
// among concurrent rotations of one value, one among concurrent sign-ups
// with one email, transactions that neither deadlock nor lose updates,
// outbox claims that never hand one delivery to two claimers, and one
// fresh use among concurrent uses of one DPoP proof key, and the writes
// of logins and refreshes queued together (as SQLite commits them in
// groups): each with its own outcome, a cancelled one never made.
func RunConcurrency(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Run("RotateRace", func(t *testing.T) { testRotateRace(t, open(t)) })
	t.Run("CreateUserRace", func(t *testing.T) { testCreateUserRace(t, open(t)) })
	t.Run("TxTransfers", func(t *testing.T) { testTxTransfers(t, open(t)) })
	t.Run("ClaimRace", func(t *testing.T) { testClaimRace(t, open(t)) })
	t.Run("DPoPProofRace", func(t *testing.T) { testDPoPProofRace(t, open(t)) })
	t.Run("LoginAttemptsRace", func(t *testing.T) { testLoginAttemptsRace(t, open(t)) })
	t.Run("TwoFactorRace", func(t *testing.T) { testTwoFactorRaces(t, open(t)) })
	t.Run("GroupDistinct", func(t *testing.T) { testGroupDistinct(t, open(t)) })
	t.Run("GroupOneValue", func(t *testing.T) { testGroupOneValue(t, open(t)) })
	t.Run("GroupFailures", func(t *testing.T) { testGroupFailures(t, open(t)) })
	t.Run("GroupCancelledWaiter", func(t *testing.T) { testGroupCancelledWaiter(t, open(t)) })
}

// testLoginAttemptsRace has racers reserve a password check on one new
// login ID at once, as the lockout does (a check is granted while fewer
// than limit were): exactly limit are granted, and the record counts
// every racer, granted or not.
func testLoginAttemptsRace(t *testing.T, s storage.Store) {
	const limit = 5
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	errRefused := errors.New("refused")
	errs := race(racers, func(int) error {
		granted := false
		_, err := s.UpdateLoginAttempts(ctx, w.tenant.ID, "raced", func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
			granted = a.Count < limit
			a.Count++
			a.FirstAt, a.Expires = t0, at(time.Hour)
			return a, nil
		})
		if err == nil && !granted {
			err = errRefused
		}
		return err
	})
	granted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, errRefused):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if granted != limit {
		t.Errorf("%d of %d racers granted, want %d", granted, racers, limit)
	}
	a, err := s.GetLoginAttempts(ctx, w.tenant.ID, "raced")
	mustOK(t, "GetLoginAttempts", err)
	if a.Count != racers {
		t.Errorf("count %d after %d racers: an update was lost", a.Count, racers)
	}
}

// race runs fn in n goroutines released at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of errs is nil and every other is loser.
// It returns the winner's index (-1 if none).
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	var wins []int
	for i, err := range errs {
		switch {
		case err == nil:
			wins = append(wins, i)
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s #%d: err = %v, want nil or %v", what, i, err, loser)
		}
	}
	if len(wins) != 1 {
		t.Errorf("%s: %d of %d succeeded (%v), want exactly 1", what, len(wins), len(errs), wins)
	}
	return winner
}

func testRotateRace(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	w := mustWorld(t, s, "w")
	x := mustCreateSession(t, s, sessionFixture(w.user, w.app.ID, "s", t0))

	for round := range 3 {
		presented := x.TokenHash
		rots := make([]storage.Rotation, racers)
		for i := range rots {
			rots[i] = rotation("s", 100*(round+1)+i, at(time.Duration(round+1)*time.Minute))
		}
		errs := race(racers, func(i int) error { return s.RotateSession(ctx, x.ID, presented, rots[i]) })
		winner := oneWinner(t, fmt.Sprintf("round %d: RotateSession of one value", round), errs, storage.ErrStale)
		if winner < 0 {
			t.FailNow()
		}
		x = rotated(x, rots[winner])
		mustEqual(t, "GetSession after the race", x, mustGetSession(t, s, x.ID))
		mustFind(t, s, presented, storage.MatchPrevious)
		for i, r := range rots {
			if i != winner {
				mustNotFind(t, s, "FindSession of a losing rotation's value", r.TokenHash)
			}
		}
	}
	if x.Generation != 3 {
		t.Errorf("generation %d after 3 rounds, want 3", x.Generation)
	}
}

func testCreateUserRace(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	tn := mustCreateTenant(t, s, "t1")
	users := make([]storage.User, racers)
	for i := range users {
		email := "Same@Example.com"
		if i%2 == 1 {
			email = strings.ToLower(email)
		}
		users[i] = userFixture(tn.ID, fmt.Sprintf("racer-%d", i), email)
		users[i].Username = fmt.Sprintf("racer-%d", i)
	}
	errs := race(racers, func(i int) error { return s.CreateUser(ctx, users[i]) })
	winner := oneWinner(t, "CreateUser with one email", errs, storage.ErrConflict)
	if winner < 0 {
		t.FailNow()
	}
	got, err := s.GetUserByEmail(ctx, tn.ID, "same@example.com")
	mustOK(t, "GetUserByEmail", err)
	if got.ID != users[winner].ID {
		t.Errorf("GetUserByEmail = %s, want the winner %s", got.ID, users[winner].ID)
	}
	for i, u := range users {
		if i == winner {
			continue
		}
		_, err := s.GetUser(ctx, u.ID)
		checkErr(t, "GetUser of a losing racer", err, storage.ErrNotFound)
	}
}

// testTxTransfers moves counts between login-failure records in
// read-modify-write transactions, half of them in the opposite order, with
// plain reads alongside. It fails if they deadlock (past a deadline), if an
// update is lost or half-applied (the final counts differ from the sum of
// the committed transfers), or if a transaction fails other than with
// ErrStale (a backend may refuse a conflicting transaction that way).
func testTxTransfers(t *testing.T, s storage.Store) {
	const (
		accounts  = 4
		transfers = 25
		start     = 1000
		deadline  = 2 * time.Minute
	)
	ctx := withTimeout(t, deadline)
	w := mustWorld(t, s, "w")
	ids := make([]string, accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("acct-%d", i)
		mustPutLoginAttempts(t, s, storage.LoginAttempts{TenantID: w.tenant.ID, Key: ids[i], Count: start, FirstAt: t0, Expires: at(time.Hour)})
	}

	var mu sync.Mutex
	want := make(map[string]int, accounts)
	for _, id := range ids {
		want[id] = start
	}
	var committed, stale int

	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for g := range racers {
			wg.Go(func() {
				for n := range transfers {
					from, to := ids[(g+n)%accounts], ids[(g+n+1)%accounts]
					if g%2 == 1 { // the opposite lock order
						from, to = to, from
					}
					amount := 1 + (g+n)%3
					err := s.Tx(ctx, func(tx storage.Store) error {
						_, err := tx.UpdateLoginAttempts(ctx, w.tenant.ID, from, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
							runtime.Gosched()
							a.Count -= amount
							return a, nil
						})
						if err != nil {
							return err
						}
						runtime.Gosched()
						_, err = tx.UpdateLoginAttempts(ctx, w.tenant.ID, to, func(b storage.LoginAttempts) (storage.LoginAttempts, error) {
							b.Count += amount
							return b, nil
						})
						return err
					})
					mu.Lock()
					switch {
					case err == nil:
						committed++
						want[from] -= amount
						want[to] += amount
					case errors.Is(err, storage.ErrStale):
						stale++
					default:
						t.Errorf("transfer: %v", err)
					}
					mu.Unlock()
					if ctx.Err() != nil {
						return
					}
				}
			})
		}
		// Plain reads alongside the transactions.
		wg.Go(func() {
			for range transfers * 4 {
				if _, err := s.GetLoginAttempts(ctx, w.tenant.ID, ids[0]); err != nil {
					t.Errorf("GetLoginAttempts during transfers: %v", err)
					return
				}
			}
		})
		wg.Wait()
	}()

	select {
	case <-done:
	case <-time.After(deadline + 10*time.Second):
		t.Fatalf("transfers still running after %v: deadlock?", deadline)
	}
	if ctx.Err() != nil {
		t.Fatalf("transfers did not finish within %v (deadlock?): %v", deadline, ctx.Err())
	}
	if committed == 0 {
		t.Fatalf("no transfer committed (%d stale)", stale)
	}
	total := 0
	for _, id := range ids {
		f, err := s.GetLoginAttempts(t.Context(), w.tenant.ID, id)
		mustOK(t, "GetLoginAttempts", err)
		total += f.Count
		if f.Count != want[id] {
			t.Errorf("account %s: count %d, want %d (a lost or partial update)", id, f.Count, want[id])
		}
	}
	if total != accounts*start {
		t.Errorf("total %d, want %d", total, accounts*start)
	}
	t.Logf("%d transfers committed, %d refused as stale", committed, stale)
}
