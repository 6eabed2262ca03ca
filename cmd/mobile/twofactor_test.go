package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

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
