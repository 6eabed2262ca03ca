package token

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// MasterKeySize is the length of the master key NewSealer requires.
const MasterKeySize = 32

// errOpen is returned for every ciphertext that does not authenticate.
var errOpen = errors.New("token: sealed data does not authenticate")

// Sealer encrypts private key material at rest under the master key with
// AES-256-GCM. Seal's output is a random 12-byte nonce followed by the
// ciphertext and the 16-byte tag. The additional data (for key material:
// the key id) is authenticated but not stored, so a ciphertext opens only
// with the additional data it was sealed with. A Sealer is safe for
// concurrent use. One master key must not seal more than 2^32 messages.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("token: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	aead, err := newAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// newAEAD returns AES-256-GCM with a random 96-bit nonce prepended to the
// ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return aead, nil
}

// Seal encrypts plaintext and binds it to additionalData.
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	return s.aead.Seal(nil, nil, plaintext, additionalData), nil
}

// Open decrypts what Seal produced for the same additionalData; any other
// input (wrong master key, wrong additional data, tampered or truncated
// ciphertext) is an error.
func (s *Sealer) Open(ciphertext, additionalData []byte) ([]byte, error) {
	if len(ciphertext) < s.aead.Overhead() {
		return nil, errOpen
	}
	plaintext, err := s.aead.Open(nil, nil, ciphertext, additionalData)
	if err != nil {
		return nil, errOpen
	}
	return plaintext, nil
}
