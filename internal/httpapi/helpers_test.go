package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/server"
)

// update rewrites the golden files in testdata/golden instead of comparing.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// jsonContentType is the one content type of every JSON body Latch writes.
const jsonContentType = "application/json; charset=UTF-8"

// testPassword is long enough for the default password rules (8..256).
const testPassword = latchtest.Password

// env is one running Latch: a real server on a loopback port, a fresh
// database, a fake clock and the bootstrap API key.
type env struct {
	srv      *server.Server
	url      string
	key      string // the bootstrap (super-user) API key
	clock    *latchtest.Clock
	logs     *latchtest.LogBuffer
	client   *http.Client
	tenantID string // the default tenant
	appID    string // the application "Default"
}

// newEnv starts a server for one test and stops it when the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with a configuration that configure, when not nil,
// changes before the server starts.
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	clock := latchtest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	cfg := server.Config{Now: clock.Now}
	if configure != nil {
		configure(&cfg)
	}
	l := latchtest.Start(t, latchtest.Options{Config: cfg})
	e := &env{srv: l.Server, url: l.URL, key: l.APIKey, clock: clock, logs: l.Logs, client: l.Client}
	if e.key == "" {
		t.Fatalf("no bootstrap API key in %s", l.Dir)
	}
	var apps api.ApplicationResponse
	e.do(t, "GET", "/api/application", withKey(e.key)).wantJSON(t, 200, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].Name != "Default" {
		t.Fatalf("bootstrap applications = %+v, want one named Default", apps.Applications)
	}
	e.appID, e.tenantID = apps.Applications[0].ID, apps.Applications[0].TenantID
	return e
}

// --- requests

type reqOpt func(*http.Request)

// withKey sends an API key in the Authorization header, as FusionAuth takes it.
func withKey(key string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", key) }
}

func withBearer(jwt string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+jwt) }
}

func withBasic(user, pass string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass)) }
}

func withHeader(name, value string) reqOpt {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func withTenant(id string) reqOpt { return withHeader(api.HeaderTenantID, id) }

func withCookie(name, value string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// withJSON sends v marshalled as JSON (a string or []byte is sent as is).
func withJSON(v any) reqOpt {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return withBody("application/json", b)
}

// withForm sends an application/x-www-form-urlencoded body.
func withForm(v url.Values) reqOpt {
	return withBody("application/x-www-form-urlencoded", []byte(v.Encode()))
}

// withBody sends raw bytes with a content type ("" for none).
func withBody(contentType string, b []byte) reqOpt {
	return func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
	}
}

// response is a fully read HTTP response.
type response struct {
	method, path string
	Status       int
	Header       http.Header
	Body         []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%s %s: %d %q %s", r.method, r.path, r.Status, r.Header.Get("Content-Type"), r.Body)
}

// do sends a request and reads the whole answer. Every answer is checked
// against the body rule: an empty body carries no JSON content type, a
// non-empty one carries exactly FusionAuth's JSON content type and is JSON.
func (e *env) do(t testing.TB, method, path string, opts ...reqOpt) *response {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &response{method: method, path: path, Status: res.StatusCode, Header: res.Header, Body: body}
	checkBodyRule(t, r)
	return r
}

// checkBodyRule asserts the empty-vs-JSON body rule of the spec (§1.1).
func checkBodyRule(t testing.TB, r *response) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	if len(r.Body) == 0 {
		if strings.HasPrefix(strings.ToLower(ct), "application/json") {
			t.Errorf("%s: empty body with Content-Type %q", r, ct)
		}
		return
	}
	if ct != jsonContentType {
		t.Errorf("%s: non-empty body with Content-Type %q, want %q", r, ct, jsonContentType)
	}
	if !json.Valid(r.Body) {
		t.Errorf("%s: body is not JSON", r)
	}
}

// wantStatus fails the test unless the status is code.
func (r *response) wantStatus(t testing.TB, code int) *response {
	t.Helper()
	if r.Status != code {
		t.Fatalf("%s: status %d, want %d", r, r.Status, code)
	}
	return r
}

// wantEmpty asserts the status and an empty body.
func (r *response) wantEmpty(t testing.TB, code int) *response {
	t.Helper()
	r.wantStatus(t, code)
	if len(r.Body) != 0 {
		t.Fatalf("%s: want an empty body", r)
	}
	return r
}

// wantJSON asserts the status and decodes the JSON body into v (nil to skip).
func (r *response) wantJSON(t testing.TB, code int, v any) *response {
	t.Helper()
	r.wantStatus(t, code)
	if len(r.Body) == 0 {
		t.Fatalf("%s: want a JSON body", r)
	}
	if v != nil {
		// Decode into a zero value: json.Unmarshal keeps what the target
		// held for members the body lacks.
		reflect.ValueOf(v).Elem().SetZero()
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%s: decode: %v", r, err)
		}
	}
	return r
}

// wantErrors asserts a 400 Errors body holding exactly the given codes
// (field errors and general errors together).
func (r *response) wantErrors(t testing.TB, codes ...string) api.Errors {
	t.Helper()
	var errs api.Errors
	r.wantJSON(t, 400, &errs)
	var got []string
	for field, list := range errs.FieldErrors {
		for _, fe := range list {
			got = append(got, fe.Code)
			if fe.Message == "" {
				t.Errorf("%s: field %s error %s has no message", r, field, fe.Code)
			}
		}
	}
	for _, ge := range errs.GeneralErrors {
		got = append(got, ge.Code)
	}
	if diff := cmp.Diff(sortedCopy(codes), sortedCopy(got)); diff != "" {
		t.Fatalf("%s: error codes (-want +got):\n%s", r, diff)
	}
	return errs
}

// wantOAuthError asserts an OAuth error body with the status and error code.
func (r *response) wantOAuthError(t testing.TB, code int, errCode string) api.OAuthError {
	t.Helper()
	var oe api.OAuthError
	r.wantJSON(t, code, &oe)
	if oe.Code != errCode {
		t.Fatalf("%s: error %q, want %q", r, oe.Code, errCode)
	}
	if code == 401 && r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", r)
	}
	return oe
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// --- fixtures

// mustCreateApp creates an application from a JSON object (merged into
// {"application": ...}) and returns it with its one-time client secret.
func (e *env) mustCreateApp(t testing.TB, app map[string]any) api.Application {
	t.Helper()
	if _, ok := app["name"]; !ok {
		app["name"] = "app " + randomSuffix()
	}
	var res api.ApplicationResponse
	e.do(t, "POST", "/api/application", withKey(e.key), withJSON(map[string]any{"application": app})).wantJSON(t, 200, &res)
	if res.Application == nil || res.Application.ID == "" {
		t.Fatalf("create application: no application in the answer")
	}
	return *res.Application
}

// mustAppWithRoles creates an application with the roles "admin" and
// "user" (the latter default) and returns its id.
func (e *env) mustAppWithRoles(t testing.TB) string {
	t.Helper()
	return e.mustCreateApp(t, map[string]any{
		"roles": []map[string]any{{"name": "admin"}, {"name": "user", "isDefault": true}},
	}).ID
}

// mustPatchApp merges patch into the application.
func (e *env) mustPatchApp(t testing.TB, id string, patch map[string]any) api.Application {
	t.Helper()
	var res api.ApplicationResponse
	e.do(t, "PATCH", "/api/application/"+id, withKey(e.key), withJSON(map[string]any{"application": patch})).wantJSON(t, 200, &res)
	return *res.Application
}

// mustPatchUser merges patch into the user.
func (e *env) mustPatchUser(t testing.TB, id string, patch map[string]any) {
	t.Helper()
	e.do(t, "PATCH", "/api/user/"+id, withKey(e.key), withJSON(map[string]any{"user": patch})).wantJSON(t, 200, nil)
}

// mustPatchTenant merges patch into the tenant.
func (e *env) mustPatchTenant(t testing.TB, id string, patch map[string]any) api.Tenant {
	t.Helper()
	var res api.TenantResponse
	e.do(t, "PATCH", "/api/tenant/"+id, withKey(e.key), withJSON(map[string]any{"tenant": patch})).wantJSON(t, 200, &res)
	return *res.Tenant
}

// mustJWTConfig enables an application's own jwtConfiguration: the given
// members over a 600 s access token and a 60 minute refresh token.
func (e *env) mustJWTConfig(t testing.TB, appID string, cfg map[string]any) api.Application {
	t.Helper()
	full := map[string]any{"enabled": true, "timeToLiveInSeconds": 600, "refreshTokenTimeToLiveInMinutes": 60}
	for k, v := range cfg {
		full[k] = v
	}
	return e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": full})
}

// testPasswordHash is testPassword's argon2id hash with the current
// parameters, made once for the test binary.
var testPasswordHash = sync.OnceValues(func() (password.Stored, error) { return password.Hash(testPassword) })

// mustCreateUser makes a user with an email and testPassword, active and
// verified, as POST /api/user does, and returns it. Unless extra sets a
// password of its own, the user is imported with testPasswordHash, so that
// a user a test merely needs costs no password hashing (POST /api/user's
// own wire is TestUser_CreateRetrieve's).
func (e *env) mustCreateUser(t testing.TB, email string, extra ...map[string]any) api.User {
	t.Helper()
	u := map[string]any{"email": email, "password": testPassword}
	for _, x := range extra {
		for k, v := range x {
			u[k] = v
		}
	}
	var res api.UserResponse
	if u["password"] != testPassword {
		e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{"user": u})).wantJSON(t, 200, &res)
		return *res.User
	}
	h, err := testPasswordHash()
	if err != nil {
		t.Fatal(err)
	}
	u["password"], u["encryptionScheme"], u["active"], u["verified"] = h.Hash, h.Scheme, true, true
	e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": []any{u}})).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user?email="+url.QueryEscape(email), withKey(e.key)).wantJSON(t, 200, &res)
	res.User.EncryptionScheme = "" // as POST /api/user answers
	return *res.User
}

// mustRegister registers an existing user for an application with roles.
func (e *env) mustRegister(t testing.TB, userID, appID string, roles ...string) {
	t.Helper()
	reg := map[string]any{"applicationId": appID}
	if roles != nil {
		reg["roles"] = roles
	}
	e.do(t, "POST", "/api/user/registration/"+userID, withKey(e.key), withJSON(map[string]any{"registration": reg})).wantJSON(t, 200, nil)
}

// mustUser creates a user registered for appID and returns its id.
func (e *env) mustUser(t testing.TB, appID string, roles ...string) (string, string) {
	t.Helper()
	email := "user-" + randomSuffix() + "@example.org"
	u := e.mustCreateUser(t, email)
	if appID != "" {
		e.mustRegister(t, u.ID, appID, roles...)
	}
	return u.ID, email
}

// login posts a login request with the bootstrap key.
func (e *env) login(t testing.TB, body map[string]any, opts ...reqOpt) *response {
	t.Helper()
	return e.do(t, "POST", "/api/login", append([]reqOpt{withKey(e.key), withJSON(body)}, opts...)...)
}

// mustLogin logs a user in to an application and expects a 200.
func (e *env) mustLogin(t testing.TB, loginID, appID string) api.LoginResponse {
	t.Helper()
	var res api.LoginResponse
	e.login(t, map[string]any{"loginId": loginID, "password": testPassword, "applicationId": appID}).wantJSON(t, 200, &res)
	if res.Token == "" {
		t.Fatalf("login: no token")
	}
	return res
}

// refresh calls POST /api/jwt/refresh with a refresh token in the body.
func (e *env) refresh(t testing.TB, rt string, opts ...reqOpt) *response {
	t.Helper()
	return e.do(t, "POST", "/api/jwt/refresh", append([]reqOpt{withJSON(map[string]any{"refreshToken": rt})}, opts...)...)
}

// mustRefresh expects a successful refresh.
func (e *env) mustRefresh(t testing.TB, rt string) api.JWTRefreshResponse {
	t.Helper()
	var res api.JWTRefreshResponse
	e.refresh(t, rt).wantJSON(t, 200, &res)
	if res.Token == "" || res.RefreshToken == "" || res.RefreshTokenID == "" {
		t.Fatalf("refresh: incomplete answer %+v", res)
	}
	return res
}

// refreshRefused expects the uniform 400 [invalid]refreshToken.
func (e *env) refreshRefused(t testing.TB, rt string) *response {
	t.Helper()
	r := e.refresh(t, rt)
	r.wantErrors(t, "[invalid]refreshToken")
	return r
}

// validate calls GET /api/jwt/validate with a bearer token.
func (e *env) validate(t testing.TB, jwt string) *response {
	t.Helper()
	return e.do(t, "GET", "/api/jwt/validate", withBearer(jwt))
}

// --- JWTs

// jwtPart decodes one part (0 header, 1 payload) of a compact JWT
// without verifying it.
func jwtPart(t testing.TB, jwt string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decode JWT part %d: %v", i, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode JWT part %d: %v", i, err)
	}
	return m
}

func claimsOf(t testing.TB, jwt string) map[string]any { t.Helper(); return jwtPart(t, jwt, 1) }
func headerOf(t testing.TB, jwt string) map[string]any { t.Helper(); return jwtPart(t, jwt, 0) }

// intClaim reads a numeric claim.
func intClaim(t testing.TB, claims map[string]any, name string) int64 {
	t.Helper()
	n, ok := claims[name].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %v (%T), want a number", name, claims[name], claims[name])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s = %v: not an integer", name, n)
	}
	return v
}

var suffixMu sync.Mutex
var suffixN int

// randomSuffix makes names unique within the test binary.
func randomSuffix() string {
	suffixMu.Lock()
	defer suffixMu.Unlock()
	suffixN++
	return fmt.Sprintf("%d-%d", time.Now().UnixNano()%1_000_000, suffixN)
}

// golden compares got with testdata/golden/name.json byte for byte, or
// rewrites the file with -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", path, got, want)
	}
}

// mustCreateTenant creates a tenant with Latch's defaults and returns its id.
func (e *env) mustCreateTenant(t testing.TB, name string) string {
	t.Helper()
	var res api.TenantResponse
	e.do(t, "POST", "/api/tenant", withKey(e.key), withJSON(map[string]any{"tenant": map[string]any{"name": name}})).wantJSON(t, 200, &res)
	if res.Tenant == nil || res.Tenant.ID == "" {
		t.Fatal("create tenant: no tenant in the answer")
	}
	return res.Tenant.ID
}

// cookies parses the Set-Cookie headers.
func (r *response) cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// mustGenerateKey generates a signing key for an algorithm (a JWS
// algorithm, or the Key API's name of one: Ed25519 for EdDSA).
func (e *env) mustGenerateKey(t testing.TB, alg string) api.Key {
	t.Helper()
	var res api.KeyResponse
	e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": alg, "name": alg + " key"}})).
		wantJSON(t, 200, &res)
	want := alg
	if alg == "EdDSA" {
		want = api.KeyAlgorithmEd25519
	}
	if res.Key == nil || res.Key.ID == "" || res.Key.Algorithm != want || res.Key.Kid == "" {
		t.Fatalf("generate %s key: %+v", alg, res.Key)
	}
	return *res.Key
}
