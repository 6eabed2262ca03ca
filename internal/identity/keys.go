package identity

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// keyRing caches the decrypted signing keys. It implements token.KeySet
// over the keys still able to verify a token. It is read again from the
// store once it is ttl old (measured on the Service's clock), so that a
// key made, retired or deleted on another node is in force here within
// ttl; a key write through this node invalidates it at once.
//
// While the store cannot be read (storage.ErrUnavailable, or no answer
// within KeyReloadWait), the last ring read keeps verifying tokens and
// making the JWKS for KeyRingOutageGrace after it was read; past that, a
// lookup finds nothing and the callers answer 503. One reload runs at a
// time, whoever waits for it, and one that failed is not tried again for
// keyReloadBackoff: an outage costs a store call a second, not one per
// request.
type keyRing struct {
	s      *Service
	ttl    time.Duration
	mu     sync.RWMutex
	byKid  map[string]*ringKey
	byID   map[string]*ringKey
	loaded time.Time // when the read behind the maps began; zero: invalid
	gen    uint64    // bumped by every invalidation
	// kept is when the maps were last read: an outage may serve them
	// until KeyRingOutageGrace after it. Unlike loaded it outlives a
	// failed reload; like it, an invalidation zeroes it (a write of a
	// key, a tenant or an application through this node).
	kept time.Time
	// flight is the reload in progress, if any; failed and failure are
	// the last one's end and error when it failed.
	flight  *keyReload
	failed  time.Time
	failure error
}

// KeyRingOutageGrace is how long after it was read the key ring keeps
// verifying tokens and publishing keys while the store cannot be read.
const KeyRingOutageGrace = 5 * time.Minute

// KeyReloadWait is how long a lookup that finds the ring stale waits for
// the store, when a ring within KeyRingOutageGrace is at hand, before it
// takes that ring.
const KeyReloadWait = 250 * time.Millisecond

// keyReloadBackoff is how long a failed reload's error stands before the
// store is asked again.
const keyReloadBackoff = time.Second

// keyReload is one reload of the ring, shared by whoever waits for it.
type keyReload struct {
	started time.Time // by the wall clock: how long waiters have waited
	done    chan struct{}
	err     error
}

type ringKey struct {
	rec storage.SigningKey
	key *token.Key
}

func newKeyRing(s *Service, ttl time.Duration) *keyRing {
	return &keyRing{s: s, ttl: ttl, byKid: map[string]*ringKey{}, byID: map[string]*ringKey{}}
}

// invalidate makes the next lookup read the store again, and keeps out
// the result of a reload begun before.
func (r *keyRing) invalidate() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.loaded, r.kept = time.Time{}, time.Time{}
	r.failed, r.failure = time.Time{}, nil
}

// reload re-reads every key from the store. A key already open whose
// record has not changed is kept as it is, not opened again.
func (r *keyRing) reload(ctx context.Context, st storage.Store) error {
	r.mu.RLock()
	gen, old := r.gen, r.byID
	r.mu.RUnlock()
	start := r.s.clock()
	recs, err := st.ListKeys(ctx)
	if err != nil {
		return err
	}
	byKid := make(map[string]*ringKey, len(recs))
	byID := make(map[string]*ringKey, len(recs))
	for _, rec := range recs {
		var k *token.Key
		if o, ok := old[rec.ID]; ok && o.rec.Kid == rec.Kid && o.rec.Algorithm == rec.Algorithm && bytes.Equal(o.rec.Private, rec.Private) {
			k = o.key
		} else if k, err = r.s.openKey(rec); err != nil {
			return err
		}
		rk := &ringKey{rec: rec, key: k}
		byKid[rec.Kid], byID[rec.ID] = rk, rk
	}
	r.mu.Lock()
	if r.gen == gen {
		r.byKid, r.byID, r.loaded, r.kept = byKid, byID, start, start
	}
	r.mu.Unlock()
	return nil
}

// stale reports whether the ring must be read again before use.
func (r *keyRing) stale() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	now := r.s.clock()
	return r.loaded.IsZero() || now.Before(r.loaded) || now.Sub(r.loaded) >= r.ttl
}

// fresh reads the ring again if it is stale: the store's error, if that
// failed, unless the store is unavailable and the last ring read is
// within KeyRingOutageGrace, which then stands. shared is false inside a
// transaction: st is the transaction's, read at once by this caller.
func (r *keyRing) fresh(ctx context.Context, st storage.Store, shared bool) error {
	if !r.stale() {
		return nil
	}
	var err error
	if shared {
		err = r.reloadShared(ctx, st)
	} else {
		err = r.reload(ctx, st)
	}
	if err != nil && errors.Is(err, storage.ErrUnavailable) && r.servable() {
		return nil
	}
	return err
}

// servable reports whether the ring in hand may stand in for the store
// during an outage.
func (r *keyRing) servable() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.servableLocked(r.s.clock())
}

func (r *keyRing) servableLocked(now time.Time) bool {
	return !r.kept.IsZero() && !now.Before(r.kept) && now.Sub(r.kept) < KeyRingOutageGrace
}

// reloadShared reads the ring again in one reload shared by every caller
// that finds it stale meanwhile, or answers the error of the last one if
// it failed less than keyReloadBackoff ago. It waits until the reload
// ends, until ctx ends, or, when the ring in hand may serve an outage,
// until KeyReloadWait after the reload began; the reload goes on without
// it, bounded by the store's own deadline.
func (r *keyRing) reloadShared(ctx context.Context, st storage.Store) error {
	r.mu.Lock()
	now := r.s.clock()
	if r.flight == nil && r.failure != nil && !now.Before(r.failed) && now.Sub(r.failed) < keyReloadBackoff {
		err := r.failure
		r.mu.Unlock()
		return err
	}
	f := r.flight
	if f == nil {
		f = &keyReload{started: time.Now(), done: make(chan struct{})}
		r.flight = f
		go r.runReload(context.WithoutCancel(ctx), st, f)
	}
	servable := r.servableLocked(now)
	r.mu.Unlock()

	// KeyReloadWait counts from the reload's start: once it has passed,
	// a reload still running (a frozen store) keeps no one waiting.
	var wait <-chan time.Time
	if servable {
		t := time.NewTimer(KeyReloadWait - time.Since(f.started))
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-f.done:
		return f.err
	case <-wait:
		return fmt.Errorf("%w: the signing keys were not read within %v", storage.ErrUnavailable, KeyReloadWait)
	case <-ctx.Done():
		return fmt.Errorf("%w: the signing keys were not read: %w", storage.ErrUnavailable, ctx.Err())
	}
}

// runReload is the reload f, whose end it records.
func (r *keyRing) runReload(ctx context.Context, st storage.Store, f *keyReload) {
	err := r.reload(ctx, st)
	r.mu.Lock()
	r.flight = nil
	if err != nil {
		r.failed, r.failure = r.s.clock(), err
	} else {
		r.failed, r.failure = time.Time{}, nil
	}
	r.mu.Unlock()
	f.err = err
	close(f.done)
}

// lookup finds a key by kid or id, first reading the store again when
// the ring is stale. When that fails it finds none (a stale ring might
// hold a key deleted or retired elsewhere), but during an outage within
// KeyRingOutageGrace: a caller that must tell an outage from an unknown
// key calls fresh first.
func (r *keyRing) lookup(ctx context.Context, st storage.Store, shared bool, kid, id string) (*ringKey, bool) {
	if err := r.fresh(ctx, st, shared); err != nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if kid != "" {
		k, ok := r.byKid[kid]
		return k, ok
	}
	k, ok := r.byID[id]
	return k, ok
}

// all returns every key of the ring, oldest first (as storage.ListKeys).
func (r *keyRing) all() []ringKey {
	r.mu.RLock()
	out := make([]ringKey, 0, len(r.byID))
	for _, rk := range r.byID {
		out = append(out, *rk)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b ringKey) int {
		return cmp.Or(a.rec.Inserted.Compare(b.rec.Inserted), cmp.Compare(a.rec.ID, b.rec.ID))
	})
	return out
}

// freshKeys reads s's key ring again if it is stale (keyRing.fresh): in a
// transaction, from the transaction.
func (s *Service) freshKeys(ctx context.Context) error {
	return s.keys.fresh(ctx, s.store, s.tx == nil)
}

// lookupKey is keyRing.lookup on s's store.
func (s *Service) lookupKey(ctx context.Context, kid, id string) (*ringKey, bool) {
	return s.keys.lookup(ctx, s.store, s.tx == nil, kid, id)
}

// remove drops a deleted key from the cache.
func (r *keyRing) remove(id, kid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, id)
	delete(r.byKid, kid)
}

// verifier is the token.KeySet of a Service: keys not yet expired.
type verifier struct{ s *Service }

// Key implements token.KeySet.
func (v verifier) Key(kid string) (*token.Key, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rk, ok := v.s.lookupKey(ctx, kid, "")
	if !ok || (!rk.rec.ExpiresAt.IsZero() && !v.s.clock().Before(rk.rec.ExpiresAt)) {
		return nil, false
	}
	return rk.key, true
}

func (s *Service) openKey(rec storage.SigningKey) (*token.Key, error) {
	private, err := s.sealer.Open(rec.Private, []byte(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w", rec.ID, err)
	}
	return token.ParseKey(rec.Kid, rec.Algorithm, private)
}

// keyType names a key's family as FusionAuth's Key API does.
func keyType(alg string) string {
	switch alg {
	case token.ES256:
		return "EC"
	case token.RS256:
		return "RSA"
	case token.EdDSA:
		return "OKP"
	default:
		return "HMAC"
	}
}

// GenerateKey makes a signing key for an algorithm and stores it, private
// part sealed under the master key. id "" makes one.
func (s *Service) GenerateKey(ctx context.Context, id string, in api.Key) (api.Key, error) {
	errs := new(api.Errors)
	checkID(errs, "keyId", id)
	alg := jwsAlgorithm(in.Algorithm)
	if !slices.Contains(token.SupportedAlgorithms(), alg) {
		names := make([]string, 0, len(token.SupportedAlgorithms()))
		for _, a := range token.SupportedAlgorithms() {
			names = append(names, keyAlgorithm(a))
		}
		errs.Field("key.algorithm", "invalid", fmt.Sprintf("The [key.algorithm] must be one of %v.", names))
	}
	if err := errs.Err(); err != nil {
		return api.Key{}, err
	}
	if id == "" {
		id = NewID()
	}
	if in.Name == "" {
		in.Name = in.Algorithm + " signing key"
	}
	rec, err := s.newKey(ctx, id, in.Name, alg)
	if err != nil {
		return api.Key{}, err
	}
	// Storing it invalidated the key ring (invalidating.CreateKey): the
	// next lookup reads it.
	return keyView(rec), nil
}

func (s *Service) newKey(ctx context.Context, id, name, alg string) (storage.SigningKey, error) {
	kid := NewID()
	k, err := token.GenerateKey(kid, alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if tp := k.Thumbprint(); tp != "" {
		kid = tp // RFC 7638: a kid that names the key itself
	}
	private, err := k.MarshalPrivate()
	if err != nil {
		return storage.SigningKey{}, err
	}
	sealed, err := s.sealer.Seal(private, []byte(id))
	if err != nil {
		return storage.SigningKey{}, err
	}
	pem, _ := k.PublicKeyPEM()
	rec := storage.SigningKey{ID: id, Kid: kid, Algorithm: alg, Name: name, Private: sealed, PublicPEM: pem, Inserted: s.clock()}
	if err := s.store.CreateKey(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return storage.SigningKey{}, api.FieldError("keyId", "duplicate", fmt.Sprintf("A Key with Id [%s] already exists.", id))
		}
		return storage.SigningKey{}, err
	}
	return rec, nil
}

// keyAlgorithm spells a key's JWS algorithm as the Key API does
// (FusionAuth's KeyAlgorithm): EdDSA is Ed25519 there.
func keyAlgorithm(alg string) string {
	if alg == token.EdDSA {
		return api.KeyAlgorithmEd25519
	}
	return alg
}

// jwsAlgorithm is keyAlgorithm's inverse; it takes the JWS name too, so
// EdDSA and Ed25519 both make an Ed25519 key.
func jwsAlgorithm(keyAlg string) string {
	if keyAlg == api.KeyAlgorithmEd25519 {
		return token.EdDSA
	}
	return keyAlg
}

// keyView is the public description of a key. Every key Latch holds is
// one it generated, private part included (sealed), so every key pair
// has a private key; an HMAC key has none to speak of, and FusionAuth
// leaves hasPrivateKey out for it.
func keyView(rec storage.SigningKey) api.Key {
	k := api.Key{
		ID: rec.ID, Algorithm: keyAlgorithm(rec.Algorithm), Name: rec.Name, Type: keyType(rec.Algorithm), Kid: rec.Kid,
		PublicKey: rec.PublicPEM, InsertInstant: millis(rec.Inserted), ExpirationInstant: millis(rec.ExpiresAt),
		LastUpdateInstant: millis(rec.Inserted),
	}
	if !rec.RetiredAt.IsZero() {
		k.LastUpdateInstant = millis(rec.RetiredAt) // a rotation retired it
	}
	if k.Type != "HMAC" {
		has := len(rec.Private) > 0
		k.HasPrivateKey = &has
	}
	switch rec.Algorithm {
	case token.ES256, token.HS256:
		k.Length = 256
	case token.RS256:
		k.Length = 2048
	}
	return k
}

// GetKey returns a key's public description. For a caller locked to a
// tenant (tenantID not ""), a key that tenant does not sign with (see
// tenantKeys) does not exist.
func (s *Service) GetKey(ctx context.Context, tenantID, id string) (api.Key, error) {
	if !ValidID(id) {
		return api.Key{}, notFound("key", id)
	}
	rec, err := s.store.GetKey(ctx, id)
	if err != nil {
		return api.Key{}, err
	}
	if tenantID != "" {
		mine, err := s.tenantKeys(ctx, tenantID)
		if err != nil {
			return api.Key{}, err
		}
		if !mine[id] {
			return api.Key{}, notFound("key", id)
		}
	}
	return keyView(rec), nil
}

// ListKeys returns the public descriptions of the keys a caller sees:
// every key (tenantID ""), or, for a caller locked to a tenant, the keys
// that tenant signs with (see tenantKeys).
func (s *Service) ListKeys(ctx context.Context, tenantID string) ([]api.Key, error) {
	recs, err := s.store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var mine map[string]bool
	if tenantID != "" {
		if mine, err = s.tenantKeys(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	out := make([]api.Key, 0, len(recs))
	for _, r := range recs {
		if mine == nil || mine[r.ID] {
			out = append(out, keyView(r))
		}
	}
	return out, nil
}

// tenantKeys returns the ids of a tenant's signing keys: the keys its
// tokens are signed with, by the tenant's configuration (access and ID
// tokens) or one of its applications'. Signing keys are server-wide
// objects that tenants may share, and FusionAuth's documentation does not
// say what a tenant-scoped API key sees of them; Latch shows such a key
// the keys its own tenant's tokens depend on, and nothing of the keys
// only other tenants or webhooks use, or that nothing uses yet.
func (s *Service) tenantKeys(ctx context.Context, tenantID string) (map[string]bool, error) {
	mine := map[string]bool{}
	t, err := s.store.GetTenant(ctx, tenantID)
	if errors.Is(err, storage.ErrNotFound) {
		return mine, nil
	} else if err != nil {
		return nil, err
	}
	add := func(c api.JWTConfiguration) {
		for _, id := range []string{c.AccessTokenKeyID, c.IDTokenKeyID} {
			if id != "" {
				mine[id] = true
			}
		}
	}
	add(t.JWTConfiguration)
	apps, err := s.store.ListApplications(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		add(a.JWTConfiguration)
	}
	return mine, nil
}

// DeleteKey deletes a key no tenant, application or webhook signs with.
func (s *Service) DeleteKey(ctx context.Context, id string) error {
	k, err := s.GetKey(ctx, "", id)
	if err != nil {
		return err
	}
	users, err := s.keyUsers(ctx, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return api.GeneralError("[KeyInUse]", fmt.Sprintf("The key [%s] is in use by %v and cannot be deleted.", id, users))
	}
	if err := s.store.DeleteKey(ctx, id); err != nil {
		return err
	}
	s.keys.remove(k.ID, k.Kid) // a deleted key verifies nothing more
	return nil
}

// keyUsers names the tenants, applications and webhooks that sign with a key.
func (s *Service) keyUsers(ctx context.Context, id string) ([]string, error) {
	var users []string
	tenants, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tenants {
		if t.JWTConfiguration.AccessTokenKeyID == id || t.JWTConfiguration.IDTokenKeyID == id {
			users = append(users, "tenant "+t.ID)
		}
	}
	apps, err := s.store.ListApplications(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if a.JWTConfiguration.AccessTokenKeyID == id || a.JWTConfiguration.IDTokenKeyID == id {
			users = append(users, "application "+a.ID)
		}
	}
	hooks, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		if h.SignatureConfiguration.SigningKeyID == id {
			users = append(users, "webhook "+h.ID)
		}
	}
	return users, nil
}

// RotateKey replaces the key a tenant signs with by a new key of the same
// algorithm, everywhere the old one is used (webhook signatures included). The old key stops signing at
// once and keeps verifying (and stays in the JWKS) until every token it
// signed has expired: the longest access-token lifetime, plus a minute.
func (s *Service) RotateKey(ctx context.Context, tenantID string) (api.Key, error) {
	var out api.Key
	err := s.Tx(ctx, func(s *Service) error {
		t, err := s.resolveTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		oldID := t.JWTConfiguration.AccessTokenKeyID
		old, err := s.store.GetKey(ctx, oldID)
		if err != nil {
			return fmt.Errorf("tenant %s signing key: %w", t.ID, err)
		}
		now := s.clock()
		rec, err := s.newKey(ctx, NewID(), fmt.Sprintf("%s signing key (rotated %s)", old.Algorithm, now.Format(time.DateOnly)), old.Algorithm)
		if err != nil {
			return err
		}
		longest := 0
		tenants, err := s.store.ListTenants(ctx)
		if err != nil {
			return err
		}
		for _, tt := range tenants {
			longest = max(longest, tt.JWTConfiguration.TimeToLiveInSeconds)
			changed := false
			if tt.JWTConfiguration.AccessTokenKeyID == oldID {
				tt.JWTConfiguration.AccessTokenKeyID, changed = rec.ID, true
			}
			if tt.JWTConfiguration.IDTokenKeyID == oldID {
				tt.JWTConfiguration.IDTokenKeyID, changed = rec.ID, true
			}
			if changed {
				tt.LastUpdateInstant = millis(now)
				if err := s.store.UpdateTenant(ctx, tt); err != nil {
					return err
				}
			}
		}
		apps, err := s.store.ListApplications(ctx, "")
		if err != nil {
			return err
		}
		for _, a := range apps {
			if a.JWTConfiguration.Enabled {
				longest = max(longest, a.JWTConfiguration.TimeToLiveInSeconds)
			}
			changed := false
			if a.JWTConfiguration.AccessTokenKeyID == oldID {
				a.JWTConfiguration.AccessTokenKeyID, changed = rec.ID, true
			}
			if a.JWTConfiguration.IDTokenKeyID == oldID {
				a.JWTConfiguration.IDTokenKeyID, changed = rec.ID, true
			}
			if changed {
				a.LastUpdateInstant = millis(now)
				if err := s.store.UpdateApplication(ctx, a); err != nil {
					return err
				}
			}
		}
		hooks, err := s.store.ListWebhooks(ctx)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if h.SignatureConfiguration.SigningKeyID == oldID {
				h.SignatureConfiguration.SigningKeyID = rec.ID
				h.LastUpdateInstant = millis(now)
				if err := s.store.UpdateWebhook(ctx, h); err != nil {
					return err
				}
			}
		}
		old.RetiredAt = now
		old.ExpiresAt = now.Add(time.Duration(longest)*time.Second + time.Minute)
		if err := s.store.UpdateKey(ctx, old); err != nil {
			return err
		}
		out = keyView(rec)
		return nil
	})
	if err == nil {
		err = s.keys.reload(ctx, s.store)
	}
	return out, err
}

// signingKey returns the key of the key ring whose id is id.
func (s *Service) signingKey(ctx context.Context, id string) (*token.Key, error) {
	rk, ok := s.lookupKey(ctx, "", id)
	if !ok {
		// A key made in this very transaction is not in the cache yet.
		rec, err := s.store.GetKey(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("signing key %q: %w", id, err)
		}
		k, err := s.openKey(rec)
		if err != nil {
			return nil, err
		}
		return k, nil
	}
	return rk.key, nil
}

// liveKeys returns the keys that may still verify a token, from the key
// ring (which an outage does not empty at once: see keyRing).
func (s *Service) liveKeys(ctx context.Context) ([]ringKey, error) {
	if err := s.freshKeys(ctx); err != nil {
		return nil, err
	}
	now := s.clock()
	var out []ringKey
	for _, rk := range s.keys.all() {
		if rk.rec.ExpiresAt.IsZero() || now.Before(rk.rec.ExpiresAt) {
			out = append(out, rk)
		}
	}
	return out, nil
}

// JWKS returns the public keys that may still verify a token (RFC 7517).
// HMAC secrets are never published.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := s.liveKeys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, rk := range keys {
		if jwk, ok := rk.key.PublicJWK(); ok {
			set.Keys = append(set.Keys, jwk)
		}
	}
	return set, nil
}

// PublicKeys returns every live public key as PEM, by kid.
func (s *Service) PublicKeys(ctx context.Context) (map[string]string, error) {
	keys, err := s.liveKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, rk := range keys {
		if rk.rec.PublicPEM != "" {
			out[rk.rec.Kid] = rk.rec.PublicPEM
		}
	}
	return out, nil
}

// PublicKeyByKid returns one live public key as PEM.
func (s *Service) PublicKeyByKid(ctx context.Context, kid string) (string, error) {
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return "", err
	}
	if pem, ok := keys[kid]; ok {
		return pem, nil
	}
	return "", notFound("key", kid)
}

// PublicKeyForApplication returns the PEM public key configured on an
// application to sign its access tokens. As in FusionAuth, there is none
// (ErrNotFound) for an application that signs with its tenant's key, or
// with an HMAC key.
func (s *Service) PublicKeyForApplication(ctx context.Context, appID string) (string, error) {
	app, err := s.application(ctx, "", appID)
	if err != nil {
		return "", err
	}
	keyID := app.JWTConfiguration.AccessTokenKeyID
	if keyID == "" {
		return "", notFound("public key for application", appID)
	}
	rec, err := s.store.GetKey(ctx, keyID)
	if err != nil {
		return "", err
	}
	if rec.PublicPEM == "" {
		return "", notFound("public key for application", appID)
	}
	return rec.PublicPEM, nil
}

// SigningAlgorithms lists the algorithms tokens may be signed with: every
// public-key algorithm Latch has, and HS256 while an HMAC key exists.
func (s *Service) SigningAlgorithms(ctx context.Context) ([]string, error) {
	keys, err := s.liveKeys(ctx)
	if err != nil {
		return nil, err
	}
	// Every public-key algorithm, whether or not a key of it exists yet:
	// verifiers that fix the list at discovery (go-oidc's) must keep
	// accepting tokens when an application moves to a key of another
	// algorithm. HMAC only while an HMAC key exists.
	algs := []string{token.ES256, token.RS256, token.EdDSA}
	for _, rk := range keys {
		if !slices.Contains(algs, rk.rec.Algorithm) {
			algs = append(algs, rk.rec.Algorithm)
		}
	}
	return algs, nil
}
