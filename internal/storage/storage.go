// Package storage defines what Latch keeps and the one contract every
// storage backend fulfils. Backends live in subpackages (sqlite, postgres);
// storagetest is the conformance suite they all pass.
//
// Conventions: ctx comes first; times are UTC, truncated to microseconds;
// "not found" is ErrNotFound, a uniqueness violation ErrConflict, a lost
// compare-and-swap ErrStale, a database that cannot serve the call now
// ErrUnavailable, each wrapped with %w and never a raw driver error.
//
// Faults. Every method returns ErrUnavailable when the database cannot be
// reached, does not answer before ctx's deadline, or cannot write (a full
// disk, an I/O error, a read-only file or server): a fact about the
// database, not about the call, which callers answer with "try again
// later". What a call wrote before it failed so is rolled back, with one
// exception no client can rule out: a commit whose answer was lost on the
// way back may have happened. A call whose ctx was cancelled (rather than
// timed out) returns an error wrapping context.Canceled. WithDeadlines
// gives every call a deadline, and Outage turns the failures into a few
// log lines.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/latchid/latch/api"
)

// Errors every backend returns, wrapped.
var (
	ErrNotFound = errors.New("storage: not found")
	ErrConflict = errors.New("storage: already exists")
	ErrStale    = errors.New("storage: changed concurrently")
	// ErrUnavailable: the database cannot serve the call now (unreachable,
	// no answer in time, cannot write); see Faults in the package comment.
	ErrUnavailable = errors.New("storage: unavailable")
)

// ProbeKey is the server-wide setting (see GetMeta) that ProbeWrite
// overwrites with the probe's time; nothing else reads or writes it.
const ProbeKey = "latch.write-probe"

// Store is the storage contract. Every method is safe for concurrent use.
type Store interface {
	AuthorizationStore
	TwoFactorStore

	// Tx runs fn in one transaction: every call fn makes on tx commits
	// together, or none does when fn returns an error. Calls on tx must not
	// outlive fn, and fn must use only tx: the store itself may be blocked
	// by the transaction. Tx called on a transaction runs fn in that
	// transaction.
	Tx(ctx context.Context, fn func(tx Store) error) error

	// CreateTenant stores a new tenant. ErrConflict if the id exists.
	CreateTenant(ctx context.Context, t api.Tenant) error
	// GetTenant returns a tenant. ErrNotFound if none has the id.
	GetTenant(ctx context.Context, id string) (api.Tenant, error)
	// ListTenants returns every tenant, oldest first.
	ListTenants(ctx context.Context) ([]api.Tenant, error)
	// UpdateTenant replaces a tenant. ErrNotFound if none has the id.
	UpdateTenant(ctx context.Context, t api.Tenant) error
	// DeleteTenant deletes a tenant with its applications and users.
	// ErrNotFound if none has the id.
	DeleteTenant(ctx context.Context, id string) error

	// CreateApplication stores a new application. ErrConflict if the id exists.
	CreateApplication(ctx context.Context, a Application) error
	// GetApplication returns an application. ErrNotFound if none has the id.
	GetApplication(ctx context.Context, id string) (Application, error)
	// ListApplications returns a tenant's applications ("" for all), oldest first.
	ListApplications(ctx context.Context, tenantID string) ([]Application, error)
	// UpdateApplication replaces an application. ErrNotFound if none has the id.
	UpdateApplication(ctx context.Context, a Application) error
	// DeleteApplication deletes an application with its registrations and
	// refresh tokens. ErrNotFound if none has the id.
	DeleteApplication(ctx context.Context, id string) error

	// CreateUser stores a new user. ErrConflict if the id, or the email or
	// username (compared case-insensitively) within the tenant, exists.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns a user. ErrNotFound if none has the id.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByEmail finds a user of a tenant by email, case-insensitively.
	GetUserByEmail(ctx context.Context, tenantID, email string) (User, error)
	// GetUserByUsername finds a user of a tenant by username, case-insensitively.
	GetUserByUsername(ctx context.Context, tenantID, username string) (User, error)
	// ListUsers returns the users of a tenant, ordered by email (folded),
	// then username, then id.
	ListUsers(ctx context.Context, tenantID string) ([]User, error)
	// UpdateUser replaces a user. ErrNotFound if none has the id;
	// ErrConflict if the new email or username is taken in the tenant.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser deletes a user with its registrations, refresh tokens and
	// login failures. ErrNotFound if none has the id.
	DeleteUser(ctx context.Context, id string) error

	// CreateRegistration stores a registration. ErrConflict if the user is
	// already registered for the application or the id exists.
	CreateRegistration(ctx context.Context, r Registration) error
	// GetRegistration returns a user's registration for an application.
	GetRegistration(ctx context.Context, userID, applicationID string) (Registration, error)
	// ListRegistrations returns a user's registrations, oldest first.
	ListRegistrations(ctx context.Context, userID string) ([]Registration, error)
	// UpdateRegistration replaces a registration, found by user and application.
	UpdateRegistration(ctx context.Context, r Registration) error
	// DeleteRegistration deletes a registration. ErrNotFound if there is none.
	DeleteRegistration(ctx context.Context, userID, applicationID string) error
	// RenameRole renames the role from to to in every registration for
	// the application that holds it, or removes it from them when to is
	// "". A registration's roles stay sorted (byte order) and distinct;
	// nothing else of it changes. Registrations without the role, and an
	// application without registrations, are no error.
	RenameRole(ctx context.Context, applicationID, from, to string) error

	// CreateSession stores a new refresh-token session. ErrConflict if the
	// id or the token hash exists.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session by id, revoked or not.
	GetSession(ctx context.Context, id string) (Session, error)
	// FindSession finds the session a refresh-token hash belongs to, as its
	// current value or as one it had before (see Match). Revoked sessions
	// are found too: the caller decides.
	FindSession(ctx context.Context, tokenHash []byte) (Session, Match, error)
	// FindSessionOwner is FindSession with the session's user and the
	// user's registration for the session's application, which a refresh
	// reads with it: in one statement (one snapshot) when the session has
	// a registration. ErrNotFound if no session has the hash.
	FindSessionOwner(ctx context.Context, tokenHash []byte) (SessionOwner, Match, error)
	// RotateSession replaces the session's current token hash, if and only
	// if it is still presentedHash and the session is not revoked; the
	// replaced hash becomes the session's previous one. ErrStale otherwise:
	// exactly one of many concurrent rotations of one value succeeds.
	// ErrNotFound if no session has the id.
	RotateSession(ctx context.Context, id string, presentedHash []byte, r Rotation) error
	// TouchSession records a use of a session that does not rotate it.
	// ErrStale if the session is revoked; ErrNotFound if there is none.
	TouchSession(ctx context.Context, id string, t Touch) error
	// ListSessions returns the live (unrevoked) sessions that match f, oldest first.
	ListSessions(ctx context.Context, f SessionFilter) ([]Session, error)
	// RevokeSessions marks every live session that matches f as revoked at
	// the given time for the given reason and returns them. A filter with no
	// field set matches nothing.
	RevokeSessions(ctx context.Context, f SessionFilter, at time.Time, reason string) ([]Session, error)

	// CreateKey stores a signing key. ErrConflict if the id or kid exists.
	CreateKey(ctx context.Context, k SigningKey) error
	// GetKey returns a signing key by id.
	GetKey(ctx context.Context, id string) (SigningKey, error)
	// ListKeys returns every signing key, oldest first.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateKey replaces a signing key's mutable fields (name, retirement, expiry).
	UpdateKey(ctx context.Context, k SigningKey) error
	// DeleteKey deletes a signing key. ErrNotFound if there is none.
	DeleteKey(ctx context.Context, id string) error

	// CreateAPIKey stores an API key. ErrConflict if the id or hash exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKey returns an API key by id.
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	// GetAPIKeyByHash returns the API key whose secret hashes to hash.
	GetAPIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// ListAPIKeys returns every API key, oldest first.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// DeleteAPIKey deletes an API key. ErrNotFound if there is none.
	DeleteAPIKey(ctx context.Context, id string) error

	// GetLoginAttempts returns the failed-login record of a login ID in a
	// tenant (key is the login ID's keyed hash); ErrNotFound if there is
	// none.
	GetLoginAttempts(ctx context.Context, tenantID, key string) (LoginAttempts, error)
	// UpdateLoginAttempts replaces the record of (tenantID, key) with what
	// update returns for the current one (a zero record with TenantID and
	// Key set when there is none), atomically: concurrent updates of one
	// record, on any node, run one after another, each seeing the result
	// of the one before. update may be called more than once; its error
	// aborts the update and is returned. An update that returns the record
	// unchanged writes nothing. ErrNotFound if the tenant does not exist. Inside a Tx, the record stays locked until the transaction
	// ends.
	UpdateLoginAttempts(ctx context.Context, tenantID, key string, update func(LoginAttempts) (LoginAttempts, error)) (LoginAttempts, error)
	// DeleteLoginAttempts removes the record of (tenantID, key), if any.
	DeleteLoginAttempts(ctx context.Context, tenantID, key string) error
	// CollectLoginAttempts deletes the records that expired before now and
	// returns how many.
	CollectLoginAttempts(ctx context.Context, now time.Time) (int64, error)

	// GetMeta returns a server-wide setting. ErrNotFound if unset.
	GetMeta(ctx context.Context, key string) (string, error)
	// PutMeta creates a server-wide setting. ErrConflict if it is set:
	// settings are written once (the kickstart marker, the bootstrap record).
	PutMeta(ctx context.Context, key, value string) error

	// CreateWebhook stores a webhook. ErrConflict if the id exists.
	CreateWebhook(ctx context.Context, w api.Webhook) error
	// GetWebhook returns a webhook. ErrNotFound if none has the id.
	GetWebhook(ctx context.Context, id string) (api.Webhook, error)
	// ListWebhooks returns every webhook, oldest first.
	ListWebhooks(ctx context.Context) ([]api.Webhook, error)
	// UpdateWebhook replaces a webhook. ErrNotFound if none has the id.
	UpdateWebhook(ctx context.Context, w api.Webhook) error
	// DeleteWebhook deletes a webhook with its deliveries, delivered or
	// not. ErrNotFound if none has the id.
	DeleteWebhook(ctx context.Context, id string) error

	// EnqueueEvent stores an event (the outbox) and, for each of
	// webhookIDs, a pending Delivery of it, due at e.Created, with no
	// attempt made. Called on a transaction, the event commits (or rolls
	// back) with the change that caused it. With no webhook ids it stores
	// nothing. ErrConflict if the event id exists; ErrNotFound if a webhook
	// does not.
	EnqueueEvent(ctx context.Context, e Event, webhookIDs []string) error
	// GetEvent returns an event. ErrNotFound if none has the id.
	GetEvent(ctx context.Context, id string) (Event, error)
	// SearchEvents returns the events q selects, in q's order, from
	// q.Offset on and at most q.Limit of them (none when q.Limit <= 0),
	// each with whether a delivery of it is pending, and how many events q
	// selects in all.
	SearchEvents(ctx context.Context, q EventQuery) (events []LoggedEvent, total int, err error)
	// ListDeliveries returns the deliveries of an event ("" for every
	// event), whatever their state, in the order they were enqueued.
	ListDeliveries(ctx context.Context, eventID string) ([]Delivery, error)
	// ClaimDeliveries leases up to limit deliveries that are pending
	// (neither delivered nor abandoned), due (NextAttempt not after now)
	// and not leased (LeaseUntil zero or not after now), earliest
	// NextAttempt first, and returns them with their events. Each comes
	// back with LeaseUntil set to leaseUntil and Attempts counting this
	// attempt. The claim is atomic: of concurrent claims, in this process
	// or on other nodes, at most one gets a delivery while its lease lasts;
	// a lease that runs out (its claimer died) makes the delivery
	// claimable again.
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, leaseUntil time.Time) ([]ClaimedDelivery, error)
	// CompleteDelivery records that a delivery succeeded at the given time
	// and ends its lease. Completing it again keeps the first time; a
	// completed delivery is never claimed again. ErrNotFound if there is
	// no such delivery; ErrStale if it was abandoned.
	CompleteDelivery(ctx context.Context, id int64, at time.Time) error
	// RetryDelivery records a failed attempt: the error (which must hold
	// no secret) and when to try again, and ends the lease. ErrNotFound if
	// there is no such delivery; ErrStale if it was delivered or abandoned.
	RetryDelivery(ctx context.Context, id int64, nextAttempt time.Time, lastErr string) error
	// AbandonDelivery gives a delivery up at the given time, with the last
	// error; it is never claimed again. ErrNotFound if there is no such
	// delivery; ErrStale if it was delivered or abandoned already.
	AbandonDelivery(ctx context.Context, id int64, at time.Time, lastErr string) error

	// UseDPoPProof records key, the replay key of an accepted DPoP proof
	// (an opaque string of at most MaxDPoPProofKeyLength bytes, stored as
	// given: package dpop hands over a hash of the proof key's thumbprint
	// and the jti, never the proof), until expires. It is one atomic step,
	// across every node sharing the database: fresh is true when key was
	// not recorded, or its record had expired (its expiry is not after
	// now), and the record now says expires; fresh is false, and nothing
	// changes, when key is recorded with an expiry after now. Of concurrent
	// calls with one key, exactly one sees fresh. Called on a transaction,
	// the record commits with it. An empty or longer key is an error. An
	// error means nothing is known: the caller must refuse the proof.
	UseDPoPProof(ctx context.Context, key string, now, expires time.Time) (fresh bool, err error)

	// GarbageCollect deletes sessions that expired or were revoked before
	// the given time, deliveries delivered or abandoned before it, events
	// created and to be kept (KeepUntil) until before it that have no
	// delivery left, and DPoP proof records that expired before it.
	GarbageCollect(ctx context.Context, before time.Time) (GCResult, error)

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// ProbeWrite reports whether the database accepts writes: it commits
	// the time now, as RFC 3339 with nanoseconds, under ProbeKey (a
	// durable write, as any other). ErrUnavailable when it cannot. Called
	// on a transaction, the write commits with it.
	ProbeWrite(ctx context.Context, now time.Time) error
	// Close releases the store. Calling it on a transaction is an error.
	Close() error
}

// Application is an application with its OAuth client secret as a hash
// (which authenticates clients) and sealed under the master key (which
// the Application API opens for the callers that may read it). The
// secret is never stored in the clear:
// Application.OAuthConfiguration.ClientSecret is never stored, and comes
// back "".
type Application struct {
	api.Application
	ClientSecretHash []byte
	// ClientSecretSealed is nil for an application stored before secrets
	// were kept sealed, or that has none: only its hash is known.
	ClientSecretSealed []byte
}

// PasswordHash is a stored password hash in FusionAuth's terms.
type PasswordHash struct {
	Scheme string
	Factor int
	Salt   string
	Hash   string
}

// User is a user account. Email and Username are kept as given (identity
// lower-cases emails); uniqueness and lookups ignore case.
// Profile holds the fields that do not affect authentication.
type User struct {
	ID                     string
	TenantID               string
	Email                  string
	Username               string
	Password               PasswordHash
	Active                 bool
	Verified               bool
	PasswordChangeRequired bool
	PasswordChangeReason   string
	Expiry                 time.Time // zero: never expires
	Profile                api.UserProfile
	Inserted               time.Time
	Updated                time.Time
	LastLogin              time.Time
	PasswordUpdated        time.Time
}

// Registration links a user to an application with roles.
type Registration struct {
	ID            string
	UserID        string
	ApplicationID string
	TenantID      string
	Roles         []string
	Username      string
	Verified      bool
	Data          map[string]any
	Inserted      time.Time
	Updated       time.Time
	LastLogin     time.Time
}

// Session is a refresh token: a login of one user to one application whose
// secret value may rotate while its id (FusionAuth's refreshTokenId, the
// JWT's sid) stays. Only hashes of values are stored.
type Session struct {
	ID            string
	TenantID      string
	UserID        string
	ApplicationID string
	// TokenHash is the SHA-256 of the current value.
	TokenHash []byte
	// PreviousHash is the value the last rotation replaced (nil before any).
	PreviousHash []byte
	// SealedSuccessor is the current value sealed under a key derived from
	// the previous value, so that a retry with the previous value within the
	// grace period can be handed the current one.
	SealedSuccessor []byte
	// RotatedAt is when the current value replaced the previous one.
	RotatedAt time.Time
	// Generation counts rotations.
	Generation int
	// Inserted is when the user logged in; StartInstant is what the expiry
	// is counted from (moves on use for sliding windows).
	Inserted     time.Time
	StartInstant time.Time
	ExpiresAt    time.Time
	// AuthTime and AuthenticationType describe the original login.
	AuthTime           time.Time
	AuthenticationType string
	Scopes             []string
	Device             api.DeviceInfo
	LastUsed           time.Time
	// DPoPJKT is the thumbprint of the key the session is bound to ("" if none).
	DPoPJKT      string
	RevokedAt    time.Time // zero: live
	RevokeReason string
}

// SessionOwner is a session with its user and, if the user has one, the
// user's registration for the session's application.
type SessionOwner struct {
	Session      Session
	User         User
	Registration Registration // the zero Registration when Registered is false
	Registered   bool
}

// FindSessionOwnerApart is FindSessionOwner made of FindSession, GetUser
// and GetRegistration, three reads: for a backend's case that its one
// statement does not cover (a session without a registration).
func FindSessionOwnerApart(ctx context.Context, s Store, tokenHash []byte) (SessionOwner, Match, error) {
	var o SessionOwner
	sess, m, err := s.FindSession(ctx, tokenHash)
	if err != nil {
		return o, 0, err
	}
	u, err := s.GetUser(ctx, sess.UserID)
	if err != nil {
		return o, 0, err
	}
	o.Session, o.User = sess, u
	if sess.ApplicationID == "" {
		return o, m, nil
	}
	g, err := s.GetRegistration(ctx, sess.UserID, sess.ApplicationID)
	switch {
	case err == nil:
		o.Registration, o.Registered = g, true
	case !errors.Is(err, ErrNotFound):
		return SessionOwner{}, 0, err
	}
	return o, m, nil
}

// Match says how a presented refresh-token hash matched a session.
type Match int

const (
	// MatchCurrent: the hash is the session's current value.
	MatchCurrent Match = iota + 1
	// MatchPrevious: the hash is the value the last rotation replaced.
	MatchPrevious
	// MatchFormer: the hash is an older value, replaced two or more rotations ago.
	MatchFormer
)

// Rotation is the new state of a session after a one-time-use refresh.
type Rotation struct {
	TokenHash       []byte
	SealedSuccessor []byte
	RotatedAt       time.Time
	StartInstant    time.Time
	ExpiresAt       time.Time
	LastUsed        time.Time
	Device          api.DeviceInfo
}

// Touch records a use of a reusable refresh token.
type Touch struct {
	StartInstant time.Time
	ExpiresAt    time.Time
	LastUsed     time.Time
	Device       api.DeviceInfo
}

// SessionFilter selects sessions; set fields are ANDed.
type SessionFilter struct {
	ID            string
	TenantID      string
	UserID        string
	ApplicationID string
}

// Empty reports whether no field is set.
func (f SessionFilter) Empty() bool {
	return f == SessionFilter{}
}

// SigningKey is one key of the key ring. Private holds the private key (or
// HMAC secret) sealed under the master key.
type SigningKey struct {
	ID        string
	Kid       string
	Algorithm string
	Name      string
	Private   []byte
	PublicPEM string
	Inserted  time.Time
	// RetiredAt is when the key stopped signing (zero while it may sign).
	RetiredAt time.Time
	// ExpiresAt is when the key stops verifying and leaves the JWKS (zero: never).
	ExpiresAt time.Time
}

// APIKey is an API key, kept as the SHA-256 of its secret.
type APIKey struct {
	ID          string
	Hash        []byte
	TenantID    string
	Description string
	// Endpoints limits the key to paths and methods; empty means every API.
	Endpoints map[string][]string
	Inserted  time.Time
}

// LoginAttempts counts the recent password checks of one login ID in a
// tenant, whether or not a user has that ID, and holds the lock their
// failures caused (see package lockout). Key is a keyed hash of the
// folded login ID: the table never holds what callers typed.
type LoginAttempts struct {
	TenantID string
	Key      string
	// Count is the number of failed password checks of the current
	// window, counted when each completes.
	Count int
	// InFlight is the number of password checks of the current window
	// that are running: counted before each starts, given back when it
	// ends.
	InFlight int
	// FirstAt starts the current window.
	FirstAt time.Time
	// LastFailure is when a check last failed.
	LastFailure time.Time
	// LockedUntil, when in the future, refuses every attempt.
	LockedUntil time.Time
	// Expires is when the record stops mattering: the end of its window or
	// of its lock, whichever is later.
	Expires time.Time
}

// Equal reports whether a and b hold the same values (times compared as
// instants).
func (a LoginAttempts) Equal(b LoginAttempts) bool {
	return a.TenantID == b.TenantID && a.Key == b.Key && a.Count == b.Count && a.InFlight == b.InFlight && a.FirstAt.Equal(b.FirstAt) &&
		a.LastFailure.Equal(b.LastFailure) && a.LockedUntil.Equal(b.LockedUntil) && a.Expires.Equal(b.Expires)
}

// Event is an event waiting in the outbox: the JSON body POSTed to each
// webhook it has a Delivery for.
type Event struct {
	// ID is the event's id, the receivers' deduplication key.
	ID       string
	TenantID string
	// Type is the event type, such as api.EventJWTRefreshTokenRevoke.
	Type string
	// Payload is the request body, {"event": {...}}: JSON, kept verbatim.
	Payload []byte
	Created time.Time
	// KeepUntil keeps the event in the outbox, and so in the event log,
	// until then at least, whatever became of its deliveries: receivers
	// that were down catch up on it there. Zero: it goes with its last
	// delivery.
	KeepUntil time.Time
}

// EventQuery selects events of the outbox (SearchEvents).
type EventQuery struct {
	// TenantID selects one tenant's events; "" every tenant's.
	TenantID string
	// Type selects the events of one type; "" of every type.
	Type string
	// Start and End bound Created, both included; a zero time bounds
	// nothing.
	Start, End time.Time
	// State selects events by what became of their deliveries.
	State EventState
	// Order and Descending sort the events; ties are broken by id, in the
	// same direction.
	Order      EventOrder
	Descending bool
	// Offset skips that many events; Limit is the most returned.
	Offset, Limit int
}

// EventState is what became of an event's deliveries.
type EventState int

// States of EventQuery.State.
const (
	// AnyEventState selects events whatever their deliveries' state.
	AnyEventState EventState = iota
	// EventPending selects events with a delivery neither delivered nor
	// abandoned.
	EventPending
	// EventSettled selects events whose every delivery (if any is left)
	// was delivered or abandoned.
	EventSettled
)

// EventOrder is the sort key of EventQuery.
type EventOrder int

// Orders of EventQuery.Order.
const (
	// EventsByCreated sorts by Created.
	EventsByCreated EventOrder = iota
	// EventsByID sorts by ID.
	EventsByID
	// EventsByType sorts by Type, then Created.
	EventsByType
)

// LoggedEvent is an event of the outbox as SearchEvents finds it.
type LoggedEvent struct {
	Event
	// Pending reports that a delivery of it is neither delivered nor
	// abandoned.
	Pending bool
}

// Delivery is the sending of one event to one webhook, attempted until a
// webhook answers 2xx or the dispatcher gives up.
type Delivery struct {
	// ID is assigned by the store when the event is enqueued.
	ID        int64
	EventID   string
	WebhookID string
	// Attempts counts the attempts started (claims).
	Attempts int
	// NextAttempt is when the delivery is due.
	NextAttempt time.Time
	// LeaseUntil is when the current claim runs out (zero: not claimed).
	LeaseUntil time.Time
	// Delivered is when a webhook accepted it (zero: not yet).
	Delivered time.Time
	// Abandoned is when the dispatcher gave up (zero: not given up).
	Abandoned time.Time
	// LastError describes the last failed attempt; it never holds a secret.
	LastError string
}

// ClaimedDelivery is a delivery ClaimDeliveries leased, with its event.
type ClaimedDelivery struct {
	Delivery
	Event Event
}

// GCResult counts what GarbageCollect deleted.
type GCResult struct {
	Sessions   int64
	Deliveries int64
	Events     int64
	DPoPProofs int64
}

// MaxDPoPProofKeyLength is the longest key UseDPoPProof takes, in bytes.
// dpop's replay keys are 43 (base64url of a SHA-256).
const MaxDPoPProofKeyLength = 128
