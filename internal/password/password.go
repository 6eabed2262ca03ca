package password

import (
	"errors"
	"fmt"
)

// Stored is a password hash as persisted: FusionAuth's encryptionScheme,
// factor, salt and hash fields.
type Stored struct {
	Scheme string // "argon2id", "salted-pbkdf2-hmac-sha256", "bcrypt", "salted-sha256" (FusionAuth names)
	Factor int    // work factor (iterations / cost); 0 for argon2id (params live in Hash)
	Salt   string // as FusionAuth stores it (base64) ; "" for argon2id and where unused
	Hash   string // argon2id: PHC string "$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<key b64>"; others: FusionAuth's stored form
}

// Default is the scheme for new passwords.
const Default = "argon2id"

// Scheme names, as FusionAuth spells them.
const (
	schemeArgon2id     = Default
	schemePBKDF2SHA256 = "salted-pbkdf2-hmac-sha256"
	schemeBcrypt       = "bcrypt"
	schemeSaltedSHA256 = "salted-sha256"
)

// ErrUnknownScheme is wrapped by the errors of Verify and ValidateImport when
// the scheme is not one of Schemes().
var ErrUnknownScheme = errors.New("password: unknown encryption scheme")

// Schemes lists the supported scheme names.
func Schemes() []string {
	return []string{schemeArgon2id, schemePBKDF2SHA256, schemeBcrypt, schemeSaltedSHA256}
}

// Hash hashes a new plain-text password with argon2id, using the current
// parameters and a fresh random salt.
func Hash(plain string) (Stored, error) {
	h, err := hashArgon2id(plain, currentArgon2)
	if err != nil {
		return Stored{}, err
	}
	return Stored{Scheme: schemeArgon2id, Hash: h}, nil
}

// Verify reports whether plain matches s. A malformed s (bad factor, salt or
// hash, hostile argon2id parameters) gives an error, never a panic; an
// unknown scheme gives an error wrapping ErrUnknownScheme. For argon2id only
// s.Hash is read. The final comparison is constant-time.
func Verify(plain string, s Stored) (bool, error) {
	switch s.Scheme {
	case schemeArgon2id:
		a, err := parseArgon2id(s.Hash)
		if err != nil {
			return false, err
		}
		return a.verify(plain), nil
	case schemePBKDF2SHA256:
		p, err := parsePBKDF2(s)
		if err != nil {
			return false, err
		}
		return p.verify(plain)
	case schemeBcrypt:
		b, err := parseBcrypt(s)
		if err != nil {
			return false, err
		}
		return b.verify(plain)
	case schemeSaltedSHA256:
		h, err := parseSaltedSHA256(s)
		if err != nil {
			return false, err
		}
		return h.verify(plain), nil
	default:
		return false, unknownScheme(s.Scheme)
	}
}

// NeedsRehash reports whether s should be replaced by Hash(plain) after a
// successful login: true for any scheme other than argon2id, and for an
// argon2id hash whose memory, passes, salt length or key length is below
// the current parameters (or that does not parse).
func NeedsRehash(s Stored) bool {
	if s.Scheme != schemeArgon2id {
		return true
	}
	a, err := parseArgon2id(s.Hash)
	if err != nil {
		return true
	}
	return a.weakerThan(currentArgon2)
}

// dummy is a well-formed argon2id hash with the current parameters and a
// random salt and key, so that no password matches it.
var dummy = Stored{Scheme: schemeArgon2id, Hash: argon2idHash{
	params: currentArgon2,
	salt:   randomBytes(int(currentArgon2.saltLen)),
	key:    randomBytes(int(currentArgon2.keyLen)),
}.encode()}

// VerifyDummy spends the same time as verifying a default-scheme hash, for
// unknown users (login must cost the same for an unknown user and a wrong
// password). Always returns false.
func VerifyDummy(plain string) bool {
	// The same path as Verify on a freshly made hash: parse, derive, compare.
	_, _ = Verify(plain, dummy)
	return false
}

// Check reports whether plain matches s, the stored hash of the account a
// login names, or nil when no account (or no password) answers to it. A
// "no" always costs at least one verification of a current argon2id hash,
// whatever s is: no account, an imported scheme cheaper than argon2id,
// weaker argon2id parameters or a malformed hash are refused after a dummy
// verification as well, so that the time of a refusal tells nothing about
// the account. (A stored hash costlier than argon2id, such as bcrypt with
// a high cost, still shows: its refusals take longer.) A malformed s is a
// "no", and its error is returned for the log.
func Check(plain string, s *Stored) (bool, error) {
	if s == nil {
		return VerifyDummy(plain), nil
	}
	ok, err := Verify(plain, *s)
	if !ok && NeedsRehash(*s) {
		VerifyDummy(plain)
	}
	return ok && err == nil, err
}

// ValidateImport checks that an imported hash is well-formed for its scheme
// (scheme known, factor in range, salt and hash decode to the right sizes)
// and returns a clear error naming the problem, or nil.
func ValidateImport(s Stored) error {
	switch s.Scheme {
	case schemeArgon2id:
		if s.Factor != 0 {
			return fmt.Errorf("password: argon2id: factor must be 0 (the parameters live in the PHC hash), got %d", s.Factor)
		}
		if s.Salt != "" {
			return errors.New("password: argon2id: salt must be empty (the salt lives in the PHC hash)")
		}
		_, err := parseArgon2id(s.Hash)
		return err
	case schemePBKDF2SHA256:
		_, err := parsePBKDF2(s)
		return err
	case schemeBcrypt:
		_, err := parseBcrypt(s)
		return err
	case schemeSaltedSHA256:
		_, err := parseSaltedSHA256(s)
		return err
	default:
		return unknownScheme(s.Scheme)
	}
}

func unknownScheme(name string) error {
	return fmt.Errorf("%w %q (supported: %q)", ErrUnknownScheme, name, Schemes())
}
