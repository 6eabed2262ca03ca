package kickstart_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/kickstart"
)

// builtinsFile is a kickstart that puts FusionAuth's own values into one
// request's body, under their names, twice where ids must be stable.
func builtinsFile(vars string) string {
	return `{"variables": {` + vars + `}, "apiKeys": [{"key": "` + adminKey + `", "tenantId": "#{FUSIONAUTH_TENANT_ID}"}],
	  "requests": [{"method": "POST", "url": "/api/user/registration", "tenantId": "#{FUSIONAUTH_TENANT_ID}", "body": {
	    "app": "#{FUSIONAUTH_APPLICATION_ID}", "tenant": "#{FUSIONAUTH_TENANT_ID}", "key": "#{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID}",
	    "manager": "#{TENANT_MANAGER_ID}", "managerApp": "#{FUSIONAUTH_TENANT_MANAGER_APPLICATION_ID}",
	    "form": "#{FUSIONAUTH_FORM[adminUser]_ID}", "form2": "#{FUSIONAUTH_FORM[adminUser]_ID}",
	    "regForm": "#{FUSIONAUTH_FORM[adminRegistration]_ID}",
	    "google": "#{FUSIONAUTH_LAMBDA[GoogleReconcile]_ID}", "google2": "#{FUSIONAUTH_LAMBDA[GoogleReconcile]_ID}",
	    "oidc": "#{FUSIONAUTH_LAMBDA[OpenIDReconcile]_ID}"}}]}`
}

// TestParseBuiltins: FusionAuth's own values are known in API keys and
// requests: its application's well-known id, the default tenant's id (the
// variable defaultTenantId, as the tenant will have it, or one made for
// the file), the id of the tenant's signing key, and ids for the objects
// Latch does not have, one per name.
func TestParseBuiltins(t *testing.T) {
	for _, tc := range []struct {
		name, vars, tenant, manager string
	}{
		{"no variables", ``, "", ""},
		{"defaultTenantId", `"defaultTenantId": "D7D09513-A3F5-401C-9685-34AB6C552453"`, tenantID, ""},
		{"tenantManagerApplicationId", `"tenantManagerApplicationId": "9a145715-bfbd-4c06-bff2-009315b9761e"`, "", "9a145715-bfbd-4c06-bff2-009315b9761e"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, builtinsFile(tc.vars), nil)
			var got map[string]string
			if err := json.Unmarshal(f.Requests[0].Body, &got); err != nil {
				t.Fatal(err)
			}
			if got["app"] != kickstart.AdminApplicationID || kickstart.AdminApplicationID != "3c219e58-ed0e-4b18-ad48-f4f92793ae32" {
				t.Errorf("FUSIONAUTH_APPLICATION_ID = %s, want FusionAuth's 3c219e58-ed0e-4b18-ad48-f4f92793ae32", got["app"])
			}
			mustUUID(t, "FUSIONAUTH_TENANT_ID", got["tenant"])
			if got["tenant"] != f.DefaultTenantID || f.Requests[0].TenantID != f.DefaultTenantID || f.APIKeys[0].TenantID != f.DefaultTenantID {
				t.Errorf("FUSIONAUTH_TENANT_ID = %s (request %s, key %s), want the default tenant's %s",
					got["tenant"], f.Requests[0].TenantID, f.APIKeys[0].TenantID, f.DefaultTenantID)
			}
			if tc.tenant != "" && f.DefaultTenantID != tc.tenant {
				t.Errorf("default tenant %s, want defaultTenantId in lower case, %s", f.DefaultTenantID, tc.tenant)
			}
			mustUUID(t, "FUSIONAUTH_DEFAULT_SIGNING_KEY_ID", got["key"])
			if got["key"] != f.SigningKeyID {
				t.Errorf("FUSIONAUTH_DEFAULT_SIGNING_KEY_ID = %s, want the tenant's key %s", got["key"], f.SigningKeyID)
			}
			mustUUID(t, "TENANT_MANAGER_ID", got["manager"])
			if got["managerApp"] != got["manager"] || (tc.manager != "" && got["manager"] != tc.manager) {
				t.Errorf("Tenant Manager ids %s and %s, want one id (%q if set)", got["manager"], got["managerApp"], tc.manager)
			}
			if got["form2"] != got["form"] || got["google2"] != got["google"] {
				t.Errorf("one name, two ids: %s %s, %s %s", got["form"], got["form2"], got["google"], got["google2"])
			}
			seen := map[string]string{}
			for _, k := range []string{"app", "tenant", "key", "manager", "form", "regForm", "google", "oidc"} {
				mustUUID(t, k, got[k])
				if other, ok := seen[got[k]]; ok {
					t.Errorf("%s and %s are the same id %s", k, other, got[k])
				}
				seen[got[k]] = k
			}
		})
	}

	// Each parse chooses its own tenant and key when the file does not.
	a, b := parse(t, builtinsFile(""), nil), parse(t, builtinsFile(""), nil)
	if a.DefaultTenantID == b.DefaultTenantID || a.SigningKeyID == b.SigningKeyID {
		t.Errorf("two parses chose the same ids: %s %s", a.DefaultTenantID, a.SigningKeyID)
	}
}

// TestParseBuiltinsRefused: FusionAuth's values are not known inside the
// variables (as no variable is), and a name FusionAuth does not define is
// an unknown placeholder still.
func TestParseBuiltinsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"in a variable", `{"variables": {"admin": "#{FUSIONAUTH_APPLICATION_ID}"}}`,
			[]string{`variable "admin"`, "#{FUSIONAUTH_APPLICATION_ID}", "variables may not"}},
		{"absent object in a variable", `{"variables": {"l": "#{FUSIONAUTH_LAMBDA[GoogleReconcile]_ID}"}}`,
			[]string{`variable "l"`, "variables may not"}},
		{"unknown name", withBody(`{"x": "#{FUSIONAUTH_THEME_ID}"}`), []string{"requests[0]", "unknown placeholder #{FUSIONAUTH_THEME_ID}"}},
		{"unknown form", withBody(`{"x": "#{FUSIONAUTH_FORM[nope]_ID}"}`), []string{"requests[0]", "unknown placeholder"}},
		{"outside quotes", withBody(`{"x": #{FUSIONAUTH_APPLICATION_ID}}`), []string{"requests[0]", "outside quotes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kickstart.Parse([]byte(tc.file), envOf(nil))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
