// Package identity holds Latch's rules: tenants, applications and users,
// login with lockout, refresh-token sessions with their usage and
// expiration policies, rotation and reuse detection, revocation, API keys
// and the signing-key ring. It knows nothing of HTTP or SQL: httpapi calls
// it with FusionAuth's wire types, and it keeps its state in a
// storage.Store.
//
// Service is the one entry point. The rules that matter most are types of
// their own, each naming what it needs of the rest (a narrow part of the
// store, the minting of tokens, the events), with the Service's methods
// delegating to them; each can be called, and tested, on its own:
//   - logins (login.go): the Login API and the OAuth password grant: the
//     request's checks, the lockout of a login ID (package lockout), the
//     password check through the hashing gate and the rehash on login
//     (package password), FusionAuth's login outcomes, the tokens issued;
//   - sessions (session.go, refresh.go): refresh-token sessions: making,
//     refreshing under the rotation rule (package rotation) with reuse
//     detection, describing, listing, revoking, logging out;
//   - events (events.go, webhook.go, eventlog.go): writing events to the
//     outbox in the transaction of their change, the webhooks that take
//     them, and the webhook event log.
//
// The rest are Service methods, by file: tenants (tenant.go),
// applications and their OAuth settings (application.go), roles
// (role.go), users and registrations (user.go), API keys (apikey.go), the
// signing keys, JWKS and rotation of keys (keys.go), access and ID tokens
// (jwt.go), OAuth client authentication, introspection, revocation and
// UserInfo (oauth.go), the authorization code flow: its requests, SSO
// sessions and codes (authorize.go), DPoP replay (dpop.go), the first
// start (bootstrap.go).
package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// Errors the service returns besides *api.Errors (validation, 400) and
// storage.ErrNotFound (404).
var (
	// ErrBadCredentials: unknown login id or wrong password; the two are
	// indistinguishable by design.
	ErrBadCredentials = errors.New("identity: bad credentials")
	// ErrRefreshTokenInvalid: the refresh token is unknown, expired, revoked,
	// reused or not accepted by its application; callers answer uniformly.
	ErrRefreshTokenInvalid = errors.New("identity: refresh token invalid")
	// ErrTokenInvalid: an access token failed verification.
	ErrTokenInvalid = errors.New("identity: access token invalid")
	// ErrUnauthorized: a credential (API key, client secret) is missing or wrong.
	ErrUnauthorized = errors.New("identity: unauthorized")
	// ErrBusy: too many passwords are being hashed, or too many of one
	// login ID's are being checked at once; the caller may retry in a
	// moment (503 with Retry-After).
	ErrBusy = errors.New("identity: too many password checks in progress")
)

// Config configures a Service.
type Config struct {
	// Store keeps every record.
	Store storage.Store
	// Sealer encrypts private signing keys at rest.
	Sealer *token.Sealer
	// Issuer is the iss of tokens whose tenant has no issuer of its own.
	Issuer string
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger receives operational logs; never secrets. slog.Default when nil.
	Logger *slog.Logger
	// OnEnqueue, when set, is called after a change that wrote an event to
	// the outbox committed: it wakes the dispatcher. It must not block.
	OnEnqueue func()
	// Hashing bounds the password hashes computed at once (logins, new
	// passwords); password.DefaultGate() when nil.
	Hashing *password.Gate
	// CacheTTL bounds how long a tenant, an application or the signing
	// keys, read from the store, are used without reading them again: a
	// change made on another node sharing the database is in force here
	// within it (one made through this Service, at once).
	// DefaultCacheTTL when zero.
	CacheTTL time.Duration
}

// Service implements the identity rules over a store.
type Service struct {
	store  storage.Store
	sealer *token.Sealer
	issuer string
	now    func() time.Time
	log    *slog.Logger
	keys   *keyRing
	cache  *recordCache // tenants and applications, for refreshes and logins

	onEnqueue func()
	tx        *txState // set inside Tx

	hashing *password.Gate
	checks  *atomic.Uint64 // passwords checked by logins, for the metrics
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("identity: Store and Sealer are required")
	}
	s := &Service{store: cfg.Store, sealer: cfg.Sealer, issuer: cfg.Issuer, now: cfg.Now, log: cfg.Logger, onEnqueue: cfg.OnEnqueue,
		hashing: cfg.Hashing, checks: new(atomic.Uint64)}
	if s.hashing == nil {
		s.hashing = password.DefaultGate()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	ttl := cfg.CacheTTL
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	s.keys = newKeyRing(s, ttl)
	s.cache = newRecordCache(ttl, s.clock)
	s.store = s.invalidating(cfg.Store)
	return s, nil
}

// WithStore returns a copy of s that works on st, typically a transaction.
// The copy shares the caches, and its writes invalidate them.
func (s *Service) WithStore(st storage.Store) *Service {
	c := *s
	c.store = s.invalidating(st)
	return &c
}

// invalidating returns st with writes that invalidate s's caches, if it
// does not invalidate them already.
func (s *Service) invalidating(st storage.Store) storage.Store {
	if _, ok := st.(invalidating); ok {
		return st
	}
	return invalidating{Store: st, c: s.cache, k: s.keys}
}

// Tx runs fn with a Service whose every write commits together, or not at
// all. Tx on a Service in a transaction joins that transaction. When the
// outermost transaction commits having written events, the dispatcher is
// woken (Config.OnEnqueue).
func (s *Service) Tx(ctx context.Context, fn func(*Service) error) error {
	if s.tx != nil {
		return s.store.Tx(ctx, func(tx storage.Store) error { return fn(s.WithStore(tx)) })
	}
	st := &txState{}
	err := s.store.Tx(ctx, func(tx storage.Store) error {
		c := s.WithStore(tx)
		c.tx = st
		return fn(c)
	})
	if err == nil && st.enqueued && s.onEnqueue != nil {
		s.onEnqueue()
	}
	return err
}

// PasswordChecks returns how many passwords logins have checked since the
// Service was made: not the attempts refused by a lockout, which check
// none.
func (s *Service) PasswordChecks() uint64 { return s.checks.Load() }

// Busy reports whether a login would be refused with ErrBusy at once, as
// every hashing slot is taken and the queue is full: a hint, for callers
// that would otherwise do work first (look an API key up, say).
func (s *Service) Busy() bool { return s.hashing.Full() }

// hashPassword hashes a new password, with a hashing slot (ErrBusy when
// there is none).
func (s *Service) hashPassword(ctx context.Context, plain string) (storage.PasswordHash, error) {
	release, err := s.hashing.Enter(ctx) // a full queue, or a wait cut short
	if err != nil {
		return storage.PasswordHash{}, ErrBusy
	}
	defer release()
	h, err := password.Hash(plain)
	return storage.PasswordHash(h), err
}

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// ProbeWrite reports whether the store accepts writes (storage.Store's
// ProbeWrite, at the service's time).
func (s *Service) ProbeWrite(ctx context.Context) error { return s.store.ProbeWrite(ctx, s.clock()) }

// Issuer returns the issuer of a tenant's tokens.
func (s *Service) Issuer(t api.Tenant) string {
	if t.Issuer != "" {
		return t.Issuer
	}
	return s.issuer
}

// clock returns now in UTC, truncated to microseconds (the storage precision).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// NewID returns a fresh random (version 4) UUID.
func NewID() string { return uuid.NewString() }

// CanonicalID returns id in the form Latch keeps and emits every id in
// (api.CanonicalID): a UUID in any case comes back lowercase, anything
// else unchanged, for the caller's validation to refuse.
func CanonicalID(id string) string { return api.CanonicalID(id) }

// ValidID reports whether id is a UUID in canonical form: 8-4-4-4-12,
// lowercase. Ids reach the rules canonical: httpapi rewrites every id a
// request carries (see its ids.go), and other callers use CanonicalID.
// An id in another form that got this far is refused, never stored.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// checkID validates an optional UUID field.
func checkID(errs *api.Errors, field, id string) {
	if id != "" && !ValidID(id) {
		errs.Field(field, "couldNotConvert", fmt.Sprintf("Invalid %s [%s]. It must be a valid UUID.", field, id))
	}
}

// unusableID is the answer to a create that asks for an id it cannot
// have because an object outside the caller's tenant holds it. Ids are
// global keys, so the id cannot be given; calling it a duplicate would
// tell a caller locked to one tenant that another tenant's object exists.
// This answer names no owner, and it is also the answer for the nil
// UUID, which is no object's id: it says only that the id cannot be used.
func unusableID(field, id string) error {
	return api.FieldError(field, "invalid",
		fmt.Sprintf("The [%s] %s cannot be used. Choose another id, or send none to have one made.", field, id))
}

// millis converts a time to FusionAuth's instant (0 for the zero time).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis converts an instant to a time (zero for 0).
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// fold normalises an email or username for case-insensitive comparison.
func fold(s string) string { return strings.ToLower(s) }

// isNotFound reports whether err is storage.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// notFound wraps storage.ErrNotFound with what was looked for.
func notFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, id, storage.ErrNotFound)
}
