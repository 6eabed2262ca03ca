// Package jws is the one JOSE path of Latch's verifiers: Latch's own
// (internal/token), guard's and dpop's. It parses JSON Web Signatures in
// compact serialization (RFC 7515 §7.1) strictly (Parse: one copy of the
// splitting, the base64url decoding and the JSON decoding that refuses
// duplicate member names), holds the one list of refused header
// parameters (JWS.Refused), decodes JWK public keys (Object.PublicKey) and
// checks signatures (Verify), so that no two verifiers can come to
// disagree on what a JWS is or which one is acceptable.
//
// Which algorithms and keys a verifier accepts, and the claims, are the
// caller's to check. Verify refuses the high-S twin of an ECDSA
// signature: HighS tells the low-S one, the only one Latch makes and
// accepts for its tokens, from its twin, and LowS turns one into the
// other. It depends on the standard library alone (its TestDeps keeps it
// so), as guard, dpop and the client SDK, which apps import and gomobile
// binds, must: that is why it is not a JOSE library.
package jws

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Encoding is the one encoding of compact JWS parts (RFC 7515 §2) and of
// JWK members (RFC 7517): base64url without padding, refusing stray bits,
// so that every value has exactly one encoding.
var Encoding = base64.RawURLEncoding.Strict()

// JWS is a compact JWS split and decoded, its signature not checked.
type JWS struct {
	// Header is the JOSE header, a JSON object without duplicate member
	// names.
	Header Object
	// Payload is the decoded payload.
	Payload []byte
	// Signature is the decoded signature; it may be empty.
	Signature []byte
	// SigningInput is what the signature is over: the header and
	// payload parts as sent, with the dot between them.
	SigningInput string

	// input is SigningInput as bytes (Parse's copy), for the hash.
	input []byte
}

// Parse splits compact, a JWS in compact serialization, into its three
// parts and decodes them: header and payload not empty, all three in
// Encoding, and the header a JSON object without duplicate member names
// (DecodeObject). An empty signature is accepted: it is structurally fine
// (alg "none" has one) and fails the caller's algorithm or signature
// check. Parse reads compact whatever its length: callers refuse an
// oversized one first. On error, the JWS is the zero one.
func Parse(compact string) (JWS, error) { return parse(compact, nil) }

// ParseWithHeader is Parse for a JWS whose header part a verifier has
// parsed before: header is the Header that Parse returned for a JWS with
// exactly the same header part, and it stands for the part, which is not
// decoded again (every other step of Parse is the same). A verifier keeps
// the headers of the tokens it accepted, by their encoded form, so that
// the header, which is the same for every token a key signs, is decoded
// once. header is shared: nobody may modify it.
func ParseWithHeader(compact string, header Object) (JWS, error) {
	if header == nil {
		return JWS{}, errors.New("no header")
	}
	return parse(compact, header)
}

// parse is Parse, taking known, when not nil, as the decoded header.
func parse(compact string, known Object) (JWS, error) {
	h, rest, ok1 := strings.Cut(compact, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || p == "" || strings.Contains(s, ".") {
		return JWS{}, errors.New("not a compact JWS")
	}
	// Base64 decoders skip line breaks: refused, so that a token has one
	// spelling only.
	// (IndexByte, unlike ContainsAny, scans many bytes at a time.)
	if strings.IndexByte(compact, '\r') >= 0 || strings.IndexByte(compact, '\n') >= 0 {
		return JWS{}, errors.New("not a compact JWS: line break")
	}
	// One buffer holds the signing input, as the signature check hashes
	// it, and the parts decoded.
	input := compact[:len(h)+1+len(p)]
	size := len(input) + Encoding.DecodedLen(len(p)) + Encoding.DecodedLen(len(s))
	if known == nil {
		size += Encoding.DecodedLen(len(h))
	}
	buf := make([]byte, 0, size)
	buf = append(buf, input...)
	header := known
	if known == nil {
		var headerJSON []byte
		var err error
		if headerJSON, buf, err = decodePart(buf, h); err != nil {
			return JWS{}, errors.New("header is not base64url")
		}
		if header, err = DecodeObject(headerJSON); err != nil {
			return JWS{}, fmt.Errorf("header: %v", err)
		}
	}
	payload, buf, err := decodePart(buf, p)
	if err != nil {
		return JWS{}, errors.New("payload is not base64url")
	}
	sig, buf, err := decodePart(buf, s)
	if err != nil {
		return JWS{}, errors.New("signature is not base64url")
	}
	return JWS{
		Header:       header,
		Payload:      payload,
		Signature:    sig,
		SigningInput: input,
		input:        buf[:len(input):len(input)],
	}, nil
}

// decodePart appends part, decoded, to buf, and returns it (capped, so
// that appending to it cannot overwrite what follows) and buf.
func decodePart(buf []byte, part string) (decoded, grown []byte, err error) {
	start := len(buf)
	buf, err = Encoding.AppendDecode(buf, []byte(part))
	if err != nil {
		return nil, nil, err
	}
	return buf[start:len(buf):len(buf)], buf, nil
}

// signingInput is SigningInput as bytes, without a copy when Parse made j.
func (j *JWS) signingInput() []byte {
	if len(j.input) == len(j.SigningInput) && string(j.input) == j.SigningInput {
		return j.input
	}
	return []byte(j.SigningInput)
}

// TypeIs reports whether typ, the value of a typ (or cty) header, names
// the media type want: media type names are case-insensitive, and
// "application/" may be left out (RFC 7515 §4.1.9).
func TypeIs(typ, want string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, want)
}
