package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// replayKey is a key shaped like dpop's: 43 base64url characters.
func replayKey(name string) string {
	k := strings.NewReplacer("+", "-", "/", "_").Replace(fmt.Sprintf("%x", sum("dpop:"+name)))
	return k[:43]
}

func testDPoPProofs(t *testing.T, s storage.Store) {
	ctx := t.Context()
	use := func(what, key string, now, expires time.Time, want bool) {
		t.Helper()
		fresh, err := s.UseDPoPProof(ctx, key, now, expires)
		mustOK(t, what, err)
		if fresh != want {
			t.Errorf("%s: fresh = %v, want %v", what, fresh, want)
		}
	}
	a, b := replayKey("a"), replayKey("b")
	use("first use", a, t0, at(time.Minute), true)
	use("second use, unexpired", a, at(time.Second), at(time.Minute+time.Second), false)
	use("use just before the expiry", a, at(time.Minute-time.Microsecond), at(2*time.Minute), false)
	use("another key", b, t0, at(time.Minute), true)
	// A refused use changed nothing: the record still expires at t0+1m, so
	// at that instant it counts as absent and the key may be taken over.
	use("use at the expiry", a, at(time.Minute), at(3*time.Minute), true)
	use("use after the takeover", a, at(2*time.Minute), at(4*time.Minute), false)
	use("use after the takeover's expiry", a, at(3*time.Minute), at(5*time.Minute), true)
	// Keys are compared exactly.
	use("a key differing in case", strings.ToUpper(a), at(3*time.Minute), at(5*time.Minute), true)
	// A record already expired when it is made is no obstacle either.
	c := replayKey("c")
	use("an already expired use", c, t0, at(-time.Second), true)
	use("a use after an already expired one", c, t0, at(time.Minute), true)
	use("and again", c, t0, at(time.Minute), false)

	for _, bad := range []string{"", strings.Repeat("k", storage.MaxDPoPProofKeyLength+1)} {
		if _, err := s.UseDPoPProof(ctx, bad, t0, at(time.Minute)); err == nil {
			t.Errorf("UseDPoPProof with a key of %d bytes: no error", len(bad))
		}
	}
	long := strings.Repeat("k", storage.MaxDPoPProofKeyLength)
	use("a key of the longest length", long, t0, at(time.Minute), true)
	use("a key of the longest length again", long, t0, at(time.Minute), false)

	// In a transaction the record commits, or rolls back, with it.
	errRollback := errors.New("roll back")
	err := s.Tx(ctx, func(tx storage.Store) error {
		fresh, err := tx.UseDPoPProof(ctx, replayKey("rolled back"), t0, at(time.Minute))
		if err != nil {
			return err
		}
		if !fresh {
			t.Error("UseDPoPProof in a transaction: not fresh")
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Tx: err = %v, want the function's", err)
	}
	use("use of a key recorded by a rolled-back transaction", replayKey("rolled back"), t0, at(time.Minute), true)
	mustOK(t, "Tx", s.Tx(ctx, func(tx storage.Store) error {
		_, err := tx.UseDPoPProof(ctx, replayKey("committed"), t0, at(time.Minute))
		return err
	}))
	use("use of a key recorded by a committed transaction", replayKey("committed"), t0, at(time.Minute), false)
}

func testDPoPProofsGarbageCollect(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for i, exp := range []time.Duration{-time.Hour, -time.Second, 0, time.Second, time.Hour} {
		fresh, err := s.UseDPoPProof(ctx, replayKey(fmt.Sprint("gc", i)), at(-2*time.Hour), at(exp))
		mustOK(t, "UseDPoPProof", err)
		if !fresh {
			t.Fatalf("UseDPoPProof of a new key: not fresh")
		}
	}
	res, err := s.GarbageCollect(ctx, t0)
	mustOK(t, "GarbageCollect", err)
	mustEqual(t, "GarbageCollect result", storage.GCResult{DPoPProofs: 2}, res)
	// What was kept still counts: the records expiring at and after t0,
	// judged at an earlier time.
	for i := 2; i < 5; i++ {
		fresh, err := s.UseDPoPProof(ctx, replayKey(fmt.Sprint("gc", i)), at(-time.Hour), at(time.Hour))
		mustOK(t, "UseDPoPProof", err)
		if fresh {
			t.Errorf("UseDPoPProof of gc%d after GarbageCollect: fresh, want its record kept", i)
		}
	}
	res, err = s.GarbageCollect(ctx, t0)
	mustOK(t, "GarbageCollect again", err)
	mustEqual(t, "second GarbageCollect result", storage.GCResult{}, res)
}

// testDPoPProofRace: of racers concurrent uses of one key, exactly one is
// fresh; rounds alternate a new key and the takeover of an expired one.
func testDPoPProofRace(t *testing.T, s storage.Store) {
	ctx := withTimeout(t, time.Minute)
	for round := range 6 {
		key := replayKey(fmt.Sprint("race", round/2))
		now := at(time.Duration(round) * time.Hour) // each round finds the previous record expired
		fresh := make([]bool, racers)
		errs := race(racers, func(i int) error {
			var err error
			fresh[i], err = s.UseDPoPProof(ctx, key, now, now.Add(time.Minute))
			return err
		})
		n := 0
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: UseDPoPProof #%d: %v", round, i, err)
			}
			if fresh[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("round %d: %d of %d concurrent uses of one key were fresh, want exactly 1", round, n, racers)
		}
	}
}
