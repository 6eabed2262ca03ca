package kickstart_test

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// writeFile writes a kickstart file into dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// open opens a Latch on dataDir with the kickstart file (if any) and
// environment and serves it; it returns the error of server.Open.
func open(t *testing.T, dataDir, kickstartFile string, env map[string]string) (*latchtest.Latch, error) {
	t.Helper()
	l, err := latchtest.Open(t, latchtest.Options{Config: server.Config{DataDir: dataDir, Kickstart: kickstartFile, Getenv: envOf(env)}})
	if err == nil {
		l.Serve()
	}
	return l, err
}

// start is open that must succeed.
func start(t *testing.T, dataDir, kickstartFile string, env map[string]string) *latchtest.Latch {
	t.Helper()
	l, err := open(t, dataDir, kickstartFile, env)
	if err != nil {
		t.Fatalf("server.Open: %v\nlogs:\n%s", err, l.Logs)
	}
	return l
}

const (
	tenantID     = "d7d09513-a3f5-401c-9685-34ab6c552453"
	clientSecret = "store-client-secret-0123456789abcdef"
	userPassword = latchtest.Password
	issuer       = "https://auth.example.org"
)

// storeKickstart sets up what docs/kickstart.md's kickstart does, and more: an
// application with roles, a JWT and an OAuth configuration; a user
// registered for it; the default tenant's issuer.
const storeKickstart = `{
  "variables": {
    "defaultTenantId": "` + tenantID + `",
    "appId": "#{UUID()}",
    "userId": "#{UUID()}",
    "adminKey": "#{ENV.LATCH_TEST_ADMIN_KEY}",
    "ttl": 300
  },
  "apiKeys": [
    {"key": "#{adminKey}", "description": "admin"},
    {"key": "second-api-key-0123456789abcdefghijklmnop", "description": "second"}
  ],
  "requests": [
    {"method": "post", "url": "/api/application/#{appId}",
     "body": {"application": {"name": "Store",
       "roles": [{"name": "customer", "isDefault": true}, {"name": "admin"}],
       "jwtConfiguration": {"enabled": true, "timeToLiveInSeconds": #TTL#, "refreshTokenTimeToLiveInMinutes": 43200,
                            "refreshTokenUsagePolicy": "OneTimeUse"},
       "oauthConfiguration": {"clientSecret": "` + clientSecret + `", "enabledGrants": ["password", "refresh_token"]}}}},
    {"method": "POST", "url": "/api/user/registration/#{userId}",
     "body": {"user": {"email": "ana@example.org", "password": "` + userPassword + `"},
              "registration": {"applicationId": "#{appId}", "roles": ["customer"]}}},
    {"method": "PATCH", "url": "/api/tenant/#{defaultTenantId}", "body": {"tenant": {"issuer": "` + issuer + `"}}}
  ]
}`

func TestApplyThroughServer(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := writeFile(t, dir, "kickstart.json", strings.Replace(storeKickstart, "#TTL#", "300", 1))
	l := start(t, data, file, map[string]string{"LATCH_TEST_ADMIN_KEY": adminKey})

	if !strings.Contains(l.Logs.String(), "kickstart applied") {
		t.Errorf("the log does not say the kickstart was applied:\n%s", l.Logs)
	}
	// No bootstrap: no key file, and no application named Default.
	if _, err := os.Stat(filepath.Join(data, server.BootstrapKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a kickstarted server wrote %s (stat: %v)", server.BootstrapKeyFile, err)
	}

	// The API keys of the file work; a made-up one does not.
	var apps api.ApplicationResponse
	l.Do(t, adminKey, "GET", "/api/application", nil, 200, &apps)
	l.Do(t, "second-api-key-0123456789abcdefghijklmnop", "GET", "/api/application", nil, 200, nil)
	l.Do(t, "not-a-key-0123456789abcdefghijklmnopqrstu", "GET", "/api/application", nil, 401, nil)
	// The kickstart's Store, and FusionAuth's application, which every
	// kickstart has.
	var names []string
	var app api.Application
	for _, a := range apps.Applications {
		names = append(names, a.Name)
		if a.Name == "Store" {
			app = a
		}
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"FusionAuth", "Store"}, names); diff != "" {
		t.Fatalf("applications (-want +got):\n%s", diff)
	}
	if app.Name != "Store" || app.TenantID != tenantID {
		t.Errorf("application %q in tenant %q, want Store in %s", app.Name, app.TenantID, tenantID)
	}
	var roles []string
	for _, r := range app.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	if diff := cmp.Diff([]string{"admin", "customer"}, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	jc := app.JWTConfiguration
	if !jc.Enabled || jc.TimeToLiveInSeconds != 300 || jc.RefreshTokenUsagePolicy != api.RefreshOneTimeUse {
		t.Errorf("jwtConfiguration %+v, want enabled, 300 s, OneTimeUse", jc)
	}
	if app.OAuthConfiguration.ClientSecret != clientSecret {
		t.Errorf("GET /api/application shows the client secret %q, want the file's", app.OAuthConfiguration.ClientSecret)
	}

	// The default tenant has the id of defaultTenantId and the patched issuer.
	var tenants api.TenantResponse
	l.Do(t, adminKey, "GET", "/api/tenant", nil, 200, &tenants)
	if len(tenants.Tenants) != 1 || tenants.Tenants[0].ID != tenantID || tenants.Tenants[0].Issuer != issuer {
		t.Errorf("tenants %+v, want one, %s, issuer %s", tenants.Tenants, tenantID, issuer)
	}

	// The user logs in; the token carries the issuer, the roles, the app.
	var login api.LoginResponse
	l.Do(t, adminKey, "POST", "/api/login", api.LoginRequest{LoginID: "ana@example.org", Password: userPassword, ApplicationID: app.ID}, 200, &login)
	c := latchtest.Claims[map[string]any](t, login.Token)
	if c["iss"] != issuer || c["tid"] != tenantID || c["applicationId"] != app.ID || c["sub"] != login.User.ID {
		t.Errorf("claims %v, want iss %s, tid %s, applicationId %s, sub %s", c, issuer, tenantID, app.ID, login.User.ID)
	}
	if diff := cmp.Diff([]any{"customer"}, c["roles"]); diff != "" {
		t.Errorf("roles claim (-want +got):\n%s", diff)
	}
	l.Do(t, "Bearer "+login.Token, "GET", "/api/jwt/validate", nil, 200, nil)
	if login.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	var refreshed api.JWTRefreshResponse
	l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: login.RefreshToken}, 200, &refreshed)
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == login.RefreshToken {
		t.Errorf("OneTimeUse from the kickstart: the refresh token did not rotate")
	}

	// The client secret of the file authenticates the application.
	form := url.Values{"grant_type": {"password"}, "username": {"ana@example.org"}, "password": {userPassword}}
	for _, tc := range []struct {
		secret string
		want   int
	}{{clientSecret, 200}, {"wrong-secret", 401}} {
		req, _ := http.NewRequest("POST", l.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.ID, tc.secret)
		resp, err := l.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("password grant with secret %q: %d %s, want %d", tc.secret, resp.StatusCode, b, tc.want)
		}
	}
}

// TestApplyAtomic: a failing request rolls back the whole kickstart, the
// server refuses to start naming the request and the answer, and the
// database is left as if never set up.
func TestApplyAtomic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	appID := "0f6c8f9e-1f7b-4c52-9a43-6b1f1f0a0001"
	userID := "0f6c8f9e-1f7b-4c52-9a43-6b1f1f0a0002"
	file := writeFile(t, dir, "kickstart.json", `{
	  "variables": {"defaultTenantId": "`+tenantID+`"},
	  "apiKeys": [{"key": "`+adminKey+`"}],
	  "requests": [
	    {"method": "POST", "url": "/api/application/`+appID+`", "body": {"application": {"name": "Store"}}},
	    {"method": "POST", "url": "/api/user/registration/`+userID+`",
	     "body": {"user": {"email": "ana@example.org", "password": "`+userPassword+`"}, "registration": {"applicationId": "`+appID+`"}}},
	    {"method": "post", "url": "/api/user", "body": {"user": {"email": "ana@example.org", "password": "`+userPassword+`"}}},
	    {"method": "PATCH", "url": "/api/tenant/#{defaultTenantId}", "body": {"tenant": {"issuer": "`+issuer+`"}}}
	  ]
	}`)
	l, err := open(t, data, file, nil)
	if err == nil {
		t.Fatal("server.Open succeeded with a kickstart whose third request fails")
	}
	for _, want := range []string{"requests[2]", "POST /api/user", "400", "user.email"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	t.Logf("server.Open: %v", err)
	if strings.Contains(err.Error(), adminKey) {
		t.Errorf("error %q shows the API key", err)
	}
	if strings.Contains(l.Logs.String(), "kickstart applied") {
		t.Errorf("the log says the kickstart was applied:\n%s", l.Logs)
	}

	// Nothing was kept: without a kickstart the server bootstraps afresh.
	l = start(t, data, "", nil)
	raw, err := os.ReadFile(filepath.Join(data, server.BootstrapKeyFile))
	if err != nil {
		t.Fatalf("the database had been set up: no bootstrap on the next start (%v)\nlogs:\n%s", err, l.Logs)
	}
	key := strings.TrimSpace(string(raw))
	l.Do(t, adminKey, "GET", "/api/application", nil, 401, nil)
	var apps api.ApplicationResponse
	l.Do(t, key, "GET", "/api/application", nil, 200, &apps)
	if len(apps.Applications) != 1 || apps.Applications[0].Name != "Default" {
		t.Errorf("applications %+v, want the bootstrap's Default only", apps.Applications)
	}
	l.Do(t, key, "GET", "/api/application/"+appID, nil, 404, nil)
	l.Do(t, key, "GET", "/api/user/"+userID, nil, 404, nil)
	l.Do(t, key, "GET", "/api/user?email=ana@example.org", nil, 404, nil)
	var tenants api.TenantResponse
	l.Do(t, key, "GET", "/api/tenant", nil, 200, &tenants)
	if len(tenants.Tenants) != 1 || tenants.Tenants[0].ID == tenantID {
		t.Errorf("tenants %+v: the kickstart's default tenant survived", tenants.Tenants)
	}
}

// TestApplyOnce: a kickstart runs on a new database only; later starts
// with any kickstart leave the data as it is and say so.
func TestApplyOnce(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	first := writeFile(t, dir, "first.json", strings.Replace(storeKickstart, "#TTL#", "300", 1))
	env := map[string]string{"LATCH_TEST_ADMIN_KEY": adminKey}

	l := start(t, data, first, env)
	var before api.ApplicationResponse
	l.Do(t, adminKey, "GET", "/api/application", nil, 200, &before)
	l.Stop()

	for _, tc := range []struct{ name, file string }{
		{"the same file", first},
		{"another file", writeFile(t, dir, "second.json", `{
		  "apiKeys": [{"key": "other-admin-key-0123456789abcdefghijklmn"}],
		  "requests": [{"method": "POST", "url": "/api/application", "body": {"application": {"name": "Other"}}}]
		}`)},
		{"a file that would fail", writeFile(t, dir, "bad.json", `{"requests": [{"method": "GET", "url": "/"}]}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := start(t, data, tc.file, env)
			defer l.Stop()
			if !strings.Contains(l.Logs.String(), "kickstart skipped") {
				t.Errorf("the log does not say the kickstart was skipped:\n%s", l.Logs)
			}
			if strings.Contains(l.Logs.String(), "kickstart applied") {
				t.Errorf("the log says the kickstart was applied again:\n%s", l.Logs)
			}
			var after api.ApplicationResponse
			l.Do(t, adminKey, "GET", "/api/application", nil, 200, &after)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("applications changed (-before +after):\n%s", diff)
			}
			l.Do(t, "other-admin-key-0123456789abcdefghijklmn", "GET", "/api/application", nil, 401, nil)
			if _, err := os.Stat(filepath.Join(data, server.BootstrapKeyFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a later start wrote %s (stat: %v)", server.BootstrapKeyFile, err)
			}
		})
	}
}

// TestApplyUnreadable: a kickstart that cannot be read or parsed stops the
// start and leaves the database new.
func TestApplyUnreadable(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "nope.json"},
		{"invalid JSON", writeFile(t, dir, "bad.json", `{"requests": [`), "not valid JSON"},
		{"unset ENV", writeFile(t, dir, "env.json", `{"apiKeys": [{"key": "#{ENV.LATCH_TEST_UNSET}"}]}`), "LATCH_TEST_UNSET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := open(t, data, tc.file, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("server.Open: %v, want an error naming %q", err, tc.want)
			}
		})
	}
	l := start(t, data, "", nil)
	if _, err := os.Stat(filepath.Join(data, server.BootstrapKeyFile)); err != nil {
		t.Errorf("no bootstrap after failed kickstarts: %v\nlogs:\n%s", err, l.Logs)
	}
}
