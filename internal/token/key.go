package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Signature algorithms supported by Latch (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	// ES256 is ECDSA using P-256 and SHA-256.
	ES256 = "ES256"
	// RS256 is RSASSA-PKCS1-v1_5 using SHA-256.
	RS256 = "RS256"
	// EdDSA is Ed25519 (RFC 8037).
	EdDSA = "EdDSA"
	// HS256 is HMAC using SHA-256. HS256 keys are never published.
	HS256 = "HS256"
)

const (
	// rsaGenerateBits is the modulus size of generated RSA keys.
	rsaGenerateBits = 2048
	// rsaMinBits is the smallest RSA modulus ParseKey accepts (RFC 7518 §3.3).
	rsaMinBits = 2048
	// rsaMaxBits is the largest RSA modulus ParseKey accepts; it matches
	// go-jose's default limit so published keys stay usable by relying
	// parties built on it.
	rsaMaxBits = 4096
	// hmacMinBytes is the smallest HS256 secret (RFC 7518 §3.2).
	hmacMinBytes = 32
	// hmacMaxBytes bounds HS256 secrets to something sane.
	hmacMaxBytes = 1024
)

// errKey is the base of key construction and parsing errors.
var errKey = errors.New("token: invalid key")

// SupportedAlgorithms returns the JWS algorithms a Key may use, in order of
// preference.
func SupportedAlgorithms() []string {
	return []string{ES256, RS256, EdDSA, HS256}
}

func supportedAlgorithm(alg string) bool {
	switch alg {
	case ES256, RS256, EdDSA, HS256:
		return true
	}
	return false
}

// Key is one signing key of the key ring. It holds the private key (or HMAC
// secret) and is used both to sign and to verify. Build one with GenerateKey
// or ParseKey; a Key must not be modified after construction.
type Key struct {
	// ID is the JWT "kid".
	ID string
	// Algorithm is the one JWS algorithm this key is used with.
	Algorithm string
	// private is *ecdsa.PrivateKey (P-256), *rsa.PrivateKey,
	// ed25519.PrivateKey, or a []byte HMAC secret of at least 32 bytes.
	private any
}

// GenerateKey creates a new random key for alg with the given kid:
// ES256 uses P-256, RS256 a 2048-bit RSA modulus, EdDSA Ed25519, and HS256
// a 32-byte random secret.
func GenerateKey(id, alg string) (*Key, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty key id", errKey)
	}
	var priv any
	var err error
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaGenerateBits)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case HS256:
		secret := make([]byte, hmacMinBytes)
		_, err = rand.Read(secret)
		priv = secret
	default:
		return nil, fmt.Errorf("%w: unsupported algorithm %q", errKey, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	return &Key{ID: id, Algorithm: alg, private: priv}, nil
}

// ParseKey is the inverse of MarshalPrivate: it builds a Key from PKCS#8 DER
// (asymmetric algorithms) or raw secret bytes (HS256). It refuses key
// material that does not fit alg: another key type, an EC curve other than
// P-256, an RSA modulus outside 2048..4096 bits, or an HMAC secret shorter
// than 32 bytes. The input is not retained.
func ParseKey(id, alg string, private []byte) (*Key, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty key id", errKey)
	}
	if !supportedAlgorithm(alg) {
		return nil, fmt.Errorf("%w: unsupported algorithm %q", errKey, alg)
	}
	if alg == HS256 {
		if len(private) < hmacMinBytes || len(private) > hmacMaxBytes {
			return nil, fmt.Errorf("%w: HS256 secret must be %d to %d bytes", errKey, hmacMinBytes, hmacMaxBytes)
		}
		return &Key{ID: id, Algorithm: alg, private: append([]byte(nil), private...)}, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(private)
	if err != nil {
		return nil, fmt.Errorf("%w: %s key is not PKCS#8: %v", errKey, alg, err)
	}
	k := &Key{ID: id, Algorithm: alg, private: parsed}
	if err := k.check(); err != nil {
		return nil, err
	}
	return k, nil
}

// check reports whether the key material matches the key's algorithm.
func (k *Key) check() error {
	if k == nil {
		return fmt.Errorf("%w: nil key", errKey)
	}
	switch p := k.private.(type) {
	case *ecdsa.PrivateKey:
		if k.Algorithm != ES256 {
			break
		}
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ES256 requires a P-256 key", errKey)
		}
		return nil
	case *rsa.PrivateKey:
		if k.Algorithm != RS256 {
			break
		}
		if bits := p.N.BitLen(); bits < rsaMinBits || bits > rsaMaxBits {
			return fmt.Errorf("%w: RS256 modulus is %d bits, want %d to %d", errKey, bits, rsaMinBits, rsaMaxBits)
		}
		return nil
	case ed25519.PrivateKey:
		if k.Algorithm != EdDSA {
			break
		}
		if len(p) != ed25519.PrivateKeySize {
			return fmt.Errorf("%w: bad Ed25519 key length", errKey)
		}
		return nil
	case []byte:
		if k.Algorithm != HS256 {
			break
		}
		if len(p) < hmacMinBytes {
			return fmt.Errorf("%w: HS256 secret shorter than %d bytes", errKey, hmacMinBytes)
		}
		return nil
	case nil:
		return fmt.Errorf("%w: no key material", errKey)
	default:
		return fmt.Errorf("%w: unsupported key type %T", errKey, p)
	}
	return fmt.Errorf("%w: %T key cannot be used with %q", errKey, k.private, k.Algorithm)
}

// Symmetric reports whether k is an HMAC key, which is secret and never
// published.
func (k *Key) Symmetric() bool {
	_, ok := k.private.([]byte)
	return ok
}

// MarshalPrivate encodes the private key for storage: PKCS#8 DER for
// asymmetric keys, the raw secret for HMAC keys. Seal the result before
// writing it anywhere.
func (k *Key) MarshalPrivate() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	if secret, ok := k.private.([]byte); ok {
		return append([]byte(nil), secret...), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("token: marshal %s key: %w", k.Algorithm, err)
	}
	return der, nil
}

// public returns the public key of an asymmetric key, or nil for HMAC keys.
func (k *Key) public() crypto.PublicKey {
	switch p := k.private.(type) {
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	case *rsa.PrivateKey:
		return &p.PublicKey
	case ed25519.PrivateKey:
		return p.Public()
	}
	return nil
}

// verificationKey returns what jws.Verify verifies k's signatures with.
func (k *Key) verificationKey() any {
	if secret, ok := k.private.([]byte); ok {
		return secret
	}
	return k.public()
}

// PublicJWK returns the public half of k as a JWK (RFC 7517) carrying kty
// and the key parameters, "use":"sig", "alg" and "kid", ready for the JWKS
// endpoint. It reports false for HMAC keys, which are never published.
func (k *Key) PublicJWK() (jose.JSONWebKey, bool) {
	if k.check() != nil {
		return jose.JSONWebKey{}, false
	}
	pub := k.public()
	if pub == nil {
		return jose.JSONWebKey{}, false
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}, true
}

// PublicKeyPEM returns the public key as a PEM "PUBLIC KEY" block
// (SubjectPublicKeyInfo), as FusionAuth's key API shows it. It reports false
// for HMAC keys.
func (k *Key) PublicKeyPEM() (string, bool) {
	if k.check() != nil {
		return "", false
	}
	pub := k.public()
	if pub == nil {
		return "", false
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", false
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), true
}

// Thumbprint returns the RFC 7638 JWK thumbprint of the public key (SHA-256,
// base64url without padding), or "" for HMAC keys.
func (k *Key) Thumbprint() string {
	if k.check() != nil {
		return ""
	}
	return thumbprint(k.public())
}

// thumbprint computes the RFC 7638 SHA-256 thumbprint of a public key.
func thumbprint(pub crypto.PublicKey) string {
	if pub == nil {
		return ""
	}
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}
