package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/demo"
)

// A JWT typed JWT rather than at+jwt, as Latch typed access tokens before
// it told them from ID tokens, is refused by the storefront's guard; the
// app's client SDK recovers on its own: it sends the request again with
// the refresh token, guard refreshes, and the app goes on with an at+jwt
// access token, bound to its DPoP key as before. The user sees nothing.
func TestUntypedJWTRefreshed(t *testing.T) {
	ctx := testContext(t)
	env := startEnv(t, demo.Options{})
	d := newDevice(env, "Mobile", nil)
	tok := d.login(t, ctx)
	if !tok.DPoPBound() {
		t.Fatal("the demo's app holds an unbound session; this test wants a bound one")
	}

	// The same claims, signed by the same key, typed JWT.
	parts := strings.Split(tok.AccessToken, ".")
	var header struct {
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil || header.Typ != "at+jwt" {
		t.Fatalf("access token header %s (%v), want typ at+jwt", hb, err)
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var keys api.KeyResponse
	admin(t, ctx, env, "GET", "/api/key", nil, &keys)
	keyID := ""
	for _, k := range keys.Keys {
		if k.Kid == header.Kid {
			keyID = k.ID
		}
	}
	old, err := env.Latch.Identity().SignWithKey(ctx, keyID, json.RawMessage(claims))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	oldTok := tok
	oldTok.AccessToken = old
	if err := d.store.Save(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	// A device whose SDK starts from the store: the app after an upgrade.
	restarted := newDevice(env, "Mobile, restarted", nil)
	restarted.store = d.store
	restarted.client.Store = d.store
	if got := restarted.tokens(t, ctx); got.AccessToken != old {
		t.Fatal("the restarted app does not hold the untyped JWT")
	}

	env.LatchCalls.Take()
	restarted.mustGet(t, ctx, env, "/api/cart", http.StatusOK, "the SDK retries with the refresh token and guard refreshes")
	wantLatchCalls(t, env, "upgrade", "POST /api/jwt/refresh 200")
	now := restarted.tokens(t, ctx)
	if now.AccessToken == old || now.RefreshToken == "" || !now.DPoPBound() {
		t.Fatal("the app kept the untyped JWT, lost its refresh token, or its binding")
	}
	if h, _ := base64.RawURLEncoding.DecodeString(strings.Split(now.AccessToken, ".")[0]); !strings.Contains(string(h), `"typ":"at+jwt"`) {
		t.Errorf("new access token header %s", h)
	}
	if restarted.loginRequired.Load() != 0 {
		t.Error("the user was asked to log in again")
	}
}
