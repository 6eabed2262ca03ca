package jws

import (
	"bytes"
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

// ecdsaCurve is what verify and HighS need of a curve: its order, the
// length of each of r and s in a JWS signature (RFC 7518 §3.4), and half
// its order in that many big-endian bytes.
type ecdsaCurve struct {
	n    *big.Int
	size int
	half []byte
}

func newECDSACurve(c elliptic.Curve, size int) ecdsaCurve {
	n := c.Params().N
	return ecdsaCurve{n: n, size: size, half: new(big.Int).Rsh(n, 1).FillBytes(make([]byte, size))}
}

var (
	p256 = newECDSACurve(elliptic.P256(), 32)
	p384 = newECDSACurve(elliptic.P384(), 48)
	p521 = newECDSACurve(elliptic.P521(), 66)
)

// ecdsaCurveOf returns the curve of an ECDSA JWS algorithm, or nil for
// any other algorithm.
func ecdsaCurveOf(alg string) *ecdsaCurve {
	switch alg {
	case "ES256":
		return &p256
	case "ES384":
		return &p384
	case "ES512":
		return &p521
	}
	return nil
}

// ecdsaOrder returns the order of the curve of an ECDSA JWS algorithm
// (RFC 7518 §3.4) and the length of each of r and s in its signatures,
// or nil for any other algorithm.
func ecdsaOrder(alg string) (n *big.Int, size int) {
	if c := ecdsaCurveOf(alg); c != nil {
		return c.n, c.size
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
	c := ecdsaCurveOf(alg)
	if c == nil || len(sig) != 2*c.size {
		return false
	}
	// Both are big-endian and of the same length: bytes compare as numbers.
	return bytes.Compare(sig[c.size:], c.half) > 0
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

// maxDERSignature is the longest DER signature asn1Signature makes: a
// SEQUENCE (tag and two length bytes) of two INTEGERs of P-521 (tag,
// length, a zero byte and 66 bytes each).
const maxDERSignature = 3 + 2*(2+1+66)

// asn1Signature appends to dst the ASN.1 DER form of the ECDSA signature
// (r, s), each given big-endian (RFC 7518 §3.4's halves of a JWS
// signature): the form crypto/ecdsa.VerifyASN1 reads. It is what
// ecdsa.Verify builds from two big.Ints, without them.
func asn1Signature(dst, r, s []byte) []byte {
	r, s = minimalInteger(r), minimalInteger(s)
	content := integerLen(r) + integerLen(s)
	dst = append(dst, 0x30) // SEQUENCE
	if content >= 0x80 {
		dst = append(dst, 0x81) // one length byte follows; content < 256
	}
	dst = append(dst, byte(content))
	dst = appendInteger(dst, r)
	return appendInteger(dst, s)
}

// minimalInteger strips the leading zero bytes of b, a big-endian
// unsigned number.
func minimalInteger(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// integerLen is the length of the DER INTEGER appendInteger makes of b.
func integerLen(b []byte) int {
	n := len(b)
	if n == 0 || b[0]&0x80 != 0 {
		n++ // zero is one zero byte; a set top bit needs a zero before it
	}
	return 2 + n
}

// appendInteger appends the DER INTEGER of b, a non-negative big-endian
// number without leading zeros, shorter than 127 bytes.
func appendInteger(dst, b []byte) []byte {
	dst = append(dst, 0x02, byte(integerLen(b)-2)) // INTEGER
	if len(b) == 0 || b[0]&0x80 != 0 {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}
