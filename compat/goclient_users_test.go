package compat_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// These tests send users, registrations, imports and keys the way
// FusionAuth's Go client sends them: its structs have no omitempty on
// booleans and none that works on nested structs, so every request holds
// "active": false, "verified": false, "passwordChangeRequired": false,
// "twoFactor": {}, "eventInfo": {"location": {}}, "hasPrivateKey": false
// and the like, whatever the caller set. The bodies below are written out
// as the client marshals its request types, with the Accept header it
// sends and the API key alone in Authorization.

// usersGoUser is a user as the Go client marshals one: the fields it
// always writes, their zero values included, plus set.
func usersGoUser(set map[string]any) map[string]any {
	u := map[string]any{"active": false, "verified": false, "passwordChangeRequired": false, "twoFactor": map[string]any{}}
	for k, v := range set {
		u[k] = v
	}
	return u
}

// usersGoRegistration is a registration as the Go client marshals one.
func usersGoRegistration(set map[string]any) map[string]any {
	r := map[string]any{"verified": false}
	for k, v := range set {
		r[k] = v
	}
	return r
}

// usersGoEventInfo is the eventInfo every Go client request carries.
func usersGoEventInfo() map[string]any { return map[string]any{"location": map[string]any{}} }

// usersCall sends a JSON request as the Go client does and returns the
// status and the body.
func usersCall(t *testing.T, l *latchtest.Latch, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, l.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", l.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := l.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// usersDo is usersCall that insists on the status and decodes the body
// into out, when out is not nil.
func usersDo(t *testing.T, l *latchtest.Latch, method, path string, body any, want int, out any) {
	t.Helper()
	code, b := usersCall(t, l, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// usersLogin is the Go client's Login with its zero values.
func usersLogin(loginID, password, appID string) map[string]any {
	return map[string]any{
		"loginId": loginID, "password": password, "applicationId": appID,
		"newDevice": false, "noJWT": false, "metaData": map[string]any{"device": map[string]any{}}, "eventInfo": usersGoEventInfo(),
	}
}

// usersCodes lists the codes of an Errors body, sorted.
func usersCodes(t *testing.T, b []byte) []string {
	t.Helper()
	var errs api.Errors
	if err := json.Unmarshal(b, &errs); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	var codes []string
	for _, list := range errs.FieldErrors {
		for _, e := range list {
			codes = append(codes, e.Code)
		}
	}
	for _, e := range errs.GeneralErrors {
		codes = append(codes, e.Code)
	}
	slices.Sort(codes)
	return codes
}

// A user the Go client creates with a malformed field gets FusionAuth's
// field-error codes.
func TestGoClientUsers_FieldErrors(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	for _, tc := range []struct {
		name string
		user map[string]any
		want []string
	}{
		{"not an email", map[string]any{"email": "not an email", "password": latchtest.Password}, []string{"[notEmail]user.email"}},
		{"neither email nor username", map[string]any{"password": latchtest.Password}, []string{"[blank]user.email", "[blank]user.username"}},
		{"birthDate", map[string]any{"email": "bd@example.org", "password": latchtest.Password, "birthDate": "05/17/1990"}, []string{"[couldNotConvert]user.birthDate"}},
		{"short password", map[string]any{"email": "pw@example.org", "password": "short"}, []string{"[tooShort]user.password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := usersCall(t, l, "POST", "/api/user", map[string]any{
				"user": usersGoUser(tc.user), "disableDomainBlock": false, "sendSetPasswordEmail": false, "skipVerification": false,
				"eventInfo": usersGoEventInfo(),
			})
			if code != http.StatusBadRequest || !slices.Equal(usersCodes(t, b), tc.want) {
				t.Errorf("%d %s, want 400 with %q", code, b, tc.want)
			}
		})
	}
}

// Keys the Go client generates and retrieves say whether Latch holds the
// private key, in Key.HasPrivateKey (a bool the client decodes false when
// absent, as for HMAC keys). The request's "hasPrivateKey": false and
// "certificateInformation": {} are the client's zero values, not asks.
func TestGoClientUsers_Keys(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	type goKey struct {
		ID            string `json:"id"`
		Algorithm     string `json:"algorithm"`
		HasPrivateKey bool   `json:"hasPrivateKey"`
		PublicKey     string `json:"publicKey"`
		Type          string `json:"type"`
	}
	type goKeyResponse struct {
		Key  goKey   `json:"key"`
		Keys []goKey `json:"keys"`
	}
	for _, tc := range []struct {
		alg, id string
		want    bool
	}{
		{"ES256", "4A6E2C1B-7D3F-4E8A-9B0C-1D2E3F4A5B6C", true},
		{"RS256", "", true},
		{"HS256", "", false},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			path := "/api/key/generate"
			if tc.id != "" {
				path += "/" + tc.id // the kickstarts' upper-case ids
			}
			var made goKeyResponse
			usersDo(t, l, "POST", path, map[string]any{"key": map[string]any{
				"algorithm": tc.alg, "name": "Go client " + tc.alg, "hasPrivateKey": false, "certificateInformation": map[string]any{},
			}}, http.StatusOK, &made)
			if made.Key.HasPrivateKey != tc.want || (tc.id != "" && made.Key.ID != strings.ToLower(tc.id)) {
				t.Errorf("generated %+v, want hasPrivateKey %v (and the id in lowercase)", made.Key, tc.want)
			}
			var got goKeyResponse
			usersDo(t, l, "GET", "/api/key/"+strings.ToUpper(made.Key.ID), nil, http.StatusOK, &got)
			if got.Key.ID != made.Key.ID || got.Key.HasPrivateKey != tc.want {
				t.Errorf("retrieved %+v, want hasPrivateKey %v", got.Key, tc.want)
			}
			var all goKeyResponse
			usersDo(t, l, "GET", "/api/key", nil, http.StatusOK, &all)
			i := slices.IndexFunc(all.Keys, func(k goKey) bool { return k.ID == made.Key.ID })
			if i < 0 || all.Keys[i].HasPrivateKey != tc.want {
				t.Errorf("listed keys %+v, want %s with hasPrivateKey %v", all.Keys, made.Key.ID, tc.want)
			}
		})
	}
}

// An import from the Go client: its users carry "active": false and
// "verified": false unless the caller set them, and FusionAuth's Import API
// takes them at their word (both default to false), so a Go client import
// must set Active: true for its users to log in. A deactivated user gets
// 423 with the right password, 404 with a wrong one, and no token to
// refresh; an active one logs in and refreshes. A password without an
// encryptionScheme is plain text; a hash without a factor takes the
// request's.
func TestGoClientUsers_Import(t *testing.T) {
	l := latchtest.Start(t, latchtest.Options{})
	app := l.DefaultApplication(t)
	const sha256Hash = "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA=" // salted-sha256 of "password", factor 1
	reg := []map[string]any{usersGoRegistration(map[string]any{"applicationId": strings.ToUpper(app.ID)})}
	usersDo(t, l, "POST", "/api/user/import", map[string]any{
		"encryptionScheme": "salted-pbkdf2-hmac-sha256", "factor": 1, "validateDbConstraints": false, "eventInfo": usersGoEventInfo(),
		"users": []map[string]any{
			usersGoUser(map[string]any{"email": "zero@example.org", "password": latchtest.Password, "registrations": reg}),
			usersGoUser(map[string]any{"email": "active@example.org", "password": latchtest.Password, "active": true, "verified": true,
				"id": "6B1E2C3D-4F5A-4B6C-8D7E-9F0A1B2C3D4E", "registrations": reg}),
			usersGoUser(map[string]any{"email": "hash@example.org", "password": sha256Hash, "encryptionScheme": "salted-sha256",
				"salt": "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2", "active": true, "registrations": reg}),
		},
	}, http.StatusOK, nil)

	for _, tc := range []struct {
		email, password string
		want            int
		verified        bool
	}{
		{"zero@example.org", latchtest.Password, http.StatusLocked, false},
		{"zero@example.org", "wrong " + latchtest.Password, http.StatusNotFound, false},
		{"active@example.org", latchtest.Password, http.StatusOK, true},
		{"hash@example.org", "password", http.StatusOK, false},
	} {
		t.Run(tc.email+"/"+http.StatusText(tc.want), func(t *testing.T) {
			code, b := usersCall(t, l, "POST", "/api/login", usersLogin(tc.email, tc.password, app.ID))
			if code != tc.want {
				t.Fatalf("login: %d %s, want %d", code, b, tc.want)
			}
			var res api.LoginResponse
			if len(b) > 0 {
				if err := json.Unmarshal(b, &res); err != nil {
					t.Fatal(err)
				}
			}
			if code != http.StatusOK {
				if res.Token != "" || res.RefreshToken != "" {
					t.Errorf("a refused login got tokens: %s", b)
				}
				return
			}
			if c := latchtest.Claims[map[string]any](t, res.Token); c["email_verified"] != tc.verified || c["aud"] != app.ID {
				t.Errorf("claims %v, want email_verified %v and aud %s", c, tc.verified, app.ID)
			}
			if res.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			usersDo(t, l, "POST", "/api/jwt/refresh", map[string]any{"refreshToken": res.RefreshToken, "token": res.Token, "eventInfo": usersGoEventInfo()}, http.StatusOK, nil)
		})
	}
	var u api.UserResponse
	usersDo(t, l, "GET", "/api/user?email=zero@example.org", nil, http.StatusOK, &u)
	if u.User.Active || u.User.Verified || len(u.User.Registrations) != 1 || u.User.Registrations[0].Verified {
		t.Errorf("the user imported with the Go client's zero values: %+v, want inactive and unverified", u.User)
	}
	usersDo(t, l, "GET", "/api/user/6B1E2C3D-4F5A-4B6C-8D7E-9F0A1B2C3D4E", nil, http.StatusOK, &u)
	if u.User.ID != "6b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e" || !u.User.Active || !u.User.Verified || u.User.EncryptionScheme != "argon2id" {
		t.Errorf("the active user: %+v, want its id in lowercase, active, verified, its plain-text password hashed with argon2id", u.User)
	}
}

// A kickstart written as FusionAuth's example apps write theirs, with ids
// in upper case, then the Go client with the same ids: everything is
// found, and the tokens name the application, user and tenant in
// lowercase, the form apps compare aud with.
func TestGoClientUsers_UpperCaseIDs(t *testing.T) {
	const (
		tenantID = "C2E1A7B4-6D3F-4A5E-9B8C-7D6E5F4A3B2C"
		appID    = "E9FDB985-9173-4E01-9D73-AC2D60D1DC8E"
		userID   = "00000000-0000-0000-0000-00000000000A"
		apiKey   = "usersGoClientKickstartKeyThatIsLongEnough0123456789"
	)
	type obj = map[string]any
	ks, err := json.Marshal(obj{
		"variables": obj{"defaultTenantId": tenantID, "applicationId": appID, "userId": userID, "apiKey": apiKey},
		"apiKeys":   []obj{{"key": "#{apiKey}", "tenantId": "#{defaultTenantId}"}},
		"requests": []obj{
			{"method": "POST", "url": "/api/application/#{applicationId}", "body": obj{"application": obj{
				"name": "Upper", "tenantId": "#{defaultTenantId}", "roles": []obj{{"name": "user", "isDefault": true}},
			}}},
			{"method": "POST", "url": "/api/user/registration/#{userId}", "body": obj{
				"user":         obj{"email": "upper@example.org", "password": latchtest.Password, "tenantId": "#{defaultTenantId}"},
				"registration": obj{"applicationId": "#{applicationId}"},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := startLatch(t, ks, server.Config{})
	l.APIKey = apiKey
	lower := strings.ToLower

	var login api.LoginResponse
	usersDo(t, l, "POST", "/api/login", usersLogin("upper@example.org", latchtest.Password, appID), http.StatusOK, &login)
	c := latchtest.Claims[map[string]any](t, login.Token)
	if c["aud"] != lower(appID) || c["applicationId"] != lower(appID) || c["sub"] != lower(userID) || c["tid"] != lower(tenantID) {
		t.Errorf("claims %v, want aud and applicationId %s, sub %s, tid %s", c, lower(appID), lower(userID), lower(tenantID))
	}
	if login.User == nil || login.User.ID != lower(userID) || login.User.TenantID != lower(tenantID) {
		t.Errorf("login user %+v", login.User)
	}
	var u api.UserResponse
	usersDo(t, l, "GET", "/api/user/"+userID, nil, http.StatusOK, &u)
	if u.User.ID != lower(userID) || len(u.User.Registrations) != 1 || u.User.Registrations[0].ApplicationID != lower(appID) {
		t.Errorf("user %+v", u.User)
	}
	var reg api.RegistrationResponse
	usersDo(t, l, "GET", "/api/user/registration/"+userID+"/"+appID, nil, http.StatusOK, &reg)
	var tokens api.RefreshTokensResponse
	usersDo(t, l, "GET", "/api/jwt/refresh?userId="+userID, nil, http.StatusOK, &tokens)
	// The kickstart's registration and the login each made one.
	if len(tokens.RefreshTokens) != 2 || tokens.RefreshTokens[0].ApplicationID != lower(appID) || tokens.RefreshTokens[1].UserID != lower(userID) {
		t.Errorf("refresh tokens %+v, want two, of %s for %s", tokens.RefreshTokens, lower(userID), lower(appID))
	}
	// The Go client's RevokeRefreshTokensByUserId, with the id in upper case.
	usersDo(t, l, "DELETE", "/api/jwt/refresh?userId="+userID+"&applicationId=", nil, http.StatusOK, nil)
	code, _ := usersCall(t, l, "POST", "/api/jwt/refresh", map[string]any{"refreshToken": login.RefreshToken, "eventInfo": usersGoEventInfo()})
	if code != http.StatusBadRequest {
		t.Errorf("refresh after the revocation: %d, want 400", code)
	}
}
