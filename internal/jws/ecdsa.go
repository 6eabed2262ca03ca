package jws

import (
	"crypto/elliptic"
	"math/big"
)

// An ECDSA signature (r, s) verifies for the same message and key as
// (r, n−s), n being the order of the curve: whoever holds one signed JWS
// can make a second, different string that verifies too, without the key.
// A signer that keeps s in the lower half (s <= n/2, as Bitcoin's BIP 62
// does) and a verifier that refuses the upper half leave each signed
// message exactly one signature, so that a token has one string and no
// cache or deny-list keyed by the string can be sidestepped.

// ecdsaOrder returns the order of the curve of an ECDSA JWS algorithm
// (RFC 7518 §3.4) and the length of each of r and s in its signatures,
// or nil for any other algorithm.
func ecdsaOrder(alg string) (n *big.Int, size int) {
	switch alg {
	case "ES256":
		return elliptic.P256().Params().N, 32
	case "ES384":
		return elliptic.P384().Params().N, 48
	case "ES512":
		return elliptic.P521().Params().N, 66
	}
	return nil, 0
}

// HighS reports whether sig, a JWS signature of alg (r and s, big-endian,
// each of the curve's size), is an ECDSA signature whose s lies in the
// upper half of the curve's order (s > n/2): the twin of a low-S
// signature, which a verifier that wants one string per token refuses.
// It reports false for algorithms other than ES256, ES384 and ES512, and
// for a signature of the wrong length, which fails the signature check
// anyway.
func HighS(alg string, sig []byte) bool {
	n, size := ecdsaOrder(alg)
	if n == nil || len(sig) != 2*size {
		return false
	}
	s := new(big.Int).SetBytes(sig[size:])
	half := new(big.Int).Rsh(n, 1)
	return s.Cmp(half) > 0
}

// LowS returns sig with s replaced by n−s when HighS reports true: the
// low-S twin, which verifies wherever sig does. Otherwise it returns sig
// itself. sig is never modified.
func LowS(alg string, sig []byte) []byte {
	if !HighS(alg, sig) {
		return sig
	}
	n, size := ecdsaOrder(alg)
	s := new(big.Int).SetBytes(sig[size:])
	out := make([]byte, len(sig))
	copy(out, sig[:size])
	s.Sub(n, s).FillBytes(out[size:])
	return out
}
