package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Factor bounds for the imported schemes. FusionAuth's own limits are looser
// (bcrypt up to 30); these keep one login below a few seconds of CPU, so a
// stored hash cannot be used to tie up the server.
const (
	maxPBKDF2Iterations = 10_000_000
	maxSHA256Iterations = 10_000_000
	minBcryptCost       = bcrypt.MinCost // 4
	maxBcryptCost       = 16
)

// bcryptAlphabet is bcrypt's base64 alphabet (not standard base64).
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Lengths of the two parts FusionAuth stores for a bcrypt hash.
const (
	bcryptSaltChars = 22 // 16 bytes
	bcryptHashChars = 31 // 23 bytes
)

// pbkdf2Hash is a parsed salted-pbkdf2-hmac-sha256 hash.
//
// FusionAuth computes it as PBKDF2-HMAC-SHA256(password = UTF-8 bytes of the
// plain text, salt = base64decode(salt), iterations = factor, key length =
// 256 bits) and stores base64(key) as the hash. FusionAuth's tenant default
// factor is 24,000.
type pbkdf2Hash struct {
	iterations int
	salt, want []byte
}

func parsePBKDF2(s Stored) (pbkdf2Hash, error) {
	const name = schemePBKDF2SHA256
	var p pbkdf2Hash
	if err := checkFactor(name, s.Factor, 1, maxPBKDF2Iterations); err != nil {
		return p, err
	}
	if s.Salt == "" {
		// Java's PBEKeySpec refuses an empty salt, so FusionAuth cannot
		// have made this hash.
		return p, fmt.Errorf("password: %s: salt is empty", name)
	}
	var err error
	if p.salt, err = decodeStdBase64(name, "salt", s.Salt); err != nil {
		return p, err
	}
	if p.want, err = decodeStdBase64(name, "hash", s.Hash); err != nil {
		return p, err
	}
	if len(p.want) != sha256.Size {
		return p, fmt.Errorf("password: %s: hash decodes to %d bytes, want %d (a 256-bit derived key)", name, len(p.want), sha256.Size)
	}
	p.iterations = s.Factor
	return p, nil
}

func (p pbkdf2Hash) verify(plain string) (bool, error) {
	got, err := pbkdf2.Key(sha256.New, plain, p.salt, p.iterations, len(p.want))
	if err != nil {
		return false, fmt.Errorf("password: %s: %w", schemePBKDF2SHA256, err)
	}
	return subtle.ConstantTimeCompare(got, p.want) == 1, nil
}

// saltedSHA256Hash is a parsed salted-sha256 hash.
//
// FusionAuth computes d = UTF-8 bytes of the plain text followed by
// base64decode(salt) (password first, then salt), then replaces d with
// SHA-256(d) factor times, and stores base64(d). The factor is an iteration
// count of at least 1; the salt may be empty.
type saltedSHA256Hash struct {
	iterations int
	salt, want []byte
}

func parseSaltedSHA256(s Stored) (saltedSHA256Hash, error) {
	const name = schemeSaltedSHA256
	var h saltedSHA256Hash
	if err := checkFactor(name, s.Factor, 1, maxSHA256Iterations); err != nil {
		return h, err
	}
	var err error
	if h.salt, err = decodeStdBase64(name, "salt", s.Salt); err != nil {
		return h, err
	}
	if h.want, err = decodeStdBase64(name, "hash", s.Hash); err != nil {
		return h, err
	}
	if len(h.want) != sha256.Size {
		return h, fmt.Errorf("password: %s: hash decodes to %d bytes, want %d (a SHA-256 digest)", name, len(h.want), sha256.Size)
	}
	h.iterations = s.Factor
	return h, nil
}

func (h saltedSHA256Hash) verify(plain string) bool {
	d := make([]byte, 0, len(plain)+len(h.salt))
	d = append(append(d, plain...), h.salt...)
	sum := sha256.Sum256(d)
	for i := 1; i < h.iterations; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return subtle.ConstantTimeCompare(sum[:], h.want) == 1
}

// bcryptHash is a parsed bcrypt hash.
//
// FusionAuth stores a modular-crypt bcrypt hash "$2a$<cost>$<salt><hash>"
// split in three: factor = cost, salt = the 22-character salt, hash = the
// 31-character hash, both in bcrypt's base64 alphabet. Verifying rebuilds
// "$2a$<cost, two digits>$<salt><hash>" and hands it to x/crypto/bcrypt.
type bcryptHash struct {
	mcf []byte
}

func parseBcrypt(s Stored) (bcryptHash, error) {
	const name = schemeBcrypt
	if strings.HasPrefix(s.Hash, "$") {
		return bcryptHash{}, fmt.Errorf("password: %s: hash is a whole modular-crypt string; split it as FusionAuth does: "+
			"factor = the cost, salt = the %d characters after the last \"$\", hash = the last %d characters",
			name, bcryptSaltChars, bcryptHashChars)
	}
	if err := checkFactor(name, s.Factor, minBcryptCost, maxBcryptCost); err != nil {
		return bcryptHash{}, err
	}
	if err := checkBcryptPart("salt", s.Salt, bcryptSaltChars); err != nil {
		return bcryptHash{}, err
	}
	if err := checkBcryptPart("hash", s.Hash, bcryptHashChars); err != nil {
		return bcryptHash{}, err
	}
	return bcryptHash{mcf: fmt.Appendf(nil, "$2a$%02d$%s%s", s.Factor, s.Salt, s.Hash)}, nil
}

func checkBcryptPart(field, v string, n int) error {
	if len(v) != n {
		return fmt.Errorf("password: %s: %s is %d characters, want %d", schemeBcrypt, field, len(v), n)
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return !strings.ContainsRune(bcryptAlphabet, r) }); i >= 0 {
		return fmt.Errorf("password: %s: %s has a character at offset %d outside bcrypt's base64 alphabet [./A-Za-z0-9]", schemeBcrypt, field, i)
	}
	return nil
}

func (b bcryptHash) verify(plain string) (bool, error) {
	err := bcrypt.CompareHashAndPassword(b.mcf, []byte(plain))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("password: %s: %w", schemeBcrypt, err)
	}
}

// checkFactor checks that a scheme's factor lies in [lo, hi].
func checkFactor(scheme string, factor, lo, hi int) error {
	if factor < lo || factor > hi {
		return fmt.Errorf("password: %s: factor %d is out of the accepted range [%d, %d]", scheme, factor, lo, hi)
	}
	return nil
}

// decodeStdBase64 decodes a FusionAuth salt or hash field as Java's
// Base64.getDecoder() does: the standard alphabet, padding optional, and no
// line breaks or other characters outside the alphabet.
func decodeStdBase64(scheme, field, v string) ([]byte, error) {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(v, "=") {
		enc = base64.StdEncoding
	}
	if strings.ContainsAny(v, "\r\n") {
		return nil, fmt.Errorf("password: %s: %s is not valid base64: it contains a line break", scheme, field)
	}
	b, err := enc.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("password: %s: %s is not valid standard base64: %w", scheme, field, err)
	}
	return b, nil
}
