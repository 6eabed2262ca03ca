package guard

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/jws"
)

// maxTokenSize is the largest serialized JWT Verify reads, in bytes.
const maxTokenSize = 16 << 10

// parsedToken is a compact JWS split and decoded, before its signature is
// checked: a token is parsed once, and this is what every later step of
// guard reads.
type parsedToken struct {
	jws      jws.JWS
	alg, kid string
	typ      string // "" when the header has none

	// Of an access token (parseAccessToken): the payload decoded, or why
	// it did not decode. A parsedToken is not modified once parsed, so
	// that one refresh's token serves the requests that share it.
	claims    *api.Claims
	claimsErr error

	// known says that the header was one of knownHeaders, not decoded.
	known bool
}

// maxKnownHeaders bounds knownHeaders. Every token a Latch key signs has
// the same header, and Latch signs with a key or two at a time.
const maxKnownHeaders = 16

// knownHeader is the header of a token guard accepted, as parseJWS found
// it.
type knownHeader struct {
	header        jws.Object
	alg, kid, typ string
}

// knownHeaders are the headers of the access tokens guard accepted, by
// their encoded form, so that the header of the next token of the same
// key is not decoded and checked again (jws.ParseWithHeader): it would
// come out the same. Only the header of a token whose signature verified
// gets in, so that nobody without a signing key can fill it, and when it
// is full it starts over. The zero value is empty and ready; a nil one is
// always empty. It is safe for concurrent use.
type knownHeaders struct {
	mu sync.Mutex // held by writers; readers load m alone
	m  atomic.Pointer[map[string]*knownHeader]
}

// get returns the known header whose encoded form is encoded, or nil.
func (k *knownHeaders) get(encoded string) *knownHeader {
	if k == nil {
		return nil
	}
	if m := k.m.Load(); m != nil {
		return (*m)[encoded]
	}
	return nil
}

// add records t's header, the header of a token that verified.
func (k *knownHeaders) add(t *parsedToken) {
	if k == nil || t.known {
		return
	}
	encoded := headerPart(t.jws.SigningInput)
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.m.Load()
	if old != nil && (*old)[encoded] != nil {
		return
	}
	// Copied, so that readers never see a map being written.
	m := make(map[string]*knownHeader, maxKnownHeaders)
	if old != nil && len(*old) < maxKnownHeaders {
		for name, h := range *old {
			m[name] = h
		}
	}
	m[strings.Clone(encoded)] = &knownHeader{header: t.jws.Header, alg: t.alg, kid: t.kid, typ: t.typ}
	k.m.Store(&m)
}

// headerPart is the encoded header of a compact JWS: what comes before
// the first dot.
func headerPart(compact string) string {
	h, _, _ := strings.Cut(compact, ".")
	return h
}

// parseAccessToken is parseJWS, and the payload decoded as claims (an
// error there is kept in claimsErr, for verify to report in its turn).
func parseAccessToken(raw string, known *knownHeaders) (*parsedToken, error) {
	t, err := parseJWS(raw, known)
	if err != nil {
		return nil, err
	}
	claims := new(api.Claims)
	if err := json.Unmarshal(t.jws.Payload, claims); err != nil {
		t.claimsErr = fmt.Errorf("%w: claims: %v", errMalformed, err)
	} else {
		t.claims = claims
	}
	return t, nil
}

// accessToken reports whether the token is typed as an access token
// (at+jwt, RFC 9068 §2.1). Latch types its ID tokens JWT: they are signed
// by the same keys for the same audience, and only the type tells them
// apart.
func (t *parsedToken) accessToken() bool {
	return jws.TypeIs(t.typ, "at+jwt")
}

// parseJWS splits a compact JWS, decodes its header strictly and its
// payload (package jws: the one parser of Latch's verifiers, and its one
// list of refused header parameters), and applies the header rules that
// need no key. A header among known (which may be nil) is neither
// decoded nor checked again: it passed all of this before.
func parseJWS(raw string, known *knownHeaders) (*parsedToken, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty token", errMalformed)
	}
	if len(raw) > maxTokenSize {
		return nil, fmt.Errorf("%w: token exceeds %d bytes", errMalformed, maxTokenSize)
	}
	if h := known.get(headerPart(raw)); h != nil {
		j, err := jws.ParseWithHeader(raw, h.header)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		return &parsedToken{jws: j, alg: h.alg, kid: h.kid, typ: h.typ, known: true}, nil
	}
	j, err := jws.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if name, refused := j.Refused(false); refused {
		return nil, fmt.Errorf("%w: %q header present", errHeader, name)
	}
	t := &parsedToken{jws: j}
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
		return nil, fmt.Errorf("%w: typ is not JWT or at+jwt", errHeader)
	}
	if t.kid == "" {
		return nil, fmt.Errorf("%w: no kid", errHeader)
	}
	return t, nil
}

// stringParam stores header parameter name in dst when present; present,
// it must be a JSON string, or null, which is an empty one.
func stringParam(h jws.Object, name string, dst *string) error {
	s, _, err := h.StringOrNull(name)
	if err != nil {
		return fmt.Errorf("%w: header %q is not a string", errMalformed, name)
	}
	*dst = s
	return nil
}

// boundJKT returns the cnf.jkt of a token that failed verification (an
// expired one, typically), as parsed: the key it claims to be bound to.
// It is only ever used to ask more of a request (a proof by that key),
// never to trust it more; Latch holds the binding of the refresh token.
func (t *parsedToken) boundJKT() string {
	if t == nil {
		return ""
	}
	if t.claims != nil {
		if bound(t.claims) {
			return t.claims.Confirmation.JKT
		}
		return ""
	}
	// Claims that did not decode (a claim of the wrong type): cnf alone.
	var c struct {
		Confirmation *api.Confirmation `json:"cnf"`
	}
	if json.Unmarshal(t.jws.Payload, &c) != nil || c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}
