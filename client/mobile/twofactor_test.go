package mobile

import (
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/latchid/latch/internal/latchtest"
)

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
	codes, err := s.EnableTwoFactor(en.Secret, totptest.Code(t, en.Secret, e.clock.Now()))
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
	u, err := s.CompleteTwoFactor(totptest.Code(t, en.Secret, e.clock.Now()), false)
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
