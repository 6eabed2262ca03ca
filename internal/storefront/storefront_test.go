package storefront_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storefront"
)

// Steps 2-5: the app posts the credentials, the storefront relays them to
// Latch with its application id, and hands the user and both tokens back.
func TestLogin_OK(t *testing.T) {
	e := newEnv(t)
	email, id := e.newUser(t)
	res := e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword},
		header: map[string]string{"User-Agent": "ShopApp/3.2 (Android 15)"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var raw map[string]any
	res.decode(t, &raw)
	keys := slices.Sorted(maps.Keys(raw))
	if diff := cmp.Diff([]string{"refreshToken", "token", "tokenExpirationInstant", "user"}, keys); diff != "" {
		t.Errorf("login answer members (-want +got):\n%s", diff)
	}
	var lr api.LoginResponse
	res.decode(t, &lr)
	if lr.User.ID != id || lr.User.Email != email {
		t.Errorf("user = %s %s, want %s %s", lr.User.ID, lr.User.Email, id, email)
	}
	if want := e.clock.Now().Add(jwtTTL).UnixMilli(); lr.TokenExpirationInstant != want {
		t.Errorf("tokenExpirationInstant = %d, want %d", lr.TokenExpirationInstant, want)
	}
	if n := e.rt.N(loginCall); n != 1 {
		t.Errorf("%d logins at Latch, want 1", n)
	}

	// Latch recorded the end user's address and device with the session.
	var sessions api.RefreshTokensResponse
	e.admin(t, "GET", "/api/jwt/refresh?userId="+id, nil, &sessions)
	var found *api.RefreshToken
	for i, rt := range sessions.RefreshTokens {
		if rt.MetaData.Device.Description != "" {
			found = &sessions.RefreshTokens[i]
		}
	}
	if found == nil {
		t.Fatalf("no refresh token at Latch with the device: %+v", sessions.RefreshTokens)
	}
	dev := found.MetaData.Device
	if dev.Description != "ShopApp/3.2 (Android 15)" || dev.LastAccessedAddress != "127.0.0.1" {
		t.Errorf("device = %+v, want the User-Agent and 127.0.0.1", dev)
	}
	if found.ApplicationID != e.appID {
		t.Errorf("refresh token of application %q, want %q", found.ApplicationID, e.appID)
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLogin_Refused(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)

	// A user who exists but is not registered for the store's application.
	unregistered := "walker@example.org"
	e.admin(t, "POST", "/api/user", map[string]any{"user": map[string]any{"email": unregistered, "password": testPassword}}, nil)

	big := `{"loginId":"` + email + `","password":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name        string
		body        any
		contentType string
		status      int
		code        string
		latchCalls  int
	}{
		{"WrongPassword", storefront.LoginRequest{LoginID: email, Password: "not " + testPassword}, "", 401, storefront.CodeInvalidCredentials, 1},
		{"UnknownUser", storefront.LoginRequest{LoginID: "nobody@example.org", Password: testPassword}, "", 401, storefront.CodeInvalidCredentials, 1},
		{"NotRegistered", storefront.LoginRequest{LoginID: unregistered, Password: testPassword}, "", 403, storefront.CodeNotRegistered, 1},
		{"BlankLoginID", storefront.LoginRequest{LoginID: "  ", Password: testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
		{"BlankPassword", storefront.LoginRequest{LoginID: email}, "", 400, storefront.CodeInvalidRequest, 0},
		{"EmptyBody", "", "", 400, storefront.CodeInvalidRequest, 0},
		{"MalformedJSON", `{"loginId": "` + email + `", "password": "` + testPassword + `"`, "", 400, storefront.CodeInvalidRequest, 0},
		{"NotAnObject", `["` + testPassword + `"]`, "", 400, storefront.CodeInvalidRequest, 0},
		{"TrailingData", `{"loginId":"a","password":"b"} {}`, "", 400, storefront.CodeInvalidRequest, 0},
		{"WrongTypes", `{"loginId":1,"password":true}`, "", 400, storefront.CodeInvalidRequest, 0},
		{"TooLarge", big, "", 400, storefront.CodeInvalidRequest, 0},
		{"NotJSON", "loginId=" + email + "&password=" + testPassword, "application/x-www-form-urlencoded", 415, storefront.CodeUnsupportedMediaType, 0},
		// Control characters: Latch refuses a NUL, which must not read as
		// the storefront's misconfiguration (a 500 and an ERROR line).
		{"NULInLoginID", storefront.LoginRequest{LoginID: email + "\x00", Password: testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
		{"NULInPassword", storefront.LoginRequest{LoginID: email, Password: testPassword + "\x00"}, "", 400, storefront.CodeInvalidRequest, 0},
		{"EscapedNUL", `{"loginId":"a\u0000b","password":"` + testPassword + `"}`, "", 400, storefront.CodeInvalidRequest, 0},
		{"ControlInLoginID", storefront.LoginRequest{LoginID: "\x01" + email, Password: testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
		{"NewlineInLoginID", storefront.LoginRequest{LoginID: email + "\n", Password: testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
		{"TabInPassword", storefront.LoginRequest{LoginID: email, Password: "\t" + testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
		{"DELInPassword", storefront.LoginRequest{LoginID: email, Password: testPassword + "\x7f"}, "", 400, storefront.CodeInvalidRequest, 0},
		{"C1InLoginID", storefront.LoginRequest{LoginID: email + "\u0085", Password: testPassword}, "", 400, storefront.CodeInvalidRequest, 0},
	}
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("a refused login logged an error:\n%s", e.logs)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.rt.Reset()
			r := req{method: "POST", path: "/api/login", body: tt.body}
			if tt.contentType != "" {
				r.header = map[string]string{"Content-Type": tt.contentType}
			}
			res := e.do(t, r)
			wantError(t, res, tt.status, tt.code)
			if n := e.rt.N(loginCall); n != tt.latchCalls {
				t.Errorf("%d logins at Latch, want %d", n, tt.latchCalls)
			}
			if res.Header.Get("WWW-Authenticate") != "" {
				t.Errorf("a login refusal carries WWW-Authenticate, which the client SDK would take for the end of a session")
			}
			if strings.Contains(string(res.body), testPassword) {
				t.Errorf("the answer quotes the password: %s", res.body)
			}
		})
	}
}

// Latch's lockout passes through: five wrong passwords lock the login ID,
// and then the right password and a wrong one get the same 409, with a
// message and the lock's end.
func TestLogin_Lockout(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	wrong := storefront.LoginRequest{LoginID: email, Password: "wrong " + testPassword}
	for i := range 5 {
		res := e.do(t, req{method: "POST", path: "/api/login", body: wrong})
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401: %s", i+1, res.StatusCode, res.body)
		}
	}
	res := e.do(t, req{method: "POST", path: "/api/login", body: storefront.LoginRequest{LoginID: email, Password: testPassword}})
	body := wantError(t, res, http.StatusConflict, storefront.CodeLoginPrevented)
	until := e.clock.Now().Add(3 * time.Minute) // Latch's default lock
	if body.LockExpirationInstant != until.UnixMilli() {
		t.Errorf("lockExpirationInstant = %d, want %d", body.LockExpirationInstant, until.UnixMilli())
	}
	if !strings.Contains(body.Message, until.Format(time.RFC3339)) {
		t.Errorf("message %q does not say when the lock ends", body.Message)
	}
	if ra := res.Header.Get("Retry-After"); ra != "180" {
		t.Errorf("Retry-After %q, want 180", ra)
	}

	// A wrong password while locked gets the same answer: the lock tells
	// the guesser nothing about the password.
	again := e.do(t, req{method: "POST", path: "/api/login", body: wrong})
	if again.StatusCode != res.StatusCode || !bytes.Equal(again.body, res.body) || again.Header.Get("Retry-After") != res.Header.Get("Retry-After") {
		t.Errorf("wrong password while locked: %d %s (Retry-After %q), want what the right one got: %d %s (%q)",
			again.StatusCode, again.body, again.Header.Get("Retry-After"), res.StatusCode, res.body, res.Header.Get("Retry-After"))
	}

	// Once the lock has passed, the right password works.
	e.clock.Advance(4 * time.Minute)
	e.login(t, email)
}

// Steps 6-8: a valid JWT is checked locally; the storefront makes no call
// to Latch once it has Latch's keys and has caught up on revocations (once
// per process, for the first JWT issued about when it started).
func TestCart_ValidJWT(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	e.rt.Reset()

	c := e.cart(t, lr.Token)
	if diff := cmp.Diff(storefront.Cart{Items: []storefront.CartItem{}}, c); diff != "" {
		t.Errorf("empty cart (-want +got):\n%s", diff)
	}
	got := e.rt.Counts()
	delete(got, searchCall)
	if len(got) > 1 || (len(got) == 1 && got[jwksCall] != 1) || e.rt.N(searchCall) > 1 {
		t.Errorf("calls to Latch for the first cart: %v, want at most one JWKS fetch and one catch-up", e.rt.Counts())
	}
	e.rt.Reset()
	for range 3 {
		e.cart(t, lr.Token)
		e.add(t, lr.Token, "latch-mug", 1)
	}
	if got := e.rt.Counts(); len(got) != 0 {
		t.Errorf("calls to Latch with a valid JWT: %v, want none", got)
	}
	// The client SDK may send the refresh token with a JWT that is still
	// valid: guard does not refresh it.
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
	if res.StatusCode != http.StatusOK || res.Header.Get(api.HeaderAccessToken) != "" {
		t.Errorf("status %d, Access-Token %q: want 200 and no new JWT", res.StatusCode, res.Header.Get(api.HeaderAccessToken))
	}
	if n := e.rt.N(refreshCall); n != 0 {
		t.Errorf("%d refreshes of a valid JWT", n)
	}
}

func TestCart_Items(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	jwt := e.login(t, email).Token

	c := e.add(t, jwt, "latch-mug", 2)
	want := storefront.Cart{Items: []storefront.CartItem{{SKU: "latch-mug", Name: "Latch mug", Quantity: 2, PriceCents: 1200}}, TotalCents: 2400}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("after adding 2 mugs (-want +got):\n%s", diff)
	}
	e.add(t, jwt, "sticker-pack", 1)
	c = e.add(t, jwt, "latch-mug", 3) // adds to the line, which keeps its place
	want = storefront.Cart{Items: []storefront.CartItem{
		{SKU: "latch-mug", Name: "Latch mug", Quantity: 5, PriceCents: 1200},
		{SKU: "sticker-pack", Name: "Sticker pack", Quantity: 1, PriceCents: 400},
	}, TotalCents: 6400}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("after adding 3 more mugs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.cart(t, jwt)); diff != "" {
		t.Errorf("GET /api/cart (-want +got):\n%s", diff)
	}

	bad := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"UnknownSKU", storefront.AddItemRequest{SKU: "flux-capacitor", Quantity: 1}, 404, storefront.CodeNotFound},
		{"BlankSKU", storefront.AddItemRequest{Quantity: 1}, 400, storefront.CodeInvalidRequest},
		{"NoQuantity", `{"sku":"latch-cap"}`, 400, storefront.CodeInvalidRequest},
		{"ZeroQuantity", storefront.AddItemRequest{SKU: "latch-cap", Quantity: 0}, 400, storefront.CodeInvalidRequest},
		{"NegativeQuantity", storefront.AddItemRequest{SKU: "latch-cap", Quantity: -1}, 400, storefront.CodeInvalidRequest},
		{"QuantityOver99", storefront.AddItemRequest{SKU: "latch-cap", Quantity: 100}, 400, storefront.CodeInvalidRequest},
		{"FractionalQuantity", `{"sku":"latch-cap","quantity":1.5}`, 400, storefront.CodeInvalidRequest},
		{"StringQuantity", `{"sku":"latch-cap","quantity":"2"}`, 400, storefront.CodeInvalidRequest},
		{"MalformedJSON", `{"sku":"latch-cap",`, 400, storefront.CodeInvalidRequest},
		{"EmptyBody", "", 400, storefront.CodeInvalidRequest},
		{"LineOver99", storefront.AddItemRequest{SKU: "latch-mug", Quantity: 95}, 400, storefront.CodeQuantityLimit},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, req{method: "POST", path: "/api/cart/items", jwt: jwt, body: tt.body})
			wantError(t, res, tt.status, tt.code)
		})
	}
	if diff := cmp.Diff(want, e.cart(t, jwt)); diff != "" {
		t.Errorf("refused requests changed the cart (-want +got):\n%s", diff)
	}
	c = e.add(t, jwt, "latch-mug", 94) // 99: the most a line holds
	if c.Items[0].Quantity != storefront.MaxQuantity {
		t.Errorf("mugs = %d, want %d", c.Items[0].Quantity, storefront.MaxQuantity)
	}

	res := e.do(t, req{method: "DELETE", path: "/api/cart/items/latch-mug", jwt: jwt})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: status %d: %s", res.StatusCode, res.body)
	}
	res.decode(t, &c)
	want = storefront.Cart{Items: []storefront.CartItem{{SKU: "sticker-pack", Name: "Sticker pack", Quantity: 1, PriceCents: 400}}, TotalCents: 400}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("after removing the mugs (-want +got):\n%s", diff)
	}
	for _, sku := range []string{"latch-mug", "flux-capacitor", strings.Repeat("x", 200)} {
		res := e.do(t, req{method: "DELETE", path: "/api/cart/items/" + sku, jwt: jwt})
		wantError(t, res, http.StatusNotFound, storefront.CodeNotFound)
	}

	// Carts are per user.
	other, _ := e.newUser(t)
	if c := e.cart(t, e.login(t, other).Token); len(c.Items) != 0 {
		t.Errorf("another user's cart = %+v, want empty", c)
	}
}

// A request that is not authenticated never reaches a cart, let alone
// changes it.
func TestCart_Unauthenticated(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	want := e.add(t, lr.Token, "latch-cap", 1)

	// A JWT Latch issued for another application.
	var app api.ApplicationResponse
	e.admin(t, "POST", "/api/application", map[string]any{"application": map[string]any{"name": "Other shop"}}, &app)
	e.admin(t, "POST", "/api/user/registration/"+lr.User.ID, map[string]any{"registration": map[string]any{"applicationId": app.Application.ID}}, nil)
	var otherApp api.LoginResponse
	e.admin(t, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: testPassword, ApplicationID: app.Application.ID}, &otherApp)

	// The same JWT with its signature broken.
	forged := lr.Token[:len(lr.Token)-4] + "AAAA"
	if forged == lr.Token {
		forged = lr.Token[:len(lr.Token)-4] + "BBBB"
	}
	creds := map[string]req{
		"NoCredentials":    {},
		"GarbageJWT":       {jwt: "not-a-jwt"},
		"ForgedSignature":  {jwt: forged},
		"OtherApplication": {jwt: otherApp.Token},
		"RefreshTokenOnly": {refresh: "no-such-refresh-token"},
		"Basic":            {header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}},
	}
	for name, cred := range creds {
		t.Run(name, func(t *testing.T) {
			for _, r := range []req{
				{method: "GET", path: "/api/cart"},
				{method: "POST", path: "/api/cart/items", body: storefront.AddItemRequest{SKU: "latch-mug", Quantity: 1}},
				{method: "DELETE", path: "/api/cart/items/latch-cap"},
			} {
				r.jwt, r.refresh, r.header = cred.jwt, cred.refresh, cred.header
				wantLoginAgain(t, e.do(t, r))
			}
		})
	}
	if diff := cmp.Diff(want, e.cart(t, lr.Token)); diff != "" {
		t.Errorf("the cart changed (-want +got):\n%s", diff)
	}
}

// Steps 9-12: with the JWT expired, the storefront refreshes it at Latch
// and answers with the cart and the new JWT.
func TestCart_Refresh(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	want := e.add(t, lr.Token, "latch-hoodie", 1)

	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	var c storefront.Cart
	res.decode(t, &c)
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("cart (-want +got):\n%s", diff)
	}
	jwt := res.Header.Get(api.HeaderAccessToken)
	if jwt == "" || jwt == lr.Token {
		t.Fatalf("Access-Token %q, want a new JWT", jwt)
	}
	if rt := res.Header.Get(api.HeaderRefreshToken); rt != "" {
		t.Errorf("Refresh-Token %q under the Reusable policy, want none", rt)
	}
	if n := e.rt.N(refreshCall); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}

	// The new JWT works alone; the expired one alone does not.
	e.rt.Reset()
	e.add(t, jwt, "latch-hoodie", 1)
	if got := e.rt.Counts(); len(got) != 0 {
		t.Errorf("calls to Latch with the new JWT: %v", got)
	}
	wantLoginAgain(t, e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token}))
}

// Under OneTimeUse, the refresh rotates the refresh token and the
// storefront hands the new one back in Refresh-Token.
func TestCart_RefreshOneTimeUse(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)

	e.clock.Advance(afterExpiry)
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	jwt, rt := res.Header.Get(api.HeaderAccessToken), res.Header.Get(api.HeaderRefreshToken)
	if jwt == "" || rt == "" || rt == lr.RefreshToken {
		t.Fatalf("Access-Token %q, Refresh-Token %q: want a new JWT and a rotated refresh token", jwt, rt)
	}

	// The successor refreshes in turn.
	e.clock.Advance(afterExpiry)
	res = e.do(t, req{method: "POST", path: "/api/cart/items", jwt: jwt, refresh: rt, body: storefront.AddItemRequest{SKU: "latch-cap", Quantity: 2}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	if next := res.Header.Get(api.HeaderRefreshToken); next == "" || next == rt {
		t.Errorf("Refresh-Token %q, want another rotation", next)
	}
	if n := e.rt.N(refreshCall); n != 2 {
		t.Errorf("%d refreshes, want 2", n)
	}
}

// Steps 13-16: a revoked refresh token gets 401, and the cart stays as
// it was.
func TestCart_RefreshRevoked(t *testing.T) {
	e := newEnv(t)
	email, id := e.newUser(t)
	lr := e.login(t, email)
	want := e.add(t, lr.Token, "jwt-handbook", 1)

	e.revokeAll(t, id)
	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	wantLoginAgain(t, e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken}))
	wantLoginAgain(t, e.do(t, req{method: "POST", path: "/api/cart/items", jwt: lr.Token, refresh: lr.RefreshToken,
		body: storefront.AddItemRequest{SKU: "latch-mug", Quantity: 1}}))
	wantLoginAgain(t, e.do(t, req{method: "DELETE", path: "/api/cart/items/jwt-handbook", jwt: lr.Token, refresh: lr.RefreshToken}))
	if n := e.rt.N(refreshCall); n < 1 {
		t.Errorf("no refresh attempted")
	}

	// Step 17: the user logs in again and finds the cart unchanged.
	if diff := cmp.Diff(want, e.cart(t, e.login(t, email).Token)); diff != "" {
		t.Errorf("the cart changed (-want +got):\n%s", diff)
	}
}

// Eight requests with the same expired JWT and refresh token make one
// refresh at Latch, and all are served.
func TestCart_ConcurrentRefresh(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t) // the hard case: a second refresh would be a reuse
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	e.add(t, lr.Token, "latch-mug", 1)
	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	e.rt.SetRefreshDelay(100 * time.Millisecond)

	const n = 8
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Go(func() {
			results[i] = e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
		})
	}
	wg.Wait()
	jwt, rt := results[0].Header.Get(api.HeaderAccessToken), results[0].Header.Get(api.HeaderRefreshToken)
	for i, res := range results {
		if res.StatusCode != http.StatusOK {
			t.Errorf("request %d: status %d: %s", i, res.StatusCode, res.body)
			continue
		}
		var c storefront.Cart
		res.decode(t, &c)
		if len(c.Items) != 1 {
			t.Errorf("request %d: cart %+v", i, c)
		}
		if res.Header.Get(api.HeaderAccessToken) != jwt || res.Header.Get(api.HeaderRefreshToken) != rt {
			t.Errorf("request %d got other tokens than request 0", i)
		}
	}
	if jwt == "" || rt == "" {
		t.Errorf("Access-Token %q, Refresh-Token %q: want both", jwt, rt)
	}
	if got := e.rt.N(refreshCall); got != 1 {
		t.Errorf("%d refreshes at Latch, want exactly 1", got)
	}
}

// refused reports whether Latch refuses the refresh token, as the
// storefront sees it: a request with an expired JWT and the token. The
// clock moves past guard's reuse window first.
func (e *env) refused(t *testing.T, jwt, refreshToken string) bool {
	t.Helper()
	e.clock.Advance(afterExpiry)
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: jwt, refresh: refreshToken})
	switch res.StatusCode {
	case http.StatusOK:
		return false
	case http.StatusUnauthorized:
		return true
	}
	t.Fatalf("status %d: %s", res.StatusCode, res.body)
	return false
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	phone, tablet := e.login(t, email), e.login(t, email)

	e.rt.Reset()
	res := e.do(t, req{method: "POST", path: "/api/logout", jwt: phone.Token, refresh: phone.RefreshToken, body: storefront.LogoutRequest{}})
	if res.StatusCode != http.StatusOK || string(res.body) != "{}\n" {
		t.Fatalf("logout: status %d, body %q: want 200 {}", res.StatusCode, res.body)
	}
	if n := e.rt.N(logoutCall); n != 1 {
		t.Errorf("%d logouts at Latch, want 1", n)
	}
	if !e.refused(t, phone.Token, phone.RefreshToken) {
		t.Errorf("the logged-out refresh token still refreshes")
	}
	if e.refused(t, tablet.Token, tablet.RefreshToken) {
		t.Errorf("logout without global ended another session")
	}
}

func TestLogout_Global(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	phone, tablet := e.login(t, email), e.login(t, email)

	res := e.do(t, req{method: "POST", path: "/api/logout", jwt: phone.Token, refresh: phone.RefreshToken, body: storefront.LogoutRequest{Global: true}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("logout: status %d: %s", res.StatusCode, res.body)
	}
	if !e.refused(t, phone.Token, phone.RefreshToken) || !e.refused(t, tablet.Token, tablet.RefreshToken) {
		t.Errorf("a refresh token survived the global logout")
	}
}

// Logout with an expired JWT: guard refreshes first (rotating the
// one-time-use refresh token), and the current token is revoked.
func TestLogout_ExpiredJWT(t *testing.T) {
	e := newEnv(t)
	e.oneTimeUse(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	e.clock.Advance(afterExpiry)
	e.rt.Reset()
	res := e.do(t, req{method: "POST", path: "/api/logout", jwt: lr.Token, refresh: lr.RefreshToken, body: storefront.LogoutRequest{}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("logout: status %d: %s", res.StatusCode, res.body)
	}
	for _, h := range []string{api.HeaderAccessToken, api.HeaderRefreshToken} {
		if res.Header.Get(h) != "" {
			t.Errorf("the logout answer hands out %s", h)
		}
	}
	if got := e.rt.Counts(); got[refreshCall] != 1 || got[logoutCall] != 1 {
		t.Errorf("calls to Latch %v, want one refresh and one logout", got)
	}
	if !e.refused(t, lr.Token, lr.RefreshToken) {
		t.Errorf("the session survived the logout")
	}
}

// Logout without a valid JWT still gives the refresh token up, from the
// header or the body.
func TestLogout_RefreshTokenOnly(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	for name, mk := range map[string]func(api.LoginResponse) req{
		"Header": func(lr api.LoginResponse) req { return req{refresh: lr.RefreshToken} },
		"Body": func(lr api.LoginResponse) req {
			return req{body: storefront.LogoutRequest{RefreshToken: lr.RefreshToken}}
		},
		"GarbageJWT":      func(lr api.LoginResponse) req { return req{jwt: "garbage", refresh: lr.RefreshToken} },
		"RevokedAlready":  func(lr api.LoginResponse) req { return req{jwt: "garbage", refresh: "no-such-token"} },
		"NoCredentials":   func(api.LoginResponse) req { return req{} },
		"EmptyJSONObject": func(api.LoginResponse) req { return req{body: map[string]any{}} },
	} {
		t.Run(name, func(t *testing.T) {
			lr := e.login(t, email)
			r := mk(lr)
			r.method, r.path = "POST", "/api/logout"
			res := e.do(t, r)
			if res.StatusCode != http.StatusOK || string(res.body) != "{}\n" {
				t.Fatalf("status %d, body %q: want 200 {}", res.StatusCode, res.body)
			}
			revoked := r.refresh == lr.RefreshToken || (r.body != nil && strings.Contains(string(mustJSON(t, r.body)), lr.RefreshToken))
			if got := e.refused(t, lr.Token, lr.RefreshToken); got != revoked {
				t.Errorf("refresh token refused = %v, want %v", got, revoked)
			}
		})
	}
}

// Logout with a valid JWT and no refresh token revokes through the API
// key: the JWT's session, or with global every session of the user.
func TestLogout_JWTOnly(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	phone, tablet := e.login(t, email), e.login(t, email)
	res := e.do(t, req{method: "POST", path: "/api/logout", jwt: phone.Token, body: storefront.LogoutRequest{}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	if !e.refused(t, phone.Token, phone.RefreshToken) {
		t.Errorf("the JWT's session survived")
	}
	if e.refused(t, tablet.Token, tablet.RefreshToken) {
		t.Errorf("another session ended")
	}

	laptop := e.login(t, email)
	res = e.do(t, req{method: "POST", path: "/api/logout", jwt: laptop.Token, body: storefront.LogoutRequest{Global: true}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	if !e.refused(t, tablet.Token, tablet.RefreshToken) {
		t.Errorf("a session survived the global logout")
	}
}

func TestLogout_BadRequest(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	res := e.do(t, req{method: "POST", path: "/api/logout", jwt: lr.Token, refresh: lr.RefreshToken, body: `{"global":`})
	wantError(t, res, http.StatusBadRequest, storefront.CodeInvalidRequest)
	if e.refused(t, lr.Token, lr.RefreshToken) {
		t.Errorf("a refused logout revoked the session")
	}
}

func TestProducts(t *testing.T) {
	e := newEnv(t)
	res := e.do(t, req{method: "GET", path: "/api/products"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	var ps storefront.ProductsResponse
	res.decode(t, &ps)
	if len(ps.Products) < 5 {
		t.Fatalf("%d products, want a handful", len(ps.Products))
	}
	if diff := cmp.Diff(storefront.Product{SKU: "latch-mug", Name: "Latch mug", PriceCents: 1200}, ps.Products[0]); diff != "" {
		t.Errorf("first product (-want +got):\n%s", diff)
	}
	for _, p := range ps.Products {
		if p.SKU == "" || p.Name == "" || p.PriceCents <= 0 {
			t.Errorf("product %+v lacks a field", p)
		}
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do(t, req{method: "GET", path: "/nowhere"}), http.StatusNotFound, storefront.CodeNotFound)
	res := e.do(t, req{method: "PUT", path: "/api/cart"})
	wantError(t, res, http.StatusMethodNotAllowed, storefront.CodeMethodNotAllowed)
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q, want GET", allow)
	}
	wantError(t, e.do(t, req{method: "GET", path: "/api/login"}), http.StatusMethodNotAllowed, storefront.CodeMethodNotAllowed)
}

// guard serves a refresh it made in the last few seconds (its
// ReuseWindow) again to requests that present the same refresh token; the
// logout has guard forget the refresh token it revokes, so that no JWT
// comes out of that cache for it.
func TestLogout_ReuseWindow(t *testing.T) {
	e := newEnv(t)
	email, _ := e.newUser(t)
	lr := e.login(t, email)
	e.clock.Advance(afterExpiry)
	res := e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken})
	if res.StatusCode != http.StatusOK || res.Header.Get(api.HeaderAccessToken) == "" {
		t.Fatalf("refresh: status %d: %s", res.StatusCode, res.body)
	}
	res = e.do(t, req{method: "POST", path: "/api/logout", jwt: lr.Token, refresh: lr.RefreshToken, body: storefront.LogoutRequest{}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("logout: status %d: %s", res.StatusCode, res.body)
	}
	e.clock.Advance(time.Second) // within guard's reuse window
	wantLoginAgain(t, e.do(t, req{method: "GET", path: "/api/cart", jwt: lr.Token, refresh: lr.RefreshToken}))
	wantLoginAgain(t, e.do(t, req{method: "POST", path: "/api/cart/items", jwt: lr.Token, refresh: lr.RefreshToken,
		body: storefront.AddItemRequest{SKU: "latch-mug", Quantity: 1}}))
}
