package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2Params are argon2id cost parameters plus the salt and key sizes.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8  // lanes
	saltLen uint32 // bytes
	keyLen  uint32 // bytes
}

// currentArgon2 are the parameters for new hashes: OWASP's argon2id baseline
// (m=19 MiB, t=2, p=1), a 16-byte salt and a 32-byte key.
var currentArgon2 = argon2Params{memory: 19456, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Bounds on parameters read from a stored PHC string. Anything outside them
// is refused before any work is done, so a stored hash cannot make a login
// allocate more than 1 GiB or run more than 10 passes.
const (
	maxArgon2Memory  = 1 << 20 // KiB, 1 GiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minArgon2SaltLen = 8 // RFC 9106 minimum
	maxArgon2SaltLen = 64
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 128

	// maxPHCLen is longer than any PHC string within the bounds above
	// (at most 293 characters); longer input is refused before it is parsed.
	maxPHCLen = 512
)

// phcB64 is the PHC string format's base64: standard alphabet, no padding.
var phcB64 = base64.RawStdEncoding.Strict()

// argon2idHash is a parsed argon2id PHC string.
type argon2idHash struct {
	params    argon2Params // saltLen and keyLen are unused here; see salt and key
	salt, key []byte
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error (it crashes the program instead).
	_, _ = rand.Read(b)
	return b
}

// hashArgon2id derives an argon2id key for plain with parameters p and a
// fresh random salt, and returns it as a PHC string.
func hashArgon2id(plain string, p argon2Params) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: argon2id: reading a random salt: %w", err)
	}
	key := argon2.IDKey([]byte(plain), salt, p.time, p.memory, p.threads, p.keyLen)
	return argon2idHash{params: p, salt: salt, key: key}.encode(), nil
}

// encode returns a as "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>".
func (a argon2idHash) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.params.memory, a.params.time, a.params.threads,
		phcB64.EncodeToString(a.salt), phcB64.EncodeToString(a.key))
}

// verify derives the key for plain with a's parameters and salt and compares
// it with a's key in constant time.
func (a argon2idHash) verify(plain string) bool {
	got := argon2.IDKey([]byte(plain), a.salt, a.params.time, a.params.memory, a.params.threads, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(got, a.key) == 1
}

// weakerThan reports whether any of a's memory, passes, salt length or key
// length is below c's. Parallelism is not compared: more lanes over the same
// memory is not a weaker hash.
func (a argon2idHash) weakerThan(c argon2Params) bool {
	return a.params.memory < c.memory ||
		a.params.time < c.time ||
		len(a.salt) < int(c.saltLen) ||
		len(a.key) < int(c.keyLen)
}

// parseArgon2id parses and bounds-checks an argon2id PHC string. Only the
// canonical form written by the reference implementation is accepted:
// version 19, exactly the parameters m, t and p in that order, decimal
// numbers without leading zeros, unpadded standard base64.
func parseArgon2id(h string) (argon2idHash, error) {
	var a argon2idHash
	if len(h) > maxPHCLen {
		return a, fmt.Errorf("password: argon2id: hash is %d characters, longer than any accepted PHC string (%d)", len(h), maxPHCLen)
	}
	f := strings.Split(h, "$")
	if len(f) != 6 || f[0] != "" {
		return a, fmt.Errorf("password: argon2id: hash %q is not a PHC string $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>", clip(h))
	}
	if f[1] != "argon2id" {
		return a, fmt.Errorf("password: argon2id: PHC algorithm is %q, want \"argon2id\"", clip(f[1]))
	}
	if f[2] != "v=19" {
		return a, fmt.Errorf("password: argon2id: PHC version %q is not supported, want \"v=19\"", clip(f[2]))
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return a, fmt.Errorf("password: argon2id: PHC parameters %q must be exactly m=<KiB>,t=<passes>,p=<lanes>", clip(f[3]))
	}
	threads, err := phcParam(ps[2], "p", 1, maxArgon2Threads)
	if err != nil {
		return a, err
	}
	memory, err := phcParam(ps[0], "m", 8*threads, maxArgon2Memory)
	if err != nil {
		return a, err
	}
	passes, err := phcParam(ps[1], "t", 1, maxArgon2Time)
	if err != nil {
		return a, err
	}
	a.params = argon2Params{memory: uint32(memory), time: uint32(passes), threads: uint8(threads)}

	if a.salt, err = phcBytes(f[4], "salt", minArgon2SaltLen, maxArgon2SaltLen); err != nil {
		return a, err
	}
	if a.key, err = phcBytes(f[5], "key", minArgon2KeyLen, maxArgon2KeyLen); err != nil {
		return a, err
	}
	a.params.saltLen, a.params.keyLen = uint32(len(a.salt)), uint32(len(a.key))
	return a, nil
}

// phcParam parses "<name>=<decimal>" and checks lo <= value <= hi.
func phcParam(kv, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(kv, name+"=")
	if !ok {
		return 0, fmt.Errorf("password: argon2id: PHC parameter %q, want %s=<number>", clip(kv), name)
	}
	// Canonical decimal only: no sign, no leading zero, at most 10 digits.
	if v == "" || len(v) > 10 || (len(v) > 1 && v[0] == '0') || strings.Trim(v, "0123456789") != "" {
		return 0, fmt.Errorf("password: argon2id: PHC parameter %s=%q is not a canonical decimal number", name, clip(v))
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("password: argon2id: PHC parameter %s: %w", name, err)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("password: argon2id: PHC parameter %s=%d is out of the accepted range [%d, %d]", name, n, lo, hi)
	}
	return n, nil
}

// phcBytes decodes a PHC base64 field and checks its decoded length.
func phcBytes(s, name string, lo, hi int) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("password: argon2id: PHC %s contains a line break", name)
	}
	b, err := phcB64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("password: argon2id: PHC %s is not unpadded standard base64: %w", name, err)
	}
	if len(b) < lo || len(b) > hi {
		return nil, fmt.Errorf("password: argon2id: PHC %s is %d bytes, want %d to %d", name, len(b), lo, hi)
	}
	return b, nil
}

// clip shortens s for an error message, so a hostile value cannot bloat logs.
func clip(s string) string {
	const n = 48
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
