package httpapi_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

func TestUser_CreateRetrieve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var res api.UserResponse
	r := e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{
		"user": map[string]any{"email": "Ana@Example.org", "username": "ana", "password": testPassword,
			"firstName": "Ana", "data": map[string]any{"plan": "gold"}, "birthDate": "1990-05-17", "preferredLanguages": []string{"en", "es_MX"}},
		"skipVerification": true,
	}))
	r.wantJSON(t, 200, &res)
	assertNoSecrets(t, r.Body, true)
	u := res.User
	if u == nil || u.ID == "" || u.Email != "ana@example.org" || u.Username != "ana" || !u.Active || u.TenantID != e.tenantID ||
		u.FirstName != "Ana" || u.Data["plan"] != "gold" || u.BirthDate != "1990-05-17" || u.InsertInstant != e.clock.Now().UnixMilli() {
		t.Fatalf("created user = %s", r.Body)
	}
	if res.Token == "" || res.TokenExpirationInstant == 0 {
		t.Fatal("no token for the new user")
	}
	if c := claimsOf(t, res.Token); c["authenticationType"] != "USER_CREATE" || c["sub"] != u.ID || c["applicationId"] != nil {
		t.Errorf("user-create token claims = %v", c)
	}

	var got api.UserResponse
	r = e.do(t, "GET", "/api/user/"+u.ID, withKey(e.key))
	r.wantJSON(t, 200, &got)
	assertNoSecrets(t, r.Body, false)
	if got.User.ID != u.ID || got.User.Email != u.Email || got.User.EncryptionScheme != "argon2id" || got.Token != "" {
		t.Errorf("retrieved user = %s", r.Body)
	}

	// Lookups by email (case-insensitive), username and loginId.
	for _, q := range []string{"email=ana@example.org", "email=ANA@EXAMPLE.ORG", "username=ana", "username=ANA", "loginId=Ana@Example.org", "loginId=ana"} {
		var found api.UserResponse
		e.do(t, "GET", "/api/user?"+q, withKey(e.key)).wantJSON(t, 200, &found)
		if found.User == nil || found.User.ID != u.ID {
			t.Errorf("GET /api/user?%s found %+v", q, found.User)
		}
	}
	e.do(t, "GET", "/api/user?email=nobody@example.org", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user", withKey(e.key)).wantErrors(t, "[invalid]")
	e.do(t, "GET", "/api/user/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/not-a-uuid", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/user/"+u.ID).wantEmpty(t, 401)
	e.do(t, "GET", "/api/user/"+u.ID, withKey("not-a-key-not-a-key-not-a-key-not-a-key")).wantEmpty(t, 401)
	e.do(t, "POST", "/api/user", withJSON(map[string]any{"user": map[string]any{"email": "x@example.org", "password": testPassword}})).wantEmpty(t, 401)

	// With an id in the URL.
	id := "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
	e.do(t, "POST", "/api/user/"+id, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "withid@example.org", "password": testPassword}})).
		wantJSON(t, 200, &res)
	if res.User.ID != id {
		t.Errorf("user id = %s, want %s", res.User.ID, id)
	}
	e.do(t, "POST", "/api/user/"+id, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "other@example.org", "password": testPassword}})).
		wantErrors(t, "[duplicate]userId")
	e.do(t, "POST", "/api/user/not-a-uuid", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "bad@example.org", "password": testPassword}})).
		wantErrors(t, "[couldNotConvert]userId")
}

// TestUser_CreateValidation: a refused create answers 400 with
// FusionAuth's field errors. Which user is refused with which code is
// internal/identity's (TestUser_CreateRules, TestUserFieldErrorCodes).
func TestUser_CreateValidation(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	taken := "taken-" + randomSuffix() + "@example.org"
	e.mustCreateUser(t, taken)
	for _, tc := range []struct {
		name  string
		user  map[string]any
		codes []string
	}{
		{"duplicate email, other case", map[string]any{"email": strings.ToUpper(taken), "password": testPassword}, []string{"[duplicate]user.email"}},
		{"blank email and username", map[string]any{"password": testPassword}, []string{"[blank]user.email", "[blank]user.username"}},
		{"short password", map[string]any{"email": "short-" + randomSuffix() + "@example.org", "password": "short"}, []string{"[tooShort]user.password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.do(t, "POST", "/api/user", withKey(e.key), withJSON(map[string]any{"user": tc.user})).wantErrors(t, tc.codes...)
		})
	}
}

// The Go client sends zero values for booleans and nested objects; they
// must not deactivate the user.
func TestUser_GoClientZeroValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"user":{"email":"go@example.org","password":"` + testPassword + `","active":false,"verified":false,` +
		`"passwordChangeRequired":false,"twoFactor":{},"memberships":null,"preferredLanguages":null},` +
		`"disableDomainBlock":false,"sendSetPasswordEmail":false,"skipVerification":false,"applicationId":"","eventInfo":{"location":{}}}`
	var res api.UserResponse
	e.do(t, "POST", "/api/user", withKey(e.key), withJSON(body)).wantJSON(t, 200, &res)
	if !res.User.Active {
		t.Fatal("the Go client's active:false made an inactive user")
	}
	e.mustRegister(t, res.User.ID, e.appID)
	e.mustLogin(t, "go@example.org", e.appID)
}

func TestUser_UpdatePatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.mustCreateUser(t, "upd@example.org", map[string]any{"firstName": "Ana", "lastName": "Lopez"})
	e.mustCreateUser(t, "other@example.org")

	// PATCH merges: lastName stays.
	var res api.UserResponse
	e.do(t, "PATCH", "/api/user/"+u.ID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"firstName": "Anita"}})).wantJSON(t, 200, &res)
	if res.User.FirstName != "Anita" || res.User.LastName != "Lopez" || res.User.Email != "upd@example.org" {
		t.Errorf("patched user = %+v", res.User)
	}
	// PUT replaces: lastName goes.
	r := e.do(t, "PUT", "/api/user/"+u.ID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "Upd2@example.org", "firstName": "Ana"}}))
	r.wantJSON(t, 200, &res)
	assertNoSecrets(t, r.Body, true)
	if res.User.FirstName != "Ana" || res.User.LastName != "" || res.User.Email != "upd2@example.org" {
		t.Errorf("replaced user = %+v", res.User)
	}
	e.do(t, "PUT", "/api/user/"+u.ID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "OTHER@example.org"}})).
		wantErrors(t, "[duplicate]user.email")
	e.do(t, "PUT", "/api/user/"+u.ID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "upd2@example.org", "password": "short"}})).
		wantErrors(t, "[tooShort]user.password")
	e.do(t, "PATCH", "/api/user/"+u.ID, withKey(e.key), withJSON(`[1,2]`)).wantErrors(t, "[invalidJSON]")
	e.do(t, "PUT", "/api/user/00000000-0000-4000-8000-000000000000", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": "x@example.org"}})).wantEmpty(t, 404)
	e.do(t, "PATCH", "/api/user/00000000-0000-4000-8000-000000000000", withKey(e.key), withJSON(map[string]any{"user": map[string]any{}})).wantEmpty(t, 404)
}

// A password change revokes the user's refresh tokens (onPasswordChanged).
func TestUser_PasswordChangeRevokesRefreshTokens(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	// A profile change without a password revokes nothing.
	e.do(t, "PATCH", "/api/user/"+userID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"firstName": "X"}})).wantJSON(t, 200, nil)
	e.mustRefresh(t, login.RefreshToken)

	e.do(t, "PUT", "/api/user/"+userID, withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": email, "password": "a brand new password"}})).
		wantJSON(t, 200, nil)
	e.refreshRefused(t, login.RefreshToken)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantEmpty(t, 404)
	e.login(t, map[string]any{"loginId": email, "password": "a brand new password", "applicationId": e.appID}).wantJSON(t, 200, nil)
}

func TestUser_Delete(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)

	// Soft delete: deactivated, refresh tokens dead, reversible.
	e.do(t, "DELETE", "/api/user/"+userID, withKey(e.key)).wantEmpty(t, 200)
	var res api.UserResponse
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &res)
	if res.User.Active {
		t.Error("soft-deleted user is active")
	}
	e.refreshRefused(t, login.RefreshToken)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantEmpty(t, 423)

	e.do(t, "PUT", "/api/user/"+userID+"?reactivate=true", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": email}})).
		wantJSON(t, 200, &res)
	if !res.User.Active {
		t.Error("reactivate=true left the user inactive")
	}
	e.mustLogin(t, email, e.appID)
	e.do(t, "PUT", "/api/user/"+userID+"?reactivate=maybe", withKey(e.key), withJSON(map[string]any{"user": map[string]any{"email": email}})).
		wantErrors(t, "[invalid]reactivate")

	// The JSON body form (deleteUserWithRequest), soft.
	e.do(t, "DELETE", "/api/user/"+userID, withKey(e.key), withJSON(map[string]any{"hardDelete": false})).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &res)
	if res.User.Active {
		t.Error("soft-deleted user is active")
	}

	// Hard delete: gone.
	e.do(t, "DELETE", "/api/user/"+userID+"?hardDelete=true", withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/"+userID+"?hardDelete=true", withKey(e.key)).wantEmpty(t, 404)
	e.login(t, map[string]any{"loginId": email, "password": testPassword, "applicationId": e.appID}).wantEmpty(t, 404)
	// The email is free again.
	e.mustCreateUser(t, email)

	// Hard delete by JSON body.
	u2 := e.mustCreateUser(t, "body@example.org")
	e.do(t, "DELETE", "/api/user/"+u2.ID, withKey(e.key), withJSON(map[string]any{"hardDelete": true})).wantEmpty(t, 200)
	e.do(t, "GET", "/api/user/"+u2.ID, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/user/"+u2.ID).wantEmpty(t, 401)
}

func TestUser_Import(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pbSalt := []byte("pbkdf2-salt-0001")
	pbKey, err := pbkdf2.Key(sha256.New, "pbkdf2 password", pbSalt, 24000, 32)
	if err != nil {
		t.Fatal(err)
	}
	shaSalt := []byte("sha-salt")
	sum := sha256.Sum256(append([]byte("sha256 password"), shaSalt...))
	for i := 1; i < 3; i++ {
		sum = sha256.Sum256(sum[:])
	}
	b64 := base64.StdEncoding.EncodeToString
	users := []map[string]any{
		{"email": "pbkdf2@example.org", "password": b64(pbKey), "salt": b64(pbSalt), "factor": 24000,
			"encryptionScheme": "salted-pbkdf2-hmac-sha256", "active": true, "registrations": []map[string]any{{"applicationId": e.appID}}},
		// bcrypt "$2y$10$wisIVhmjWjm/lkujDJVAXuuYDXiGU/c9HK3mMzqFbfk45PXA527ui" for "test", split as FusionAuth does.
		{"email": "bcrypt@example.org", "password": "uYDXiGU/c9HK3mMzqFbfk45PXA527ui", "salt": "wisIVhmjWjm/lkujDJVAXu", "factor": 10,
			"encryptionScheme": "bcrypt", "active": true, "registrations": []map[string]any{{"applicationId": e.appID}}},
		{"email": "sha@example.org", "password": b64(sum[:]), "salt": b64(shaSalt), "factor": 3,
			"encryptionScheme": "salted-sha256", "active": true, "registrations": []map[string]any{{"applicationId": e.appID}}},
		{"email": "nopassword@example.org", "username": "nopw", "active": true},
	}
	e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": users})).wantEmpty(t, 200)
	// Each scheme's logins are internal/identity's TestImportUsers_Schemes;
	// here, an imported user logs in on the wire.
	e.login(t, map[string]any{"loginId": "sha@example.org", "password": "sha256 password", "applicationId": e.appID}).wantJSON(t, 200, nil)
	e.login(t, map[string]any{"loginId": "sha@example.org", "password": "sha256 passwordx", "applicationId": e.appID}).wantEmpty(t, 404)
	// A user without a password cannot log in.
	e.login(t, map[string]any{"loginId": "nopw", "password": "", "applicationId": e.appID}).wantErrors(t, "[blank]password")
	e.login(t, map[string]any{"loginId": "nopw", "password": "anything at all", "applicationId": e.appID}).wantEmpty(t, 404)

	// All or none: one bad hash and nothing is imported.
	batch := []map[string]any{
		{"email": "good@example.org", "password": b64(pbKey), "salt": b64(pbSalt), "factor": 24000, "encryptionScheme": "salted-pbkdf2-hmac-sha256"},
		{"email": "bad@example.org", "password": "not base64 !!", "salt": b64(pbSalt), "factor": 24000, "encryptionScheme": "salted-pbkdf2-hmac-sha256"},
	}
	e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": batch})).wantErrors(t, "[invalid]users[1].password")
	e.do(t, "GET", "/api/user?email="+url.QueryEscape("good@example.org"), withKey(e.key)).wantEmpty(t, 404)

	for _, tc := range []struct {
		name  string
		user  map[string]any
		codes []string
	}{
		{"unknown scheme", map[string]any{"email": "u1@example.org", "password": "x", "encryptionScheme": "md5"}, []string{"[invalid]users[0].password"}},
		{"duplicate email", map[string]any{"email": "PBKDF2@example.org"}, []string{"[duplicate]users[0].email"}},
		{"no email or username", map[string]any{"password": b64(pbKey), "salt": b64(pbSalt), "factor": 24000}, []string{"[blank]users[0].email", "[blank]users[0].username"}},
		{"bad id", map[string]any{"id": "nope", "email": "u2@example.org"}, []string{"[couldNotConvert]users[0].id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": []map[string]any{tc.user}})).wantErrors(t, tc.codes...)
		})
	}
	e.do(t, "POST", "/api/user/import", withKey(e.key), withJSON(map[string]any{"users": []any{}})).wantErrors(t, "[blank]users")
	e.do(t, "POST", "/api/user/import", withJSON(map[string]any{"users": users})).wantEmpty(t, 401)
}
