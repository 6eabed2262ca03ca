package guard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxTokenSize is the largest serialized JWT Verify reads, in bytes.
const MaxTokenSize = 16 << 10

// b64 is the one encoding of compact JWS parts: base64url, no padding,
// no stray bits (RFC 7515 §2).
var b64 = base64.RawURLEncoding.Strict()

// refusedHeaders are header parameters that are never accepted: jku, x5u,
// jwk and x5c let a token name or carry its own key (RFC 8725 §3.10); crit
// would oblige us to understand extensions, and we understand none; b64
// (RFC 7797) changes the signing input.
var refusedHeaders = [...]string{"jku", "x5u", "jwk", "x5c", "crit", "b64"}

// jws is a compact JWS split and decoded, before its signature is checked.
type jws struct {
	alg, kid string
	payload  []byte
}

// parseJWS splits a compact JWS, decodes its header strictly and its
// payload, and applies the header rules that need no key.
func parseJWS(raw string) (*jws, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: empty token", ErrMalformed)
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token exceeds %d bytes", ErrMalformed, MaxTokenSize)
	}
	h, rest, ok1 := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	// An empty signature is structurally fine ("none" has one); it fails
	// the algorithm or the signature check.
	if !ok1 || !ok2 || h == "" || p == "" || strings.Contains(s, ".") {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	headerJSON, err := b64.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	if _, err := b64.DecodeString(s); err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	params, err := decodeObject(headerJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	for _, name := range refusedHeaders {
		if _, present := params[name]; present {
			return nil, fmt.Errorf("%w: %q header present", ErrHeader, name)
		}
	}
	t := &jws{payload: payload}
	if err := stringParam(params, "alg", &t.alg); err != nil {
		return nil, err
	}
	if err := stringParam(params, "kid", &t.kid); err != nil {
		return nil, err
	}
	var typ string
	if err := stringParam(params, "typ", &typ); err != nil {
		return nil, err
	}
	if _, hasTyp := params["typ"]; hasTyp && !allowedType(typ) {
		return nil, fmt.Errorf("%w: typ is not JWT or at+jwt", ErrHeader)
	}
	if t.kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrHeader)
	}
	return t, nil
}

// stringParam stores header parameter name in dst when present; present,
// it must be a JSON string.
func stringParam(params map[string]json.RawMessage, name string, dst *string) error {
	v, ok := params[name]
	if !ok {
		return nil
	}
	// The common case, a string without escapes, needs no decoder.
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		*dst = string(v[1 : len(v)-1])
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("%w: header %q is not a string", ErrMalformed, name)
	}
	return nil
}

// decodeObject decodes one JSON object, refusing duplicate member names
// (RFC 7515 §4 lets a parser reject them; we do, so that no two readers of
// the header can disagree on alg or kid).
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("not a JSON object")
	}
	if n := countMembers(b); n != len(out) {
		return nil, errors.New("duplicate member names")
	}
	return out, nil
}

// countMembers counts the members of the valid JSON object b: the commas
// at its top level, plus one unless it is empty. Unmarshal keeps only the
// last of duplicate names, so fewer names than members means duplicates.
func countMembers(b []byte) int {
	n, depth, inString, escaped, empty := 0, 0, false, false, true
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			continue
		case c == '}' || c == ']':
			depth--
			continue
		case c == ',' && depth == 1:
			n++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		if depth == 1 {
			empty = false
		}
	}
	if empty {
		return 0
	}
	return n + 1
}

// allowedType reports whether typ names a JWT or an RFC 9068 access token;
// media type names are case-insensitive and "application/" may be left out
// (RFC 7515 §4.1.9).
func allowedType(typ string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, "JWT") || strings.EqualFold(typ, "at+jwt")
}
