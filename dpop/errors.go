package dpop

import (
	"errors"
	"fmt"
)

// Errors of Verify and FromHeader. Every error Verify returns wraps exactly
// one of them, or is the caller's context error, or comes from the
// ReplayCache (ErrReplayCacheFull or ErrTooManyProofs from a
// MemoryReplayCache), or reports a Request that is not one (no method, or
// no absolute http or https URL). Check and Record split Verify's errors
// between them. Any error means the proof must not be trusted.
//
// A caller maps them to the wire: at an authorization server, every one is
// an invalid_dpop_proof error (RFC 9449 §5) except ErrUseNonce, which is
// use_dpop_nonce; at a resource server, both travel in a 401's
// WWW-Authenticate: DPoP challenge (RFC 9449 §7.1, §9). A *NonceError
// carries the nonce to send back in the DPoP-Nonce header.
var (
	// ErrNoProof: the request carries no DPoP header (FromHeader only).
	// Whether that is an error is the caller's decision: a request with a
	// bearer token needs no proof.
	ErrNoProof = errors.New("dpop: no proof")
	// ErrMalformed: several DPoP header values, an empty one, a proof
	// larger than MaxProofSize, not a compact JWS, a header or payload that
	// is not base64url or not a JSON object (or has duplicate member names),
	// or a required claim (jti, htm, htu, iat) missing or of the wrong type.
	ErrMalformed = errors.New("dpop: malformed proof")
	// ErrType: the typ header is not dpop+jwt (RFC 9449 §4.2, RFC 8725
	// §3.11), so the JWT may have been made for another purpose.
	ErrType = errors.New("dpop: wrong proof type")
	// ErrHeader: the header names a key elsewhere or by reference (jku,
	// x5u, x5c, x5t, x5t#S256) or marks extensions critical (crit, b64);
	// a proof's only key is the one in its jwk header (RFC 8725 §3.10).
	ErrHeader = errors.New("dpop: proof header not allowed")
	// ErrAlgorithm: alg is not one of Config.Algorithms ("none" and the
	// symmetric HS* never are), or is not the algorithm of the jwk's key
	// type and curve.
	ErrAlgorithm = errors.New("dpop: signature algorithm not allowed")
	// ErrKey: the jwk header is missing (a kid alone is not a key), is
	// not a JSON object, holds private or symmetric key material, or is
	// not a valid public key of a supported type (an EC point off its
	// curve, an RSA modulus below 2048 bits, ...).
	ErrKey = errors.New("dpop: invalid proof key")
	// ErrSignature: the signature does not verify with the jwk's key.
	ErrSignature = errors.New("dpop: invalid proof signature")
	// ErrMethod: htm is not the request's method.
	ErrMethod = errors.New("dpop: proof is for another method")
	// ErrURL: htu is not the request's URL (RFC 9449 §4.3: scheme and host
	// compared case-insensitively, default ports dropped, query and
	// fragment ignored, path compared exactly).
	ErrURL = errors.New("dpop: proof is for another URL")
	// ErrIssuedAt: iat lies outside Config.Window in the past or
	// Config.Skew in the future.
	ErrIssuedAt = errors.New("dpop: proof issued outside the acceptance window")
	// ErrReplay: a proof with the same key and jti was accepted before,
	// within the window.
	ErrReplay = errors.New("dpop: proof replayed")
	// ErrAccessTokenHash: an access token was presented and the proof's
	// ath is missing or is not the token's hash (RFC 9449 §4.3 item 12).
	ErrAccessTokenHash = errors.New("dpop: proof is for another access token")
	// ErrKeyMismatch: the proof's key is not the key the token is bound to
	// (Request.BoundJKT).
	ErrKeyMismatch = errors.New("dpop: proof key is not the token's key")
	// ErrUseNonce matches every *NonceError: the verifier requires a nonce
	// and the proof carries none, or a stale or forged one.
	ErrUseNonce = errors.New("dpop: proof needs a fresh nonce")
	// ErrReplayCacheFull: a MemoryReplayCache holds MaxEntries unexpired
	// entries and cannot record another. It says nothing about the proof;
	// the request should be refused (503) rather than served unrecorded.
	ErrReplayCacheFull = errors.New("dpop: replay cache full")
	// ErrTooManyProofs: a MemoryReplayCache holds MaxPerClient unexpired
	// entries for the proof's client (Request.Client) and cannot record
	// another for it, until some expire. It says nothing about the proof:
	// the client sends proofs faster than one client may. Refuse its
	// request (429); other clients are served as before.
	ErrTooManyProofs = errors.New("dpop: too many proofs from one client")
)

// NonceError tells the client to retry with a fresh nonce: answer
// use_dpop_nonce with Nonce in the DPoP-Nonce header (RFC 9449 §8, §9).
// errors.Is(err, ErrUseNonce) matches it.
type NonceError struct {
	// Nonce is the nonce the client should put in its next proof.
	Nonce string
	// reason says what was wrong with the proof's nonce, for logs.
	reason string
}

// Error implements error.
func (e *NonceError) Error() string {
	if e.reason == "" {
		return ErrUseNonce.Error()
	}
	return fmt.Sprintf("%s: %s", ErrUseNonce.Error(), e.reason)
}

// Is makes errors.Is(err, ErrUseNonce) true for a *NonceError.
func (e *NonceError) Is(target error) bool { return target == ErrUseNonce }
