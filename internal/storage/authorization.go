package storage

import (
	"context"
	"time"
)

// AuthorizationStore keeps what the authorization code flow needs between
// requests: the codes /oauth2/authorize issues and /oauth2/token redeems,
// and the SSO sessions of the hosted login page. Codes and SSO sessions
// are found by the SHA-256 of their value; the value itself is never
// stored.
type AuthorizationStore interface {
	// CreateAuthorizationCode stores a new code. ErrConflict if its hash
	// exists.
	CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error
	// RedeemAuthorizationCode marks the code with the given hash used at
	// the given time, if it was not, and returns it as it was before: of
	// any number of concurrent redemptions exactly one finds UsedAt zero.
	// A code already used is returned with its UsedAt and SessionID, and
	// no error. ErrNotFound if no code has the hash.
	RedeemAuthorizationCode(ctx context.Context, hash []byte, at time.Time) (AuthorizationCode, error)
	// SetAuthorizationCodeSession records the refresh-token session the
	// redemption of a code started, for a later reuse to revoke.
	// ErrNotFound if no code has the hash.
	SetAuthorizationCodeSession(ctx context.Context, hash []byte, sessionID string) error

	// CreateSSOSession stores a new SSO session. ErrConflict if its id or
	// hash exists.
	CreateSSOSession(ctx context.Context, s SSOSession) error
	// GetSSOSession returns the SSO session whose cookie value hashes to
	// hash. ErrNotFound if none does.
	GetSSOSession(ctx context.Context, hash []byte) (SSOSession, error)
	// TouchSSOSession records a use of an SSO session: its LastUsed and
	// ExpiresAt. ErrNotFound if none has the id.
	TouchSSOSession(ctx context.Context, id string, lastUsed, expiresAt time.Time) error
	// DeleteSSOSession deletes the SSO session whose cookie value hashes to
	// hash, if any, and returns it. ErrNotFound if none does.
	DeleteSSOSession(ctx context.Context, hash []byte) (SSOSession, error)

	// CollectAuthorizations deletes the codes and SSO sessions that
	// expired before the given time, and returns how many of each.
	CollectAuthorizations(ctx context.Context, before time.Time) (codes, ssoSessions int64, err error)
}

// AuthorizationCode is an authorization code (RFC 6749 §4.1) and what it
// was issued for.
type AuthorizationCode struct {
	// Hash is the SHA-256 of the code.
	Hash          []byte
	TenantID      string
	ApplicationID string
	UserID        string
	// RedirectURI is the redirect_uri of the authorization request, which
	// the token request must repeat (RFC 6749 §4.1.3).
	RedirectURI string
	// CodeChallenge is the PKCE S256 challenge ("" when none was sent).
	CodeChallenge string
	Nonce         string
	Scopes        []string
	// DPoPJKT is the dpop_jkt of the authorization request: the token
	// request's proof must be made with that key (RFC 9449 §10).
	DPoPJKT string
	// SSOSessionID is the SSO session the user was logged in by.
	SSOSessionID string
	// AuthTime is when the user last entered their password.
	AuthTime  time.Time
	Created   time.Time
	ExpiresAt time.Time
	// UsedAt is when the code was redeemed (zero: not yet).
	UsedAt time.Time
	// SessionID is the refresh-token session its redemption started ("" for none).
	SessionID string
}

// SSOSession is a login to the hosted login page, which later
// authorization requests of any application of its tenant reuse instead
// of asking for the password again.
type SSOSession struct {
	ID       string
	TenantID string
	UserID   string
	// Hash is the SHA-256 of the cookie's value.
	Hash      []byte
	AuthTime  time.Time
	LastUsed  time.Time
	ExpiresAt time.Time
}

// CreateAuthorizationCode runs s.CreateAuthorizationCode with a deadline.
func (d *deadlines) CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateAuthorizationCode(ctx, c) })
}

// RedeemAuthorizationCode runs s.RedeemAuthorizationCode with a deadline.
func (d *deadlines) RedeemAuthorizationCode(ctx context.Context, hash []byte, at time.Time) (AuthorizationCode, error) {
	return run(d, ctx, writing, func(ctx context.Context) (AuthorizationCode, error) {
		return d.s.RedeemAuthorizationCode(ctx, hash, at)
	})
}

// SetAuthorizationCodeSession runs s.SetAuthorizationCodeSession with a deadline.
func (d *deadlines) SetAuthorizationCodeSession(ctx context.Context, hash []byte, sessionID string) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.SetAuthorizationCodeSession(ctx, hash, sessionID) })
}

// CreateSSOSession runs s.CreateSSOSession with a deadline.
func (d *deadlines) CreateSSOSession(ctx context.Context, sess SSOSession) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.CreateSSOSession(ctx, sess) })
}

// GetSSOSession runs s.GetSSOSession with a deadline.
func (d *deadlines) GetSSOSession(ctx context.Context, hash []byte) (SSOSession, error) {
	return run(d, ctx, reading, func(ctx context.Context) (SSOSession, error) { return d.s.GetSSOSession(ctx, hash) })
}

// TouchSSOSession runs s.TouchSSOSession with a deadline.
func (d *deadlines) TouchSSOSession(ctx context.Context, id string, lastUsed, expiresAt time.Time) error {
	return d.do(ctx, writing, func(ctx context.Context) error { return d.s.TouchSSOSession(ctx, id, lastUsed, expiresAt) })
}

// DeleteSSOSession runs s.DeleteSSOSession with a deadline.
func (d *deadlines) DeleteSSOSession(ctx context.Context, hash []byte) (SSOSession, error) {
	return run(d, ctx, writing, func(ctx context.Context) (SSOSession, error) { return d.s.DeleteSSOSession(ctx, hash) })
}

// CollectAuthorizations runs s.CollectAuthorizations with a deadline.
func (d *deadlines) CollectAuthorizations(ctx context.Context, before time.Time) (codes, ssoSessions int64, err error) {
	type counts struct{ codes, sso int64 }
	c, err := run(d, ctx, writing, func(ctx context.Context) (counts, error) {
		a, b, err := d.s.CollectAuthorizations(ctx, before)
		return counts{a, b}, err
	})
	return c.codes, c.sso, err
}
