package token

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// secretBytes is the entropy of refresh tokens and API keys (256 bits).
const secretBytes = 32

// successorInfo is the HKDF label of the key that seals a refresh token's
// successor under the previous raw value. It keeps that key distinct from
// HashRefreshToken(previous), which is stored in the clear.
const successorInfo = "latch refresh-token successor v1"

// successorAD is the additional data of sealed successors, a second domain
// separator.
var successorAD = []byte("latch/refresh-successor")

// newSecret returns secretBytes random bytes, base64url without padding.
func newSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewRefreshToken returns a new opaque refresh token: 32 bytes from
// crypto/rand, base64url without padding (43 characters). Store only
// HashRefreshToken of it.
func NewRefreshToken() (string, error) {
	return newSecret()
}

// HashRefreshToken returns the SHA-256 of the raw refresh token string, the
// only form in which refresh tokens are stored.
func HashRefreshToken(raw string) []byte {
	return HashSecret(raw)
}

// NewAPIKey returns a new API key or client secret: 32 bytes from
// crypto/rand, base64url without padding. Store only HashSecret of it.
func NewAPIKey() (string, error) {
	return newSecret()
}

// HashSecret returns the SHA-256 of s. Secrets Latch generates carry 256
// bits of entropy, so a fast unsalted hash is sufficient; it must not be
// used for user-chosen passwords.
func HashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// EqualHash compares two hashes in constant time. Empty hashes never match.
func EqualHash(a, b []byte) bool {
	return len(a) != 0 && subtle.ConstantTimeCompare(a, b) == 1
}

// successorAEAD derives the AES-256-GCM key that seals the successor of
// the refresh token previousRaw: HKDF-SHA256(previousRaw, info=successorInfo).
func successorAEAD(previousRaw string) (cipher.AEAD, error) {
	if previousRaw == "" {
		return nil, errors.New("token: empty refresh token")
	}
	key, err := hkdf.Key(sha256.New, []byte(previousRaw), nil, successorInfo, 32)
	if err != nil {
		return nil, err
	}
	return newAEAD(key)
}

// SealSuccessor encrypts the refresh token that replaced previousRaw under
// a key derived from previousRaw (HKDF-SHA256, distinct from
// HashRefreshToken(previousRaw)). The server keeps the result next to the
// previous token's hash: a client that retries with previousRaw within the
// grace period can be handed the same successor, while the stored data
// alone reveals nothing about it.
func SealSuccessor(previousRaw, successorRaw string) ([]byte, error) {
	aead, err := successorAEAD(previousRaw)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, []byte(successorRaw), successorAD), nil
}

// OpenSuccessor recovers the successor sealed by SealSuccessor; it fails
// unless previousRaw is the value it was sealed under.
func OpenSuccessor(previousRaw string, sealed []byte) (string, error) {
	aead, err := successorAEAD(previousRaw)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.Overhead() {
		return "", errOpen
	}
	plain, err := aead.Open(nil, nil, sealed, successorAD)
	if err != nil {
		return "", errOpen
	}
	return string(plain), nil
}
