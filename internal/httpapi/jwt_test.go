package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
)

func TestValidate_OK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)

	var res struct {
		JWT map[string]any `json:"jwt"`
	}
	e.validate(t, login.Token).wantJSON(t, 200, &res)
	if res.JWT["sub"] != userID || res.JWT["applicationId"] != e.appID || res.JWT["sid"] != login.RefreshTokenID {
		t.Errorf("validate claims = %v", res.JWT)
	}
	// Instants are seconds, integers (the Go client decodes them as int64).
	var raw struct {
		JWT struct {
			Exp int64 `json:"exp"`
			Iat int64 `json:"iat"`
		} `json:"jwt"`
	}
	r := e.validate(t, login.Token)
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.JWT.Iat != e.clock.Now().Unix() || raw.JWT.Exp != e.clock.Now().Unix()+900 {
		t.Errorf("iat/exp = %d/%d", raw.JWT.Iat, raw.JWT.Exp)
	}

	// The older JWT scheme and the access_token cookie work too.
	e.do(t, "GET", "/api/jwt/validate", withHeader("Authorization", "JWT "+login.Token)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/jwt/validate", withCookie("access_token", login.Token)).wantJSON(t, 200, nil)

	// Revoking the refresh token does not invalidate an issued JWT.
	e.do(t, "DELETE", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantEmpty(t, 200)
	e.validate(t, login.Token).wantJSON(t, 200, nil)
}

func TestValidate_Invalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	parts := strings.Split(login.Token, ".")
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := headerOf(t, login.Token)
	claims := claimsOf(t, login.Token)

	tampered := map[string]any{}
	for k, v := range claims {
		tampered[k] = v
	}
	tampered["roles"] = []string{"admin"}
	noneHeader := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
	unknownKid := map[string]any{"alg": header["alg"], "typ": "at+jwt", "kid": "no-such-kid"}
	hsHeader := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}

	for _, tc := range []struct {
		name string
		opt  reqOpt
	}{
		{"missing header", nil},
		{"empty bearer", withHeader("Authorization", "Bearer ")},
		{"garbage", withBearer("garbage")},
		{"three garbage parts", withBearer("a.b.c")},
		{"tampered payload", withBearer(parts[0] + "." + enc(tampered) + "." + parts[2])},
		{"alg none", withBearer(enc(noneHeader) + "." + parts[1] + ".")},
		{"alg none with signature", withBearer(enc(noneHeader) + "." + parts[1] + "." + parts[2])},
		{"alg confusion HS256", withBearer(enc(hsHeader) + "." + parts[1] + "." + parts[2])},
		{"unknown kid", withBearer(enc(unknownKid) + "." + parts[1] + "." + parts[2])},
		{"truncated signature", withBearer(parts[0] + "." + parts[1] + "." + parts[2][:10])},
		{"API key instead", withKey(e.key)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			e.do(t, "GET", "/api/jwt/validate", opts...).wantEmpty(t, 401)
		})
	}

	// Expired: past exp by the clock.
	e.validate(t, login.Token).wantJSON(t, 200, nil)
	e.clock.Advance(900 * time.Second)
	e.validate(t, login.Token).wantEmpty(t, 401)
}

func TestRetrieveRefreshTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)

	var list api.RefreshTokensResponse
	r := e.do(t, "GET", "/api/jwt/refresh?userId="+userID, withKey(e.key))
	r.wantJSON(t, 200, &list)
	if len(list.RefreshTokens) != 2 { // the registration's and the login's
		t.Fatalf("refresh tokens = %s, want 2", r.Body)
	}
	found := false
	for _, rt := range list.RefreshTokens {
		if rt.UserID != userID || rt.ApplicationID != e.appID || rt.TenantID != e.tenantID || rt.InsertInstant == 0 || rt.StartInstant == 0 {
			t.Errorf("refresh token = %+v", rt)
		}
		found = found || rt.ID == login.RefreshTokenID
	}
	if !found {
		t.Errorf("the login's token %s is not listed", login.RefreshTokenID)
	}
	if strings.Contains(string(r.Body), login.RefreshToken) || strings.Contains(string(r.Body), `"token"`) {
		t.Errorf("a refresh token value is listed: %s", r.Body)
	}

	var one api.RefreshTokenResponse
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantJSON(t, 200, &one)
	if one.RefreshToken == nil || one.RefreshToken.ID != login.RefreshTokenID {
		t.Errorf("retrieve by id = %+v", one.RefreshToken)
	}

	// An unknown user has no tokens (never a 404).
	r = e.do(t, "GET", "/api/jwt/refresh?userId=00000000-0000-4000-8000-000000000000", withKey(e.key))
	r.wantJSON(t, 200, nil)
	if string(r.Body) != `{"refreshTokens":[]}` {
		t.Errorf("unknown user: %s", r.Body)
	}
	e.do(t, "GET", "/api/jwt/refresh", withKey(e.key)).wantErrors(t, "[blank]userId")
	e.do(t, "GET", "/api/jwt/refresh?userId=null", withKey(e.key)).wantErrors(t, "[blank]userId")
	e.do(t, "GET", "/api/jwt/refresh/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/jwt/refresh/not-a-uuid", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/jwt/refresh?userId="+userID).wantEmpty(t, 401)
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID).wantEmpty(t, 401)
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withBearer(login.Token)).wantEmpty(t, 401)

	// A revoked token is gone.
	e.do(t, "DELETE", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/jwt/refresh?userId="+userID, withKey(e.key)).wantJSON(t, 200, &list)
	if len(list.RefreshTokens) != 1 {
		t.Errorf("after the revocation %d tokens are listed, want 1", len(list.RefreshTokens))
	}
}

// revokeFixture is two users with sessions in two applications.
type revokeFixture struct {
	appA, appB              string
	ana, ben                string // user ids
	anaA, anaA2, anaB, benA api.LoginResponse
}

func newRevokeFixture(t *testing.T, e *env) revokeFixture {
	t.Helper()
	f := revokeFixture{appA: e.mustAppWithRoles(t), appB: e.mustAppWithRoles(t)}
	var anaEmail, benEmail string
	f.ana, anaEmail = e.mustUser(t, f.appA)
	e.mustRegister(t, f.ana, f.appB)
	f.ben, benEmail = e.mustUser(t, f.appA)
	f.anaA = e.mustLogin(t, anaEmail, f.appA)
	f.anaA2 = e.mustLogin(t, anaEmail, f.appA)
	f.anaB = e.mustLogin(t, anaEmail, f.appB)
	f.benA = e.mustLogin(t, benEmail, f.appA)
	return f
}

// alive reports which of the sessions still refresh.
func (e *env) alive(t *testing.T, sessions ...api.LoginResponse) []bool {
	t.Helper()
	out := make([]bool, len(sessions))
	for i, s := range sessions {
		r := e.refresh(t, s.RefreshToken)
		switch r.Status {
		case 200:
			out[i] = true
		case 400:
		default:
			t.Fatalf("refresh: %s", r)
		}
	}
	return out
}

func TestRevokeRefreshTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		req   func(f revokeFixture) (string, []reqOpt)
		alive [4]bool // anaA, anaA2, anaB, benA
	}{
		{"by token in the query", func(f revokeFixture) (string, []reqOpt) {
			return "?token=" + url.QueryEscape(f.anaA.RefreshToken), nil
		}, [4]bool{false, true, true, true}},
		{"by token with the TS client's null parameters", func(f revokeFixture) (string, []reqOpt) {
			return "?token=" + url.QueryEscape(f.anaA.RefreshToken) + "&userId=null&applicationId=null", nil
		}, [4]bool{false, true, true, true}},
		{"by token with the TS client's undefined parameters", func(f revokeFixture) (string, []reqOpt) {
			return "?token=" + url.QueryEscape(f.anaA.RefreshToken) + "&userId=undefined&applicationId=undefined", nil
		}, [4]bool{false, true, true, true}},
		{"by token with the Go client's empty parameters", func(f revokeFixture) (string, []reqOpt) {
			return "?token=" + url.QueryEscape(f.anaA.RefreshToken) + "&userId=&applicationId=", nil
		}, [4]bool{false, true, true, true}},
		{"by token in a form body", func(f revokeFixture) (string, []reqOpt) {
			return "", []reqOpt{withForm(url.Values{"token": {f.anaA.RefreshToken}})}
		}, [4]bool{false, true, true, true}},
		{"by id", func(f revokeFixture) (string, []reqOpt) {
			return "/" + f.anaA.RefreshTokenID, nil
		}, [4]bool{false, true, true, true}},
		{"by userId", func(f revokeFixture) (string, []reqOpt) {
			return "?userId=" + f.ana, nil
		}, [4]bool{false, false, false, true}},
		{"by applicationId", func(f revokeFixture) (string, []reqOpt) {
			return "?applicationId=" + f.appA, nil
		}, [4]bool{false, false, true, false}},
		{"by userId and applicationId", func(f revokeFixture) (string, []reqOpt) {
			return "?userId=" + f.ana + "&applicationId=" + f.appA, nil
		}, [4]bool{false, false, true, true}},
		{"by JSON body userId", func(f revokeFixture) (string, []reqOpt) {
			return "", []reqOpt{withJSON(map[string]any{"userId": f.ana})}
		}, [4]bool{false, false, false, true}},
		{"by JSON body token", func(f revokeFixture) (string, []reqOpt) {
			return "", []reqOpt{withJSON(map[string]any{"token": f.benA.RefreshToken})}
		}, [4]bool{true, true, true, false}},
		{"by JSON body userId and applicationId", func(f revokeFixture) (string, []reqOpt) {
			return "", []reqOpt{withJSON(map[string]any{"userId": f.ana, "applicationId": f.appB})}
		}, [4]bool{true, true, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRevokeFixture(t, e)
			suffix, opts := tc.req(f)
			e.do(t, "DELETE", "/api/jwt/refresh"+suffix, append(opts, withKey(e.key))...).wantEmpty(t, 200)
			got := e.alive(t, f.anaA, f.anaA2, f.anaB, f.benA)
			if [4]bool(got) != tc.alive {
				t.Errorf("alive (anaA, anaA2, anaB, benA) = %v, want %v", got, tc.alive)
			}
			// Again: nothing left to revoke.
			e.do(t, "DELETE", "/api/jwt/refresh"+suffix, append(opts, withKey(e.key))...).wantEmpty(t, 404)
		})
	}
}

func TestRevokeRefreshTokens_Refused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newRevokeFixture(t, e)

	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA.RefreshTokenID).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/jwt/refresh?userId="+f.ana).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA.RefreshTokenID, withKey("wrong-key-wrong-key-wrong-key-wrong-key")).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/jwt/refresh/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/jwt/refresh/not-a-uuid", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/jwt/refresh?token=unknown-token-value", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/jwt/refresh?userId=00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/jwt/refresh", withKey(e.key)).wantErrors(t, "[invalid]")
	e.do(t, "DELETE", "/api/jwt/refresh?token="+url.QueryEscape(f.anaA.RefreshToken)+"&userId="+f.ana, withKey(e.key)).wantErrors(t, "[invalid]")
	if got := e.alive(t, f.anaA, f.anaA2, f.anaB, f.benA); got[0] != true || got[1] != true || got[2] != true || got[3] != true {
		t.Errorf("refused revocations revoked something: %v", got)
	}

	// An expired token is nothing to revoke.
	e.clock.Advance(43200*time.Minute + time.Second)
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA.RefreshTokenID, withKey(e.key)).wantEmpty(t, 404)
}

func TestRevokeRefreshTokens_WithJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newRevokeFixture(t, e)

	// Ana may revoke her own token, by id or by value.
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA.RefreshTokenID, withBearer(f.anaA.Token)).wantEmpty(t, 200)
	e.do(t, "DELETE", "/api/jwt/refresh?token="+url.QueryEscape(f.anaB.RefreshToken), withBearer(f.anaA.Token)).wantEmpty(t, 200)
	// ...not Ben's, nor all of hers at once.
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.benA.RefreshTokenID, withBearer(f.anaA.Token)).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/jwt/refresh?token="+url.QueryEscape(f.benA.RefreshToken), withBearer(f.anaA.Token)).wantEmpty(t, 401)
	e.do(t, "DELETE", "/api/jwt/refresh?userId="+f.ana, withBearer(f.anaA.Token)).wantEmpty(t, 401)
	// With both, the API key wins: Ana's JWT in the cookie does not stop
	// the key revoking Ben's token.
	benB := e.mustLogin(t, mustEmail(t, e, f.ben), f.appA)
	e.do(t, "DELETE", "/api/jwt/refresh/"+benB.RefreshTokenID, withKey(e.key), withCookie("access_token", f.anaA.Token)).wantEmpty(t, 200)
	// A bad JWT is no credential.
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA2.RefreshTokenID, withBearer("garbage")).wantEmpty(t, 401)
	if got := e.alive(t, f.anaA, f.anaA2, f.anaB, f.benA); got != nil && (got[0] || !got[1] || got[2] || !got[3]) {
		t.Errorf("alive (anaA, anaA2, anaB, benA) = %v, want [false true false true]", got)
	}
	// An expired JWT is no credential either.
	e.clock.Advance(901 * time.Second)
	e.do(t, "DELETE", "/api/jwt/refresh/"+f.anaA2.RefreshTokenID, withBearer(f.anaA2.Token)).wantEmpty(t, 401)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)

	t.Run("TS client query form", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		e.do(t, "POST", "/api/logout?global=false&refreshToken="+url.QueryEscape(f.anaA.RefreshToken),
			withBody("text/plain", nil)).wantEmpty(t, 200)
		if got := e.alive(t, f.anaA, f.anaA2, f.anaB, f.benA); got[0] || !got[1] || !got[2] || !got[3] {
			t.Errorf("alive = %v, want only anaA revoked", got)
		}
	})
	t.Run("Go client query form without body", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		e.do(t, "POST", "/api/logout?global=false&refreshToken="+url.QueryEscape(f.anaA.RefreshToken)).wantEmpty(t, 200)
		e.do(t, "POST", "/api/logout?global=false&refreshToken=").wantEmpty(t, 200)
		if got := e.alive(t, f.anaA, f.anaA2); got[0] || !got[1] {
			t.Errorf("alive = %v", got)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		e.do(t, "POST", "/api/logout", withJSON(map[string]any{"global": false, "refreshToken": f.anaA.RefreshToken})).wantEmpty(t, 200)
		if got := e.alive(t, f.anaA, f.anaA2); got[0] || !got[1] {
			t.Errorf("alive = %v", got)
		}
	})
	t.Run("global JSON", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		e.do(t, "POST", "/api/logout", withJSON(map[string]any{"global": true, "refreshToken": f.anaA.RefreshToken})).wantEmpty(t, 200)
		if got := e.alive(t, f.anaA, f.anaA2, f.anaB, f.benA); got[0] || got[1] || got[2] || !got[3] {
			t.Errorf("alive = %v, want all of Ana's revoked and Ben's alive", got)
		}
	})
	t.Run("global query", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		e.do(t, "POST", "/api/logout?global=true&refreshToken="+url.QueryEscape(f.benA.RefreshToken), withBody("text/plain", nil)).wantEmpty(t, 200)
		if got := e.alive(t, f.anaA, f.benA); !got[0] || got[1] {
			t.Errorf("alive = %v", got)
		}
	})
	t.Run("cookie", func(t *testing.T) {
		t.Parallel()
		f := newRevokeFixture(t, e)
		r := e.do(t, "POST", "/api/logout", withCookie("refresh_token", f.anaA.RefreshToken), withCookie("access_token", f.anaA.Token))
		r.wantEmpty(t, 200)
		cleared := map[string]bool{}
		for _, c := range r.cookies() {
			if c.MaxAge < 0 && c.Value == "" {
				cleared[c.Name] = true
			}
		}
		if !cleared["refresh_token"] || !cleared["access_token"] {
			t.Errorf("logout did not clear the cookies: %v", r.Header.Values("Set-Cookie"))
		}
		if got := e.alive(t, f.anaA); got[0] {
			t.Error("the cookie's token survived")
		}
	})
	t.Run("unknown or absent token", func(t *testing.T) {
		t.Parallel()
		e.do(t, "POST", "/api/logout?global=true&refreshToken=unknown-token", withBody("text/plain", nil)).wantEmpty(t, 200)
		e.do(t, "POST", "/api/logout", withJSON(map[string]any{"refreshToken": "unknown-token"})).wantEmpty(t, 200)
		e.do(t, "POST", "/api/logout").wantEmpty(t, 200)
		e.do(t, "POST", "/api/logout?refreshToken=undefined&global=false").wantEmpty(t, 200)
	})
}

func TestPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, email := e.mustUser(t, e.appID)
	kid, _ := headerOf(t, e.mustLogin(t, email, e.appID).Token)["kid"].(string)

	var all api.PublicKeyResponse
	e.do(t, "GET", "/api/jwt/public-key").wantJSON(t, 200, &all)
	pem := all.PublicKeys[kid]
	if !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----\n") || !strings.HasSuffix(pem, "-----END PUBLIC KEY-----\n") {
		t.Fatalf("publicKeys[%s] = %q, want a PEM public key", kid, pem)
	}
	if all.PublicKey != "" {
		t.Errorf("publicKey set in the all-keys answer")
	}
	var one api.PublicKeyResponse
	e.do(t, "GET", "/api/jwt/public-key?kid="+url.QueryEscape(kid)).wantJSON(t, 200, &one)
	if one.PublicKey != pem || one.PublicKeys != nil {
		t.Errorf("?kid=: %+v, want the one PEM", one)
	}
	// By application: only a key configured on the application itself
	// (spec §3.7); one that signs with its tenant's key has none.
	e.do(t, "GET", "/api/jwt/public-key?applicationId="+e.appID).wantEmpty(t, 404)
	rs := e.mustGenerateKey(t, "RS256")
	appID := e.mustAppWithRoles(t)
	e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": rs.ID}})
	e.do(t, "GET", "/api/jwt/public-key?applicationId="+appID).wantJSON(t, 200, &one)
	if one.PublicKey != rs.PublicKey || one.PublicKey == "" {
		t.Errorf("?applicationId= of an RS256 application: %+v, want the key's PEM", one)
	}
	e.do(t, "GET", "/api/jwt/public-key").wantJSON(t, 200, &all)
	if all.PublicKeys[rs.Kid] != rs.PublicKey || all.PublicKeys[kid] != pem {
		t.Errorf("all keys = %v", all.PublicKeys)
	}
	// The TS client's retrieveJWTPublicKey(undefined).
	e.do(t, "GET", "/api/jwt/public-key?kid=undefined").wantJSON(t, 200, &all)
	if all.PublicKeys[kid] != pem {
		t.Errorf("?kid=undefined did not list every key")
	}
	for _, q := range []string{"?kid=no-such-kid", "?applicationId=00000000-0000-4000-8000-000000000000", "?applicationId=not-a-uuid"} {
		e.do(t, "GET", "/api/jwt/public-key"+q).wantEmpty(t, 404)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	r := e.do(t, "GET", "/.well-known/jwks.json")
	r.wantJSON(t, 200, &set)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS = %s, want the one default key", r.Body)
	}
	k := set.Keys[0]
	if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] == "" || k["x"] == nil || k["y"] == nil {
		t.Errorf("JWK = %v", k)
	}
	if _, ok := k["d"]; ok {
		t.Fatal("the JWKS publishes a private key")
	}
	_, email := e.mustUser(t, e.appID)
	if kid := headerOf(t, e.mustLogin(t, email, e.appID).Token)["kid"]; kid != k["kid"] {
		t.Errorf("token kid %v is not the JWKS kid %v", kid, k["kid"])
	}
}

// An HMAC key signs an application's tokens; its secret is never
// published, and its tokens still validate.
func TestJWKS_NeverPublishesHMAC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Tokens are made and checked before the key exists: it must not take
	// a reload of a key cache for the new key to verify.
	_, warm := e.mustUser(t, e.appID)
	e.validate(t, e.mustLogin(t, warm, e.appID).Token).wantJSON(t, 200, nil)
	hs := e.mustGenerateKey(t, "HS256")
	if hs.PublicKey != "" {
		t.Errorf("HS256 key has a public key %q", hs.PublicKey)
	}
	appID := e.mustAppWithRoles(t)
	e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": hs.ID}})
	_, email := e.mustUser(t, appID)
	login := e.mustLogin(t, email, appID)
	if h := headerOf(t, login.Token); h["alg"] != "HS256" || h["kid"] != hs.Kid {
		t.Fatalf("token header = %v, want HS256 with kid %s", h, hs.Kid)
	}
	e.validate(t, login.Token).wantJSON(t, 200, nil)
	e.validate(t, e.mustRefresh(t, login.RefreshToken).Token).wantJSON(t, 200, nil)

	r := e.do(t, "GET", "/.well-known/jwks.json")
	r.wantJSON(t, 200, nil)
	if strings.Contains(string(r.Body), hs.Kid) || strings.Contains(string(r.Body), `"oct"`) || strings.Contains(string(r.Body), `"k"`) {
		t.Errorf("JWKS publishes the HMAC key: %s", r.Body)
	}
	var all api.PublicKeyResponse
	e.do(t, "GET", "/api/jwt/public-key").wantJSON(t, 200, &all)
	if _, ok := all.PublicKeys[hs.Kid]; ok {
		t.Error("public-key lists the HMAC key")
	}
	e.do(t, "GET", "/api/jwt/public-key?kid="+url.QueryEscape(hs.Kid)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/jwt/public-key?applicationId="+appID).wantEmpty(t, 404)
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var doc map[string]any
	e.do(t, "GET", "/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	for name, want := range map[string]string{
		"issuer":                 e.url,
		"jwks_uri":               e.url + "/.well-known/jwks.json",
		"token_endpoint":         e.url + "/oauth2/token",
		"revocation_endpoint":    e.url + "/oauth2/revoke",
		"introspection_endpoint": e.url + "/oauth2/introspect",
	} {
		if doc[name] != want {
			t.Errorf("%s = %v, want %s", name, doc[name], want)
		}
	}
	if algs, _ := doc["dpop_signing_alg_values_supported"].([]any); len(algs) == 0 {
		t.Errorf("dpop_signing_alg_values_supported = %v", doc["dpop_signing_alg_values_supported"])
	}
	// Every public-key algorithm, before any key of it exists: verifiers
	// that fix the list at discovery keep working when an application
	// moves to an RS256 or EdDSA key.
	if diff := cmp.Diff([]any{"ES256", "RS256", "EdDSA"}, doc["id_token_signing_alg_values_supported"]); diff != "" {
		t.Errorf("id_token_signing_alg_values_supported (-want +got):\n%s", diff)
	}

	// The tenant's issuer, by path or query; endpoints follow an https issuer.
	e.mustPatchTenant(t, e.tenantID, map[string]any{"issuer": "https://auth.example.org"})
	for _, path := range []string{"/.well-known/openid-configuration", "/" + e.tenantID + "/.well-known/openid-configuration",
		"/.well-known/openid-configuration?tenantId=" + e.tenantID} {
		e.do(t, "GET", path).wantJSON(t, 200, &doc)
		if doc["issuer"] != "https://auth.example.org" || doc["jwks_uri"] != "https://auth.example.org/.well-known/jwks.json" {
			t.Errorf("%s: issuer %v jwks_uri %v", path, doc["issuer"], doc["jwks_uri"])
		}
	}
	e.do(t, "GET", "/00000000-0000-4000-8000-000000000000/.well-known/openid-configuration").wantEmpty(t, 404)

	// Several tenants: without one named, the default tenant's document.
	other := e.mustCreateTenant(t, "Other")
	e.mustPatchTenant(t, other, map[string]any{"issuer": "https://other.example.org"})
	e.do(t, "GET", "/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	if doc["issuer"] != "https://auth.example.org" {
		t.Errorf("issuer with two tenants = %v, want the default tenant's", doc["issuer"])
	}
	e.do(t, "GET", "/.well-known/openid-configuration", withTenant(other)).wantJSON(t, 200, &doc)
	if doc["issuer"] != "https://other.example.org" {
		t.Errorf("issuer with the tenant header = %v, want the other tenant's", doc["issuer"])
	}
	e.do(t, "GET", "/"+other+"/.well-known/openid-configuration").wantJSON(t, 200, &doc)
	if doc["issuer"] != "https://other.example.org" {
		t.Errorf("issuer by path = %v", doc["issuer"])
	}
}

// mustEmail looks a user's email up.
func mustEmail(t *testing.T, e *env, userID string) string {
	t.Helper()
	var res api.UserResponse
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &res)
	return res.User.Email
}
