package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
)

// RSA moduli outside these bounds are refused by PublicKey.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// PrivateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). PublicKey
// ignores them; a caller for which their presence is a fault (a DPoP
// proof's jwk: the client has published its private key) checks for them
// with FirstOf.
var PrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// curves maps a JWK crv to its curve and the size of its coordinates.
var curves = map[string]struct {
	curve elliptic.Curve
	size  int
}{
	"P-256": {elliptic.P256(), 32},
	"P-384": {elliptic.P384(), 48},
	"P-521": {elliptic.P521(), 66},
}

// PublicKey decodes the public key a JWK (RFC 7517) holds, o being the
// JWK decoded by DecodeObject: an *ecdsa.PublicKey (kty EC, crv P-256,
// P-384 or P-521, coordinates of exactly the curve's size, a point on the
// curve), an ed25519.PublicKey (kty OKP, crv Ed25519) or an
// *rsa.PublicKey (kty RSA, n of MinRSABits to MaxRSABits, n and e without
// leading zeros, so that each key has one encoding). kty oct, and any
// other, is an error. Members other than those of the public key (kid,
// alg, use, private material) are the caller's to check.
func (o Object) PublicKey() (crypto.PublicKey, error) {
	kty, _, err := o.String("kty")
	if err != nil {
		return nil, err
	}
	switch kty {
	case "EC":
		return o.ecKey()
	case "OKP":
		return o.okpKey()
	case "RSA":
		return o.rsaKey()
	case "oct":
		return nil, errors.New("symmetric key")
	case "":
		return nil, errors.New("no kty")
	}
	return nil, fmt.Errorf("unsupported kty %q", kty)
}

// bytesMember decodes a base64url member of a JWK.
func (o Object) bytesMember(name string) ([]byte, error) {
	s, ok, err := o.String(name)
	if err != nil {
		return nil, err
	}
	if !ok || s == "" {
		return nil, fmt.Errorf("no %q", name)
	}
	b, err := Encoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not base64url", name)
	}
	return b, nil
}

// ecKey decodes an EC public key (RFC 7518 §6.2.1).
func (o Object) ecKey() (crypto.PublicKey, error) {
	crv, _, err := o.String("crv")
	if err != nil {
		return nil, err
	}
	c, ok := curves[crv]
	if !ok {
		return nil, fmt.Errorf("unsupported crv %q", crv)
	}
	x, err := o.bytesMember("x")
	if err != nil {
		return nil, err
	}
	y, err := o.bytesMember("y")
	if err != nil {
		return nil, err
	}
	if len(x) != c.size || len(y) != c.size {
		return nil, fmt.Errorf("%s coordinates are not %d bytes", crv, c.size)
	}
	pt := make([]byte, 0, 1+2*c.size)
	pt = append(append(append(pt, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(c.curve, pt)
	if err != nil {
		return nil, fmt.Errorf("not a %s point", crv)
	}
	return pub, nil
}

// okpKey decodes an Ed25519 public key (RFC 8037 §2).
func (o Object) okpKey() (crypto.PublicKey, error) {
	crv, _, err := o.String("crv")
	if err != nil {
		return nil, err
	}
	if crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported crv %q", crv)
	}
	x, err := o.bytesMember("x")
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New("Ed25519 key is not 32 bytes")
	}
	return ed25519.PublicKey(x), nil
}

// rsaKey decodes an RSA public key (RFC 7518 §6.3.1).
func (o Object) rsaKey() (crypto.PublicKey, error) {
	n, err := o.bytesMember("n")
	if err != nil {
		return nil, err
	}
	e, err := o.bytesMember("e")
	if err != nil {
		return nil, err
	}
	if n[0] == 0 || e[0] == 0 {
		return nil, errors.New("RSA members have leading zeros")
	}
	if size := 8*len(n) - bits.LeadingZeros8(n[0]); size < MinRSABits || size > MaxRSABits {
		return nil, fmt.Errorf("RSA modulus of %d bits, not %d to %d", size, MinRSABits, MaxRSABits)
	}
	if len(e) > 4 {
		return nil, errors.New("RSA exponent too large")
	}
	var exp int64
	for _, b := range e {
		exp = exp<<8 | int64(b)
	}
	if exp < 3 || exp%2 == 0 || exp > 1<<31-1 {
		return nil, errors.New("invalid RSA exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}, nil
}
