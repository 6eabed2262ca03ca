package identity

import (
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
