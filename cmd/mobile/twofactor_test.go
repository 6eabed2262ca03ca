package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/pquerna/otp/totp"

	"github.com/latchid/latch/internal/demo"
)

// mobileRun runs the mobile command with args against backend, the
// password on stdin; it returns the exit code and what it printed.
func mobileRun(t *testing.T, backend, state string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--backend", backend, "--state", state}, args...)
	code := run(context.Background(), args, strings.NewReader(demoPassword+"\n"), &out, &errOut)
	return code, out.String(), errOut.String()
}

const demoPassword = "a password for the two-factor tests"

// The scripted commands against a real storefront and Latch: setup
// prints a secret, enable takes a code and prints the recovery codes
// once, login asks for a code only until the device is trusted, and
// disable takes a recovery code.
func TestTwoFactorCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Latch and the storefront")
	}
	env, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), Password: demoPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	state := t.TempDir()
	login := []string{"login", "--login-id", demo.Email, "--password-stdin"}
	if code, _, stderr := mobileRun(t, env.StoreURL, state, login...); code != exitOK {
		t.Fatalf("login: exit %d: %s", code, stderr)
	}
	code, out, stderr := mobileRun(t, env.StoreURL, state, "two-factor", "setup", "--json")
	var setup struct{ Secret, URI string }
	if code != exitOK || json.Unmarshal([]byte(out), &setup) != nil || setup.Secret == "" || !strings.HasPrefix(setup.URI, "otpauth://totp/") {
		t.Fatalf("two-factor setup --json: exit %d, %q %s", code, out, stderr)
	}
	code, out, _ = mobileRun(t, env.StoreURL, state, "two-factor", "setup")
	if code != exitOK || !strings.Contains(out, "█") || !strings.Contains(out, "two-factor enable --secret") {
		t.Fatalf("two-factor setup: exit %d, no QR code or instructions:\n%s", code, out)
	}
	// The clock stands still: this code is the one Latch expects now.
	now, err := totp.GenerateCode(setup.Secret, env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = mobileRun(t, env.StoreURL, state, "two-factor", "enable", "--secret", setup.Secret, "--code", now, "--json")
	var enabled struct {
		Enabled       bool
		RecoveryCodes []string
	}
	if code != exitOK || json.Unmarshal([]byte(out), &enabled) != nil || !enabled.Enabled || len(enabled.RecoveryCodes) < 2 {
		t.Fatalf("two-factor enable: exit %d %q %s", code, out, stderr)
	}
	if code, out, _ := mobileRun(t, env.StoreURL, state, "two-factor", "status"); code != exitOK || !strings.Contains(out, "on") {
		t.Fatalf("two-factor status: exit %d %q", code, out)
	}
	if code, _, stderr := mobileRun(t, env.StoreURL, state, "logout"); code != exitOK {
		t.Fatalf("logout: %s", stderr)
	}
	// The password alone logs nobody in.
	code, _, stderr = mobileRun(t, env.StoreURL, state, login...)
	if code == exitOK || !strings.Contains(stderr, "second factor") {
		t.Fatalf("login without a code: exit %d, %q", code, stderr)
	}
	if code, _, _ := mobileRun(t, env.StoreURL, state, "tokens"); code != exitLoginRequired {
		t.Fatalf("tokens after a login without its code: exit %d, want %d", code, exitLoginRequired)
	}
	// A wrong code: exit 1, no session.
	code, _, stderr = mobileRun(t, env.StoreURL, state, append(login, "--code", "00000x")...)
	if code != exitFailure || !strings.Contains(stderr, "wrong code") {
		t.Fatalf("login with a wrong code: exit %d, %q", code, stderr)
	}
	// A recovery code, trusting the device.
	code, out, stderr = mobileRun(t, env.StoreURL, state, append(login, "--code", enabled.RecoveryCodes[0], "--trust-device")...)
	if code != exitOK || !strings.Contains(out, "logged in as "+demo.Email) {
		t.Fatalf("login with a recovery code: exit %d %q %s", code, out, stderr)
	}
	if code, _, stderr := mobileRun(t, env.StoreURL, state, "logout"); code != exitOK {
		t.Fatalf("logout: %s", stderr)
	}
	// The trusted device logs in with the password alone.
	if code, _, stderr := mobileRun(t, env.StoreURL, state, login...); code != exitOK {
		t.Fatalf("login on the trusted device: exit %d %s", code, stderr)
	}
	code, out, stderr = mobileRun(t, env.StoreURL, state, "two-factor", "disable", "--code", enabled.RecoveryCodes[1])
	if code != exitOK || !strings.Contains(out, "off") {
		t.Fatalf("two-factor disable: exit %d %q %s", code, out, stderr)
	}
}

// The terminal app against a real storefront and Latch: the settings view
// enrols an authenticator (a QR code, a code, the recovery codes once),
// and the next login asks for a code, refuses a wrong one and takes the
// right one.
func TestTUI_TwoFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Latch and the storefront")
	}
	env, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), Password: demoPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	a, err := newApp(config{Backend: env.StoreURL, StateDir: t.TempDir(), Now: env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tt := &tui{t: t, app: a, hook: make(chan tea.Msg, 10)}
	a.setLoginRequiredHook(func() { tt.hook <- loginRequiredMsg{} })
	m := newModel(context.Background(), a)
	m.loginID.Cursor.SetMode(cursor.CursorStatic)
	m.password.Cursor.SetMode(cursor.CursorStatic)
	m.code.Cursor.SetMode(cursor.CursorStatic)
	tt.m = m
	tt.do(m.Init())
	logIn := func() {
		tt.typeText(demo.Email)
		tt.key(tea.KeyTab)
		tt.typeText(demoPassword)
		tt.key(tea.KeyEnter)
	}
	logIn()
	if tt.m.screen != screenShop {
		t.Fatalf("after the login: screen %d\n%s", tt.m.screen, tt.m.View())
	}
	tt.typeText("s")
	tt.wantView("two-factor authentication", "Status: off", "e set up")
	tt.typeText("e")
	if tt.m.step != settingsEnrol || tt.m.enrolment.Secret == "" {
		t.Fatalf("e did not start an enrolment:\n%s", tt.m.View())
	}
	tt.wantView("█", "Secret: "+tt.m.enrolment.Secret, "Code")
	secret := tt.m.enrolment.Secret
	tt.typeText("000000x")
	tt.key(tea.KeyEnter)
	tt.wantView("Wrong code")
	if tt.m.step != settingsEnrol {
		t.Fatal("a wrong code left the enrolment")
	}
	code, _ := totp.GenerateCode(secret, env.Clock.Now())
	tt.typeText(code)
	tt.key(tea.KeyEnter)
	if tt.m.step != settingsRecovered || len(tt.m.recovery) == 0 {
		t.Fatalf("the code did not enable the authenticator:\n%s", tt.m.View())
	}
	tt.wantView("Recovery codes", tt.m.recovery[0], "shown this once")
	tt.key(tea.KeyEsc)
	if tt.m.screen != screenShop || strings.Contains(tt.m.View(), secret) {
		t.Fatalf("esc did not go back to the shop, or the secret stays on screen")
	}
	tt.typeText("l")
	if tt.m.screen != screenLogin {
		t.Fatalf("l did not log out:\n%s", tt.m.View())
	}

	// The password now leads to the code.
	tt.m.loginID.SetValue("")
	tt.m.password.Blur()
	tt.m.loginID.Focus()
	logIn()
	if tt.m.screen != screenCode {
		t.Fatalf("the password of a user with a second factor led to screen %d:\n%s", tt.m.screen, tt.m.View())
	}
	tt.wantView("Second factor", "Trust this device")
	tt.typeText("12345x")
	tt.key(tea.KeyEnter)
	if tt.m.screen != screenCode {
		t.Fatalf("a wrong code left the code screen")
	}
	tt.wantView("Wrong code")
	env.Clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(secret, env.Clock.Now())
	tt.send(tea.KeyMsg{Type: tea.KeyCtrlT})
	tt.wantView("[x] Trust this device")
	tt.typeText(code)
	tt.key(tea.KeyEnter)
	if tt.m.screen != screenShop {
		t.Fatalf("the right code did not log in:\n%s", tt.m.View())
	}
	tok, err := a.c.Tokens(context.Background())
	if err != nil || tok.TwoFactorTrustID == "" || !tok.DPoPBound() {
		t.Fatalf("after the code: trust id %v, bound %v, %v", tok.TwoFactorTrustID != "", tok.DPoPBound(), err)
	}
}
