package dpop

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/latchid/latch/api"
)

// The HTTP headers DPoP travels in (RFC 9449 §4.1, §8).
const (
	// Header carries a proof from the client.
	Header = api.HeaderDPoP
	// NonceHeader carries a server-provided nonce to the client.
	NonceHeader = api.HeaderDPoPNonce
)

// Type is the typ header of every proof (RFC 9449 §4.2).
const Type = "dpop+jwt"

// ProofOptions are the optional parts of a proof.
type ProofOptions struct {
	// AccessToken, when set, is hashed into the ath claim: a proof sent
	// with an access token must carry it (RFC 9449 §4.2, §7).
	AccessToken string
	// Nonce, when set, is the nonce claim: the latest DPoP-Nonce the
	// server sent (RFC 9449 §8, §9).
	Nonce string
	// Now is the proof's iat; zero means time.Now().
	Now time.Time
	// JTI is the proof's unique id; empty means 16 random bytes,
	// base64url-encoded. Set it only in tests: a server refuses a second
	// proof with the same key and jti.
	JTI string
}

// proofHeader is the JOSE header of a proof, in the order it is written.
type proofHeader struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// proofClaims are the claims of a proof, in the order they are written.
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// NewProof makes a DPoP proof (RFC 9449 §4.2) for one request: a JWT
// signed by key with typ dpop+jwt, the public half of key in the jwk
// header, and the claims jti, htm (method), htu (url without its query,
// fragment and user information), iat and, when opts say so, ath and
// nonce. The algorithm follows from the key: ES256, ES384 or ES512 for
// ECDSA on P-256, P-384 or P-521, EdDSA for Ed25519, RS256 for RSA. key
// may be any crypto.Signer with such a public key, a hardware-backed one
// included. Send the result in the DPoP header; make a new one for every
// request, retries included.
func NewProof(key crypto.Signer, method, rawURL string, opts ProofOptions) (string, error) {
	if key == nil {
		return "", errors.New("dpop: nil key")
	}
	pub := key.Public()
	alg, err := algorithmFor(pub)
	if err != nil {
		return "", err
	}
	if !validMethod(method) {
		return "", fmt.Errorf("dpop: invalid method %q", method)
	}
	htu, err := targetURI(rawURL)
	if err != nil {
		return "", err
	}
	jwk, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	c := proofClaims{JTI: opts.JTI, HTM: method, HTU: htu, Nonce: opts.Nonce}
	if c.JTI == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("dpop: jti: %w", err)
		}
		c.JTI = b64.EncodeToString(b[:])
	}
	if len(c.JTI) > MaxJTILength {
		return "", fmt.Errorf("dpop: jti longer than %d bytes", MaxJTILength)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	c.IAT = now.Unix()
	if opts.AccessToken != "" {
		c.ATH = AccessTokenHash(opts.AccessToken)
	}
	header, err := json.Marshal(proofHeader{Typ: Type, Alg: alg.name, JWK: jwk})
	if err != nil {
		return "", fmt.Errorf("dpop: header: %w", err)
	}
	claims, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dpop: claims: %w", err)
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	sig, err := sign(key, alg, []byte(input))
	if err != nil {
		return "", fmt.Errorf("dpop: sign: %w", err)
	}
	proof := input + "." + b64.EncodeToString(sig)
	if len(proof) > MaxProofSize {
		return "", fmt.Errorf("dpop: proof exceeds %d bytes", MaxProofSize)
	}
	return proof, nil
}

// AccessTokenHash is the ath of a proof sent with accessToken:
// base64url(SHA-256(accessToken)) (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64.EncodeToString(sum[:])
}

// targetURI returns the htu for a request URL: absolute http or https,
// without query, fragment and user information (a password in htu would
// travel in the clear, in every proof). An empty path becomes "/".
func targetURI(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("dpop: invalid URL: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("dpop: %q is not an absolute http or https URL", rawURL)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + u.Host + path, nil
}

// validMethod reports whether m is an HTTP method token (RFC 9110 §9.1).
func validMethod(m string) bool {
	if m == "" || len(m) > 64 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
