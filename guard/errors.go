package guard

import (
	"errors"
	"fmt"
	"time"
)

// Errors of Verify. Every error Verify returns wraps one of them (for an
// expired token it is a *TokenExpiredError, which matches
// ErrTokenExpired), or is the caller's context error, or comes from a
// KeySet of the caller's own. Any error means the token must not be
// trusted; ErrKeySetUnavailable alone says nothing about the token itself,
// only that its key could not be looked up (Handler answers 503 for it).
var (
	// ErrNoToken: the request carries no bearer token.
	ErrNoToken = errors.New("guard: no bearer token")
	// ErrMalformed: not a compact JWS JWT (too big, not three base64url
	// parts, header or payload not a JSON object, duplicate header
	// names), or a required claim (exp, sub) is missing.
	ErrMalformed = errors.New("guard: malformed token")
	// ErrHeader: the header names or carries its own key (jku, x5u, jwk,
	// x5c), marks extensions critical (crit, b64), or has no kid (RFC 8725
	// §3.10); or the token is not typed at+jwt (RFC 8725 §3.11, RFC 9068
	// §2.1), so it is no access token: an ID token, say. (An event's
	// signature may be typed JWT.)
	ErrHeader = errors.New("guard: token header not allowed")
	// ErrAlgorithm: alg is not one of Config.Algorithms ("none" never
	// is), or not the algorithm the key named by kid was published for.
	ErrAlgorithm = errors.New("guard: signature algorithm not allowed")
	// ErrUnknownKey: no key of the key set has the token's kid.
	ErrUnknownKey = errors.New("guard: unknown signing key")
	// ErrSignature: the signature does not verify, or is the high-S twin
	// of an ECDSA signature (Latch's are low-S).
	ErrSignature = errors.New("guard: invalid signature")
	// ErrIssuer: iss is not Config.Issuer.
	ErrIssuer = errors.New("guard: wrong issuer")
	// ErrAudience: aud does not contain Config.Audience.
	ErrAudience = errors.New("guard: wrong audience")
	// ErrTokenExpired matches every *TokenExpiredError.
	ErrTokenExpired = errors.New("guard: token expired")
	// ErrNotYetValid: nbf or iat lies in the future, beyond the leeway.
	ErrNotYetValid = errors.New("guard: token not yet valid")
	// ErrKeySetUnavailable: the token's kid is not in the cached key set
	// and the key set could not be fetched from Latch.
	ErrKeySetUnavailable = errors.New("guard: key set unavailable")
	// ErrRevoked: a jwt.refresh-token.revoke event revoked the token's
	// session, or its user's or application's tokens issued until then.
	ErrRevoked = errors.New("guard: token revoked")
	// ErrRevocationsUnavailable: the RevocationStore failed, or, with
	// Config.CatchUp, the token was issued before the Guard was made and
	// no catch-up has succeeded yet (or it was issued before any catch-up
	// reaches), so whether it was revoked is unknown (Handler answers 503
	// for it, or refreshes it when the request carries a refresh token).
	ErrRevocationsUnavailable = errors.New("guard: revocations unavailable")
)

// TokenExpiredError reports a token whose exp has passed, leeway
// included. errors.Is(err, ErrTokenExpired) matches it.
//
// Verify checks the claims before the signature (a cheap check that can
// only reject), so Expiry comes from a token whose signature may not have
// been checked: use it for messages and metrics, never for identity.
type TokenExpiredError struct {
	// Expiry is the token's exp.
	Expiry time.Time
}

// Error implements error.
func (e *TokenExpiredError) Error() string {
	return fmt.Sprintf("guard: token expired at %s", e.Expiry.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrTokenExpired.
func (e *TokenExpiredError) Is(target error) bool { return target == ErrTokenExpired }

// Errors of the refresh call, kept apart for the middleware's answer.
var (
	// errRefreshRefused: Latch refused the refresh token (any 4xx but 429):
	// unknown, expired, revoked or reused. The user must log in again.
	errRefreshRefused = errors.New("guard: refresh token refused")
	// errLatchUnavailable: Latch could not be reached, or answered 5xx,
	// 429 or something that is not a refresh response.
	errLatchUnavailable = errors.New("guard: latch unavailable")
	// errRefreshedBinding: Latch answered a refresh with a JWT bound to
	// another key than the request proved (or bound, to a request without
	// a proof).
	errRefreshedBinding = errors.New("guard: the refreshed JWT is bound to another DPoP key")
)
