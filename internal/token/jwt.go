package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/jws"
)

// MaxTokenSize is the largest serialized JWT Verify accepts, in bytes.
const MaxTokenSize = 16 << 10

// Verification errors. Every error Verify returns wraps exactly one of them.
var (
	// ErrMalformed: the input is not a well-formed compact JWS JWT (too big,
	// not three base64url parts, header or payload not a JSON object,
	// duplicate header names, header parameters of the wrong type). Claims
	// that Validate cannot interpret (missing exp, out-of-range times) are
	// reported as ErrMalformed too.
	ErrMalformed = errors.New("token: malformed token")
	// ErrUnknownKey: the header has no "kid", or the kid is not in the key set.
	ErrUnknownKey = errors.New("token: unknown signing key")
	// ErrAlgorithm: "alg" is missing, unsupported ("none" included), or not
	// the algorithm of the key named by "kid".
	ErrAlgorithm = errors.New("token: signature algorithm not allowed")
	// ErrHeader: the header carries a parameter Latch refuses (jku, x5u, x5c,
	// x5t, x5t#S256, jwk, crit, b64: jws.Refused's one list) or a "typ" other than the one the caller asked for
	// (an ID token presented as an access token, for one).
	ErrHeader = errors.New("token: header not allowed")
	// ErrSignature: the signature does not verify, or is the high-S twin
	// of an ECDSA signature.
	ErrSignature = errors.New("token: invalid signature")
)

// Token types: the "typ" header of the JWTs Latch signs (RFC 8725 §3.11,
// explicit typing), so that no verifier can take one kind for another.
const (
	// TypeAccessToken marks access tokens (RFC 9068 §2.1). Only a JWT so
	// marked is an access token: an ID token, signed by the same key
	// with the same iss and aud, is not one.
	TypeAccessToken = "at+jwt"
	// TypeJWT marks every other JWT Latch signs: OpenID Connect ID tokens
	// and the signatures of webhook deliveries.
	TypeJWT = "JWT"
)

// KeySet resolves verification keys by kid.
type KeySet interface {
	// Key returns the key whose ID is kid.
	Key(kid string) (*Key, bool)
}

// StaticKeySet is a KeySet over a fixed slice of keys.
type StaticKeySet []*Key

// Key returns the first key of s whose ID is kid.
func (s StaticKeySet) Key(kid string) (*Key, bool) {
	if kid == "" {
		return nil, false
	}
	for _, k := range s {
		if k != nil && k.ID == kid {
			return k, true
		}
	}
	return nil, false
}

// Sign serializes claims with encoding/json and returns a compact JWS signed
// with k, with the protected header {"alg": k.Algorithm, "kid": k.ID,
// "typ": typ}. typ is TypeAccessToken for an access token and TypeJWT for
// anything else. claims must marshal to a JSON object (a struct, a map, or
// a json.RawMessage holding an object).
//
// An ES256 signature is returned with its s in the lower half (see
// jws.HighS): Verify refuses the other, so that each token has exactly one
// string.
func Sign(k *Key, typ string, claims any) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	if k.ID == "" {
		return "", fmt.Errorf("%w: empty key id", errKey)
	}
	if typ != TypeAccessToken && typ != TypeJWT {
		return "", fmt.Errorf("token: unknown token type %q", typ)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: marshal claims: %w", err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return "", errors.New("token: claims must be a JSON object")
	}
	// kid goes in as an explicit header: go-jose derives it from a
	// JSONWebKey only for asymmetric keys.
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k.private},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.ID),
	)
	if err != nil {
		return "", fmt.Errorf("token: signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("token: serialize: %w", err)
	}
	return lowS(k.Algorithm, compact)
}

// lowS replaces the signature of compact, a JWS signed with alg, by its
// low-S twin when it is an ECDSA signature with a high s. go-jose, like
// the standard library, leaves s as the signing computed it.
func lowS(alg, compact string) (string, error) {
	i := strings.LastIndexByte(compact, '.')
	sig, err := jws.Encoding.DecodeString(compact[i+1:])
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	if !jws.HighS(alg, sig) {
		return compact, nil
	}
	return compact[:i+1] + jws.Encoding.EncodeToString(jws.LowS(alg, sig)), nil
}

// Verify parses and verifies a compact JWS JWT of type typ (TypeAccessToken
// or TypeJWT) and returns its payload (a JSON object) and the kid of the
// key that verified it. It follows RFC 8725 strictly:
//
//   - tokens over MaxTokenSize, anything but three base64url parts (so also
//     the JSON serialization and JWE), a header or payload that is not a
//     JSON object, and duplicate header names are ErrMalformed;
//   - a missing or unknown "kid" is ErrUnknownKey;
//   - an "alg" other than exactly the key's algorithm is ErrAlgorithm, so
//     "none", HS256 presented with an RSA or EC key, and RS256 presented
//     with an ES256 key all fail;
//   - jku, x5u, x5c, x5t, x5t#S256, jwk, crit and b64 headers (the one
//     list of package jws) are ErrHeader, as is a "typ"
//     that does not name typ (case-insensitive, optional "application/"
//     prefix, jws.TypeIs). A token without typ is a plain JWT (RFC 7519
//     §5.1), never an access token (RFC 9068 §2.1): an ID token, or any
//     other JWT, presented as an access token is ErrHeader;
//   - a signature that does not verify (jws.Verify, the one signature
//     check of Latch's verifiers) is ErrSignature, and so is the high-S
//     twin of an ES256 signature (jws.HighS), which Sign never makes: the same token with s replaced by n−s would verify too, and
//     would be a second string for one token.
//
// When a token has several faults, the first check to fail decides the
// error, in this order: size and structure, header decoding, refused
// headers, alg supported, typ, kid present and known, alg equal to the
// key's, signature, payload is a JSON object.
//
// Verify does not look at the claims; use Claims.Validate for exp, nbf, iat,
// iss and aud.
func Verify(raw string, keys KeySet, typ string) (payload []byte, kid string, err error) {
	if len(raw) > MaxTokenSize {
		return nil, "", fmt.Errorf("%w: token exceeds %d bytes", ErrMalformed, MaxTokenSize)
	}
	j, err := jws.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h, err := parseHeader(j.Header)
	if err != nil {
		return nil, "", err
	}
	if name, refused := j.Refused(false); refused {
		return nil, "", fmt.Errorf("%w: %q header present", ErrHeader, name)
	}
	if !supportedAlgorithm(h.alg) {
		return nil, "", fmt.Errorf("%w: unsupported alg", ErrAlgorithm)
	}
	if !h.is(typ) {
		return nil, "", fmt.Errorf("%w: typ is not %s", ErrHeader, typ)
	}
	if h.kid == "" {
		return nil, "", fmt.Errorf("%w: no kid in header", ErrUnknownKey)
	}
	if keys == nil {
		return nil, "", fmt.Errorf("%w: no key set", ErrUnknownKey)
	}
	key, found := keys.Key(h.kid)
	if !found || key == nil || key.ID != h.kid {
		return nil, "", ErrUnknownKey
	}
	if key.check() != nil {
		return nil, "", fmt.Errorf("%w: key %q is unusable", ErrUnknownKey, key.ID)
	}
	if h.alg != key.Algorithm {
		return nil, "", fmt.Errorf("%w: alg does not match key %q", ErrAlgorithm, key.ID)
	}
	if err := jws.Verify(key.Algorithm, key.verificationKey(), &j); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrSignature, err)
	}
	payload = j.Payload
	if !isJSONObject(payload) {
		return nil, "", fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	return payload, key.ID, nil
}

// header is the part of a JOSE header Verify looks at.
type header struct {
	alg    string
	kid    string
	typ    string
	hasTyp bool
}

// is reports whether the header's typ names typ. A header without one
// is a plain JWT's (RFC 7519 §5.1).
func (h *header) is(typ string) bool {
	if !h.hasTyp {
		return typ == TypeJWT
	}
	return jws.TypeIs(h.typ, typ)
}

// parseHeader extracts alg, kid and typ from a protected header, which
// must be strings (or null, an empty one) when present.
func parseHeader(params jws.Object) (*header, error) {
	var h header
	var errs [3]error
	h.alg, _, errs[0] = params.StringOrNull("alg")
	h.kid, _, errs[1] = params.StringOrNull("kid")
	h.typ, h.hasTyp, errs[2] = params.StringOrNull("typ")
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%w: header %v", ErrMalformed, err)
		}
	}
	return &h, nil
}

// isJSONObject reports whether b is a single, valid UTF-8 JSON object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && utf8.Valid(b) && json.Valid(b)
}
