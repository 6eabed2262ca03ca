package identity

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
)

// errorCodes lists the codes of errs, sorted.
func errorCodes(errs *api.Errors) []string {
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

// The field-error codes of a user's fields are FusionAuth's, as its Go
// client and its themes' messages expect them: [blank] on both
// user.email and user.username when neither is given, [notEmail] for an
// address that is not one, [couldNotConvert] for a birthDate that is not
// a date, [tooShort]/[tooLong] for passwords against the tenant's rules.
func TestUserFieldErrorCodes(t *testing.T) {
	rules := api.PasswordValidationRules{MinLength: 8, MaxLength: 16}
	for _, tc := range []struct {
		name   string
		prefix string
		user   api.User
		want   []string
	}{
		{"valid", "user", api.User{Email: "ana@example.org", Password: "long enough"}, nil},
		{"neither email nor username", "user", api.User{Password: "long enough"}, []string{"[blank]user.email", "[blank]user.username"}},
		{"not an email", "user", api.User{Email: "not an email", Password: "long enough"}, []string{"[notEmail]user.email"}},
		{"a name and an address", "user", api.User{Email: "Ana <ana@example.org>", Password: "long enough"}, []string{"[notEmail]user.email"}},
		{"no domain", "user", api.User{Email: "ana@", Password: "long enough"}, []string{"[notEmail]user.email"}},
		{"too long an address", "user", api.User{Email: strings.Repeat("a", 250) + "@example.org", Password: "long enough"}, []string{"[notEmail]user.email"}},
		{"in an import", "users[3]", api.User{Email: "nope", Password: "long enough"}, []string{"[notEmail]users[3].email"}},
		{"birthDate not a date", "user", api.User{Email: "ana@example.org", UserProfile: api.UserProfile{BirthDate: "17/05/1990"}, Password: "long enough"}, []string{"[couldNotConvert]user.birthDate"}},
		{"username with a space", "user", api.User{Username: "a b", Password: "long enough"}, []string{"[invalid]user.username"}},
		{"password too short", "user", api.User{Email: "ana@example.org", Password: "short"}, []string{"[tooShort]user.password"}},
		{"password too long", "user", api.User{Email: "ana@example.org", Password: strings.Repeat("p", 17)}, []string{"[tooLong]user.password"}},
		{"usernameStatus", "user", api.User{Email: "ana@example.org", UserProfile: api.UserProfile{UsernameStatus: "Active"}, Password: "long enough"}, []string{"[invalid]user.usernameStatus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := new(api.Errors)
			validateUserFields(errs, tc.prefix, tc.user)
			checkPassword(errs, tc.prefix+".password", tc.user.Password, rules)
			if diff := cmp.Diff(tc.want, errorCodes(errs)); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
		})
	}
}

// An import follows FusionAuth's Import API: active and verified are the
// user's own, false unless sent true, and a deactivated user cannot log
// in (423 with the right password, bad credentials with a wrong one); a
// registration's verified is its own; a password without an
// encryptionScheme is plain text, hashed with argon2id whatever scheme
// and factor the request names; a hash without a factor takes the
// request's.
func TestImportUsers(t *testing.T) {
	e := newEnv(t)
	const sha256Hash = "wLAU6Ma/KdGKjOhvQaKD6G3NSlpzDUxj8iJjA6FdjsA=" // salted-sha256 of "password", factor 1
	const sha256Salt = "4MTVxbvk8swI0ys2Lf4saeR3swRvn0f2"
	reg := []api.UserRegistration{{ApplicationID: e.app.ID}}
	err := e.ImportUsers(e.ctx, "", api.ImportRequest{
		EncryptionScheme: "salted-pbkdf2-hmac-sha256", Factor: 1,
		Users: []api.User{
			{Email: "inactive@example.org", Password: testPassword, Registrations: reg},
			{Email: "active@example.org", Password: testPassword, Active: true, Registrations: reg},
			{Email: "verified@example.org", Password: testPassword, Active: true, Verified: true,
				Registrations: []api.UserRegistration{{ApplicationID: e.app.ID, Verified: true}}},
			{Email: "hash@example.org", EncryptionScheme: "salted-sha256", Salt: sha256Salt, Password: sha256Hash, Active: true, Registrations: reg},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, password  string
		want             LoginOutcome // 0: bad credentials
		verified, regVer bool
		scheme           string
	}{
		{"inactive@example.org", testPassword, LoginInactive, false, false, "argon2id"},
		{"inactive@example.org", "wrong password", 0, false, false, "argon2id"},
		{"active@example.org", testPassword, LoginOK, false, false, "argon2id"},
		{"verified@example.org", testPassword, LoginOK, true, true, "argon2id"},
		{"hash@example.org", "password", LoginOK, false, false, "salted-sha256"},
	} {
		t.Run(tc.email+" "+tc.password, func(t *testing.T) {
			u, err := e.FindUser(e.ctx, "", tc.email, "")
			if err != nil {
				t.Fatal(err)
			}
			if u.Verified != tc.verified || len(u.Registrations) != 1 || u.Registrations[0].Verified != tc.regVer || u.EncryptionScheme != tc.scheme {
				t.Errorf("imported user verified %v, registrations %+v, scheme %q; want verified %v, a registration verified %v, scheme %q",
					u.Verified, u.Registrations, u.EncryptionScheme, tc.verified, tc.regVer, tc.scheme)
			}
			res, err := e.login(tc.email, tc.password)
			wantOutcome(t, tc.email, res, err, tc.want)
			if tc.want == LoginInactive && (res.Response.Token != "" || res.Response.RefreshToken != "") {
				t.Errorf("a deactivated user got tokens")
			}
			if tc.want == LoginOK && res.Response.User != nil && res.Response.User.Verified != tc.verified {
				t.Errorf("login answer's user verified %v, want %v", res.Response.User.Verified, tc.verified)
			}
		})
	}
}

// TestImportUsers_Schemes: a user imported with FusionAuth's hash of any
// supported scheme logs in with its password, and not with another; its
// first login rehashes it to argon2id, after which the same password
// still works.
func TestImportUsers_Schemes(t *testing.T) {
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
	reg := registered(e.app.ID)
	if err := e.ImportUsers(e.ctx, "", api.ImportRequest{Users: []api.User{
		{Email: "pbkdf2@example.org", Password: b64(pbKey), Salt: b64(pbSalt), Factor: 24000, EncryptionScheme: "salted-pbkdf2-hmac-sha256", Active: true, Registrations: reg},
		// bcrypt "$2y$10$wisIVhmjWjm/lkujDJVAXuuYDXiGU/c9HK3mMzqFbfk45PXA527ui" for "test", split as FusionAuth does.
		{Email: "bcrypt@example.org", Password: "uYDXiGU/c9HK3mMzqFbfk45PXA527ui", Salt: "wisIVhmjWjm/lkujDJVAXu", Factor: 10, EncryptionScheme: "bcrypt", Active: true, Registrations: reg},
		{Email: "sha@example.org", Password: b64(sum[:]), Salt: b64(shaSalt), Factor: 3, EncryptionScheme: "salted-sha256", Active: true, Registrations: reg},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ email, password, scheme string }{
		{"pbkdf2@example.org", "pbkdf2 password", "salted-pbkdf2-hmac-sha256"},
		{"bcrypt@example.org", "test", "bcrypt"},
		{"sha@example.org", "sha256 password", "salted-sha256"},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			res, err := e.login(tc.email, tc.password+"x")
			wantOutcome(t, "another password", res, err, 0)
			u, err := e.FindUser(e.ctx, "", tc.email, "")
			if err != nil || u.EncryptionScheme != tc.scheme {
				t.Fatalf("before a login: scheme %q, %v; want %s", u.EncryptionScheme, err, tc.scheme)
			}
			res, err = e.login(tc.email, tc.password)
			wantOutcome(t, "its password", res, err, LoginOK)
			if u, err = e.FindUser(e.ctx, "", tc.email, ""); err != nil || u.EncryptionScheme != "argon2id" {
				t.Errorf("after a login: scheme %q, %v; want argon2id", u.EncryptionScheme, err)
			}
			res, err = e.login(tc.email, tc.password)
			wantOutcome(t, "its password, rehashed", res, err, LoginOK)
		})
	}
}
