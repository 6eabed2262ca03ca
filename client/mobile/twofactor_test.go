package mobile

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/latchtest"
)

// totpCode is RFC 6238's code (HMAC-SHA1, 6 digits, 30 s) of a base32
// secret at t, computed here.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// The Session's two-factor calls, as a Kotlin or Swift app makes them:
// enrol in the settings, then a login that asks for a code.
func TestSession_TwoFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	email, _ := e.newUser(t)
	s, _ := e.session(t, t.TempDir())
	if _, err := s.Login(email, "wrong"); IsTwoFactorRequired(err) {
		t.Fatal("a wrong password reads as a second factor required")
	}
	if _, err := s.Login(email, latchtest.Password); err != nil {
		t.Fatal(err)
	}
	if on, err := s.TwoFactorEnabled(); err != nil || on {
		t.Fatalf("TwoFactorEnabled = %v, %v", on, err)
	}
	en, err := s.StartTwoFactorEnrolment()
	if err != nil || en.Secret == "" || !strings.HasPrefix(en.URI, "otpauth://totp/") {
		t.Fatalf("StartTwoFactorEnrolment = %+v, %v", en, err)
	}
	if _, err := s.EnableTwoFactor(en.Secret, "12345x"); StatusOf(err) != 400 || CodeOf(err) != "invalid_two_factor_code" {
		t.Fatalf("EnableTwoFactor with a wrong code: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	codes, err := s.EnableTwoFactor(en.Secret, totpCode(t, en.Secret, e.clock.Now()))
	if err != nil || codes.Count() != 10 || codes.Code(0) == "" || codes.Code(10) != "" || codes.Code(-1) != "" {
		t.Fatalf("EnableTwoFactor = %d codes, %v", codes.Count(), err)
	}
	if err := s.Logout(false); err != nil {
		t.Fatal(err)
	}

	_, err = s.Login(email, latchtest.Password)
	if !IsTwoFactorRequired(err) || !s.TwoFactorPending() || s.LoggedIn() {
		t.Fatalf("Login of a user with a second factor: %v, pending %v, logged in %v", err, s.TwoFactorPending(), s.LoggedIn())
	}
	if _, err := s.CompleteTwoFactor("12345x", false); StatusOf(err) != 401 || CodeOf(err) != "invalid_two_factor_code" || MessageOf(err) == "" {
		t.Fatalf("a wrong code: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	u, err := s.CompleteTwoFactor(totpCode(t, en.Secret, e.clock.Now()), false)
	if err != nil || u.Email != email || !s.LoggedIn() || s.TwoFactorPending() {
		t.Fatalf("CompleteTwoFactor = %v, %v", u, err)
	}
	cart(t, s)
	if err := s.DisableTwoFactor(codes.Code(0)); err != nil {
		t.Fatalf("DisableTwoFactor with a recovery code: %v", err)
	}
	if on, err := s.TwoFactorEnabled(); err != nil || on {
		t.Fatalf("TwoFactorEnabled after disabling = %v, %v", on, err)
	}
}

func TestTwoFactorZeroValues(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*Session{"Zero": {}, "Nil": nil} {
		if s.TwoFactorPending() {
			t.Errorf("%s: TwoFactorPending", name)
		}
		if _, err := s.CompleteTwoFactor("1", false); err == nil {
			t.Errorf("%s: CompleteTwoFactor succeeded", name)
		}
		if _, err := s.TwoFactorEnabled(); err == nil {
			t.Errorf("%s: TwoFactorEnabled succeeded", name)
		}
		if _, err := s.StartTwoFactorEnrolment(); err == nil {
			t.Errorf("%s: StartTwoFactorEnrolment succeeded", name)
		}
		if _, err := s.EnableTwoFactor("A", "1"); err == nil {
			t.Errorf("%s: EnableTwoFactor succeeded", name)
		}
		if err := s.DisableTwoFactor("1"); err == nil {
			t.Errorf("%s: DisableTwoFactor succeeded", name)
		}
	}
	var r *RecoveryCodes
	if r.Count() != 0 || r.Code(0) != "" {
		t.Error("nil RecoveryCodes are not empty")
	}
	if IsTwoFactorRequired(nil) {
		t.Error("IsTwoFactorRequired(nil)")
	}
}
