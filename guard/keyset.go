package guard

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/jws"
)

// Key is one verification key: its kid, the one algorithm it verifies,
// and the key itself.
type Key struct {
	// ID is the key's kid; tokens name it in their header.
	ID string
	// Algorithm is the JWS algorithm the key was published for ("ES256",
	// "RS256", "EdDSA", ...). A token signed with any other alg is refused,
	// whatever the key could technically verify.
	Algorithm string
	// Key is an *ecdsa.PublicKey (ES256 P-256, ES384 P-384, ES512 P-521),
	// an *rsa.PublicKey of at least 2048 bits (RS*, PS*), an
	// ed25519.PublicKey (EdDSA), or, in a StaticKeySet only, a []byte
	// HMAC secret at least as long as the hash (HS256, HS384, HS512).
	Key any
}

// check reports whether k's key type fits its algorithm.
func (k Key) check() error {
	if k.ID == "" {
		return errors.New("key has no kid")
	}
	var ok bool
	switch k.Algorithm {
	case "ES256", "ES384", "ES512":
		pub, isEC := k.Key.(*ecdsa.PublicKey)
		ok = isEC && pub != nil && pub.Curve == curveOf(k.Algorithm)
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		pub, isRSA := k.Key.(*rsa.PublicKey)
		ok = isRSA && pub != nil && pub.N != nil && pub.N.BitLen() >= 2048
	case "EdDSA":
		pub, isEd := k.Key.(ed25519.PublicKey)
		ok = isEd && len(pub) == ed25519.PublicKeySize
	case "HS256", "HS384", "HS512":
		// RFC 7518 §3.2: a secret at least as long as the hash output.
		secret, isBytes := k.Key.([]byte)
		ok = isBytes && len(secret)*8 >= hashBits(k.Algorithm)
	default:
		return fmt.Errorf("key %q: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	if !ok {
		return fmt.Errorf("key %q: %T is not a usable %s key", k.ID, k.Key, k.Algorithm)
	}
	return nil
}

// curveOf is the curve of an ECDSA algorithm.
func curveOf(alg string) elliptic.Curve {
	switch alg {
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	}
	return elliptic.P256()
}

// hashBits is the hash size of an HMAC algorithm.
func hashBits(alg string) int {
	switch alg {
	case "HS384":
		return 384
	case "HS512":
		return 512
	}
	return 256
}

// symmetric reports whether k is an HMAC secret.
func (k Key) symmetric() bool {
	_, ok := k.Key.([]byte)
	return ok
}

// KeySet looks up verification keys by kid. Guard does every JOSE check
// itself (allowed algorithms, refused headers, the key's own algorithm),
// so a KeySet only finds keys.
type KeySet interface {
	// Key returns the key whose ID is kid, or an error matching
	// ErrInvalidToken when there is none, or ErrUnavailable when the set
	// could not be loaded. It is called concurrently.
	Key(ctx context.Context, kid string) (Key, error)
}

// StaticKeySet is a fixed KeySet, for tests and for keys distributed by
// other means. It is the only KeySet that may hold HMAC secrets.
type StaticKeySet []Key

// Key returns the first key of s whose ID is kid.
func (s StaticKeySet) Key(_ context.Context, kid string) (Key, error) {
	for _, k := range s {
		if k.ID == kid {
			return k, nil
		}
	}
	return Key{}, errUnknownKey
}

// Defaults of a remoteKeySet.
const (
	// defaultMinJWKSRefetchInterval is the least time between two JWKS
	// fetches, whatever kids tokens name.
	defaultMinJWKSRefetchInterval = 10 * time.Second
	// jwksMaxAge is how long a fetched key set is used before one use
	// refetches it in the background, so that a key Latch withdrew stops
	// verifying even if no unknown kid ever comes along.
	jwksMaxAge = 10 * time.Minute
	// fetchTimeout bounds one JWKS fetch.
	fetchTimeout = 10 * time.Second
	// maxJWKSBytes caps the JWKS document.
	maxJWKSBytes = 1 << 20
)

// remoteKeySetConfig configures a remoteKeySet.
type remoteKeySetConfig struct {
	// HTTPClient fetches the JWKS; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// MinRefetchInterval is the least time between two fetches;
	// defaultMinJWKSRefetchInterval when zero.
	MinRefetchInterval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives fetch failures and skipped keys; nil logs nothing.
	Logger *slog.Logger
}

// remoteKeySet is a KeySet over a JWKS URL (RFC 7517), such as Latch's
// /.well-known/jwks.json. It caches the set and fetches it again only when
// a token names a kid it does not hold (a key rotation), or in the
// background once the set is ten minutes old. All lookups that miss while
// a fetch is running wait for that one fetch; fetches are never closer
// together than MinRefetchInterval, so a storm of tokens with made-up kids
// costs Latch at most one request per interval. When a fetch fails the last
// good set stays in use.
//
// Only asymmetric keys with a kid and an alg that fits the key are taken
// from the document; "oct" (HMAC) keys, keys for encryption and private
// key material are skipped.
type remoteKeySet struct {
	url    string
	client *http.Client
	floor  time.Duration
	now    func() time.Time
	log    *slog.Logger

	set atomic.Pointer[keySnapshot] // the last good set; nil before the first

	mu       sync.Mutex
	triedAt  time.Time // the start of the last fetch
	lastErr  error     // the outcome of the last fetch
	inflight *keyFetch // the running fetch, if any
}

// keySnapshot is one fetched key set; it is never modified, so that
// lookups that hit read it without a lock.
type keySnapshot struct {
	keys      map[string]Key
	fetchedAt time.Time
}

// lookup finds kid in the last good set.
func (r *remoteKeySet) lookup(kid string) (Key, time.Time, bool) {
	s := r.set.Load()
	if s == nil {
		return Key{}, time.Time{}, false
	}
	k, ok := s.keys[kid]
	return k, s.fetchedAt, ok
}

// keyFetch is one fetch, shared by everyone waiting on it.
type keyFetch struct {
	done chan struct{}
	err  error
}

// newRemoteKeySet returns a remoteKeySet for the JWKS at jwksURL. It
// fetches nothing until the first lookup.
func newRemoteKeySet(jwksURL string, cfg remoteKeySetConfig) *remoteKeySet {
	r := &remoteKeySet{url: jwksURL, client: cfg.HTTPClient, floor: cfg.MinRefetchInterval, now: cfg.Now, log: cfg.Logger}
	if r.client == nil {
		r.client = &http.Client{Timeout: fetchTimeout}
	}
	if r.floor <= 0 {
		r.floor = defaultMinJWKSRefetchInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Key returns the key named kid, fetching the set when kid is not cached
// and the last fetch is at least MinRefetchInterval old.
func (r *remoteKeySet) Key(ctx context.Context, kid string) (Key, error) {
	if k, fetchedAt, ok := r.lookup(kid); ok {
		if now := r.now(); now.Sub(fetchedAt) >= jwksMaxAge {
			r.mu.Lock()
			r.startLocked(now) // in the background; the cached key serves meanwhile
			r.mu.Unlock()
		}
		return k, nil
	}
	r.mu.Lock()
	// A fetch may have landed since the lookup; startLocked then finds
	// itself inside the floor, and the lookup below answers.
	f := r.startLocked(r.now())
	if f == nil {
		// Too soon after the last fetch: answer from what that fetch gave.
		err := r.lastErr
		r.mu.Unlock()
		if k, _, ok := r.lookup(kid); ok {
			return k, nil
		}
		return Key{}, r.missErr(err)
	}
	r.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return Key{}, ctx.Err()
	}
	if k, _, ok := r.lookup(kid); ok {
		return k, nil
	}
	return Key{}, r.missErr(f.err)
}

// missErr is the error for a kid the set does not hold, given the outcome
// of the fetch that should have brought it.
func (r *remoteKeySet) missErr(fetchErr error) error {
	if fetchErr != nil {
		return fmt.Errorf("%w: %w", errKeySetUnavailable, fetchErr)
	}
	return errUnknownKey
}

// startLocked returns the running fetch, or starts one unless the last
// started less than the floor ago (then it returns nil). r.mu is held.
func (r *remoteKeySet) startLocked(now time.Time) *keyFetch {
	if r.inflight != nil {
		return r.inflight
	}
	if !r.triedAt.IsZero() && now.Sub(r.triedAt) < r.floor {
		return nil
	}
	f := &keyFetch{done: make(chan struct{})}
	r.inflight, r.triedAt = f, now
	go r.run(f)
	return f
}

// run performs fetch f. It does not depend on any waiter's context, so one
// waiter giving up does not fail the others.
func (r *remoteKeySet) run(f *keyFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, err := r.fetch(ctx)
	if err != nil {
		r.log.Warn("guard: fetch JWKS", "url", r.url, "err", err)
	}
	r.mu.Lock()
	if err == nil {
		r.set.Store(&keySnapshot{keys: keys, fetchedAt: r.now()})
	}
	r.lastErr, r.inflight = err, nil
	r.mu.Unlock()
	f.err = err
	close(f.done)
}

// fetch downloads and parses the JWKS.
func (r *remoteKeySet) fetch(ctx context.Context) (map[string]Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: status %d", res.StatusCode)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS exceeds %d bytes", maxJWKSBytes)
	}
	keys, skipped, err := parseJWKS(body)
	for _, s := range skipped {
		r.log.Warn("guard: JWKS key skipped", "url", r.url, "err", s)
	}
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// parseJWKS reads a JWK Set (with package jws, the one JOSE parser of
// guard), keeping the asymmetric signature keys that carry a kid and an
// alg that fits them; of a JWK that holds private material, only the
// public key. skipped says why others were left. A document that is not a
// JWK Set, or that yields no usable key, is an error.
func parseJWKS(b []byte) (keys map[string]Key, skipped []error, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("JWKS: %w", err)
	}
	keys = make(map[string]Key, len(doc.Keys))
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw)
		if err == nil {
			if _, dup := keys[k.ID]; dup {
				err = fmt.Errorf("key %q: duplicate kid", k.ID)
			}
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		keys[k.ID] = k
	}
	if len(keys) == 0 {
		return nil, skipped, errors.New("JWKS holds no usable key")
	}
	return keys, skipped, nil
}

// parseJWK reads one key of a JWK Set: a signature key (use absent or
// sig) with a kid, an alg, and a public key of that alg.
func parseJWK(raw json.RawMessage) (Key, error) {
	m, err := jws.DecodeObject(raw)
	if err != nil {
		return Key{}, err
	}
	var k Key
	var errs [3]error
	k.ID, _, errs[0] = m.String("kid")
	k.Algorithm, _, errs[1] = m.String("alg")
	var use string
	use, _, errs[2] = m.String("use")
	if err := errors.Join(errs[:]...); err != nil {
		return Key{}, err
	}
	if use != "" && use != "sig" {
		return Key{}, fmt.Errorf("key %q: use is %q", k.ID, use)
	}
	if k.Key, err = m.PublicKey(); err != nil {
		return Key{}, fmt.Errorf("key %q: %w", k.ID, err)
	}
	return k, k.check()
}
