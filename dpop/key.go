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
	"math/bits"

	"github.com/latchid/latch/internal/jws"
)

// b64 is the one encoding of compact JWS parts and JWK members: base64url,
// no padding, no stray bits (RFC 7515 §2).
var b64 = jws.Encoding

// RSA moduli outside these bounds are refused, in proof keys and in keys
// given to NewProof or ParseKey.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
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

// privateMembers are JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). A proof's jwk
// holding any of them is refused, even if the rest is a public key: the
// client has published its private key, and the key is burnt.
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK decodes the jwk header of a proof into a public key, checking
// that it is one alg is for. It returns the key and its RFC 7638 form.
func parseJWK(raw json.RawMessage, alg *algorithm) (crypto.PublicKey, []byte, error) {
	m, err := jws.DecodeObject(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, nil, fmt.Errorf("%w: jwk holds private or symmetric key material (%q)", ErrKey, name)
		}
	}
	kty, _, err := m.String("kty")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
	}
	if use, ok, err := m.String("use"); err != nil || (ok && use != "sig") {
		return nil, nil, fmt.Errorf("%w: jwk is not for signatures", ErrKey)
	}
	if ka, ok, err := m.String("alg"); err != nil || (ok && ka != alg.name) {
		return nil, nil, fmt.Errorf("%w: jwk is for another algorithm than %s", ErrAlgorithm, alg.name)
	}
	var pub crypto.PublicKey
	switch kty {
	case "EC":
		pub, err = parseECJWK(m)
	case "OKP":
		pub, err = parseOKPJWK(m)
	case "RSA":
		pub, err = parseRSAJWK(m)
	case "oct":
		err = errors.New("symmetric key")
	case "":
		err = errors.New("no kty")
	default:
		err = fmt.Errorf("unsupported kty %q", kty)
	}
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

// bytesMember decodes a base64url member of a JWK.
func bytesMember(m jws.Object, name string) ([]byte, error) {
	s, ok, err := m.String(name)
	if err != nil {
		return nil, err
	}
	if !ok || s == "" {
		return nil, fmt.Errorf("no %q", name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not base64url", name)
	}
	return b, nil
}

// parseECJWK decodes an EC public key (RFC 7518 §6.2.1): coordinates of
// exactly the curve's size, a point on the curve.
func parseECJWK(m jws.Object) (crypto.PublicKey, error) {
	crv, _, err := m.String("crv")
	if err != nil {
		return nil, err
	}
	a := curves[crv]
	if a == nil {
		return nil, fmt.Errorf("unsupported crv %q", crv)
	}
	x, err := bytesMember(m, "x")
	if err != nil {
		return nil, err
	}
	y, err := bytesMember(m, "y")
	if err != nil {
		return nil, err
	}
	if len(x) != a.size || len(y) != a.size {
		return nil, fmt.Errorf("%s coordinates are not %d bytes", crv, a.size)
	}
	pt := make([]byte, 0, 1+2*a.size)
	pt = append(append(append(pt, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(a.curve, pt)
	if err != nil {
		return nil, fmt.Errorf("not a %s point", crv)
	}
	return pub, nil
}

// parseOKPJWK decodes an Ed25519 public key (RFC 8037 §2).
func parseOKPJWK(m jws.Object) (crypto.PublicKey, error) {
	crv, _, err := m.String("crv")
	if err != nil {
		return nil, err
	}
	if crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported crv %q", crv)
	}
	x, err := bytesMember(m, "x")
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New("Ed25519 key is not 32 bytes")
	}
	return ed25519.PublicKey(x), nil
}

// parseRSAJWK decodes an RSA public key (RFC 7518 §6.3.1): n and e in the
// minimum number of octets, so that each key has one encoding.
func parseRSAJWK(m jws.Object) (crypto.PublicKey, error) {
	n, err := bytesMember(m, "n")
	if err != nil {
		return nil, err
	}
	e, err := bytesMember(m, "e")
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

// verifySignature checks a JWS signature over input with pub, which
// parseJWK has already matched to alg.
func verifySignature(pub crypto.PublicKey, alg *algorithm, input, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(k, input, sig)
	case *ecdsa.PublicKey:
		if len(sig) != 2*alg.size {
			return false
		}
		h := alg.hash.New()
		h.Write(input)
		r := new(big.Int).SetBytes(sig[:alg.size])
		s := new(big.Int).SetBytes(sig[alg.size:])
		return ecdsa.Verify(k, h.Sum(nil), r, s)
	case *rsa.PublicKey:
		h := alg.hash.New()
		h.Write(input)
		return rsa.VerifyPKCS1v15(k, alg.hash, h.Sum(nil), sig) == nil
	}
	return false
}
