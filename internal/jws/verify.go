package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
)

// refusedHeaders is the one list of JOSE header parameters that no
// verifier of Latch accepts: jku, x5u, x5c, x5t and x5t#S256 name or
// carry a key of the token's own choosing (RFC 8725 §3.10), as jwk does
// where the key does not travel in the JWS by design; crit would oblige
// the verifier to understand extensions, and none is understood; b64
// (RFC 7797) changes the signing input.
var refusedHeaders = [...]string{"jku", "x5u", "x5c", "x5t", "x5t#S256", "jwk", "crit", "b64"}

// Refused returns the first header parameter of j that the one list of
// refused parameters names, if any. embeddedKey says that j carries its
// own key in a jwk header by design (a DPoP proof, RFC 9449 §4.2): jwk is
// then allowed, and only then.
func (j *JWS) Refused(embeddedKey bool) (name string, found bool) {
	for _, name := range refusedHeaders {
		if name == "jwk" && embeddedKey {
			continue
		}
		if _, ok := j.Header[name]; ok {
			return name, true
		}
	}
	return "", false
}

// Errors of Verify.
var (
	// ErrAlgorithm: the algorithm is not one Verify knows, or the key is
	// not of the algorithm's type.
	ErrAlgorithm = errors.New("jws: algorithm not supported for the key")
	// ErrSignature: the signature does not verify, or is the high-S twin
	// of an ECDSA signature (see HighS).
	ErrSignature = errors.New("jws: invalid signature")
)

// hashOf is the hash of a JWS algorithm (RFC 7518 §3.1); 0 for EdDSA,
// which hashes internally, and for algorithms Verify does not know.
func hashOf(alg string) crypto.Hash {
	switch alg {
	case "ES256", "RS256", "PS256", "HS256":
		return crypto.SHA256
	case "ES384", "RS384", "PS384", "HS384":
		return crypto.SHA384
	case "ES512", "RS512", "PS512", "HS512":
		return crypto.SHA512
	}
	return 0
}

// Verify checks the signature of j with key under alg, the algorithm the
// caller has settled on (the header's alg, once the caller has checked
// that it is one it accepts and the one the key is for). key is an
// *ecdsa.PublicKey (ES256, ES384, ES512, each on its own curve), an
// *rsa.PublicKey (RS* and PS*), an ed25519.PublicKey (EdDSA) or a []byte
// secret (HS*); any other pairing is ErrAlgorithm. A signature that does
// not verify is ErrSignature, and so is the high-S twin of an ECDSA one:
// Latch makes each ECDSA signature low-S, so that a token has one string.
// Verify uses the standard library only.
func Verify(alg string, key any, j *JWS) error { return verify(alg, key, j, false) }

// VerifyEitherS is Verify, except that it accepts an ECDSA signature
// whichever its s: for a DPoP proof, which clients other than Latch's make
// with plain ECDSA, and whose replay is told by its jti, never by its
// string.
func VerifyEitherS(alg string, key any, j *JWS) error { return verify(alg, key, j, true) }

// verify is Verify; highS allows the high-S form of ECDSA signatures.
func verify(alg string, key any, j *JWS, highS bool) error {
	input, sig := j.signingInput(), j.Signature
	if alg == "EdDSA" {
		k, ok := key.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: EdDSA with %T", ErrAlgorithm, key)
		}
		if !ed25519.Verify(k, input, sig) {
			return ErrSignature
		}
		return nil
	}
	hash := hashOf(alg)
	if hash == 0 {
		return fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	if alg[0] == 'H' {
		secret, ok := key.([]byte)
		if !ok || len(secret) == 0 {
			return fmt.Errorf("%w: %s with %T", ErrAlgorithm, alg, key)
		}
		m := hmac.New(hash.New, secret)
		m.Write(input)
		if !hmac.Equal(m.Sum(nil), sig) {
			return ErrSignature
		}
		return nil
	}
	var buf [sha512.Size]byte
	digest := digestOf(buf[:0], hash, input)
	switch alg[0] {
	case 'E':
		k, ok := key.(*ecdsa.PublicKey)
		c := ecdsaCurveOf(alg)
		if !ok || k == nil || k.Curve == nil || k.Curve.Params().N.Cmp(c.n) != 0 {
			return fmt.Errorf("%w: %s with %T", ErrAlgorithm, alg, key)
		}
		if len(sig) != 2*c.size || (!highS && HighS(alg, sig)) {
			return ErrSignature
		}
		// ecdsa.Verify would build this DER from two big.Ints.
		var der [maxDERSignature]byte
		if !ecdsa.VerifyASN1(k, digest, asn1Signature(der[:0], sig[:c.size], sig[c.size:])) {
			return ErrSignature
		}
		return nil
	default: // RS*, PS*
		k, ok := key.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return fmt.Errorf("%w: %s with %T", ErrAlgorithm, alg, key)
		}
		var err error
		if alg[0] == 'P' {
			err = rsa.VerifyPSS(k, hash, digest, sig, nil)
		} else {
			err = rsa.VerifyPKCS1v15(k, hash, digest, sig)
		}
		if err != nil {
			return ErrSignature
		}
		return nil
	}
}

// digestOf appends the hash of input to dst: SHA-256, SHA-384 or SHA-512,
// computed without a hash.Hash to allocate.
func digestOf(dst []byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(input)
		return append(dst, d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(input)
		return append(dst, d[:]...)
	default:
		d := sha512.Sum512(input)
		return append(dst, d[:]...)
	}
}
