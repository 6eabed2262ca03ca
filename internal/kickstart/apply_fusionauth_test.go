package kickstart_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/kickstart"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// openSkipping is open with the choice to skip requests to APIs Latch
// does not implement.
func openSkipping(t *testing.T, dataDir, kickstartFile string, skip bool) (*latchtest.Latch, error) {
	t.Helper()
	l, err := latchtest.Open(t, latchtest.Options{Config: server.Config{DataDir: dataDir, Kickstart: kickstartFile,
		KickstartSkipUnsupported: skip, Getenv: envOf(nil)}})
	if err == nil {
		l.Serve()
	}
	return l, err
}

// TestApplyAdminApplication: a kickstart's first request can register a
// user to FusionAuth's application, which exists with FusionAuth's id and
// roles in the default tenant; the user logs in to it, and its JWT
// carries the role. The default tenant signs with the key
// #{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID} names, which an application can
// choose.
func TestApplyAdminApplication(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "kickstart.json", `{
	  "variables": {"adminId": "#{UUID()}", "appId": "#{UUID()}"},
	  "apiKeys": [{"key": "`+adminKey+`"}],
	  "requests": [
	    {"method": "POST", "url": "/api/user/registration/#{adminId}",
	     "body": {"user": {"email": "admin@example.org", "password": "`+userPassword+`"},
	              "registration": {"applicationId": "#{FUSIONAUTH_APPLICATION_ID}", "roles": ["admin", "user_support_viewer"]},
	              "skipRegistrationVerification": true}},
	    {"method": "POST", "url": "/api/application/#{appId}", "tenantId": "#{FUSIONAUTH_TENANT_ID}",
	     "body": {"application": {"name": "Store", "jwtConfiguration": {"enabled": true, "timeToLiveInSeconds": 300,
	       "refreshTokenTimeToLiveInMinutes": 600, "accessTokenKeyId": "#{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID}"}}}},
	    {"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"issuer": "`+issuer+`"}}}
	  ]
	}`)
	l := start(t, filepath.Join(dir, "data"), file, nil)

	var got api.ApplicationResponse
	l.Do(t, adminKey, "GET", "/api/application/"+kickstart.AdminApplicationID, nil, 200, &got)
	app := got.Application
	var tenants api.TenantResponse
	l.Do(t, adminKey, "GET", "/api/tenant", nil, 200, &tenants)
	if len(tenants.Tenants) != 1 {
		t.Fatalf("tenants %+v, want the default one", tenants.Tenants)
	}
	tenant := tenants.Tenants[0]
	if app.Name != "FusionAuth" || app.TenantID != tenant.ID || !app.Active {
		t.Errorf("FusionAuth's application: %q in tenant %s, active %v; want FusionAuth, active, in %s", app.Name, app.TenantID, app.Active, tenant.ID)
	}
	roles := map[string]api.ApplicationRole{}
	for _, r := range app.Roles {
		roles[r.Name] = r
	}
	if r := roles["admin"]; r.ID != "631ecd9d-8d40-4c13-8277-80cedb8236e2" || !r.IsSuperRole {
		t.Errorf("role admin %+v, want FusionAuth's id and a super role", r)
	}
	if len(roles) < 30 || roles["user_support_viewer"].ID == "" || roles["webhook_manager"].ID == "" {
		t.Errorf("roles %v, want FusionAuth's admin roles", slices.Sorted(maps.Keys(roles)))
	}

	// The admin logs in to it; the JWT carries the roles it was given.
	var login api.LoginResponse
	l.Do(t, adminKey, "POST", "/api/login", api.LoginRequest{LoginID: "admin@example.org", Password: userPassword,
		ApplicationID: kickstart.AdminApplicationID}, 200, &login)
	c := latchtest.Claims[map[string]any](t, login.Token)
	if c["aud"] != kickstart.AdminApplicationID || c["iss"] != issuer || c["tid"] != tenant.ID {
		t.Errorf("claims %v, want aud %s, iss %s, tid %s", c, kickstart.AdminApplicationID, issuer, tenant.ID)
	}
	if diff := cmp.Diff([]any{"admin", "user_support_viewer"}, c["roles"]); diff != "" {
		t.Errorf("roles claim (-want +got):\n%s", diff)
	}

	// Its roles grant nothing in Latch: the admin's JWT is no API key.
	for _, auth := range []string{login.Token, "Bearer " + login.Token} {
		l.Do(t, auth, "GET", "/api/application", nil, 401, nil)
	}

	// The Store signs with the tenant's key, which has the id the
	// kickstart named.
	keyID := tenant.JWTConfiguration.AccessTokenKeyID
	var apps api.ApplicationResponse
	l.Do(t, adminKey, "GET", "/api/application", nil, 200, &apps)
	for _, a := range apps.Applications {
		if a.Name == "Store" && a.JWTConfiguration.AccessTokenKeyID != keyID {
			t.Errorf("the Store signs with %s, want the default signing key %s", a.JWTConfiguration.AccessTokenKeyID, keyID)
		}
	}
	var key api.KeyResponse
	l.Do(t, adminKey, "GET", "/api/key/"+keyID, nil, 200, &key)
	if key.Key.Algorithm != "ES256" {
		t.Errorf("the default signing key is %s, want ES256", key.Key.Algorithm)
	}

	// FusionAuth's application is an ordinary one: it may be changed and
	// deleted.
	l.Do(t, adminKey, "PATCH", "/api/application/"+kickstart.AdminApplicationID,
		map[string]any{"application": map[string]any{"roles": []any{map[string]any{"name": "admin"}}}}, 200, nil)
	l.Do(t, adminKey, "DELETE", "/api/application/"+kickstart.AdminApplicationID+"?hardDelete=true", nil, 200, nil)
	l.Do(t, adminKey, "GET", "/api/application/"+kickstart.AdminApplicationID, nil, 404, nil)
}

// TestApplyUnsupported: a request to an API Latch does not implement
// refuses the kickstart before anything is written, naming the request,
// the API and that Latch does not implement it; with the choice to skip,
// each such request is skipped and logged at WARN, and the rest applies.
// A request to a route Latch serves that answers 404 (an unknown object)
// is no such request: it fails the kickstart either way.
func TestApplyUnsupported(t *testing.T) {
	const themeID = "0e3f7a56-55d4-4f4b-9a0c-2a4c1c0e0a01"
	file := writeFile(t, t.TempDir(), "kickstart.json", `{
	  "apiKeys": [{"key": "`+adminKey+`"}],
	  "requests": [
	    {"method": "POST", "url": "/api/application", "body": {"application": {"name": "Store"}}},
	    {"method": "POST", "url": "/api/theme/`+themeID+`", "body": {"sourceThemeId": "75a068fd-e94b-451a-9aeb-3ddb9a3b5987", "theme": {"name": "Shop"}}},
	    {"method": "PATCH", "url": "/api/theme/`+themeID+`?x=1", "body": {"theme": {"stylesheet": "body {}"}}},
	    {"method": "POST", "url": "/api/email/template", "body": {"emailTemplate": {"name": "Welcome"}}},
	    {"method": "PATCH", "url": "/api/system-configuration", "body": {"systemConfiguration": {"corsConfiguration": {"enabled": true}}}},
	    {"method": "POST", "url": "/api/lambda", "body": {"lambda": {"name": "populate", "type": "JWTPopulate"}}},
	    {"method": "POST", "url": "/api/message/template", "body": {"messageTemplate": {"name": "sms"}}},
	    {"method": "POST", "url": "/api/user/family", "body": {"familyMember": {"owner": true}}},
	    {"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"issuer": "`+issuer+`", "themeId": "`+themeID+`"}}}
	  ]
	}`)

	t.Run("refused", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		_, err := openSkipping(t, data, file, false)
		var ue *kickstart.UnsupportedError
		if !errors.As(err, &ue) {
			t.Fatalf("server.Open: %v, want a kickstart.UnsupportedError", err)
		}
		for _, want := range []string{"requests[1]", "POST /api/theme/" + themeID, "Themes API", "/api/theme", "Latch does not implement", "7 requests"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		// Nothing was written: the next start without a kickstart
		// bootstraps.
		l := start(t, data, "", nil)
		if _, err := os.Stat(filepath.Join(data, server.BootstrapKeyFile)); err != nil {
			t.Errorf("no bootstrap after a refused kickstart: %v\nlogs:\n%s", err, l.Logs)
		}
	})

	t.Run("skipped", func(t *testing.T) {
		l, err := openSkipping(t, filepath.Join(t.TempDir(), "data"), file, true)
		if err != nil {
			t.Fatalf("server.Open: %v", err)
		}
		var skipped []string
		for line := range strings.Lines(l.Logs.String()) {
			if strings.Contains(line, "request skipped") {
				if !strings.Contains(line, "level=WARN") {
					t.Errorf("skip not logged at WARN: %s", line)
				}
				skipped = append(skipped, strings.TrimSpace(line[strings.Index(line, "request="):]))
			}
		}
		want := []string{
			`request=1 method=POST path=/api/theme/` + themeID + ` api="FusionAuth's Themes API (/api/theme)"`,
			`request=2 method=PATCH path=/api/theme/` + themeID + ` api="FusionAuth's Themes API (/api/theme)"`,
			`request=3 method=POST path=/api/email/template api="FusionAuth's Emails API (/api/email/template)"`,
			`request=4 method=PATCH path=/api/system-configuration api="FusionAuth's System Configuration API (/api/system-configuration)"`,
			`request=5 method=POST path=/api/lambda api="FusionAuth's Lambdas API (/api/lambda)"`,
			`request=6 method=POST path=/api/message/template api="FusionAuth's Message Templates API (/api/message/template)"`,
			`request=7 method=POST path=/api/user/family api="FusionAuth's Families API (/api/user/family)"`,
		}
		if diff := cmp.Diff(want, skipped); diff != "" {
			t.Errorf("skips logged (-want +got):\n%s\nlogs:\n%s", diff, l.Logs)
		}
		// The requests around them ran.
		var tenants api.TenantResponse
		l.Do(t, adminKey, "GET", "/api/tenant", nil, 200, &tenants)
		if len(tenants.Tenants) != 1 || tenants.Tenants[0].Issuer != issuer {
			t.Errorf("tenants %+v, want the default one with the issuer of the last request", tenants.Tenants)
		}
	})

	t.Run("an object Latch does not have", func(t *testing.T) {
		manager := writeFile(t, t.TempDir(), "kickstart.json", `{
		  "variables": {"tenantManagerApplicationId": "9a145715-bfbd-4c06-bff2-009315b9761e"},
		  "apiKeys": [{"key": "`+adminKey+`"}],
		  "requests": [{"method": "POST", "url": "/api/user/registration",
		    "body": {"user": {"email": "ana@example.org", "password": "`+userPassword+`"},
		             "registration": {"applicationId": "#{FUSIONAUTH_TENANT_MANAGER_APPLICATION_ID}"}}}]
		}`)
		_, err := openSkipping(t, filepath.Join(t.TempDir(), "data"), manager, true)
		for _, want := range []string{"requests[0]", "400", "registration.applicationId", "9a145715-bfbd-4c06-bff2-009315b9761e"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("server.Open: %v, want an error naming %q", err, want)
			}
		}
	})

	t.Run("an unknown object is no unsupported API", func(t *testing.T) {
		missing := writeFile(t, t.TempDir(), "kickstart.json", `{
		  "apiKeys": [{"key": "`+adminKey+`"}],
		  "requests": [
		    {"method": "POST", "url": "/api/theme/`+themeID+`", "body": {"theme": {"name": "Shop"}}},
		    {"method": "PATCH", "url": "/api/application/`+themeID+`", "body": {"application": {"name": "Nope"}}}
		  ]
		}`)
		_, err := openSkipping(t, filepath.Join(t.TempDir(), "data"), missing, true)
		var ue *kickstart.UnsupportedError
		if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "requests[1]") || !strings.Contains(err.Error(), "404") {
			t.Errorf("server.Open: %v, want requests[1] refused with its 404", err)
		}
	})
}
