package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// keyOutage is a store whose ListKeys, the key ring's read, fails as an
// unreachable database does (down), or hangs until released (frozen).
type keyOutage struct {
	storage.Store
	calls atomic.Int32

	mu     sync.Mutex
	down   bool
	frozen chan struct{} // non-nil: ListKeys waits for it to close
}

func (k *keyOutage) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	k.calls.Add(1)
	k.mu.Lock()
	down, frozen := k.down, k.frozen
	k.mu.Unlock()
	if frozen != nil {
		select {
		case <-frozen:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", storage.ErrUnavailable, ctx.Err())
		}
	}
	if down {
		return nil, fmt.Errorf("test outage: %w", storage.ErrUnavailable)
	}
	return k.Store.ListKeys(ctx)
}

func (k *keyOutage) set(down bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.down = down
}

// freeze makes ListKeys hang until the function it returns is called.
func (k *keyOutage) freeze() (thaw func()) {
	c := make(chan struct{})
	k.mu.Lock()
	k.frozen = c
	k.mu.Unlock()
	return sync.OnceFunc(func() {
		k.mu.Lock()
		k.frozen = nil
		k.mu.Unlock()
		close(c)
	})
}

// newOutageEnv is newEnv on a keyOutage, with a user logged in: the
// access token and the JWKS as it was before any outage.
func newOutageEnv(t *testing.T) (*env, *keyOutage, string, []string) {
	t.Helper()
	var out *keyOutage
	e := newEnv(t, func(c *Config) { out = &keyOutage{Store: c.Store}; c.Store = out })
	e.mustUser(t, "outage@example.org")
	res, err := e.login("outage@example.org", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	return e, out, res.Response.Token, jwksKids(t, e)
}

func jwksKids(t *testing.T, e *env) []string {
	t.Helper()
	set, err := e.JWKS(e.ctx)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	if len(kids) == 0 {
		t.Fatal("JWKS: no key")
	}
	return kids
}

// TestKeyRing_DeadStore: a store that refuses every read. The last key
// ring read keeps verifying tokens and making the JWKS for
// KeyRingOutageGrace, with one read of the store a keyReloadBackoff;
// past the grace, and after a key write through this node, the outage
// is the answer.
func TestKeyRing_DeadStore(t *testing.T) {
	e, out, tok, kids := newOutageEnv(t)
	e.clock.Advance(2 * DefaultCacheTTL) // the ring is stale
	out.set(true)
	before := out.calls.Load()
	for i := range 20 {
		if _, err := e.ValidateToken(e.ctx, tok); err != nil {
			t.Fatalf("validation %d during the outage, within the grace: %v", i, err)
		}
	}
	if got := jwksKids(t, e); fmt.Sprint(got) != fmt.Sprint(kids) {
		t.Errorf("JWKS during the outage: %v, want %v", got, kids)
	}
	if n := out.calls.Load() - before; n != 1 {
		t.Errorf("20 validations and a JWKS asked the store %d times, want 1 (a failed read stands for %v)", n, keyReloadBackoff)
	}
	e.clock.Advance(keyReloadBackoff)
	if _, err := e.ValidateToken(e.ctx, tok); err != nil || out.calls.Load()-before != 2 {
		t.Fatalf("after the backoff: %v, %d reads; want valid and a second read", err, out.calls.Load()-before)
	}

	e.clock.Advance(KeyRingOutageGrace)
	if _, err := e.ValidateToken(e.ctx, tok); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("validation past the grace: %v, want ErrUnavailable", err)
	}
	if _, err := e.JWKS(e.ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("JWKS past the grace: %v, want ErrUnavailable", err)
	}

	out.set(false)
	e.clock.Advance(keyReloadBackoff)
	if _, err := e.ValidateToken(e.ctx, tok); err != nil {
		t.Fatalf("validation once the store is back: %v", err)
	}
	// A key written through this node drops the ring: an outage then has
	// nothing to serve.
	out.set(true)
	if _, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: "ES256", Name: "spare"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ValidateToken(e.ctx, tok); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("validation after a key write, the store down: %v, want ErrUnavailable", err)
	}
}

// TestKeyRing_FrozenStore: a store that does not answer. Validations
// during the grace take the last ring once KeyReloadWait has passed,
// while one read of the store hangs, instead of each waiting for it.
func TestKeyRing_FrozenStore(t *testing.T) {
	e, out, tok, _ := newOutageEnv(t)
	e.clock.Advance(2 * DefaultCacheTTL)
	thaw := out.freeze()
	defer thaw()
	before := out.calls.Load()
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() {
			_, err := e.ValidateToken(e.ctx, tok)
			errs <- err
		}()
	}
	// Every validation must answer while the read still hangs: were one
	// to wait for it, it would wait until thaw, after this loop.
	timeout := time.After(time.Minute)
	for range cap(errs) {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("validation while the store hangs: %v", err)
			}
		case <-timeout:
			t.Fatal("a validation waits for the frozen store")
		}
	}
	if n := out.calls.Load() - before; n != 1 {
		t.Errorf("%d reads of the store in flight, want 1", n)
	}

	// With no ring to serve, a caller waits for the read until its
	// context ends, and is told the store is unavailable.
	e.clock.Advance(KeyRingOutageGrace)
	ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.ValidateToken(ctx, tok); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("validation past the grace, the store frozen: %v, want ErrUnavailable", err)
	}
	thaw()
}
