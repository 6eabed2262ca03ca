// Package totptest is an authenticator app for tests: RFC 6238's
// algorithm (HMAC-SHA1, 6 digits, 30-second steps) written out from the
// RFC with the standard library alone, independent of the library Latch
// uses, so that a test checks Latch's codes against the RFC rather than
// against Latch itself.
package totptest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Code is the code an authenticator app shows at t for secret, a base32
// secret as Latch hands it out (padding optional). It fails tb when the
// secret is not base32.
func Code(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		tb.Fatalf("secret %q: %v", secret, err)
	}
	return RawCode(key, at)
}

// RawCode is the code at t for a secret given as bytes.
func RawCode(key []byte, at time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}
