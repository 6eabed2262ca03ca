package guard

import (
	"fmt"

	"github.com/latchid/latch/internal/jws"
)

// MaxTokenSize is the largest serialized JWT Verify reads, in bytes.
const MaxTokenSize = 16 << 10

// refusedHeaders are header parameters that are never accepted: jku, x5u,
// jwk and x5c let a token name or carry its own key (RFC 8725 §3.10); crit
// would oblige us to understand extensions, and we understand none; b64
// (RFC 7797) changes the signing input.
var refusedHeaders = [...]string{"jku", "x5u", "jwk", "x5c", "crit", "b64"}

// parsedToken is a compact JWS split and decoded, before its signature is
// checked.
type parsedToken struct {
	alg, kid string
	typ      string // "" when the header has none
	payload  []byte
	sig      []byte
}

// accessToken reports whether the token is typed as an access token
// (at+jwt, RFC 9068 §2.1). Latch types its ID tokens JWT: they are signed
// by the same keys for the same audience, and only the type tells them
// apart.
func (t *parsedToken) accessToken() bool {
	return jws.TypeIs(t.typ, "at+jwt")
}

// parseJWS splits a compact JWS, decodes its header strictly and its
// payload (package jws), and applies the header rules that need no key.
func parseJWS(raw string) (*parsedToken, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty token", ErrMalformed)
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token exceeds %d bytes", ErrMalformed, MaxTokenSize)
	}
	j, err := jws.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if name, refused := j.Header.FirstOf(refusedHeaders[:]...); refused {
		return nil, fmt.Errorf("%w: %q header present", ErrHeader, name)
	}
	t := &parsedToken{payload: j.Payload, sig: j.Signature}
	if err := stringParam(j.Header, "alg", &t.alg); err != nil {
		return nil, err
	}
	if err := stringParam(j.Header, "kid", &t.kid); err != nil {
		return nil, err
	}
	if err := stringParam(j.Header, "typ", &t.typ); err != nil {
		return nil, err
	}
	// Latch's access tokens are at+jwt (RFC 9068); its ID tokens and the
	// signatures of its events are JWT. Verify takes only the first.
	if _, hasTyp := j.Header["typ"]; hasTyp && !jws.TypeIs(t.typ, "JWT") && !t.accessToken() {
		return nil, fmt.Errorf("%w: typ is not JWT or at+jwt", ErrHeader)
	}
	if t.kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrHeader)
	}
	return t, nil
}

// stringParam stores header parameter name in dst when present; present,
// it must be a JSON string, or null, which is an empty one.
func stringParam(h jws.Object, name string, dst *string) error {
	s, _, err := h.StringOrNull(name)
	if err != nil {
		return fmt.Errorf("%w: header %q is not a string", ErrMalformed, name)
	}
	*dst = s
	return nil
}
