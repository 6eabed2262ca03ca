package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/storefront"
)

// Scenes returns the walk through the article, in order: its steps 1-17,
// then its two attack vectors (18-19, 20-21) with Latch's answers to them
// as far as the storefront and the client implement them today (rotation
// with reuse detection, in both orders; "log out everywhere"; short JWT
// lifetimes).
//
// This table is the demo's extension point. Latch's further answers join
// it as scenes of their own, each a function on *Walk that prints its
// messages with Msg and Say and fails with Fail: DPoP-bound tokens (a
// stolen refresh token or JWT is useless without the device key: steps
// 18-21 again with a client holding a DPoP key), and revocation events
// reaching the Store (a revoked session's JWT refused before it expires:
// step 21 again). Until then a caller may add scenes through
// Options.Extra.
func Scenes() []Scene {
	return []Scene{
		{Title: "Initialize", Steps: "1", Run: sceneInitialize},
		{Title: "Login", Steps: "2-5", Run: sceneLogin},
		{Title: "Load the shopping cart, JWT still valid", Steps: "6-8", Run: sceneCart},
		{Title: "Refresh: JWT expired, refresh token valid", Steps: "9-12", Run: sceneRefresh},
		{Title: "Re-login: refresh token expired", Steps: "13-17", Run: sceneRelogin},
		{Title: "Attack vector: stolen refresh token, replayed after the app rotated it", Steps: "18-19", Run: sceneStolenRefreshAfterApp},
		{Title: "Attack vector: stolen refresh token, replayed before the app", Steps: "18-19", Run: sceneStolenRefreshBeforeApp},
		{Title: "Latch's answer to 19: log out everywhere", Steps: "19", Run: sceneLogoutEverywhere},
		{Title: "Attack vector: stolen JWT", Steps: "20-21", Run: sceneStolenJWT},
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
// steps 2-5 and printing them one by one (full) or on one line.
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
	msg(s2, app.Name, "Store", "POST /api/login", fmt.Sprintf("{loginId: %s, password: (never shown)}", w.Email))
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
	}
	msg(s3, "Store", "Identity", "POST /api/login", "the same credentials + applicationId + API key")
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
	}
	msg(s4, "Identity", "Store", "200", fmt.Sprintf("user %s (role %s), JWT, refresh token", issued.User.Email, Role))
	if loginErr != nil || mx[0].Status != http.StatusOK {
		return w.Fail(s5, "the Store answered %d (%v), want 200", mx[0].Status, loginErr)
	}
	var got api.LoginResponse
	if err := json.Unmarshal(mx[0].Body, &got); err != nil || got.Token != issued.Token || got.RefreshToken != issued.RefreshToken ||
		got.User == nil || got.User.Email != w.Email {
		return w.Fail(s5, "the Store did not hand Identity's user and tokens on")
	}
	msg(s5, "Store", app.Name, "200", fmt.Sprintf("user, %s, %s", w.JWT(got.Token), RT(got.RefreshToken)))
	t, err := w.Tokens(ctx, s5, app)
	if err != nil {
		return err
	}
	if t.AccessToken != issued.Token || t.RefreshToken != issued.RefreshToken {
		return w.Fail(s5, "%s stored other tokens than it was given", app.Name)
	}
	w.User = user
	if full {
		w.Say(s5, app.Name, "keeps both tokens in the device's secure storage")
	} else {
		w.Msg(s2, app.Name, "Store", "POST /api/login", fmt.Sprintf("200 through Identity: %s, %s", w.JWT(t.AccessToken), RT(t.RefreshToken)))
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
	if x.RequestHeader.Get("Authorization") != "Bearer "+t.AccessToken || x.RequestHeader.Get(api.HeaderRefreshToken) != "" {
		return w.Fail("6", "Mobile did not send its JWT alone (no refresh token needed while it is fresh)")
	}
	w.Msg("6", "Mobile", "Store", "GET /api/cart", "Bearer "+w.JWT(t.AccessToken)+"; no refresh token needed yet")
	// The first JWT the Store sees makes it fetch Identity's keys, once.
	xs := w.LatchCalls.Take()
	switch {
	case len(xs) == 0:
	case len(xs) == 1 && xs[0].Call() == "GET /.well-known/jwks.json" && xs[0].Status == http.StatusOK:
		w.Msg("7", "Store", "Identity", "GET /.well-known/jwks.json", "200: Identity's public keys, fetched for the first JWT, then cached")
	default:
		return w.Fail("7", "the Store's calls to Identity were %s, want at most the key set", calls(xs))
	}
	w.Say("7", "Store", "verifies the JWT locally: %s signature, exp, iss, aud → the user %s", jwtAlg(t.AccessToken), w.Email)
	if x.Status != http.StatusOK {
		return w.Fail("8", "the Store answered %d (%s), want 200", x.Status, errorDescription(x.Body))
	}
	w.Msg("8", "Store", "Mobile", "200", describeCart(x.Body))

	// Again, now that the keys are cached: no call to Identity at all.
	x, err = w.send(ctx, "6", w.Mobile, http.MethodPost, "/api/cart/items", storefront.AddItemRequest{SKU: "latch-mug", Quantity: 2})
	if err != nil {
		return err
	}
	w.Msg("6", "Mobile", "Store", "POST /api/cart/items", "{sku: latch-mug, quantity: 2}, Bearer "+w.JWT(t.AccessToken))
	if _, err := w.LatchCallsAre("7"); err != nil {
		return err
	}
	w.Say("7", "Store", "verifies the JWT locally: no call to Identity")
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
// the Store refreshes it through Identity (steps 9-12), printing the
// messages one by one (full) or on one line. It returns the new tokens.
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
	oldJWT := w.JWT(before.AccessToken)
	x, err := w.Get(ctx, s9, app, "/api/cart")
	if err != nil {
		return before, err
	}
	if x.RequestHeader.Get("Authorization") != "Bearer "+before.AccessToken || x.RequestHeader.Get(api.HeaderRefreshToken) != before.RefreshToken {
		return before, w.Fail(s9, "%s did not send its expired JWT with its refresh token", app.Name)
	}
	msg(s9, app.Name, "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s", oldJWT, FP(before.RefreshToken)))
	lx, err := w.LatchCallsAre(s10, "POST /api/jwt/refresh")
	if err != nil {
		return before, err
	}
	var presented api.RefreshRequest
	if json.Unmarshal(lx[0].RequestBody, &presented) != nil || presented.RefreshToken != before.RefreshToken {
		return before, w.Fail(s10, "the Store presented another refresh token than %s's", app.Name)
	}
	msg(s10, "Store", "Identity", "POST /api/jwt/refresh", RT(before.RefreshToken))
	if lx[0].Status != http.StatusOK {
		return before, w.Fail(s11, "Identity answered %d%s, want 200", lx[0].Status, errorCodes(lx[0].Body))
	}
	var res api.JWTRefreshResponse
	switch {
	case json.Unmarshal(lx[0].Body, &res) != nil || res.Token == "" || res.Token == before.AccessToken:
		return before, w.Fail(s11, "Identity's answer carries no new JWT")
	case res.RefreshToken == "" || res.RefreshToken == before.RefreshToken:
		return before, w.Fail(s11, "Identity did not rotate the one-time-use refresh token")
	}
	msg(s11, "Identity", "Store", "200", fmt.Sprintf("new %s; refresh token rotated → %s (one-time use)", w.JWT(res.Token), FP(res.RefreshToken)))
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
		w.Msg(s9, app.Name, "Store", "GET /api/cart", fmt.Sprintf("200, refreshed through Identity: %s, %s → %s",
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
	if x.RequestHeader.Get("Authorization") != "Bearer "+before.AccessToken || x.RequestHeader.Get(api.HeaderRefreshToken) != before.RefreshToken {
		return w.Fail(steps[0], "%s did not send its expired JWT with its refresh token", app.Name)
	}
	w.Msg(steps[0], app.Name, "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s", oldJWT, FP(before.RefreshToken)))
	lx, err := w.LatchCallsAre(steps[1], "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	var presented api.RefreshRequest
	if json.Unmarshal(lx[0].RequestBody, &presented) != nil || presented.RefreshToken != before.RefreshToken {
		return w.Fail(steps[1], "the Store presented another refresh token than %s's", app.Name)
	}
	w.Msg(steps[1], "Store", "Identity", "POST /api/jwt/refresh", RT(before.RefreshToken))
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail(steps[2], "Identity answered %d, want 400: %s", lx[0].Status, why)
	}
	w.Msg(steps[2], "Identity", "Store", "400"+errorCodes(lx[0].Body), why)
	switch {
	case x.Status != http.StatusUnauthorized:
		return w.Fail(steps[3], "the Store answered %d (%s), want 401", x.Status, errorDescription(x.Body))
	case !strings.Contains(x.Header.Get("WWW-Authenticate"), `error="invalid_token"`):
		return w.Fail(steps[3], "the Store's 401 carries no WWW-Authenticate with error=\"invalid_token\"")
	case x.Header.Get(api.HeaderAccessToken) != "":
		return w.Fail(steps[3], "the Store's 401 carries an Access-Token")
	}
	w.Msg(steps[3], "Store", app.Name, "401", "WWW-Authenticate: "+challenge(x.Header))
	if n := app.LoginRequired(); n != calls+1 {
		return w.Fail(steps[3], "%s's OnLoginRequired ran %d times, want once", app.Name, n-calls)
	}
	if _, err := app.Client.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		return w.Fail(steps[3], "%s still holds tokens after the Store ended the session", app.Name)
	}
	return nil
}

// sceneRelogin is steps 13-17, then the login again.
func sceneRelogin(ctx context.Context, w *Walk) error {
	w.Advance(PastRefresh, "the refresh token, unused for %s, expired (its sliding window is %s)", human(PastRefresh), human(RefreshLifetime))
	if err := w.Refused(ctx, w.Mobile, [4]string{"13", "14", "15", "16"},
		"the refresh token expired (the article's diagram draws FusionAuth's 2019 404)"); err != nil {
		return err
	}
	w.Say("17", "Mobile", "clears its tokens and shows the login form again")
	return w.Login(ctx, w.Mobile, false)
}

// sceneStolenRefreshAfterApp is steps 18-19 with the thief late: the app
// has rotated the refresh token, and the thief's copy comes back after the
// grace period.
func sceneStolenRefreshAfterApp(ctx context.Context, w *Walk) error {
	stolen, err := w.Tokens(ctx, "18", w.Mobile)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("18", stolen.AccessToken)
	if err != nil {
		return err
	}
	w.Say("18", "Attacker", "copies the refresh token %s (and the JWT) off the device", FP(stolen.RefreshToken))
	w.Advance(PastJWT, "the JWT expired")
	if _, err := w.Refreshed(ctx, w.Mobile, false); err != nil {
		return err
	}
	w.Advance(PastGrace, "past Identity's %s grace period and guard's %s reuse window", human(GracePeriod), human(guardReuseWindow))
	x, err := w.Attack(ctx, "18", "/api/cart", "Authorization", "Bearer "+stolen.AccessToken, api.HeaderRefreshToken, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s (stolen)", w.JWT(stolen.AccessToken), FP(stolen.RefreshToken)))
	lx, err := w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", RT(stolen.RefreshToken))
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail("19", "Identity answered %d to a refresh token rotated %s ago, want 400 (reuse)", lx[0].Status, human(PastGrace))
	}
	if live, err := w.SessionLive(ctx, "19", w.User.ID, sid); err != nil {
		return err
	} else if live {
		return w.Fail("19", "Identity refused the reused refresh token but left its session live, want the whole session revoked")
	}
	w.Msg("19", "Identity", "Store", "400"+errorCodes(lx[0].Body), fmt.Sprintf("%s was rotated %s ago: reuse! the whole session is revoked", FP(stolen.RefreshToken), human(PastGrace)))
	if x.Status != http.StatusUnauthorized || !strings.Contains(x.Header.Get("WWW-Authenticate"), `error="invalid_token"`) || x.Header.Get(api.HeaderAccessToken) != "" {
		return w.Fail("19", "the Store answered the attacker %d, want 401 with WWW-Authenticate and no token", x.Status)
	}
	w.Msg("19", "Store", "Attacker", "401", "WWW-Authenticate: "+challenge(x.Header)+": the attacker gets nothing")

	// The app's JWT lives on until it expires; its refresh token died with
	// the session.
	t, err := w.Tokens(ctx, "19", w.Mobile)
	if err != nil {
		return err
	}
	x, err = w.Get(ctx, "19", w.Mobile, "/api/cart")
	if err != nil {
		return err
	}
	if x.Status != http.StatusOK {
		return w.Fail("19", "the Store answered the app's valid JWT with %d, want 200", x.Status)
	}
	if _, err := w.LatchCallsAre("19"); err != nil {
		return err
	}
	w.Msg("19", "Mobile", "Store", "GET /api/cart", fmt.Sprintf("200 for Bearer %s: a JWT is good until it expires (revocation events: a later step)", w.JWT(t.AccessToken)))
	w.Advance(PastJWT, "the app's JWT expired")
	if err := w.Refused(ctx, w.Mobile, [4]string{"19", "19", "19", "19"}, "the session was revoked for reuse"); err != nil {
		return err
	}
	w.Say("19", "Mobile", "must log in again: the theft cost the user one login, and the attacker everything")
	return nil
}

// sceneStolenRefreshBeforeApp is steps 18-19 with the thief first: the
// article's attack succeeds once, and the app's own refresh then exposes it.
func sceneStolenRefreshBeforeApp(ctx context.Context, w *Walk) error {
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	stolen, err := w.Tokens(ctx, "18", w.Mobile)
	if err != nil {
		return err
	}
	sid, err := w.sessionOf("18", stolen.AccessToken)
	if err != nil {
		return err
	}
	w.Say("18", "Attacker", "copies the refresh token %s (and the JWT) off the device", FP(stolen.RefreshToken))
	w.Advance(PastJWT, "both copies of the JWT expired")
	x, err := w.Attack(ctx, "18", "/api/cart", "Authorization", "Bearer "+stolen.AccessToken, api.HeaderRefreshToken, stolen.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("18", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s (stolen)", w.JWT(stolen.AccessToken), FP(stolen.RefreshToken)))
	lx, err := w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", RT(stolen.RefreshToken))
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

	// The attacker's rotated refresh token died with the session.
	x, err = w.Attack(ctx, "19", "/api/cart", "Authorization", "Bearer "+stolen.AccessToken, api.HeaderRefreshToken, res.RefreshToken)
	if err != nil {
		return err
	}
	w.Msg("19", "Attacker", "Store", "GET /api/cart", fmt.Sprintf("Bearer %s + Refresh-Token %s", w.JWT(stolen.AccessToken), FP(res.RefreshToken)))
	lx, err = w.LatchCallsAre("19", "POST /api/jwt/refresh")
	if err != nil {
		return err
	}
	if lx[0].Status != http.StatusBadRequest {
		return w.Fail("19", "Identity answered %d to the attacker's rotated refresh token, want 400 (its session is revoked)", lx[0].Status)
	}
	w.Msg("19", "Store", "Identity", "POST /api/jwt/refresh", RT(res.RefreshToken)+" → 400"+errorCodes(lx[0].Body)+": its session is revoked")
	if x.Status != http.StatusUnauthorized {
		return w.Fail("19", "the Store answered the attacker %d, want 401", x.Status)
	}
	w.Msg("19", "Store", "Attacker", "401", fmt.Sprintf("WWW-Authenticate: %s; the JWT %s it got still works until it expires: steps 20-21",
		challenge(x.Header), FP(res.Token)))
	return nil
}

// sceneLogoutEverywhere is Latch's "log out everywhere": one device ends
// every session of the user.
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
	w.Msg("19", "Mobile", "Store", "POST /api/logout", fmt.Sprintf("{global: true} + Bearer JWT %s + Refresh-Token %s", FP(mobile.AccessToken), FP(mobile.RefreshToken)))
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
	w.Advance(PastJWT, "Tablet's JWT expired")
	return w.Refused(ctx, tablet, [4]string{"19", "19", "19", "19"}, "the session was revoked by log out everywhere")
}

// sceneStolenJWT is steps 20-21: a stolen JWT works until it expires, and
// no longer; the app, which holds the refresh token, carries on.
func sceneStolenJWT(ctx context.Context, w *Walk) error {
	if err := w.Login(ctx, w.Mobile, false); err != nil {
		return err
	}
	stolen, err := w.Tokens(ctx, "20", w.Mobile)
	if err != nil {
		return err
	}
	w.Say("20", "Attacker", "copies the JWT %s off the device (not the refresh token)", FP(stolen.AccessToken))
	x, err := w.Attack(ctx, "20", "/api/cart", "Authorization", "Bearer "+stolen.AccessToken)
	if err != nil {
		return err
	}
	w.Msg("20", "Attacker", "Store", "GET /api/cart", "stolen Bearer "+w.JWT(stolen.AccessToken))
	if _, err := w.LatchCallsAre("21"); err != nil {
		return err
	}
	if x.Status != http.StatusOK {
		return w.Fail("21", "the Store answered a valid stolen JWT with %d; the article says it serves it until it expires", x.Status)
	}
	w.Say("21", "Store", "verifies the JWT locally: valid, so it cannot tell the attacker from the app")
	w.Msg("21", "Store", "Attacker", "200", describeCart(x.Body)+" of "+w.Email)
	w.Advance(PastJWT, "the stolen JWT expired")
	x, err = w.Attack(ctx, "20", "/api/cart", "Authorization", "Bearer "+stolen.AccessToken)
	if err != nil {
		return err
	}
	w.Msg("20", "Attacker", "Store", "GET /api/cart", "stolen Bearer "+w.JWT(stolen.AccessToken))
	if _, err := w.LatchCallsAre("21"); err != nil {
		return err
	}
	if x.Status != http.StatusUnauthorized || !strings.Contains(x.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		return w.Fail("21", "the Store answered an expired stolen JWT with %d, want 401 with WWW-Authenticate", x.Status)
	}
	w.Msg("21", "Store", "Attacker", "401", fmt.Sprintf("WWW-Authenticate: %s (%q): the JWT's %s lifetime bounds the damage",
		challenge(x.Header), errorDescription(x.Body), human(JWTLifetime)))
	_, err = w.Refreshed(ctx, w.Mobile, false)
	if err != nil {
		return err
	}
	w.Say("21", "Mobile", "carries on: it holds the refresh token, which the attacker does not")
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
