package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// bigBody is a JSON object just over the 1 MiB body cap.
var bigBody = []byte(`{"loginId":"` + strings.Repeat("a", 1<<20) + `"}`)

// Malformed bodies on the JSON APIs: a 4xx FusionAuth error, never a 500.
func TestBadJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.mustCreateUser(t, "bad@example.org")
	routes := []struct{ method, path string }{
		{"POST", "/api/login"},
		{"POST", "/api/jwt/refresh"},
		{"POST", "/api/user"},
		{"PUT", "/api/user/" + u.ID},
		{"PATCH", "/api/user/" + u.ID},
		{"POST", "/api/user/import"},
		{"POST", "/api/user/registration"},
		{"POST", "/api/user/registration/" + u.ID},
		{"POST", "/api/application"},
		{"PATCH", "/api/application/" + e.appID},
		{"PUT", "/api/application/" + e.appID},
		{"POST", "/api/tenant"},
		{"PATCH", "/api/tenant/" + e.tenantID},
		{"PUT", "/api/tenant/" + e.tenantID},
		{"POST", "/api/key/generate"},
		{"POST", "/api/api-key"},
		{"DELETE", "/api/jwt/refresh"},
		{"DELETE", "/api/user/" + u.ID},
	}
	bodies := []struct {
		name string
		body []byte
	}{
		{"truncated", []byte(`{"loginId":`)},
		{"not JSON", []byte(`loginId=ana`)},
		{"wrong type", []byte(`{"loginId":5,"refreshToken":5,"user":5,"application":5,"tenant":5,"key":5,"apiKey":5,"users":5,"registration":5,"token":5,"hardDelete":"yes"}`)},
		{"array", []byte(`[1,2,3]`)},
		{"string", []byte(`"hello"`)},
		{"invalid UTF-8", []byte("{\"loginId\":\"\xff\xfe\",\"user\":{\"email\":\"\xff\"}}")},
		{"trailing garbage", []byte(`{} trailing`)},
		{"two values", []byte(`{}{}`)},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			t.Run(rt.method+" "+rt.path+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				errs := e.do(t, rt.method, rt.path, withKey(e.key), withJSON(b.body)).wantErrors(t, "[invalidJSON]")
				if !strings.HasPrefix(errs.GeneralErrors[0].Message, "Unable to parse the JSON request body.") {
					t.Errorf("message = %q", errs.GeneralErrors[0].Message)
				}
			})
		}
		t.Run(rt.method+" "+rt.path+"/too large", func(t *testing.T) {
			t.Parallel()
			var errs api.Errors
			e.do(t, rt.method, rt.path, withKey(e.key), withJSON(bigBody)).wantJSON(t, 413, &errs)
			if len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[tooLarge]" {
				t.Errorf("413 body = %+v", errs)
			}
		})
	}
	// Logout has no error type in the Go client: its errors are empty.
	for _, b := range bodies[:2] {
		e.do(t, "POST", "/api/logout", withJSON(b.body)).wantEmpty(t, 400)
	}
	// The OAuth endpoints answer OAuth errors.
	for _, path := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
		e.do(t, "POST", path, withBody("application/x-www-form-urlencoded", bigBody)).wantOAuthError(t, 413, "invalid_request")
		e.do(t, "POST", path, withBody("application/x-www-form-urlencoded", []byte("token=%%%"))).wantOAuthError(t, 400, "invalid_request")
		e.do(t, "POST", path, withJSON(`{"token":"x"}`)).wantOAuthError(t, 400, "invalid_request")
	}
}

// Every route, fed garbage, with and without a key: a client error or
// success, never a server error, and always the body rule.
func TestGarbageToEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.mustCreateUser(t, "garbage@example.org")
	e.mustRegister(t, u.ID, e.appID)
	login := e.mustLogin(t, "garbage@example.org", e.appID)
	k := e.mustGenerateKey(t, "ES256")
	ak := e.mustCreateAPIKey(t, map[string]any{})
	zero := "00000000-0000-4000-8000-000000000000"
	ids := map[string][]string{
		"{id}":            {u.ID, zero, "not-a-uuid", "%00", strings.Repeat("x", 300)},
		"{userId}":        {u.ID, zero, "null"},
		"{applicationId}": {e.appID, zero, "undefined"},
		"{tenantId}":      {e.tenantID, zero, "x"},
	}
	routes := []struct {
		method, path string
		idFor        map[string]string // a real id of the right kind for {id}
	}{
		{"GET", "/api/status", nil},
		{"POST", "/api/login", nil},
		{"POST", "/api/logout", nil},
		{"POST", "/api/jwt/refresh", nil},
		{"GET", "/api/jwt/validate", nil},
		{"GET", "/api/jwt/refresh", nil},
		{"GET", "/api/jwt/refresh/{id}", map[string]string{"{id}": login.RefreshTokenID}},
		{"DELETE", "/api/jwt/refresh", nil},
		{"DELETE", "/api/jwt/refresh/{id}", nil},
		{"GET", "/api/jwt/public-key", nil},
		{"GET", "/.well-known/jwks.json", nil},
		{"GET", "/.well-known/openid-configuration", nil},
		{"GET", "/{tenantId}/.well-known/openid-configuration", nil},
		{"POST", "/oauth2/token", nil},
		{"POST", "/oauth2/introspect", nil},
		{"POST", "/oauth2/revoke", nil},
		{"POST", "/api/user", nil},
		{"POST", "/api/user/{id}", nil},
		{"GET", "/api/user", nil},
		{"GET", "/api/user/{id}", nil},
		{"PUT", "/api/user/{id}", nil},
		{"PATCH", "/api/user/{id}", nil},
		{"DELETE", "/api/user/{id}", nil},
		{"POST", "/api/user/import", nil},
		{"POST", "/api/user/registration", nil},
		{"POST", "/api/user/registration/{userId}", nil},
		{"POST", "/api/user/registration/{userId}/{applicationId}", nil},
		{"GET", "/api/user/registration/{userId}/{applicationId}", nil},
		{"PUT", "/api/user/registration/{userId}/{applicationId}", nil},
		{"DELETE", "/api/user/registration/{userId}/{applicationId}", nil},
		{"POST", "/api/application", nil},
		{"POST", "/api/application/{id}", nil},
		{"GET", "/api/application", nil},
		{"GET", "/api/application/{id}", map[string]string{"{id}": e.appID}},
		{"PUT", "/api/application/{id}", map[string]string{"{id}": e.appID}},
		{"PATCH", "/api/application/{id}", map[string]string{"{id}": e.appID}},
		{"POST", "/api/tenant", nil},
		{"POST", "/api/tenant/{id}", nil},
		{"GET", "/api/tenant", nil},
		{"GET", "/api/tenant/{id}", map[string]string{"{id}": e.tenantID}},
		{"PUT", "/api/tenant/{id}", map[string]string{"{id}": e.tenantID}},
		{"PATCH", "/api/tenant/{id}", map[string]string{"{id}": e.tenantID}},
		{"DELETE", "/api/tenant/{id}", nil},
		{"POST", "/api/key/generate", nil},
		{"POST", "/api/key/generate/{id}", nil},
		{"GET", "/api/key", nil},
		{"GET", "/api/key/{id}", map[string]string{"{id}": k.ID}},
		{"DELETE", "/api/key/{id}", nil},
		{"POST", "/api/api-key", nil},
		{"POST", "/api/api-key/{id}", nil},
		{"GET", "/api/api-key", nil},
		{"GET", "/api/api-key/{id}", map[string]string{"{id}": ak.ID}},
		{"DELETE", "/api/api-key/{id}", nil},
		{"DELETE", "/api/application/{id}", nil},
		{"POST", "/api/system/webhook-event-log/search", nil},
		{"GET", "/api/system/webhook-event-log/search", nil},
		{"GET", "/api/system/webhook-event-log/{id}", nil},
		{"GET", "/no/such/route", nil},
		{"PUT", "/api/login", nil}, // a known path, another method
		{"TRACE", "/api/user", nil},
	}
	bodies := []struct {
		contentType string
		body        []byte
	}{
		{"", nil},
		{"application/json", []byte(`{`)},
		{"application/json", []byte(`{"user":{"email":5},"application":[],"tenant":"x","refreshToken":{},"loginId":null,"users":[{"password":5}]}`)},
		{"application/json", []byte("\xff\xfe\xfd")},
		{"application/json", []byte(`null`)},
		{"application/json", []byte(`{"jwtConfiguration":{"enabled":true},"user":{},"registration":{"roles":[1]},"apiKey":{"permissions":{"endpoints":{"":["GET"]}}}}`)},
		{"application/x-www-form-urlencoded", []byte("grant_type=password&token=%zz&a=1&a=2")},
		{"application/x-www-form-urlencoded", []byte("grant_type=refresh_token&refresh_token=x&client_id=" + zero)},
		{"text/plain", []byte("hello")},
		{"multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n")},
	}
	queries := []string{"", "?userId=" + zero + "&applicationId=null&token=x&kid=x&email=x&hardDelete=maybe&reactivate=1&global=2&tenantId=" + e.tenantID}
	auths := []reqOpt{withKey(e.key), withBearer(login.Token), withHeader("Authorization", "Basic Zm9vOmJhcg=="), withHeader("Authorization", "garbage key")}
	var cases int
	for _, rt := range routes {
		paths := []string{rt.path}
		for ph, vals := range ids {
			if !strings.Contains(rt.path, ph) {
				continue
			}
			var next []string
			for _, p := range paths {
				if real := rt.idFor[ph]; real != "" {
					next = append(next, strings.ReplaceAll(p, ph, real))
				}
				for _, v := range vals {
					next = append(next, strings.ReplaceAll(p, ph, url.PathEscape(v)))
				}
			}
			paths = next
		}
		for _, p := range paths {
			t.Run(rt.method+" "+p, func(t *testing.T) {
				t.Parallel()
				for _, b := range bodies {
					for _, q := range queries {
						for _, a := range append(auths, nil) {
							opts := []reqOpt{withBody(b.contentType, b.body), withTenant(e.tenantID)}
							if a != nil {
								opts = append(opts, a)
							}
							r := e.do(t, rt.method, p+q, opts...)
							if r.Status >= 500 {
								t.Errorf("%s (content type %q, %d bytes): server error", r, b.contentType, len(b.body))
							}
						}
					}
				}
				for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
					r := e.do(t, rt.method, p, withBody(ct, bigBody), withKey(e.key))
					if r.Status >= 500 {
						t.Errorf("%s (a body over 1 MiB): server error", r)
					}
				}
			})
			cases++
		}
	}
	t.Cleanup(func() { t.Logf("requests served: %d", strings.Count(e.logs.String(), "msg=request ")) })
	t.Logf("%d paths × %d bodies × %d queries × %d credentials", cases, len(bodies), len(queries), len(auths)+1)
}

// The exact JSON of the error bodies the SDKs rely on.
func TestGoldenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCreateUser(t, "ana@example.org")
	app := e.mustCreateApp(t, map[string]any{"oauthConfiguration": map[string]any{"enabledGrants": []string{"password", "refresh_token"}}})

	golden(t, "refresh_invalid_refresh_token", e.refreshRefused(t, "no-such-refresh-token").Body)
	golden(t, "login_blank_login_id", func() []byte {
		r := e.login(t, map[string]any{"password": testPassword})
		r.wantErrors(t, "[blank]loginId")
		return r.Body
	}())
	golden(t, "user_duplicate_email", func() []byte {
		r := e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "Ana@Example.org", "password": testPassword}}))
		r.wantErrors(t, "[duplicate]user.email")
		return r.Body
	}())
	golden(t, "oauth_invalid_grant", func() []byte {
		r := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"no-such-refresh-token"}}, withBasic(app.ID, app.OAuthConfiguration.ClientSecret))
		r.wantOAuthError(t, 400, "invalid_grant")
		return r.Body
	}())
	golden(t, "oauth_invalid_client", func() []byte {
		r := e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, withBasic(app.ID, "wrong secret"))
		r.wantOAuthError(t, 401, "invalid_client")
		return r.Body
	}())
	golden(t, "invalid_json", func() []byte {
		r := e.do(t, "POST", "/api/login", withKey(e.key), withJSON(`{"loginId":`))
		r.wantErrors(t, "[invalidJSON]")
		return r.Body
	}())
	e.mustCreateTenant(t, "Second")
	golden(t, "tenant_id_required", func() []byte {
		r := e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "ben@example.org", "password": testPassword}}))
		r.wantErrors(t, "[TenantIdRequired]")
		return r.Body
	}())
}

// Nothing secret reaches the logs: passwords, refresh tokens, JWTs, API
// keys, client secrets.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.mustCreateApp(t, map[string]any{"oauthConfiguration": map[string]any{"enabledGrants": []string{"password", "refresh_token"}}})
	e.mustJWTConfig(t, app.ID, map[string]any{"refreshTokenUsagePolicy": "OneTimeUse",
		"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		"refreshTokenRevocationPolicy":        map[string]any{"onOneTimeTokenReuse": true}})
	_, email := e.mustUser(t, app.ID)
	secrets := map[string]string{"password": testPassword, "API key": e.key, "client secret": app.OAuthConfiguration.ClientSecret}
	// The client secret is in answers: to GET, the list, a change.
	e.do(t, "GET", "/api/application/"+app.ID, withKey(e.key)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/application", withKey(e.key)).wantJSON(t, 200, nil)
	e.mustPatchApp(t, app.ID, map[string]any{"name": "renamed"})
	const newSecret = "a client secret set by an update"
	e.mustPatchApp(t, app.ID, map[string]any{"oauthConfiguration": map[string]any{"clientSecret": newSecret}})
	e.mustPatchApp(t, app.ID, map[string]any{"oauthConfiguration": map[string]any{"clientSecret": app.OAuthConfiguration.ClientSecret}})
	secrets["updated client secret"] = newSecret

	login := e.mustLogin(t, email, app.ID)
	secrets["JWT"], secrets["refresh token"] = login.Token, login.RefreshToken
	refreshed := e.mustRefresh(t, login.RefreshToken)
	secrets["refreshed JWT"], secrets["rotated refresh token"] = refreshed.Token, refreshed.RefreshToken
	e.clock.Advance(time.Second)
	e.refreshRefused(t, login.RefreshToken) // reuse: logged as a warning
	e.login(t, map[string]any{"loginId": email, "password": "the wrong password", "applicationId": app.ID}).wantEmpty(t, 404)
	secrets["wrong password"] = "the wrong password"

	second := e.mustLogin(t, email, app.ID)
	secrets["second refresh token"] = second.RefreshToken
	e.do(t, "DELETE", "/api/jwt/refresh?token="+url.QueryEscape(second.RefreshToken), withKey(e.key)).wantEmpty(t, 200)
	third := e.mustLogin(t, email, app.ID)
	secrets["third refresh token"] = third.RefreshToken
	e.do(t, "POST", "/api/logout?global=false&refreshToken="+url.QueryEscape(third.RefreshToken), withBody("text/plain", nil)).wantEmpty(t, 200)
	e.validate(t, refreshed.Token).wantJSON(t, 200, nil)
	e.validate(t, refreshed.Token+"x").wantEmpty(t, 401)

	tok := e.mustToken(t, url.Values{"grant_type": {"password"}, "username": {email}, "password": {testPassword}, "scope": {"offline_access"}},
		withBasic(app.ID, app.OAuthConfiguration.ClientSecret))
	secrets["OAuth access token"], secrets["OAuth refresh token"] = tok.AccessToken, tok.RefreshToken
	e.token(t, url.Values{"grant_type": {"password"}, "username": {email}, "password": {testPassword}}, withBasic(app.ID, "a wrong client secret")).
		wantOAuthError(t, 401, "invalid_client")
	secrets["wrong client secret"] = "a wrong client secret"
	e.do(t, "POST", "/oauth2/revoke", withForm(url.Values{"token": {tok.RefreshToken}}), withBasic(app.ID, app.OAuthConfiguration.ClientSecret)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user", withKey("a-wrong-api-key-a-wrong-api-key")).wantEmpty(t, 401)
	secrets["wrong API key"] = "a-wrong-api-key-a-wrong-api-key"

	logs := e.logs.String()
	if !strings.Contains(logs, "/api/login") || !strings.Contains(logs, "/api/jwt/refresh") {
		t.Fatalf("the access log is missing; got:\n%s", logs)
	}
	for name, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the %s", name)
		}
		if strings.Count(secret, ".") == 2 { // a JWT: no part of its signature either
			if sig := secret[strings.LastIndex(secret, ".")+1:]; strings.Contains(logs, sig) {
				t.Errorf("the logs contain the %s's signature", name)
			}
		}
		if strings.Contains(logs, url.QueryEscape(secret)) {
			t.Errorf("the logs contain the %s, URL-encoded", name)
		}
	}
}

// The bootstrap key is written to its file, and its path, never the key,
// is logged.
func TestBootstrapKeyNotLogged(t *testing.T) {
	t.Parallel()
	var buf latchtest.LogBuffer
	dir := t.TempDir()
	srv, err := server.Open(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	path := filepath.Join(dir, server.BootstrapKeyFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.TrimSpace(b)
	if len(key) < 32 {
		t.Fatalf("bootstrap key %q is short", key)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if strings.Contains(buf.String(), string(key)) {
		t.Error("the bootstrap key is logged")
	}
	if !strings.Contains(buf.String(), path) {
		t.Errorf("the bootstrap key's path is not logged:\n%s", buf.String())
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var res api.StatusResponse
	e.do(t, "GET", "/api/status").wantJSON(t, 200, &res)
	if res.Status != "ok" {
		t.Errorf("status = %q", res.Status)
	}
	// Unknown routes and methods: an empty 404.
	e.do(t, "GET", "/api/nothing-here", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "PUT", "/api/login", withKey(e.key), withJSON(map[string]any{})).wantEmpty(t, 404)
	// A blank Authorization header is no credential.
	e.do(t, "GET", "/api/tenant", withHeader("Authorization", "  ")).wantEmpty(t, 401)
	// The access log never holds the query string.
	e.do(t, "GET", "/api/status?secret=swordfish")
	if strings.Contains(e.logs.String(), "swordfish") {
		t.Error("the access log holds the query string")
	}
}
