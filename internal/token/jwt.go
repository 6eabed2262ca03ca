package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	// jwk, crit, b64) or a "typ" other than JWT / at+jwt.
	ErrHeader = errors.New("token: header not allowed")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("token: invalid signature")
)

// forbiddenHeaders are header parameters Verify refuses outright: the first
// four let a token name or carry its own verification key (RFC 8725 §3.10),
// crit would oblige us to understand extensions (we understand none), and b64
// (RFC 7797) changes the signing input.
var forbiddenHeaders = []string{"jku", "x5u", "x5c", "jwk", "crit", "b64"}

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
// "typ": "JWT"}. claims must marshal to a JSON object (a struct, a map, or a
// json.RawMessage holding an object).
func Sign(k *Key, claims any) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	if k.ID == "" {
		return "", fmt.Errorf("%w: empty key id", errKey)
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
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.ID),
	)
	if err != nil {
		return "", fmt.Errorf("token: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// Verify parses and verifies a compact JWS JWT and returns its payload (a
// JSON object) and the kid of the key that verified it. It follows RFC 8725
// strictly:
//
//   - tokens over MaxTokenSize, anything but three base64url parts (so also
//     the JSON serialization and JWE), a header or payload that is not a
//     JSON object, and duplicate header names are ErrMalformed;
//   - a missing or unknown "kid" is ErrUnknownKey;
//   - an "alg" other than exactly the key's algorithm is ErrAlgorithm, so
//     "none", HS256 presented with an RSA or EC key, and RS256 presented
//     with an ES256 key all fail;
//   - jku, x5u, x5c, jwk, crit and b64 headers are ErrHeader, as is a "typ"
//     other than "JWT" or "at+jwt" (case-insensitive, optional
//     "application/" prefix); a missing typ is accepted;
//   - a signature that does not verify is ErrSignature.
//
// When a token has several faults, the first check to fail decides the
// error, in this order: size and structure, header decoding, refused
// headers, alg supported, typ, kid present and known, alg equal to the
// key's, signature, payload is a JSON object.
//
// Verify does not look at the claims; use Claims.Validate for exp, nbf, iat,
// iss and aud.
func Verify(raw string, keys KeySet) (payload []byte, kid string, err error) {
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
	if name, refused := j.Header.FirstOf(forbiddenHeaders...); refused {
		return nil, "", fmt.Errorf("%w: %q header present", ErrHeader, name)
	}
	if !supportedAlgorithm(h.alg) {
		return nil, "", fmt.Errorf("%w: unsupported alg", ErrAlgorithm)
	}
	if h.hasTyp && !jws.TypeIs(h.typ, "JWT") && !jws.TypeIs(h.typ, "at+jwt") {
		return nil, "", fmt.Errorf("%w: typ is not JWT or at+jwt", ErrHeader)
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
	signed, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(key.Algorithm)})
	if err != nil {
		// Unreachable in practice: everything go-jose checks was checked above.
		return nil, "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	payload, err = signed.Verify(key.verificationKey())
	if err != nil {
		return nil, "", ErrSignature
	}
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
