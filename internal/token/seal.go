package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
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
// A Sealer also computes keyed hashes (MAC) under a key derived from the
// master key.
type Sealer struct {
	aead   cipher.AEAD
	macKey []byte
}

// macInfo is the HKDF label of the MAC key, which keeps it apart from the
// sealing key (the master key itself).
const macInfo = "latch mac v1"

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("token: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	aead, err := newAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, masterKey, nil, macInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return &Sealer{aead: aead, macKey: macKey}, nil
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

// MAC returns HMAC-SHA256 of data under the Sealer's MAC key, with label
// (what the value is for) bound in, so that values made for one purpose
// never match those of another. It is for values that must be found again
// by equality but not read back by whoever reads the database, such as
// login IDs typed by anyone.
func (s *Sealer) MAC(label string, data []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}
