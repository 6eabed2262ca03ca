// Package totp holds the time-based one-time passwords of authenticator
// apps (RFC 6238): HMAC-SHA1, 6 digits, a 30-second step, the parameters
// every authenticator app takes. The HMAC and truncation (RFC 4226) are
// github.com/pquerna/otp's; this package picks the parameters, the steps
// a code is accepted in, and the secret's encodings.
package totp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The parameters of Latch's codes.
const (
	// Algorithm is FusionAuth's name of the HMAC (HmacSHA1).
	Algorithm = "HmacSHA1"
	// Digits is the length of a code.
	Digits = 6
	// Period is the time step.
	Period = 30 * time.Second
	// Skew is how many steps before or after the current one a code is
	// still accepted in: one, for clocks that differ by up to a step.
	Skew = 1
	// SecretSize is the length of a secret Latch makes, in bytes (the
	// 160 bits RFC 4226 §4 recommends).
	SecretSize = 20
)

// b32 is base32 without padding, as authenticator apps show secrets.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random secret of SecretSize bytes.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Base32 is secret as authenticator apps take it: base32, no padding.
func Base32(secret []byte) string { return b32.EncodeToString(secret) }

// Base64 is secret as FusionAuth's secret member carries it: standard
// base64.
func Base64(secret []byte) string { return base64.StdEncoding.EncodeToString(secret) }

// ErrSecret: a secret that is not valid base64 or base32, or is too short.
var ErrSecret = errors.New("totp: invalid secret")

// MinSecretSize is the shortest secret accepted, in bytes (RFC 4226 §4
// requires 128 bits).
const MinSecretSize = 16

// ParseBase64 decodes a secret from its base64 form.
func ParseBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, ErrSecret
		}
	}
	return checkSize(b)
}

// ParseBase32 decodes a secret from its base32 form, with or without
// padding, spaces or lower case (as people copy it from a screen).
func ParseBase32(s string) ([]byte, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	b, err := b32.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, ErrSecret
	}
	return checkSize(b)
}

func checkSize(b []byte) ([]byte, error) {
	if len(b) < MinSecretSize {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrSecret, len(b), MinSecretSize)
	}
	return b, nil
}

// Step is the time step at t (RFC 6238's T).
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// StepEnd is when step ends: after it, a code of step is refused even
// with the skew.
func StepEnd(step int64) time.Time {
	return time.Unix((step+1+Skew)*int64(Period/time.Second), 0).UTC()
}

// CodeAt returns the code of secret at step, with digits digits.
func CodeAt(secret []byte, step int64, digits int) (string, error) {
	return hotp.GenerateCodeCustom(Base32(secret), uint64(step), hotp.ValidateOpts{
		Digits: otp.Digits(digits), Algorithm: otp.AlgorithmSHA1,
	})
}

// Code returns the code of secret at t.
func Code(secret []byte, t time.Time) (string, error) {
	return CodeAt(secret, Step(t), Digits)
}

// Verify reports whether code is secret's code at now, or one step
// before or after, and the step it is the code of: the caller records
// the step, so that the code is refused for the rest of its window
// (RFC 6238 §5.2). The comparison takes the same time whatever the code.
func Verify(secret []byte, code string, now time.Time) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	cur := Step(now)
	found := false
	for _, s := range []int64{cur, cur - 1, cur + 1} {
		want, err := CodeAt(secret, s, Digits)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			step, found = s, true
		}
	}
	return step, found
}

// URI is the otpauth:// URI of secret for authenticator apps (their QR
// codes): otpauth://totp/issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30.
func URI(issuer, account string, secret []byte) (string, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Secret: secret,
		Period: uint(Period / time.Second), Digits: otp.Digits(Digits), Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	return k.URL(), nil
}
