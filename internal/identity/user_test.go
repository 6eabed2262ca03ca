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
