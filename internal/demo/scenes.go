package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/storefront"
)

// Scenes returns the walk through the article, in order: its steps 1-17
// (with the app's tokens bound to its DPoP key, as the client SDK and the
// storefront do by default), with a guessing attack on its login (the
// lockout: the right password and a wrong one get the same answer while it
// lasts, and it ends no session), then its two attack vectors with Latch's
// answers to them:
//
//   - 18-19, a stolen refresh token: useless without the device key
//     (DPoP: Identity refreshes a bound session for its own key only, and a
//     refusal revokes nothing, so the thief cannot hurt the user either);
//     when the thief has the key too, rotation with reuse detection revokes
//     the whole session, in either order, and the revocation event makes
//     the Store refuse the session's JWTs at once; and "log out everywhere".
//   - 20-21, a stolen JWT: useless without the device key (as Bearer, with
//     another key's proof, with a replayed proof: 401); when the device is
//     compromised, the operator revokes the session and the event reaches
//     the Store, which refuses the JWT before it expires.
//
// and last a second factor: the user turns an authenticator app on in
// the app's settings and logs in with the password and then a code,
// proved by the same device key; and a phished password gets an attacker
// a twoFactorId and no token, its guesses at the code 401s until the
// lockout takes over, while the user's session carries on.
//
// This table is the demo's extension point: each scene is a function on
// *Walk that prints its messages with Msg and Say and fails with Fail.
// A caller may add scenes through Options.Extra.
func Scenes() []Scene {
	return []Scene{
		{Title: "Initialize", Steps: "1", Run: sceneInitialize},
		{Title: "Login", Steps: "2-5", Run: sceneLogin},
		{Title: "Load the shopping cart, JWT still valid", Steps: "6-8", Run: sceneCart},
		{Title: "Attack on the login: guessing the password", Steps: "2-5", Run: sceneGuessing},
		{Title: "Refresh: JWT expired, refresh token valid", Steps: "9-12", Run: sceneRefresh},
		{Title: "Re-login: refresh token expired", Steps: "13-17", Run: sceneRelogin},
		{Title: "Attack vector: stolen refresh token, without the device key", Steps: "18-19", Run: sceneStolenRefreshWithoutKey},
		{Title: "Stolen refresh token and device key, replayed after the app rotated it", Steps: "18-19", Run: sceneStolenRefreshAfterApp},
		{Title: "Stolen refresh token and device key, replayed before the app", Steps: "18-19", Run: sceneStolenRefreshBeforeApp},
		{Title: "Latch's answer to 19: log out everywhere", Steps: "19", Run: sceneLogoutEverywhere},
		{Title: "Attack vector: stolen JWT", Steps: "20-21", Run: sceneStolenJWT},
		{Title: "Latch's answer to 21: revocation reaches the Store", Steps: "21", Run: sceneRevocationEvent},
		{Title: "Login with a second factor", Steps: "2-5", Run: sceneTwoFactorLogin},
		{Title: "Attack on the login: a phished password fails at the second step", Steps: "2-5", Run: scenePhishedPassword},
	}
}

// sceneInitialize is step 1: the app starts without tokens.
func sceneInitialize(ctx context.Context, w *Walk) error {
	if _, err := w.Mobile.Client.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		return w.Fail("1", "the app holds tokens before any login (%v)", err)
	}
	w.Say("1", "Mobile", "opens the app: no tokens on the device, so it renders its login form")
	return nil
}

// sceneLogin is steps 2-5.
func sceneLogin(ctx context.Context, w *Walk) error { return w.Login(ctx, w.Mobile, true) }

// Login logs app in through the storefront, checking each message of
// steps 2-5 and printing them one by one (full) or on one line: the app's
// DPoP proof, the Store passing its key to Identity (dpopJkt), and the
// JWT Identity binds to it.
func (w *Walk) Login(ctx context.Context, app *App, full bool) error {
	s2, s3, s4, s5 := "2", "3", "4", "5"
	if !full {
		s2, s3, s4, s5 = "2-5", "2-5", "2-5", "2-5"
	}
	msg := func(step, from, to, what, note string) {
		if full {
			w.Msg(step, from, to, what, note)
		}
	}
	user, loginErr := app.Client.Login(ctx, w.Email, w.Password)
	mx := app.Calls.Take()
	if len(mx) != 1 || mx[0].Call() != "POST /api/login" {
		return w.Fail(s2, "%s sent %d requests for one login, want one POST /api/login", app.Name, len(mx))
	}
	var sent storefront.LoginRequest
	if err := json.Unmarshal(mx[0].RequestBody, &sent); err != nil || sent.LoginID != w.Email {
		return w.Fail(s2, "%s's login body does not carry the login id", app.Name)
	}
	t, err := w.Tokens(ctx, s2, app)
	if err != nil {
		return err
	}
	jkt := t.DPoPThumbprint()
	if jkt == "" || mx[0].RequestHeader.Get(dpop.Header) == "" {
		return w.Fail(s2, "%s's login carries no DPoP proof of a device key", app.Name)
	}
	msg(s2, app.Name, "Store", "POST /api/login", fmt.Sprintf("{loginId: %s, password: (never shown)} + DPoP proof by the device %s", w.Email, Key(jkt)))
	lx, err := w.LatchCallsAre(s3, "POST /api/login")
	if err != nil {
		return err
	}
	l := lx[0]
	var relayed api.LoginRequest
	switch {
	case l.RequestHeader.Get("Authorization") != w.APIKey:
		return w.Fail(s3, "the Store's login at Identity carries no API key, or another")
	case json.Unmarshal(l.RequestBody, &relayed) != nil || relayed.ApplicationID != w.AppID || relayed.LoginID != w.Email:
		return w.Fail(s3, "the Store's login at Identity does not carry the login id and the application id")
	case relayed.DPoPJKT != jkt:
		return w.Fail(s3, "the Store's login at Identity does not carry the key of %s's proof (dpopJkt)", app.Name)
	}
	msg(s3, "Store", "Identity", "POST /api/login", fmt.Sprintf("the same credentials + applicationId + API key + dpopJkt: the %s, its proof verified", Key(jkt)))
	if l.Status != http.StatusOK {
		return w.Fail(s4, "Identity answered %d, want 200", l.Status)
	}
	var issued api.LoginResponse
	if err := json.Unmarshal(l.Body, &issued); err != nil || issued.Token == "" || issued.RefreshToken == "" || issued.User == nil {
		return w.Fail(s4, "Identity's answer lacks the JWT, the refresh token or the user")
	}
	c, err := Claims(issued.Token)
	switch {
	case err != nil:
		return w.Fail(s4, "Identity's JWT is unreadable: %v", err)
	case c.Subject != issued.User.ID || !c.Audience.Contains(w.AppID) || !c.HasRole(Role):
		return w.Fail(s4, "Identity's JWT is not the user's for the Store with the role %s (sub, aud, roles)", Role)
	case c.Expiry-w.Clock.Now().Unix() != int64(JWTLifetime.Seconds()):
		return w.Fail(s4, "Identity's JWT lives %ds, want %s", c.Expiry-w.Clock.Now().Unix(), human(JWTLifetime))
	case boundTo(issued.Token) != jkt:
		return w.Fail(s4, "Identity's JWT is not bound to %s's key (cnf.jkt)", app.Name)
	}
	msg(s4, "Identity", "Store", "200", fmt.Sprintf("user %s (role %s), JWT bound to the %s (cnf.jkt), refresh token", issued.User.Email, Role, Key(jkt)))
	if loginErr != nil || mx[0].Status != http.StatusOK {
		return w.Fail(s5, "the Store answered %d (%v), want 200", mx[0].Status, loginErr)
	}
	var got api.LoginResponse
	if err := json.Unmarshal(mx[0].Body, &got); err != nil || got.Token != issued.Token || got.RefreshToken != issued.RefreshToken ||
		got.User == nil || got.User.Email != w.Email {
		return w.Fail(s5, "the Store did not hand Identity's user and tokens on")
	}
	msg(s5, "Store", app.Name, "200", fmt.Sprintf("user, %s, %s", w.JWT(got.Token), RT(got.RefreshToken)))
	if t, err = w.Tokens(ctx, s5, app); err != nil {
		return err
	}
	if t.AccessToken != issued.Token || t.RefreshToken != issued.RefreshToken {
		return w.Fail(s5, "%s stored other tokens than it was given", app.Name)
	}
	w.User = user
	if full {
		w.Say(s5, app.Name, "keeps both tokens in the device's secure storage, with its key, which never leaves the device")
	} else {
		w.Msg(s2, app.Name, "Store", "POST /api/login", fmt.Sprintf("200 through Identity: %s bound to the device %s, %s",
			w.JWT(t.AccessToken), Key(jkt), RT(t.RefreshToken)))
	}
	return nil
}

// sentWithProof checks that an app's request carried its JWT in the DPoP
// scheme (it is bound) with a proof, and the refresh token only when
// withRefresh.
func (w *Walk) sentWithProof(step string, app *App, x Exchange, t client.Tokens, withRefresh bool) error {
	switch {
	case x.RequestHeader.Get("Authorization") != "DPoP "+t.AccessToken:
		return w.Fail(step, "%s did not send its JWT as \"Authorization: DPoP\" (it is bound to its key)", app.Name)
	case x.RequestHeader.Get(dpop.Header) == "":
		return w.Fail(step, "%s sent its bound JWT without a DPoP proof", app.Name)
	case withRefresh && x.RequestHeader.Get(api.HeaderRefreshToken) != t.RefreshToken:
		return w.Fail(step, "%s did not send its expired JWT with its refresh token", app.Name)
	case !withRefresh && x.RequestHeader.Get(api.HeaderRefreshToken) != "":
		return w.Fail(step, "%s sent its refresh token with a fresh JWT (no refresh token needed while it is fresh)", app.Name)
	}
	return nil
}

// sceneCart is steps 6-8: the JWT is valid, and the Store needs nothing
// of Identity but its public keys, fetched once.
func sceneCart(ctx context.Context, w *Walk) error {
	t, err := w.Tokens(ctx, "6", w.Mobile)
	if err != nil {
		return err
	}
	x, err := w.Get(ctx, "6", w.Mobile, "/api/cart")
	if err != nil {
		return err
	}
	if err := w.sentWithProof("6", w.Mobile, x, t, false); err != nil {
		return err
	}
	w.Msg("6", "Mobile", "Store", "GET /api/cart", "DPoP "+w.JWT(t.AccessToken)+" + a proof for GET /api/cart; no refresh token needed yet")
	// The first JWT the Store sees makes it fetch Identity's keys, and
	// read the revocations it may have missed before it started, once.
	xs := w.LatchCalls.Take()
	seen := map[string]bool{}
	for _, x := range xs {
		if x.Status != http.StatusOK || seen[x.Call()] {
			return w.Fail("7", "the Store's calls to Identity were %s, want at most the key set and a catch-up", calls(xs))
		}
		seen[x.Call()] = true
		switch x.Call() {
		case jwksCall:
			w.Msg("7", "Store", "Identity", jwksCall, "200: Identity's public keys, fetched for the first JWT, then cached")
		case catchUpCall:
			w.Msg("7", "Store", "Identity", catchUpCall, "200: the revocations of the last day, which the Store, just started, "+
				"may have missed; read once, then the new ones each minute")
		default:
			return w.Fail("7", "the Store's calls to Identity were %s, want at most the key set and a catch-up", calls(xs))
		}
	}
	w.Say("7", "Store", "verifies the JWT locally: %s signature, exp, iss, aud → the user %s", jwtAlg(t.AccessToken), w.Email)
	w.Say("7", "Store", "and the proof: signed by the JWT's key (cnf.jkt), for this method and URL, over this JWT, fresh, never seen before")
	if x.Status != http.StatusOK {
		return w.Fail("8", "the Store answered %d (%s), want 200", x.Status, errorDescription(x.Body))
	}
	w.Msg("8", "Store", "Mobile", "200", describeCart(x.Body))

	// Again, now that the keys are cached: no call to Identity at all.
	x, err = w.send(ctx, "6", w.Mobile, http.MethodPost, "/api/cart/items", storefront.AddItemRequest{SKU: "latch-mug", Quantity: 2})
	if err != nil {
		return err
	}
	if err := w.sentWithProof("6", w.Mobile, x, t, false); err != nil {
		return err
	}
	w.Msg("6", "Mobile", "Store", "POST /api/cart/items", "{sku: latch-mug, quantity: 2}, DPoP "+w.JWT(t.AccessToken)+" + a new proof")
	if _, err := w.LatchCallsAre("7"); err != nil {
		return err
	}
	w.Say("7", "Store", "verifies the JWT and the proof locally: no call to Identity")
	if x.Status != http.StatusOK {
		return w.Fail("8", "the Store answered %d (%s), want 200", x.Status, errorDescription(x.Body))
	}
	if !strings.Contains(describeCart(x.Body), "2 × Latch mug") {
		return w.Fail("8", "the cart is %s, want 2 × Latch mug", describeCart(x.Body))
	}
	w.Msg("8", "Store", "Mobile", "200", describeCart(x.Body))
	return nil
}

// sceneRefresh is steps 9-12.
func sceneRefresh(ctx context.Context, w *Walk) error {
	w.Advance(PastJWT, "the JWT expired %s ago (beyond the %s of clock skew guard tolerates)", human(PastJWT-JWTLifetime), human(guard.DefaultLeeway))
	_, err := w.Refreshed(ctx, w.Mobile, true)
	return err
}

// Refreshed sends app's GET /api/cart with an expired JWT and checks that
// the Store refreshes it through Identity for the app's key (steps 9-12),
// printing the messages one by one (full) or on one line. It returns the
// new tokens.
func (w *Walk) Refreshed(ctx context.Context, app *App, full bool) (client.Tokens, error) {
	s9, s10, s11, s12 := "9", "10", "11", "12"
	if !full {
		s9, s10, s11, s12 = "9-12", "9-12", "9-12", "9-12"
	}
	msg := func(step, from, to, what, note string) {
		if full {
			w.Msg(step, from, to, what, note)
		}
	}
	before, err := w.Tokens(ctx, s9, app)
	if err != nil {
		return before, err
	}
	jkt := before.DPoPThumbprint()
	oldJWT := w.JWT(before.AccessToken)
	x, err := w.Get(ctx, s9, app, "/api/cart")
	if err != nil {
		return before, err
	}
	if err := w.sentWithProof(s9, app, x, before, true); err != nil {
		return before, err
	}
	msg(s9, app.Name, "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof + Refresh-Token %s", oldJWT, FP(before.RefreshToken)))
	lx, err := w.LatchCallsAre(s10, "POST /api/jwt/refresh")
	if err != nil {
		return before, err
	}
	var presented api.RefreshRequest
	switch {
	case json.Unmarshal(lx[0].RequestBody, &presented) != nil || presented.RefreshToken != before.RefreshToken:
		return before, w.Fail(s10, "the Store presented another refresh token than %s's", app.Name)
	case presented.DPoPJKT != jkt || lx[0].RequestHeader.Get("Authorization") != w.APIKey:
		return before, w.Fail(s10, "the Store did not ask Identity to refresh for %s's key (dpopJkt, with its API key)", app.Name)
	}
	msg(s10, "Store", "Identity", "POST /api/jwt/refresh", fmt.Sprintf("%s, for the %s (dpopJkt: the proof's key) + API key", RT(before.RefreshToken), Key(jkt)))
	if lx[0].Status != http.StatusOK {
		return before, w.Fail(s11, "Identity answered %d%s, want 200", lx[0].Status, errorCodes(lx[0].Body))
	}
	var res api.JWTRefreshResponse
	switch {
	case json.Unmarshal(lx[0].Body, &res) != nil || res.Token == "" || res.Token == before.AccessToken:
		return before, w.Fail(s11, "Identity's answer carries no new JWT")
	case res.RefreshToken == "" || res.RefreshToken == before.RefreshToken:
		return before, w.Fail(s11, "Identity did not rotate the one-time-use refresh token")
	case boundTo(res.Token) != jkt:
		return before, w.Fail(s11, "Identity's new JWT is not bound to %s's key", app.Name)
	}
	msg(s11, "Identity", "Store", "200", fmt.Sprintf("new %s, bound to the same key; refresh token rotated → %s (one-time use)", w.JWT(res.Token), FP(res.RefreshToken)))
	switch {
	case x.Status != http.StatusOK:
		return before, w.Fail(s12, "the Store answered %d (%s), want 200", x.Status, errorDescription(x.Body))
	case x.Header.Get(api.HeaderAccessToken) != res.Token:
		return before, w.Fail(s12, "the Store's Access-Token header is not Identity's new JWT")
	case x.Header.Get(api.HeaderRefreshToken) != res.RefreshToken:
		return before, w.Fail(s12, "the Store's Refresh-Token header is not the rotated refresh token")
	}
	msg(s12, "Store", app.Name, "200", fmt.Sprintf("%s + Access-Token %s + Refresh-Token %s", describeCart(x.Body), FP(res.Token), FP(res.RefreshToken)))
	after, err := w.Tokens(ctx, s12, app)
	if err != nil {
		return after, err
	}
	if after.AccessToken != res.Token || after.RefreshToken != res.RefreshToken {
		return after, w.Fail(s12, "%s did not adopt the new tokens", app.Name)
	}
	if full {
		w.Say(s12, app.Name, "replaces both tokens with the new ones")
	} else {
		w.Msg(s9, app.Name, "Store", "GET /api/cart", fmt.Sprintf("200, refreshed through Identity for its key: %s, %s → %s",
			w.JWT(res.Token), RT(before.RefreshToken), FP(res.RefreshToken)))
	}
	return after, nil
}

// Refused sends app's GET /api/cart with an expired JWT and a refresh
// token Identity must refuse, and checks the four messages (steps 13-16,
// labelled as given) and that the app is sent back to its login form.
// why is printed with Identity's refusal.
func (w *Walk) Refused(ctx context.Context, app *App, steps [4]string, why string) error {
	before, err := w.Tokens(ctx, steps[0], app)
	if err != nil {
		return err
	}
	oldJWT := w.JWT(before.AccessToken)
	calls := app.LoginRequired()
	x, err := w.Get(ctx, steps[0], app, "/api/cart")
	if err != nil {
		return err
	}
	if err := w.sentWithProof(steps[0], app, x, before, true); err != nil {
		return err
	}
	w.Msg(steps[0], app.Name, "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof + Refresh-Token %s", oldJWT, FP(before.RefreshToken)))
	return w.refusedRefresh(ctx, app, steps[1:], x, before, calls, why)
}

// refusedRefresh checks the Store's refresh of app's refresh token, which
// Identity must refuse, and the Store's 401 to x (steps 14-16, labelled as
// given), and that the app is sent back to its login form: its
// OnLoginRequired ran once since it had run calls times.
func (w *Walk) refusedRefresh(ctx context.Context, app *App, steps []string, x Exchange, before client.Tokens, calls int, why string) error {
	lx, err := w.LatchCallsAre(steps[0], "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	var presented api.RefreshRequest
	if json.Unmarshal(lx[0].RequestBody, &presented) != nil || presented.RefreshToken != before.RefreshToken {
		return w.Fail(steps[0], "the Store presented another refresh token than %s's", app.Name)
	}
	w.Msg(steps[0], "Store", "Identity", "POST /api/jwt/refresh", fmt.Sprintf("%s, for the %s", RT(before.RefreshToken), Key(presented.DPoPJKT)))
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail(steps[1], "Identity answered %d, want 400: %s", lx[0].Status, why)
	}
	w.Msg(steps[1], "Identity", "Store", "400"+errorCodes(lx[0].Body), why)
	switch {
	case x.Status != http.StatusUnauthorized:
		return w.Fail(steps[2], "the Store answered %d (%s), want 401", x.Status, errorDescription(x.Body))
	case !strings.Contains(x.Header.Get("WWW-Authenticate"), `error="invalid_token"`):
		return w.Fail(steps[2], "the Store's 401 carries no WWW-Authenticate with error=\"invalid_token\"")
	case x.Header.Get(api.HeaderAccessToken) != "":
		return w.Fail(steps[2], "the Store's 401 carries an Access-Token")
	}
	w.Msg(steps[2], "Store", app.Name, "401", "WWW-Authenticate: "+challenge(x.Header))
	if n := app.LoginRequired(); n != calls+1 {
		return w.Fail(steps[2], "%s's OnLoginRequired ran %d times, want once", app.Name, n-calls)
	}
	if _, err := app.Client.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		return w.Fail(steps[2], "%s still holds tokens after the Store ended the session", app.Name)
	}
	if kept, err := app.Client.Store.Load(ctx); err != nil || kept.AccessToken != "" || kept.DPoPThumbprint() != before.DPoPThumbprint() {
		return w.Fail(steps[2], "%s did not keep its device key, and nothing else, when the session ended", app.Name)
	}
	return nil
}

// RevokedOut sends app's GET /api/cart with its JWT, still valid, of a
// session revoked at Identity whose revocation event reached the Store:
// the Store refuses the JWT at once, without a call to Identity; the app
// tries again with its refresh token, which Identity refuses, and is sent
// back to its login form. All messages are labelled step.
func (w *Walk) RevokedOut(ctx context.Context, step string, app *App, why string) error {
	before, err := w.Tokens(ctx, step, app)
	if err != nil {
		return err
	}
	prompts := app.LoginRequired()
	xs, err := w.sendAll(ctx, step, app, http.MethodGet, "/api/cart", nil)
	if err != nil {
		return err
	}
	if len(xs) != 2 {
		return w.Fail(step, "%s sent %s for one GET /api/cart, want its JWT, then a retry with its refresh token", app.Name, calls(xs))
	}
	if err := w.sentWithProof(step, app, xs[0], before, false); err != nil {
		return err
	}
	w.Msg(step, app.Name, "Store", "GET /api/cart", "DPoP "+w.JWT(before.AccessToken)+" + proof")
	const revoked = "The access token has been revoked."
	if xs[0].Status != http.StatusUnauthorized || errorDescription(xs[0].Body) != revoked {
		return w.Fail(step, "the Store answered a revoked session's JWT %d (%s), want 401 %q", xs[0].Status, errorDescription(xs[0].Body), revoked)
	}
	w.Msg(step, "Store", app.Name, "401", fmt.Sprintf("%q: the JWT has %s to live, but the Store learnt of the revocation", revoked, w.ttl(before.AccessToken)))
	if err := w.sentWithProof(step, app, xs[1], before, true); err != nil {
		return err
	}
	w.Msg(step, app.Name, "Store", "GET /api/cart", fmt.Sprintf("again, with Refresh-Token %s", FP(before.RefreshToken)))
	return w.refusedRefresh(ctx, app, []string{step, step, step}, xs[1], before, prompts, why)
}

// ttl says how long a JWT has to live.
func (w *Walk) ttl(jwt string) string {
	c, err := Claims(jwt)
	if err != nil {
		return "?"
	}
	return human(time.Unix(c.Expiry, 0).Sub(w.Clock.Now()))
}

// sceneRelogin is steps 13-17, then the login again.
func sceneRelogin(ctx context.Context, w *Walk) error {
	w.Advance(PastRefresh, "the refresh token, unused for %s, expired (its sliding window is %s)", human(PastRefresh), human(RefreshLifetime))
	if err := w.Refused(ctx, w.Mobile, [4]string{"13", "14", "15", "16"},
		"the refresh token expired (the article's diagram draws FusionAuth's 2019 404)"); err != nil {
		return err
	}
	w.Say("17", "Mobile", "clears its tokens (it keeps its key) and shows the login form again")
	return w.Login(ctx, w.Mobile, false)
}

// sceneGuessing is an attack on steps 2-5 that the article does not
// draw: guessing the user's password through the Store. After LockAfter
// wrong guesses Identity locks the login ID: it checks no password while
// the lock lasts, so the right password gets exactly the answer a wrong
// one gets and the guesser learns nothing; and the lock ends none of the
// user's sessions.
func sceneGuessing(ctx context.Context, w *Walk) error {
	const step = "2-5"
	t, err := w.Tokens(ctx, step, w.Mobile)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf(step, t.AccessToken)
	if err != nil {
		return err
	}
	for i := range LockAfter {
		x, err := w.AttackLogin(ctx, step, w.Email, fmt.Sprintf("guess number %d", i+1))
		if err != nil {
			return err
		}
		if x.Status != http.StatusUnauthorized {
			return w.Fail(step, "the Store answered wrong guess %d with %d, want 401", i+1, x.Status)
		}
	}
	w.Msg(step, "Attacker", "Store", "POST /api/login", fmt.Sprintf("%s and %d wrong guesses within %s → 401 each (Identity: 404)", w.Email, LockAfter, human(LockWindow)))
	wrong, err := w.AttackLogin(ctx, step, w.Email, "guess number 6")
	if err != nil {
		return err
	}
	right, err := w.AttackLogin(ctx, step, w.Email, w.Password)
	if err != nil {
		return err
	}
	if _, err := w.LatchCallsAre(step, slices.Repeat([]string{"POST /api/login"}, LockAfter+2)...); err != nil {
		return err
	}
	switch {
	case wrong.Status != http.StatusConflict:
		return w.Fail(step, "the Store answered a guess after %d failures with %d, want 409", LockAfter, wrong.Status)
	case right.Status != wrong.Status || !bytes.Equal(right.Body, wrong.Body) || right.Header.Get("Retry-After") != wrong.Header.Get("Retry-After"):
		return w.Fail(step, "while locked, the right password got %d %s and a wrong one %d %s: the lock tells the guesser when it guessed right",
			right.Status, errorDescription(right.Body), wrong.Status, errorDescription(wrong.Body))
	}
	w.Msg(step, "Store", "Attacker", "409", fmt.Sprintf("a sixth guess: %q", errorDescription(wrong.Body)))
	w.Msg(step, "Store", "Attacker", "409", "the right password: the very same answer; Identity checks no password while the lock lasts")
	if live, err := w.SessionLive(ctx, step, w.User.ID, sid); err != nil {
		return err
	} else if !live {
		return w.Fail(step, "the lock ended Mobile's session: a guesser could log the user out")
	}
	w.Say(step, "Mobile", "stays logged in: the lock protects the user, it does not log them out")
	w.Advance(LockDuration, "the lock ends")
	return nil
}

// refusedAttack checks the Store's 401 to the attacker: no token.
func (w *Walk) refusedAttack(step string, x Exchange, note string) error {
	switch {
	case x.Status != http.StatusUnauthorized:
		return w.Fail(step, "the Store answered the attacker %d (%s), want 401", x.Status, errorDescription(x.Body))
	case x.Header.Get("WWW-Authenticate") == "" || x.Header.Get(api.HeaderAccessToken) != "" || x.Header.Get(api.HeaderRefreshToken) != "":
		return w.Fail(step, "the Store's 401 to the attacker carries no WWW-Authenticate, or tokens")
	}
	w.Msg(step, "Store", "Attacker", "401", fmt.Sprintf("%q%s", errorDescription(x.Body), note))
	return nil
}

// sceneStolenRefreshWithoutKey is steps 18-19 against a DPoP-bound session:
// the thief holds copies of the refresh token and the expired JWT, not the
// device key, and gets nothing; the session is not even disturbed.
func sceneStolenRefreshWithoutKey(ctx context.Context, w *Walk) error {
	stolen, err := w.Steal(ctx, "18", w.Mobile, false)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("18", stolen.JWT)
	if err != nil {
		return err
	}
	w.Say("18", "Attacker", "copies the refresh token %s and the JWT off the device (a backup, a log); not the device key", FP(stolen.RefreshToken))
	w.Advance(PastJWT, "both copies of the JWT expired")

	// As the article's attacker: the JWT and the refresh token.
	x, err := w.Attack(ctx, "18", "/api/cart", "Authorization", "Bearer "+stolen.JWT, api.HeaderRefreshToken, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s (stolen)", w.JWT(stolen.JWT), FP(stolen.RefreshToken)))
	if _, err := w.LatchCallsAre("19"); err != nil {
		return err
	}
	w.Say("19", "Store", "the JWT is bound to the %s (cnf.jkt) and comes without a proof by it: no refresh, no call to Identity", Key(stolen.JKT))
	if err := w.refusedAttack("19", x, ""); err != nil {
		return err
	}

	// The refresh token alone, with a proof by a key of the thief's own.
	key, err := dpop.GenerateKey()
	if err != nil {
		return err
	}
	thiefJKT, err := dpop.Thumbprint(key.Public())
	if err != nil {
		return err
	}
	proof, err := w.Proof("18", key, http.MethodGet, "/api/cart", "")
	if err != nil {
		return err
	}
	x, err = w.Attack(ctx, "18", "/api/cart", dpop.Header, proof, api.HeaderRefreshToken, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("Refresh-Token %s alone + a proof by its own %s", FP(stolen.RefreshToken), Key(thiefJKT)))
	lx, err := w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	var presented api.RefreshRequest
	if json.Unmarshal(lx[0].RequestBody, &presented) != nil || presented.RefreshToken != stolen.RefreshToken || presented.DPoPJKT != thiefJKT {
		return w.Fail("19", "the Store did not ask Identity to refresh the stolen refresh token for the attacker's key")
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", fmt.Sprintf("%s, for the %s (the proof's key)", RT(stolen.RefreshToken), Key(thiefJKT)))
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail("19", "Identity answered %d to a refresh for another key than the session's, want 400", lx[0].Status)
	}
	if live, err := w.SessionLive(ctx, "19", w.User.ID, sid); err != nil {
		return err
	} else if !live {
		return w.Fail("19", "Identity revoked the session for a refresh without its key: a thief could end the user's session")
	}
	w.Msg("19", "Identity", "Store", "400"+errorCodes(lx[0].Body), fmt.Sprintf("the session is bound to the %s: refused, and left alone", Key(stolen.JKT)))
	if err := w.refusedAttack("19", x, ": the attacker gets nothing"); err != nil {
		return err
	}
	if _, err := w.Refreshed(ctx, w.Mobile, false); err != nil {
		return err
	}
	w.Say("19", "Mobile", "carries on unharmed: without the device key, the stolen refresh token was useless")
	return nil
}

// attackWithKey sends GET /api/cart as an attacker who has the device key:
// the JWT in the DPoP scheme with a fresh proof by the key, and the
// refresh token when given.
func (w *Walk) attackWithKey(ctx context.Context, step string, l Loot, jwt, refreshToken string) (Exchange, error) {
	proof, err := w.Proof(step, l.Key, http.MethodGet, "/api/cart", jwt)
	if err != nil {
		return Exchange{}, err
	}
	h := []string{"Authorization", "DPoP " + jwt, dpop.Header, proof}
	if refreshToken != "" {
		h = append(h, api.HeaderRefreshToken, refreshToken)
	}
	return w.Attack(ctx, step, "/api/cart", h...)
}

// revocationReached waits for Identity's event revoking the session sid
// to reach the Store, checks its reason and prints it.
func (w *Walk) revocationReached(ctx context.Context, step, sid, reason string) error {
	ev, err := w.RevocationDelivered(ctx, step, func(ev api.JWTRefreshTokenRevokeEvent) bool { return ev.SessionID == sid })
	if err != nil {
		return err
	}
	if ev.Reason != reason {
		return w.Fail(step, "Identity's event gives the reason %q, want %q", ev.Reason, reason)
	}
	w.Msg(step, "Identity", "Store", "POST "+storefront.EventsPath, fmt.Sprintf("%s: %s, reason %q; signed → 200", ev.Type, Session(sid), ev.Reason))
	return nil
}

// sceneStolenRefreshAfterApp is steps 18-19 with a thief who has the key
// too, and late: the app has rotated the refresh token, and the thief's
// copy comes back after the grace period.
func sceneStolenRefreshAfterApp(ctx context.Context, w *Walk) error {
	stolen, err := w.Steal(ctx, "18", w.Mobile, true)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("18", stolen.JWT)
	if err != nil {
		return err
	}
	w.Say("18", "Attacker", "copies the refresh token %s, the JWT and the device key off a compromised device (DPoP cannot tell it from the device)", FP(stolen.RefreshToken))
	w.Advance(PastJWT, "the JWT expired")
	if _, err := w.Refreshed(ctx, w.Mobile, false); err != nil {
		return err
	}
	w.Advance(PastGrace, "past Identity's %s grace period and guard's %s reuse window", human(GracePeriod), human(guardReuseWindow))
	x, err := w.attackWithKey(ctx, "18", stolen, stolen.JWT, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof by the stolen key + Refresh-Token %s (stolen)", w.JWT(stolen.JWT), FP(stolen.RefreshToken)))
	lx, err := w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", fmt.Sprintf("%s, for the %s: the device's", RT(stolen.RefreshToken), Key(stolen.JKT)))
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail("19", "Identity answered %d to a refresh token rotated %s ago, want 400 (reuse)", lx[0].Status, human(PastGrace))
	}
	if live, err := w.SessionLive(ctx, "19", w.User.ID, sid); err != nil {
		return err
	} else if live {
		return w.Fail("19", "Identity refused the reused refresh token but left its session live, want the whole session revoked")
	}
	w.Msg("19", "Identity", "Store", "400"+errorCodes(lx[0].Body), fmt.Sprintf("%s was rotated %s ago: reuse! the whole session is revoked", FP(stolen.RefreshToken), human(PastGrace)))
	if err := w.refusedAttack("19", x, ": the attacker gets nothing"); err != nil {
		return err
	}
	if err := w.revocationReached(ctx, "19", sid, "refresh token reuse"); err != nil {
		return err
	}
	// The app's JWT would live on until it expires; the event ends it now.
	if err := w.RevokedOut(ctx, "19", w.Mobile, "the session was revoked for reuse"); err != nil {
		return err
	}
	w.Say("19", "Mobile", "must log in again: the theft cost the user one login, and the attacker everything")
	return nil
}

// sceneStolenRefreshBeforeApp is steps 18-19 with a thief who has the key
// too, and first: the article's attack succeeds once, and the app's own
// refresh then exposes it; the revocation reaches the JWT the thief got.
func sceneStolenRefreshBeforeApp(ctx context.Context, w *Walk) error {
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	stolen, err := w.Steal(ctx, "18", w.Mobile, true)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("18", stolen.JWT)
	if err != nil {
		return err
	}
	w.Say("18", "Attacker", "copies the refresh token %s, the JWT and the device key off a compromised device", FP(stolen.RefreshToken))
	w.Advance(PastJWT, "both copies of the JWT expired")
	x, err := w.attackWithKey(ctx, "18", stolen, stolen.JWT, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof by the stolen key + Refresh-Token %s (stolen)", w.JWT(stolen.JWT), FP(stolen.RefreshToken)))
	lx, err := w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", fmt.Sprintf("%s, for the %s: the device's", RT(stolen.RefreshToken), Key(stolen.JKT)))
	var res api.JWTRefreshResponse
	if lx[0].Status != http.StatusOK || json.Unmarshal(lx[0].Body, &res) != nil || res.Token == "" || res.RefreshToken == stolen.RefreshToken {
		return w.Fail("19", "Identity answered the first use of the refresh token with %d, want 200 and a rotated refresh token", lx[0].Status)
	}
	w.Msg("19", "Identity", "Store", "200", fmt.Sprintf("new %s; refresh token rotated → %s, to the attacker", w.JWT(res.Token), FP(res.RefreshToken)))
	if x.Status != http.StatusOK || x.Header.Get(api.HeaderAccessToken) != res.Token || x.Header.Get(api.HeaderRefreshToken) != res.RefreshToken {
		return w.Fail("19", "the Store answered the attacker %d, want 200 with the new tokens (the article's attack)", x.Status)
	}
	w.Msg("19", "Store", "Attacker", "200", fmt.Sprintf("%s + Access-Token %s + Refresh-Token %s: as the article warns", describeCart(x.Body), FP(res.Token), FP(res.RefreshToken)))

	w.Advance(PastGrace, "past Identity's %s grace period and guard's %s reuse window", human(GracePeriod), human(guardReuseWindow))
	if err := w.Refused(ctx, w.Mobile, [4]string{"19", "19", "19", "19"},
		fmt.Sprintf("%s was rotated %s ago (by the attacker): reuse! the whole session is revoked", FP(stolen.RefreshToken), human(PastGrace))); err != nil {
		return err
	}
	if live, err := w.SessionLive(ctx, "19", w.User.ID, sid); err != nil {
		return err
	} else if live {
		return w.Fail("19", "the reused refresh token's session is still live, want it revoked")
	}
	w.Say("19", "Mobile", "must log in again")
	if err := w.revocationReached(ctx, "19", sid, "refresh token reuse"); err != nil {
		return err
	}

	// The JWT the attacker got is refused before it expires...
	x, err = w.attackWithKey(ctx, "19", stolen, res.Token, "")
	if err != nil {
		return err
	}
	w.Msg("19", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("the one it got: DPoP %s + proof by the stolen key", w.JWT(res.Token)))
	if _, err := w.LatchCallsAre("19"); err != nil {
		return err
	}
	if errorDescription(x.Body) != "The access token has been revoked." {
		return w.Fail("19", "the Store answered the revoked session's JWT %d (%s), want 401: revoked", x.Status, errorDescription(x.Body))
	}
	if err := w.refusedAttack("19", x, ": the event reached the Store, no call to Identity"); err != nil {
		return err
	}
	// ...and the attacker's rotated refresh token died with the session.
	x, err = w.attackWithKey(ctx, "19", stolen, res.Token, res.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("19", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof + Refresh-Token %s", w.JWT(res.Token), FP(res.RefreshToken)))
	lx, err = w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail("19", "Identity answered %d to the attacker's rotated refresh token, want 400 (its session is revoked)", lx[0].Status)
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", RT(res.RefreshToken)+" → 400"+errorCodes(lx[0].Body)+": its session is revoked")
	return w.refusedAttack("19", x, ": the attacker is left with nothing")
}

// sceneLogoutEverywhere is Latch's "log out everywhere": one device ends
// every session of the user, and the revocation reaches the Store at once.
func sceneLogoutEverywhere(ctx context.Context, w *Walk) error {
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	mobile, err := w.Tokens(ctx, "19", w.Mobile)
	if err != nil {
		return err
	}
	tablet := w.NewApp("Tablet")
	if err := w.Login(ctx, tablet, false); err != nil {
		return err
	}
	tab, err := w.Tokens(ctx, "19", tablet)
	if err != nil {
		return err
	}
	if tab.DPoPThumbprint() == mobile.DPoPThumbprint() {
		return w.Fail("19", "Tablet and Mobile hold the same device key")
	}
	sids := make([]string, 2)
	for i, tok := range []string{mobile.AccessToken, tab.AccessToken} {
		if sids[i], err = w.sessionOf("19", tok); err != nil {
			return err
		}
		if live, err := w.SessionLive(ctx, "19", w.User.ID, sids[i]); err != nil {
			return err
		} else if !live {
			return w.Fail("19", "a session just logged in is not live at Identity")
		}
	}
	if err := w.Mobile.Client.Logout(ctx, true); err != nil {
		return w.Fail("19", "Mobile: log out everywhere: %v", err)
	}
	mx := w.Mobile.Calls.Take()
	if len(mx) != 1 || mx[0].Call() != "POST /api/logout" || mx[0].RequestHeader.Get(api.HeaderRefreshToken) != mobile.RefreshToken {
		return w.Fail("19", "Mobile did not send one POST /api/logout with its refresh token")
	}
	w.Msg("19", "Mobile", "Store", "POST /api/logout", fmt.Sprintf("{global: true} + DPoP JWT %s + proof + Refresh-Token %s", FP(mobile.AccessToken), FP(mobile.RefreshToken)))
	lx, err := w.LatchCallsAre("19", "POST /api/logout")
	if err != nil {
		return err
	}
	var lo api.LogoutRequest
	if json.Unmarshal(lx[0].RequestBody, &lo) != nil || !lo.Global || lo.RefreshToken != mobile.RefreshToken {
		return w.Fail("19", "the Store's logout at Identity is not global for Mobile's refresh token")
	}
	w.Msg("19", "Store", "Identity", "POST /api/logout", fmt.Sprintf("{global: true, refreshToken: %s} → %d", FP(mobile.RefreshToken), lx[0].Status))
	if lx[0].Status != http.StatusOK || mx[0].Status != http.StatusOK {
		return w.Fail("19", "the logout was answered %d by Identity and %d by the Store, want 200", lx[0].Status, mx[0].Status)
	}
	if _, err := w.Mobile.Client.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		return w.Fail("19", "Mobile still holds tokens after logging out")
	}
	w.Msg("19", "Store", "Mobile", "200", "Mobile clears its tokens")
	for _, sid := range sids {
		if live, err := w.SessionLive(ctx, "19", w.User.ID, sid); err != nil {
			return err
		} else if live {
			return w.Fail("19", "a session is still live at Identity after log out everywhere")
		}
	}
	w.Say("19", "Identity", "%s has no live session left: Mobile's and Tablet's are revoked", w.Email)
	uid := w.User.ID
	ev, err := w.RevocationDelivered(ctx, "19", func(ev api.JWTRefreshTokenRevokeEvent) bool { return ev.UserID == uid && ev.SessionID == "" })
	if err != nil {
		return err
	}
	if ev.Reason != "global logout" {
		return w.Fail("19", "Identity's event gives the reason %q, want \"global logout\"", ev.Reason)
	}
	w.Msg("19", "Identity", "Store", "POST "+storefront.EventsPath, fmt.Sprintf("%s: every session of %s, reason %q; signed → 200", ev.Type, w.Email, ev.Reason))
	return w.RevokedOut(ctx, "19", tablet, "the session was revoked by log out everywhere")
}

// sceneStolenJWT is steps 20-21: a stolen DPoP-bound JWT is useless
// without the device key, however the attacker sends it.
func sceneStolenJWT(ctx context.Context, w *Walk) error {
	// A JWT issued in the second of a revocation of all the user's
	// sessions is refused with them (iat has one-second precision).
	w.Advance(time.Minute, "later, the user logs in again")
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	t, err := w.Tokens(ctx, "20", w.Mobile)
	if err != nil {
		return err
	}
	own, err := w.Get(ctx, "20", w.Mobile, "/api/cart")
	if err != nil {
		return err
	}
	if err := w.sentWithProof("20", w.Mobile, own, t, false); err != nil {
		return err
	}
	if own.Status != http.StatusOK {
		return w.Fail("20", "the Store answered Mobile %d, want 200", own.Status)
	}
	w.Msg("6-8", "Mobile", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + a proof for this request → 200, %s", w.JWT(t.AccessToken), describeCart(own.Body)))
	stolen, err := w.Steal(ctx, "20", w.Mobile, false)
	if err != nil {
		return err
	}
	w.Say("20", "Attacker", "copies the JWT %s off the device, and the proof Mobile just sent; not the key, not the refresh token", FP(stolen.JWT))

	key, err := dpop.GenerateKey()
	if err != nil {
		return err
	}
	thiefJKT, err := dpop.Thumbprint(key.Public())
	if err != nil {
		return err
	}
	proof, err := w.Proof("20", key, http.MethodGet, "/api/cart", stolen.JWT)
	if err != nil {
		return err
	}
	for _, a := range []struct {
		header []string
		sent   string
		why    string
	}{
		{[]string{"Authorization", "Bearer " + stolen.JWT}, "stolen Bearer " + w.JWT(stolen.JWT) + ", as the article's attacker",
			"The access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof."},
		{[]string{"Authorization", "DPoP " + stolen.JWT, dpop.Header, proof}, fmt.Sprintf("DPoP JWT %s + a proof by its own %s", FP(stolen.JWT), Key(thiefJKT)),
			"The DPoP proof is not signed by the key the token is bound to."},
		{[]string{"Authorization", own.RequestHeader.Get("Authorization"), dpop.Header, own.RequestHeader.Get(dpop.Header)}, fmt.Sprintf("DPoP JWT %s + Mobile's proof, replayed", FP(stolen.JWT)),
			"The DPoP proof was used before."},
	} {
		x, err := w.Attack(ctx, "20", "/api/cart", a.header...)
		if err != nil {
			return err
		}
		w.Msg("20", "Attacker", "Store", "GET /api/cart", a.sent)
		if _, err := w.LatchCallsAre("21"); err != nil {
			return err
		}
		if errorDescription(x.Body) != a.why {
			return w.Fail("21", "the Store answered the stolen JWT %d (%q), want 401 %q", x.Status, errorDescription(x.Body), a.why)
		}
		if err := w.refusedAttack("21", x, ""); err != nil {
			return err
		}
	}
	w.Say("21", "Store", "verifies each proof locally, no call to Identity: a JWT bound to a key is useless without it")
	x, err := w.Get(ctx, "21", w.Mobile, "/api/cart")
	if err != nil {
		return err
	}
	if err := w.sentWithProof("21", w.Mobile, x, t, false); err != nil {
		return err
	}
	if x.Status != http.StatusOK {
		return w.Fail("21", "the Store answered Mobile %d, want 200", x.Status)
	}
	w.Msg("21", "Mobile", "Store", "GET /api/cart", fmt.Sprintf("200 for DPoP JWT %s + a fresh proof: the app carries on", FP(t.AccessToken)))
	return nil
}

// sceneRevocationEvent is step 21 with a compromised device: the attacker
// has the key too, so the JWT works for it until the operator revokes the
// session; the event reaches the Store, which refuses the JWT before it
// expires, while the user's other device carries on.
func sceneRevocationEvent(ctx context.Context, w *Walk) error {
	hook, err := w.StoreWebhook(ctx)
	if err != nil {
		return w.Fail("21", "list Identity's webhooks: %v", err)
	}
	if hook == nil || !hook.EventsEnabled[api.EventJWTRefreshTokenRevoke] || !hook.SignatureConfiguration.Enabled {
		return w.Fail("21", "Identity holds no signed webhook for the Store's %s with %s", storefront.EventsPath, api.EventJWTRefreshTokenRevoke)
	}
	w.Say("21", "Identity", "holds the Store's webhook: %s for %s, signed (the Store registered it as it opened)",
		storefront.EventsPath, api.EventJWTRefreshTokenRevoke)
	tablet := w.NewApp("Tablet")
	if err := w.Login(ctx, tablet, false); err != nil {
		return err
	}
	stolen, err := w.Steal(ctx, "21", w.Mobile, true)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("21", stolen.JWT)
	if err != nil {
		return err
	}
	w.Say("20", "Attacker", "copies the JWT %s and the device key off a compromised Mobile", FP(stolen.JWT))
	x, err := w.attackWithKey(ctx, "20", stolen, stolen.JWT, "")
	if err != nil {
		return err
	}
	w.Msg("20", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof by the stolen key", w.JWT(stolen.JWT)))
	if _, err := w.LatchCallsAre("21"); err != nil {
		return err
	}
	if x.Status != http.StatusOK {
		return w.Fail("21", "the Store answered a valid JWT with a valid proof %d, want 200", x.Status)
	}
	w.Msg("21", "Store", "Attacker", "200", describeCart(x.Body)+": with the key, the attacker is the device")
	w.Advance(time.Minute, "the user notices, and reports Mobile stolen")

	if err := w.RevokeSession(ctx, sid); err != nil {
		return w.Fail("21", "revoke the session at Identity: %v", err)
	}
	w.Msg("21", "Operator", "Identity", "DELETE /api/jwt/refresh/{id}", fmt.Sprintf("%s (Mobile's), API key → 200", Session(sid)))
	if err := w.revocationReached(ctx, "21", sid, "revoked"); err != nil {
		return err
	}
	x, err = w.attackWithKey(ctx, "20", stolen, stolen.JWT, "")
	if err != nil {
		return err
	}
	w.Msg("20", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("DPoP %s + proof by the stolen key", w.JWT(stolen.JWT)))
	if _, err := w.LatchCallsAre("21"); err != nil {
		return err
	}
	if errorDescription(x.Body) != "The access token has been revoked." {
		return w.Fail("21", "the Store answered the revoked session's JWT %d (%s), want 401: revoked", x.Status, errorDescription(x.Body))
	}
	if err := w.refusedAttack("21", x, fmt.Sprintf(": %s before the JWT expires, no call to Identity", w.ttl(stolen.JWT))); err != nil {
		return err
	}
	tab, err := w.Tokens(ctx, "21", tablet)
	if err != nil {
		return err
	}
	x, err = w.Get(ctx, "21", tablet, "/api/cart")
	if err != nil {
		return err
	}
	if err := w.sentWithProof("21", tablet, x, tab, false); err != nil {
		return err
	}
	if _, err := w.LatchCallsAre("21"); err != nil {
		return err
	}
	if x.Status != http.StatusOK {
		return w.Fail("21", "the Store answered Tablet %d, want 200: its session was not revoked", x.Status)
	}
	w.Msg("21", "Tablet", "Store", "GET /api/cart", fmt.Sprintf("200 for DPoP JWT %s + proof: Tablet's session is another one", FP(tab.AccessToken)))
	if err := w.RevokedOut(ctx, "21", w.Mobile, "the session was revoked by the operator"); err != nil {
		return err
	}
	// The old device key is in the attacker's hands: the user starts over
	// on a new device.
	w.Mobile = w.NewApp("Mobile")
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	t, err := w.Tokens(ctx, "21", w.Mobile)
	if err != nil {
		return err
	}
	if t.DPoPThumbprint() == stolen.JKT {
		return w.Fail("21", "the new Mobile holds the stolen device key")
	}
	w.Say("21", "Mobile", "a new phone: a new device key, a new session; what the attacker holds is useless")
	return nil
}

// sessionOf returns a JWT's sid: the id of its session (refresh token).
func (w *Walk) sessionOf(step, jwt string) (string, error) {
	c, err := Claims(jwt)
	if err != nil || c.SessionID == "" {
		return "", w.Fail(step, "the JWT carries no sid (its session's id)")
	}
	return c.SessionID, nil
}

// calls lists exchanges as "METHOD /path status".
func calls(xs []Exchange) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%s %d", x.Call(), x.Status)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// errorCodes returns " [code], ..." for a FusionAuth error body, or "".
func errorCodes(body []byte) string {
	var errs api.Errors
	if json.Unmarshal(body, &errs) != nil || errs.Empty() {
		return ""
	}
	return " " + strings.TrimPrefix(errs.Error(), "api: ")
}
