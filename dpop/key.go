package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/latchid/latch/internal/jws"
)

// b64 is the one encoding of compact JWS parts and JWK members: base64url,
// no padding, no stray bits (RFC 7515 §2).
var b64 = jws.Encoding

// RSA moduli outside these bounds are refused, in proof keys and in keys
// given to NewProof or ParseKey.
const (
	MinRSABits = jws.MinRSABits
	MaxRSABits = jws.MaxRSABits
)

// algorithm describes one JWS algorithm (RFC 7518 §3, RFC 8037 §3.1) and
// the one key type it is for.
type algorithm struct {
	name  string
	hash  crypto.Hash // crypto.Hash(0) for EdDSA, which hashes internally
	kty   string
	crv   string         // "" for RSA
	curve elliptic.Curve // EC only
	size  int            // EC only: bytes per coordinate and per r or s
}

// algorithms are the algorithms Verify can check and NewProof can make.
// Every one is asymmetric: "none" and HS* are not in the table, so no
// configuration can allow them.
var algorithms = map[string]*algorithm{
	"ES256": {name: "ES256", hash: crypto.SHA256, kty: "EC", crv: "P-256", curve: elliptic.P256(), size: 32},
	"ES384": {name: "ES384", hash: crypto.SHA384, kty: "EC", crv: "P-384", curve: elliptic.P384(), size: 48},
	"ES512": {name: "ES512", hash: crypto.SHA512, kty: "EC", crv: "P-521", curve: elliptic.P521(), size: 66},
	"EdDSA": {name: "EdDSA", kty: "OKP", crv: "Ed25519"},
	"RS256": {name: "RS256", hash: crypto.SHA256, kty: "RSA"},
}

// curves maps a JWK crv to its ES algorithm.
var curves = map[string]*algorithm{
	"P-256": algorithms["ES256"],
	"P-384": algorithms["ES384"],
	"P-521": algorithms["ES512"],
}

// algorithmFor returns the algorithm NewProof signs with for pub: ES256,
// ES384 or ES512 by curve, EdDSA for Ed25519, RS256 for RSA.
func algorithmFor(pub crypto.PublicKey) (*algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, errors.New("dpop: nil ECDSA key")
		}
		if a := curves[k.Curve.Params().Name]; a != nil {
			return a, nil
		}
		return nil, fmt.Errorf("dpop: unsupported curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("dpop: invalid Ed25519 key")
		}
		return algorithms["EdDSA"], nil
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, errors.New("dpop: nil RSA key")
		}
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return nil, fmt.Errorf("dpop: RSA key of %d bits, not %d to %d", bits, MinRSABits, MaxRSABits)
		}
		return algorithms["RS256"], nil
	default:
		return nil, fmt.Errorf("dpop: unsupported key type %T", pub)
	}
}

// GenerateKey makes a device key: ECDSA on P-256, which signs ES256
// proofs, the algorithm every DPoP server supports. Keep it with MarshalKey.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalKey encodes a private key as PKCS#8 DER, the form
// client.Tokens.DPoPKey holds. The key must be one NewProof accepts.
func MarshalKey(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, errors.New("dpop: nil key")
	}
	if _, err := algorithmFor(key.Public()); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("dpop: marshal key: %w", err)
	}
	return der, nil
}

// ParseKey decodes a PKCS#8 DER private key written by MarshalKey: an
// *ecdsa.PrivateKey (P-256, P-384 or P-521), an ed25519.PrivateKey or an
// *rsa.PrivateKey.
func ParseKey(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("dpop: parse key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dpop: parse key: %T cannot sign", k)
	}
	if _, err := algorithmFor(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of a public key,
// base64url-encoded: the value of an access token's cnf.jkt (RFC 9449
// §6.1). pub is an *ecdsa.PublicKey (P-256, P-384, P-521), an
// ed25519.PublicKey or an *rsa.PublicKey.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	return thumbprintOf(j), nil
}

// thumbprintOf hashes a JWK in RFC 7638 form.
func thumbprintOf(canonicalJWK []byte) string {
	sum := sha256.Sum256(canonicalJWK)
	return b64.EncodeToString(sum[:])
}

// publicJWK returns pub as a JWK holding only the members RFC 7638 §3.2
// requires, in lexicographic order and without whitespace: both the jwk
// header NewProof writes and the input of the thumbprint. Every value is
// base64url or a fixed name, so no JSON escaping is needed.
func publicJWK(pub crypto.PublicKey) ([]byte, error) {
	alg, err := algorithmFor(pub)
	if err != nil {
		return nil, err
	}
	var j []byte
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		pt, err := k.Bytes() // 0x04 || X || Y, fixed size
		if err != nil || len(pt) != 1+2*alg.size {
			return nil, errors.New("dpop: invalid ECDSA key")
		}
		j = fmt.Appendf(j, `{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`,
			alg.crv, b64.EncodeToString(pt[1:1+alg.size]), b64.EncodeToString(pt[1+alg.size:]))
	case ed25519.PublicKey:
		j = fmt.Appendf(j, `{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64.EncodeToString(k))
	case *rsa.PublicKey:
		if k.E < 3 || k.E%2 == 0 {
			return nil, errors.New("dpop: invalid RSA exponent")
		}
		e := big.NewInt(int64(k.E)).Bytes()
		j = fmt.Appendf(j, `{"e":"%s","kty":"RSA","n":"%s"}`, b64.EncodeToString(e), b64.EncodeToString(k.N.Bytes()))
	}
	return j, nil
}

// parseJWK decodes the jwk header of a proof into a public key, checking
// that it is one alg is for: a public key only (jws.PrivateMembers refused:
// the client has published its private key, and the key is burnt), for
// signatures, of alg's type and curve. It returns the key and its RFC 7638
// form.
func parseJWK(raw json.RawMessage, alg *algorithm) (crypto.PublicKey, []byte, error) {
	m, err := jws.DecodeObject(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	if name, ok := m.FirstOf(jws.PrivateMembers...); ok {
		return nil, nil, fmt.Errorf("%w: jwk holds private or symmetric key material (%q)", ErrKey, name)
	}
	if use, ok, err := m.String("use"); err != nil || (ok && use != "sig") {
		return nil, nil, fmt.Errorf("%w: jwk is not for signatures", ErrKey)
	}
	if ka, ok, err := m.String("alg"); err != nil || (ok && ka != alg.name) {
		return nil, nil, fmt.Errorf("%w: jwk is for another algorithm than %s", ErrAlgorithm, alg.name)
	}
	pub, err := m.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	ka, err := algorithmFor(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	if ka.kty != alg.kty || ka.crv != alg.crv {
		return nil, nil, fmt.Errorf("%w: %s with a key for %s", ErrAlgorithm, alg.name, ka.name)
	}
	canonical, err := publicJWK(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	return pub, canonical, nil
}

// sign signs the JWS signing input with key, giving the signature in JWS
// form (RFC 7518 §3.4: ECDSA as fixed-size r || s).
func sign(key crypto.Signer, alg *algorithm, input []byte) ([]byte, error) {
	if alg.kty == "OKP" {
		return key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	h := alg.hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	sig, err := key.Sign(rand.Reader, digest, alg.hash)
	if err != nil || alg.kty != "EC" {
		return sig, err
	}
	// crypto.Signer gives ECDSA signatures in ASN.1 (SEC 1); JWS wants r || s.
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("dpop: ECDSA signer returned a malformed signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 8*alg.size || rs.S.BitLen() > 8*alg.size {
		return nil, errors.New("dpop: ECDSA signer returned an out-of-range signature")
	}
	out := make([]byte, 2*alg.size)
	rs.R.FillBytes(out[:alg.size])
	rs.S.FillBytes(out[alg.size:])
	return out, nil
}
