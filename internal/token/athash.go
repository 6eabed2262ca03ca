package token

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
)

// LeftHalfHash returns the base64url left half of the hash of value, with
// the hash of the JWS algorithm alg: the at_hash of an ID token for the
// access token value (OpenID Connect Core §3.1.3.6). SHA-256 for ES256,
// RS256 and HS256; SHA-512 for EdDSA, as verifiers of Ed25519 ID tokens
// compute it.
func LeftHalfHash(alg, value string) (string, error) {
	var h hash.Hash
	switch alg {
	case ES256, RS256, HS256:
		h = sha256.New()
	case EdDSA:
		h = sha512.New()
	default:
		return "", fmt.Errorf("%w: no hash for algorithm %q", errKey, alg)
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}
