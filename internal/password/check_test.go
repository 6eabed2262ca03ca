package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// allocated returns the bytes fn allocates: an argon2id verification
// allocates its memory parameter (19 MiB), which tells whether one ran
// without timing anything.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// argon2Bytes is what one argon2id verification with the current
// parameters allocates at least.
var argon2Bytes = uint64(currentArgon2.memory) * 1024

// TestCheck: every refusal costs a current argon2id verification, whatever
// the stored hash; a match of a current hash costs one, not two.
func TestCheck(t *testing.T) {
	current, err := Hash("right")
	if err != nil {
		t.Fatal(err)
	}
	sha := stored("salted-sha256 factor 1")  // password "password"
	bcryptLow := stored("bcrypt issue 2495") // password "test"
	weak, err := hashArgon2id("right", argon2Params{memory: 1024, time: 1, threads: 1, saltLen: 16, keyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		plain    string
		s        *Stored
		ok       bool
		wantErr  bool
		minBytes uint64
		maxBytes uint64
	}{
		{"no account", "x", nil, false, false, argon2Bytes, 2 * argon2Bytes},
		{"argon2id, wrong", "wrong", &current, false, false, argon2Bytes, 2 * argon2Bytes},
		{"argon2id, right", "right", &current, true, false, argon2Bytes, 2 * argon2Bytes},
		{"salted-sha256, wrong", "wrong", &sha, false, false, argon2Bytes, 2 * argon2Bytes},
		{"salted-sha256, right", "password", &sha, true, false, 0, argon2Bytes / 2},
		{"bcrypt, wrong", "wrong", &bcryptLow, false, false, argon2Bytes, 2 * argon2Bytes},
		{"weak argon2id, wrong", "wrong", &Stored{Scheme: schemeArgon2id, Hash: weak}, false, false, argon2Bytes, 2 * argon2Bytes},
		{"malformed", "x", &Stored{Scheme: schemeArgon2id, Hash: "$argon2id$garbage"}, false, true, argon2Bytes, 2 * argon2Bytes},
		{"unknown scheme", "x", &Stored{Scheme: "md5", Hash: "x"}, false, true, argon2Bytes, 2 * argon2Bytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ok bool
			var err error
			n := allocated(func() { ok, err = Check(tc.plain, tc.s) })
			if ok != tc.ok || (err != nil) != tc.wantErr {
				t.Errorf("Check = %v, %v; want %v, error %v", ok, err, tc.ok, tc.wantErr)
			}
			if n < tc.minBytes || n > tc.maxBytes {
				t.Errorf("Check allocated %d bytes, want between %d and %d", n, tc.minBytes, tc.maxBytes)
			}
		})
	}
}

func TestGate(t *testing.T) {
	t.Run("at most slots at once", func(t *testing.T) {
		g := NewGate(2, 100, time.Minute)
		var in, most atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				release, err := g.Enter(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				defer release()
				n := in.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				runtime.Gosched()
				in.Add(-1)
			})
		}
		wg.Wait()
		if m := most.Load(); m > 2 || m < 1 {
			t.Errorf("%d at once, want 1 or 2", m)
		}
	})
	t.Run("a full queue refuses at once", func(t *testing.T) {
		g := NewGate(1, 1, time.Hour)
		release, err := g.Enter(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if g.Full() {
			t.Error("Full with room in the queue: true")
		}
		waiting := make(chan error)
		go func() {
			r, err := g.Enter(t.Context())
			if err == nil {
				r()
			}
			waiting <- err
		}()
		for g.queued.Load() != 1 {
			runtime.Gosched()
		}
		if !g.Full() {
			t.Error("Full with every slot taken and the queue full: false")
		}
		if _, err := g.Enter(t.Context()); !errors.Is(err, ErrBusy) {
			t.Errorf("Enter with a full queue: %v, want ErrBusy", err)
		}
		release()
		release() // a second call gives back nothing more
		if err := <-waiting; err != nil {
			t.Errorf("the queued Enter: %v", err)
		}
		if len(g.slots) != 0 {
			t.Errorf("%d slots taken after every release", len(g.slots))
		}
	})
	t.Run("a wait ends", func(t *testing.T) {
		g := NewGate(1, 1, time.Millisecond)
		release, err := g.Enter(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if _, err := g.Enter(t.Context()); !errors.Is(err, ErrBusy) {
			t.Errorf("Enter past the wait: %v, want ErrBusy", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		g.wait = time.Hour
		if _, err := g.Enter(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Enter with an ended context: %v, want context.Canceled", err)
		}
	})
}
