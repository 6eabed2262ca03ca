package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/totp/totptest"

	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/demo"
	"github.com/latchid/latch/internal/storefront"
)

// The app logs in through the storefront with the client SDK and a code
// computed here: the password alone gets no token, a wrong code is 401,
// the right one gets tokens bound to the device key that proved the
// password, and a trusted device is asked for no code the next time.
func TestTwoFactor_ClientThroughStore(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	c := &client.Client{BaseURL: env.StoreURL, Now: env.Clock.Now}
	if _, err := c.Login(ctx, demo.Email, password); err != nil {
		t.Fatalf("login before two-factor: %v", err)
	}
	enrol, err := c.StartTwoFactorEnrolment(ctx)
	if err != nil || !strings.HasPrefix(enrol.URI, "otpauth://totp/") {
		t.Fatalf("StartTwoFactorEnrolment = %+v, %v", enrol, err)
	}
	env.Clock.Advance(30 * time.Second)
	recovery, err := c.EnableTwoFactor(ctx, enrol.Secret, totptest.Code(t, enrol.Secret, env.Clock.Now()))
	if err != nil || len(recovery) == 0 {
		t.Fatalf("EnableTwoFactor = %d codes, %v", len(recovery), err)
	}
	if on, _, err := c.TwoFactorStatus(ctx); err != nil || !on {
		t.Fatalf("TwoFactorStatus = %v, %v", on, err)
	}
	if err := c.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	env.LatchCalls.Take()

	_, err = c.Login(ctx, demo.Email, password)
	var tf *client.TwoFactorRequiredError
	if !errors.As(err, &tf) {
		t.Fatalf("login with the password alone: %v, want a second factor required", err)
	}
	if _, err := c.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		t.Fatalf("the app holds tokens after the password alone")
	}
	wantLatchCalls(t, env, "2-5", "POST /api/login 242")
	env.Clock.Advance(30 * time.Second)
	good := totptest.Code(t, enrol.Secret, env.Clock.Now())
	bad := fmt.Sprintf("%06d", (atoi(good)+1)%1_000_000)
	_, err = c.CompleteTwoFactor(ctx, bad, false)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong code: %v, want 401", err)
	}
	wantLatchCalls(t, env, "2-5", "POST /api/two-factor/login 421")
	if _, err := c.CompleteTwoFactor(ctx, good, true); err != nil {
		t.Fatalf("the right code after a wrong one: %v", err)
	}
	wantLatchCalls(t, env, "2-5", "POST /api/two-factor/login 200")
	tok, err := c.Tokens(ctx)
	if err != nil || !tok.DPoPBound() || tok.TwoFactorTrustID == "" {
		t.Fatalf("after the code: bound %v, trust id %v, %v", tok.DPoPBound(), tok.TwoFactorTrustID != "", err)
	}
	if c, err := demo.Claims(tok.AccessToken); err != nil || c.Confirmation == nil || c.Confirmation.JKT != tok.DPoPThumbprint() {
		t.Fatalf("the JWT is not bound to the device key that proved the password")
	}
	resp, err := c.HTTP().Get(env.StoreURL + "/api/cart")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/cart after the second factor: %v %v", resp, err)
	}
	resp.Body.Close()

	// Trusted: the next login on this device needs no code.
	if err := c.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, demo.Email, password); err != nil {
		t.Fatalf("login on the trusted device: %v", err)
	}
	// Another device is asked for the code.
	other := &client.Client{BaseURL: env.StoreURL, Now: env.Clock.Now}
	if _, err := other.Login(ctx, demo.Email, password); !errors.As(err, &tf) {
		t.Fatalf("login on another device: %v, want a second factor required", err)
	}
	// A recovery code stands in for the app, once.
	if _, err := other.CompleteTwoFactor(ctx, recovery[0], false); err != nil {
		t.Fatalf("a recovery code: %v", err)
	}
}

// A phished password gets the attacker a twoFactorId and never a token:
// its guesses at the code are 401s until the lockout answers 409, and
// then not even the right code passes.
func TestTwoFactor_PhishedPassword(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	c := &client.Client{BaseURL: env.StoreURL, Now: env.Clock.Now}
	if _, err := c.Login(ctx, demo.Email, password); err != nil {
		t.Fatal(err)
	}
	enrol, err := c.StartTwoFactorEnrolment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(30 * time.Second)
	if _, err := c.EnableTwoFactor(ctx, enrol.Secret, totptest.Code(t, enrol.Secret, env.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(30 * time.Second)

	r := send(t, ctx, "POST", env.StoreURL+"/api/login", storefront.LoginRequest{LoginID: demo.Email, Password: password})
	var pending storefront.TwoFactorPendingResponse
	decode(t, "2-5", r, &pending)
	if r.status != http.StatusAccepted || pending.TwoFactorID == "" || strings.Contains(string(r.body), `"token"`) {
		t.Fatalf("the phished password: %d %s, want 202 with a twoFactorId and no token", r.status, r.body)
	}
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[totptest.Code(t, enrol.Secret, env.Clock.Now().Add(d))] = true
	}
	guesses := 0
	for i := 1; i < 50 && r.status != http.StatusConflict; i++ {
		guess := fmt.Sprintf("%06d", i*7919)
		if valid[guess] {
			continue
		}
		r = send(t, ctx, "POST", env.StoreURL+"/api/login/two-factor", storefront.TwoFactorLoginRequest{TwoFactorID: pending.TwoFactorID, Code: guess})
		guesses++
		if strings.Contains(string(r.body), `"token"`) || r.header.Get("WWW-Authenticate") != "" {
			t.Fatalf("guess %d: %d %s carries a token or a challenge", guesses, r.status, r.body)
		}
		if r.status != http.StatusUnauthorized && r.status != http.StatusConflict {
			t.Fatalf("guess %d: %d %s, want 401 or 409", guesses, r.status, r.body)
		}
	}
	if r.status != http.StatusConflict || guesses > demo.LockAfter+1 {
		t.Fatalf("after %d guesses: %d, want the lockout's 409 within %d", guesses, r.status, demo.LockAfter+1)
	}
	r = send(t, ctx, "POST", env.StoreURL+"/api/login/two-factor", storefront.TwoFactorLoginRequest{TwoFactorID: pending.TwoFactorID, Code: totptest.Code(t, enrol.Secret, env.Clock.Now())})
	if r.status != http.StatusConflict || strings.Contains(string(r.body), `"token"`) {
		t.Fatalf("the right code under the lockout: %d %s, want 409", r.status, r.body)
	}
	// The user's session was not touched.
	resp, err := c.HTTP().Get(env.StoreURL + "/api/cart")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the user's cart during the attack: %v %v", resp, err)
	}
	resp.Body.Close()
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}
