package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/internal/storefront"
)

// TOTPStep is the time step of the authenticator's codes (RFC 6238): a
// code is accepted once, so the walk moves the clock a step on before it
// uses the next one.
const TOTPStep = 30 * time.Second

// totpCode is the authenticator app's code for secret (base32) at the
// shared clock's time, moved one time step on first, so that no code is
// used twice.
func (w *Walk) totpCode(step, secret string) (string, error) {
	w.Clock.Advance(TOTPStep)
	code, err := totp.GenerateCode(secret, w.Clock.Now())
	if err != nil {
		return "", w.Fail(step, "compute a TOTP code: %v", err)
	}
	return code, nil
}

// sceneTwoFactorLogin: Mobile turns on the authenticator in its settings
// (a secret from Identity, confirmed with a code, ten recovery codes),
// logs out, and logs in again: the password now gets a twoFactorId and no
// token, and the code, proved by the same device key, gets the tokens.
func sceneTwoFactorLogin(ctx context.Context, w *Walk) error {
	const step = "2-5"
	app := w.Mobile
	e, err := app.Client.StartTwoFactorEnrolment(ctx)
	if err != nil {
		return w.Fail(step, "Mobile's settings: a new authenticator secret: %v", err)
	}
	if _, err := w.LatchCallsAre(step, "GET /api/two-factor/secret"); err != nil {
		return err
	}
	app.Calls.Take()
	w.Msg(step, "Mobile", "Store", "POST /api/account/two-factor/secret", "200: a new secret (never shown) and its otpauth:// URI, drawn as a QR code")
	code, err := w.totpCode(step, e.Secret)
	if err != nil {
		return err
	}
	recovery, err := app.Client.EnableTwoFactor(ctx, e.Secret, code)
	if err != nil {
		return w.Fail(step, "Mobile enables the authenticator: %v", err)
	}
	if _, err := w.LatchCallsAre(step, "POST /api/user/two-factor/"+w.User.ID); err != nil {
		return err
	}
	app.Calls.Take()
	if len(recovery) == 0 {
		return w.Fail(step, "enabling the first method answered no recovery codes")
	}
	w.Msg(step, "Mobile", "Store", "POST /api/account/two-factor", fmt.Sprintf("{secret, code from the app} → Identity → 200: %d recovery codes, shown once", len(recovery)))
	if err := app.Client.Logout(ctx, false); err != nil {
		return w.Fail(step, "Mobile logs out: %v", err)
	}
	app.Calls.Take()
	w.LatchCalls.Take()
	w.Say(step, "Mobile", "logs out, and logs in again")

	_, loginErr := app.Client.Login(ctx, w.Email, w.Password)
	var tf *client.TwoFactorRequiredError
	if !errors.As(loginErr, &tf) {
		return w.Fail(step, "Mobile's login with the right password: %v, want a second factor required", loginErr)
	}
	mx := app.Calls.Take()
	lx, err := w.LatchCallsAre(step, "POST /api/login")
	if err != nil {
		return err
	}
	var pending storefront.TwoFactorPendingResponse
	switch {
	case lx[0].Status != 242:
		return w.Fail(step, "Identity answered the password %d, want 242", lx[0].Status)
	case len(mx) != 1 || mx[0].Status != http.StatusAccepted:
		return w.Fail(step, "the Store answered Mobile's login %s, want one 202", calls(mx))
	case json.Unmarshal(mx[0].Body, &pending) != nil || pending.TwoFactorID == "":
		return w.Fail(step, "the Store's 202 carries no twoFactorId")
	case bytes.Contains(mx[0].Body, []byte(`"token"`)) || bytes.Contains(mx[0].Body, []byte(`"refreshToken"`)):
		return w.Fail(step, "the Store's 202 carries a token")
	case len(tf.Methods) != 1 || tf.Methods[0].Method != api.TwoFactorAuthenticator:
		return w.Fail(step, "the 202 names the methods %v, want the authenticator", tf.Methods)
	}
	if _, err := app.Client.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		return w.Fail(step, "Mobile holds tokens before the second factor")
	}
	w.Msg(step, "Mobile", "Store", "POST /api/login", fmt.Sprintf("password + proof → Identity 242 → 202 {twoFactorId %s, methods: [authenticator]}, no token", FP(pending.TwoFactorID)))

	code, err = w.totpCode(step, e.Secret)
	if err != nil {
		return err
	}
	if _, err := app.Client.CompleteTwoFactor(ctx, code, false); err != nil {
		return w.Fail(step, "Mobile's code: %v", err)
	}
	mx = app.Calls.Take()
	lx, err = w.LatchCallsAre(step, "POST /api/two-factor/login")
	if err != nil {
		return err
	}
	t, err := w.Tokens(ctx, step, app)
	if err != nil {
		return err
	}
	var relayed api.TwoFactorLoginRequest
	switch {
	case len(mx) != 1 || mx[0].Call() != "POST /api/login/two-factor" || mx[0].Status != http.StatusOK:
		return w.Fail(step, "Mobile's code went as %s, want one POST /api/login/two-factor 200", calls(mx))
	case mx[0].RequestHeader.Get("DPoP") == "":
		return w.Fail(step, "Mobile's code carries no DPoP proof")
	case bytes.Contains(mx[0].RequestBody, []byte(w.Password)):
		return w.Fail(step, "Mobile sent the password again with the code")
	case json.Unmarshal(lx[0].RequestBody, &relayed) != nil || relayed.DPoPJKT != t.DPoPThumbprint() || relayed.TwoFactorID != pending.TwoFactorID:
		return w.Fail(step, "the Store's two-factor login at Identity does not carry the twoFactorId and the key of Mobile's proof")
	case boundTo(t.AccessToken) != t.DPoPThumbprint():
		return w.Fail(step, "the JWT after the code is not bound to Mobile's key")
	}
	w.Msg(step, "Mobile", "Store", "POST /api/login/two-factor", fmt.Sprintf("{twoFactorId, code} + proof by the same %s (never the password again)", Key(t.DPoPThumbprint())))
	w.Msg(step, "Store", "Identity", "POST /api/two-factor/login", "twoFactorId, code, API key, dpopJkt → 200")
	w.Msg(step, "Store", "Mobile", "200", fmt.Sprintf("%s bound to the device key, %s", w.JWT(t.AccessToken), RT(t.RefreshToken)))
	w.TOTPSecret = e.Secret
	return nil
}

// scenePhishedPassword: the attacker phished the password, not the
// authenticator. The password gets it a twoFactorId and no token; its
// guesses at the code are 401s, counted as failed logins, until the
// lockout ends the guessing; and Mobile's session carries on.
func scenePhishedPassword(ctx context.Context, w *Walk) error {
	const step = "2-5"
	if w.TOTPSecret == "" {
		return w.Fail(step, "the user has no authenticator (the scene before did not run)")
	}
	t, err := w.Tokens(ctx, step, w.Mobile)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf(step, t.AccessToken)
	if err != nil {
		return err
	}
	x, err := w.AttackLogin(ctx, step, w.Email, w.Password)
	if err != nil {
		return err
	}
	var pending storefront.TwoFactorPendingResponse
	if x.Status != http.StatusAccepted || json.Unmarshal(x.Body, &pending) != nil || pending.TwoFactorID == "" {
		return w.Fail(step, "the Store answered the phished password %d, want 202 with a twoFactorId", x.Status)
	}
	if bytes.Contains(x.Body, []byte(`"token"`)) {
		return w.Fail(step, "the Store's 202 to the attacker carries a token")
	}
	w.Msg(step, "Attacker", "Store", "POST /api/login", fmt.Sprintf("%s and the phished password → 202 {twoFactorId %s}: no token", w.Email, FP(pending.TwoFactorID)))
	// Guesses that are none of the codes Identity would take now.
	valid := map[string]bool{}
	for _, d := range []time.Duration{-TOTPStep, 0, TOTPStep} {
		c, _ := totp.GenerateCode(w.TOTPSecret, w.Clock.Now().Add(d))
		valid[c] = true
	}
	var statuses []int
	for i := 0; len(statuses) <= LockAfter; i++ {
		guess := fmt.Sprintf("%06d", 111111*(i%9+1))
		if valid[guess] {
			continue
		}
		x, err := w.attackPost(ctx, step, "/api/login/two-factor", storefront.TwoFactorLoginRequest{TwoFactorID: pending.TwoFactorID, Code: guess})
		if err != nil {
			return err
		}
		statuses = append(statuses, x.Status)
		if x.Status == http.StatusConflict {
			break
		}
		if x.Status != http.StatusUnauthorized {
			return w.Fail(step, "the Store answered a wrong code with %d (%s), want 401", x.Status, errorDescription(x.Body))
		}
		if x.Header.Get("WWW-Authenticate") != "" || bytes.Contains(x.Body, []byte(`"token"`)) {
			return w.Fail(step, "the Store's 401 to a wrong code carries WWW-Authenticate or a token")
		}
	}
	wrong := slices.Index(statuses, http.StatusConflict)
	if wrong < 0 {
		return w.Fail(step, "%d wrong codes and no lockout: %v", len(statuses), statuses)
	}
	w.Msg(step, "Attacker", "Store", "POST /api/login/two-factor", fmt.Sprintf("%d guesses at the code → 401 each (Identity: 421), each a failed login", wrong))
	w.Msg(step, "Store", "Attacker", "409", "the lockout takes over: no more guesses, with or without the password")
	w.LatchCalls.Take()
	if live, err := w.SessionLive(ctx, step, w.User.ID, sid); err != nil {
		return err
	} else if !live {
		return w.Fail(step, "the attack ended Mobile's session")
	}
	w.Say(step, "Mobile", "stays logged in; the user changes the phished password at leisure")
	w.Advance(LockDuration, "the lock ends")
	code, err := w.totpCode(step, w.TOTPSecret)
	if err != nil {
		return err
	}
	if err := w.Mobile.Client.DisableTwoFactor(ctx, code); err != nil {
		return w.Fail(step, "Mobile turns the authenticator off: %v", err)
	}
	w.Mobile.Calls.Take()
	w.LatchCalls.Take()
	w.Msg(step, "Mobile", "Store", "DELETE /api/account/two-factor", "{code} → Identity → 200: the authenticator is off again")
	w.TOTPSecret = ""
	return nil
}

// attackPost sends POST path with a JSON body to the storefront as the
// attacker.
func (w *Walk) attackPost(ctx context.Context, step, path string, body any) (Exchange, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Exchange{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.StoreURL+path, bytes.NewReader(b))
	if err != nil {
		return Exchange{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Attacker.Do(req)
	if err != nil {
		w.AttackerCalls.Take()
		return Exchange{}, w.Fail(step, "attacker: POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	xs := w.AttackerCalls.Take()
	if len(xs) != 1 {
		return Exchange{}, w.Fail(step, "the attacker's POST %s made %d requests, want 1", path, len(xs))
	}
	return xs[0], nil
}
