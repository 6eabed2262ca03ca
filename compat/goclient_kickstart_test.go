package compat_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/kickstart"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// kickstartDir holds a kickstart in the shape of FusionAuth's own example
// (the one FusionAuth's Go client's CI starts FusionAuth with): a user
// registered to FusionAuth's application with the role admin in the
// first request, an application whose id and tenant come from variables
// and #{FUSIONAUTH_TENANT_ID}, a theme copied from FusionAuth's default
// one and given a stylesheet through @{css/styles.css}, an email template,
// and the tenant pointed at the theme. Its bodies are written as
// FusionAuth's Go client sends them (every field of the request object,
// zero values included), some through &{} includes, one a whole request.
const kickstartDir = "testdata/kickstart"

// Values of the kickstart of kickstartDir, and the secrets it reads from
// the environment.
const (
	kickstartAPIKey        = "compat-kickstart-api-key-0123456789abcdefghij"
	kickstartAdminEmail    = "admin@example.org"
	kickstartAdminPassword = "admin passphrase 1234"
	kickstartUserEmail     = "richard@example.org"
	kickstartUserPassword  = "richard's passphrase 1234"
	kickstartIssuer        = "https://shop.example.org"
)

// kickstartEnv is the environment the kickstart reads.
func kickstartEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"LATCH_COMPAT_KICKSTART_API_KEY":        kickstartAPIKey,
		"LATCH_COMPAT_KICKSTART_ADMIN_PASSWORD": kickstartAdminPassword,
	}[name]
	return v, ok
}

// kickstartOpen opens a Latch on a new database with the kickstart of
// kickstartDir, skipping requests to APIs Latch does not implement or not.
func kickstartOpen(t *testing.T, skip bool) (*latchtest.Latch, error) {
	t.Helper()
	l, err := latchtest.Open(t, latchtest.Options{Config: server.Config{
		Kickstart: filepath.Join(kickstartDir, "kickstart.json"), KickstartSkipUnsupported: skip, Getenv: kickstartEnv}})
	if err == nil {
		l.Serve()
	}
	return l, err
}

// kickstartLogin is the body of FusionAuth's Go client's Login: every
// field of its LoginRequest, zero values included.
func kickstartLogin(loginID, password, applicationID string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"eventInfo":     map[string]any{"location": map[string]any{}},
		"applicationId": applicationID,
		"metaData":      map[string]any{"device": map[string]any{}},
		"newDevice":     false,
		"noJWT":         false,
		"loginId":       loginID,
		"password":      password,
	})
	return b
}

// kickstartJWT decodes a JWT's header and payload (without verifying it).
func kickstartJWT(t *testing.T, jwt string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", jwt)
	}
	for i, v := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err == nil {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// TestKickstartFusionAuthFile: a kickstart written for FusionAuth, with
// FusionAuth's own values, includes and requests to APIs Latch does not
// implement, refuses to start Latch, naming the first such request; with
// the choice to skip them it starts Latch, logging each skip, and its
// users log in: the admin to FusionAuth's application, with the role
// admin, the user to the kickstart's application, with the texts the
// includes put in.
func TestKickstartFusionAuthFile(t *testing.T) {
	t.Run("without skipping", func(t *testing.T) {
		_, err := kickstartOpen(t, false)
		var ue *kickstart.UnsupportedError
		if !errors.As(err, &ue) {
			t.Fatalf("server.Open: %v, want a kickstart.UnsupportedError", err)
		}
		for _, want := range []string{"requests[3] (POST /api/theme/", "FusionAuth's Themes API (/api/theme)", "Latch does not implement", "3 requests"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
	})

	l, err := kickstartOpen(t, true)
	if err != nil {
		t.Fatalf("server.Open with the skip: %v", err)
	}

	// Each skip is logged at WARN with the request's index, method and path.
	var skipped []string
	for line := range strings.Lines(l.Logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "request skipped") {
			f := strings.Fields(line[strings.Index(line, "request="):])
			skipped = append(skipped, strings.Join(f[:2], " ")+" "+strings.Join(strings.Split(f[2], "/")[:3], "/"))
		}
	}
	if want := []string{"request=3 method=POST path=/api/theme", "request=4 method=PATCH path=/api/theme", "request=5 method=POST path=/api/email"}; !slices.Equal(want, skipped) {
		t.Errorf("skips logged %q, want %q\n%s", skipped, want, l.Logs)
	}

	var tenants api.TenantResponse
	l.Do(t, kickstartAPIKey, "GET", "/api/tenant", nil, 200, &tenants)
	if len(tenants.Tenants) != 1 || tenants.Tenants[0].Issuer != kickstartIssuer {
		t.Fatalf("tenants %+v, want the default one, patched through #{FUSIONAUTH_TENANT_ID}", tenants.Tenants)
	}
	tenant := tenants.Tenants[0]
	var apps api.ApplicationResponse
	l.Do(t, kickstartAPIKey, "GET", "/api/application", nil, 200, &apps)
	var shop api.Application
	for _, a := range apps.Applications {
		if a.Name == "Shop" {
			shop = a
		}
	}
	if shop.TenantID != tenant.ID || shop.JWTConfiguration.AccessTokenKeyID != tenant.JWTConfiguration.AccessTokenKeyID {
		t.Errorf("the Shop in tenant %s signing with %s, want the default tenant %s and its key %s (#{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID})",
			shop.TenantID, shop.JWTConfiguration.AccessTokenKeyID, tenant.ID, tenant.JWTConfiguration.AccessTokenKeyID)
	}

	// The admin logs in to FusionAuth's application, as FusionAuth's Go
	// client logs in, and is its admin.
	var admin api.LoginResponse
	l.Do(t, kickstartAPIKey, "POST", "/api/login", kickstartLogin(kickstartAdminEmail, kickstartAdminPassword, kickstart.AdminApplicationID), 200, &admin)
	_, c := kickstartJWT(t, admin.Token)
	if c["aud"] != kickstart.AdminApplicationID || c["iss"] != kickstartIssuer || !slices.Contains(c["roles"].([]any), any("admin")) {
		t.Errorf("the admin's claims %v, want aud %s (#{FUSIONAUTH_APPLICATION_ID}), iss %s, roles [admin]", c, kickstart.AdminApplicationID, kickstartIssuer)
	}
	if admin.User.Data["favoriteColor"] != "chartreuse" || admin.User.FirstName != "Dana" {
		t.Errorf("the admin %+v, want the body of json/admin-registration.json", admin.User)
	}

	// The user logs in to the Shop; the text its data took from
	// emails/welcome.txt is the file's, line breaks, quotes and all.
	var user api.LoginResponse
	l.Do(t, kickstartAPIKey, "POST", "/api/login", kickstartLogin(kickstartUserEmail, kickstartUserPassword, shop.ID), 200, &user)
	h, c := kickstartJWT(t, user.Token)
	if c["aud"] != shop.ID || c["tid"] != tenant.ID || user.RefreshToken == "" {
		t.Errorf("the user's claims %v (refresh token %t), want aud %s, tid %s and a refresh token", c, user.RefreshToken != "", shop.ID, tenant.ID)
	}
	var key struct {
		Key struct {
			Kid string `json:"kid"`
		} `json:"key"`
	}
	l.Do(t, kickstartAPIKey, "GET", "/api/key/"+tenant.JWTConfiguration.AccessTokenKeyID, nil, 200, &key)
	if h["kid"] != key.Key.Kid {
		t.Errorf("the user's JWT is signed with %v, want the default signing key's kid %s", h["kid"], key.Key.Kid)
	}
	welcome, err := os.ReadFile(filepath.Join(kickstartDir, "emails", "welcome.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if user.User.Data["welcome"] != string(welcome) {
		t.Errorf("the user's data.welcome %q, want emails/welcome.txt, %q", user.User.Data["welcome"], welcome)
	}
	var refreshed api.JWTRefreshResponse
	l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: user.RefreshToken}, 200, &refreshed)
}
