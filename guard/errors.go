package guard

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// The kinds of guard's refusals. Every error Verify and VerifyProof
// return is an *Error whose Kind is one of them, so errors.Is(err, kind)
// tells them apart; the cause stays reachable too (errors.As for a
// *dpop.NonceError, errors.Is for dpop.ErrTooManyProofs or a context
// error).
var (
	// ErrNoToken: the request carries no access token (no Authorization
	// header in the Bearer or DPoP scheme). Handler answers 401.
	ErrNoToken = errors.New("guard: no access token")
	// ErrInvalidToken: the token, or the way it is presented, cannot be
	// trusted: not a well-formed access token of Latch's (size, form,
	// header, typ, alg, kid, signature, iss, aud, nbf, iat), a DPoP-bound
	// token without a valid proof for this request, or a refresh token
	// Latch refused. Handler answers 401.
	ErrInvalidToken = errors.New("guard: invalid token")
	// ErrExpired: the token's exp has passed, with Config.Leeway. Handler
	// answers 401 (or refreshes it, given a refresh token).
	ErrExpired = errors.New("guard: token expired")
	// ErrRevoked: a revocation event (Guard.Events, RevocationOptions.Store)
	// covers the token. Handler answers 401.
	ErrRevoked = errors.New("guard: token revoked")
	// ErrUnavailable: the token could not be checked now, which says
	// nothing about the token: the key set could not be fetched, the
	// revocations are not known (the store failed, or the catch-up has
	// not succeeded yet), the DPoP replay cache failed or is full, Latch
	// could not refresh, or the request's context ended. Handler answers
	// 503 with Retry-After; 429 when the cause is dpop.ErrTooManyProofs
	// (this client's share of the replay cache is full).
	ErrUnavailable = errors.New("guard: token cannot be checked now")
)

// Error is a refusal of guard, with the answer Handler gives for it.
type Error struct {
	// Kind is ErrNoToken, ErrInvalidToken, ErrExpired, ErrRevoked or
	// ErrUnavailable.
	Kind error
	// Code is the error code of the answer: "invalid_token" (RFC 6750
	// §3.1; for ErrNoToken too, though its challenge names none),
	// "invalid_dpop_proof" or "use_dpop_nonce" (RFC 9449 §7.1, §8), or
	// "temporarily_unavailable" for ErrUnavailable.
	Code string
	// Description is the answer's error_description: plain words for the
	// app, never a secret.
	Description string
	// Err is the precise cause, for the log.
	Err error

	status     int    // of Handler's answer
	retryAfter string // Retry-After of a 503 or 429
	nonce      string // DPoP-Nonce of a use_dpop_nonce answer
	dpop       bool   // answered with a DPoP challenge, whatever the scheme
}

// Error returns the cause's message, or the kind's without a cause.
func (e *Error) Error() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Kind != nil:
		return e.Kind.Error()
	}
	return "guard: refused"
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// reason is the precise cause of a refusal, of one kind: errors.Is
// matches both.
type reason struct {
	kind error
	msg  string
}

func (r *reason) Error() string        { return r.msg }
func (r *reason) Is(target error) bool { return target == r.kind }

// Causes of refusals.
var (
	errMalformed      = &reason{ErrInvalidToken, "guard: malformed token"}
	errHeader         = &reason{ErrInvalidToken, "guard: token header not allowed"}
	errAlgorithm      = &reason{ErrInvalidToken, "guard: signature algorithm not allowed"}
	errUnknownKey     = &reason{ErrInvalidToken, "guard: unknown signing key"}
	errSignature      = &reason{ErrInvalidToken, "guard: invalid signature"}
	errIssuer         = &reason{ErrInvalidToken, "guard: wrong issuer"}
	errAudience       = &reason{ErrInvalidToken, "guard: wrong audience"}
	errNotYetValid    = &reason{ErrInvalidToken, "guard: token not yet valid"}
	errExpired        = &reason{ErrExpired, "guard: token expired"}
	errEventUnsigned  = &reason{ErrInvalidToken, "guard: event not signed"}
	errEventSignature = &reason{ErrInvalidToken, "guard: invalid event signature"}
	// errRefreshRefused: Latch refused the refresh token (any 4xx but
	// 429): unknown, expired, revoked or reused. The user must log in again.
	errRefreshRefused = &reason{ErrInvalidToken, "guard: refresh token refused"}
	// errRefreshedBinding: Latch answered a refresh with a JWT bound to
	// another key than the request proved (or bound, to a request without
	// a proof).
	errRefreshedBinding = &reason{ErrInvalidToken, "guard: the refreshed JWT is bound to another DPoP key"}

	errKeySetUnavailable      = &reason{ErrUnavailable, "guard: key set unavailable"}
	errRevocationsUnavailable = &reason{ErrUnavailable, "guard: revocations unavailable"}
	errRevocationStoreFull    = &reason{ErrUnavailable, "guard: revocation store full"}
	errDPoPReplayUnavailable  = &reason{ErrUnavailable, "guard: DPoP replay cache unavailable"}
	// errLatchUnavailable: Latch could not be reached, or answered 5xx,
	// 429 or something that is not a refresh response.
	errLatchUnavailable = &reason{ErrUnavailable, "guard: latch unavailable"}
)

// refusal is the Error for err, a refusal's cause: what Verify and
// VerifyProof return, and what Handler answers (deny).
func (g *Guard) refusal(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var de *dpopError
	unavailable := func(status int, retryAfter, desc string) *Error {
		return &Error{Kind: ErrUnavailable, Code: "temporarily_unavailable", Description: desc, Err: err,
			status: status, retryAfter: retryAfter}
	}
	switch {
	case errors.As(err, &de):
		return &Error{Kind: ErrInvalidToken, Code: de.code, Description: de.desc, Err: err,
			status: 401, nonce: de.nonce, dpop: true}
	case errors.Is(err, errLatchUnavailable):
		return unavailable(503, "5", "The identity service is unavailable; try again later.")
	case errors.Is(err, dpop.ErrTooManyProofs):
		return unavailable(429, "1", "This client sends DPoP proofs faster than it may; try again later.")
	case errors.Is(err, errDPoPReplayUnavailable):
		return unavailable(503, "1", "The DPoP proof cannot be checked now; try again later.")
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return unavailable(503, strconv.Itoa(int(max(g.floor.Round(time.Second), time.Second)/time.Second)),
			"The token cannot be checked now; try again later.")
	case errors.Is(err, ErrNoToken):
		return &Error{Kind: ErrNoToken, Code: api.OAuthInvalidToken, Description: "The request carries no access token.",
			Err: err, status: 401}
	}
	e = &Error{Kind: ErrInvalidToken, Code: api.OAuthInvalidToken, Description: "The access token is invalid.", Err: err, status: 401}
	switch {
	case errors.Is(err, errRefreshRefused):
		e.Description = "The refresh token is invalid, expired or revoked; log in again."
	case errors.Is(err, ErrExpired):
		e.Kind, e.Description = ErrExpired, "The access token expired."
	case errors.Is(err, ErrRevoked):
		e.Kind, e.Description = ErrRevoked, "The access token has been revoked."
	case errors.Is(err, errNotYetValid):
		e.Description = "The access token is not valid yet."
	case errors.Is(err, errIssuer), errors.Is(err, errAudience):
		e.Description = "The access token was not issued for this service."
	}
	return e
}
