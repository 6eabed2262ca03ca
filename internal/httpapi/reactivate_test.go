package httpapi_test

import (
	"testing"

	"github.com/latchid/latch/api"
)

// PUT ?reactivate=true reactivates with no body, as FusionAuth's clients
// send it (ReactivateUser, ReactivateApplication), and ignores a body;
// reactivating what is active changes nothing; an unknown id is 404.
func TestReactivate(t *testing.T) {
	t.Parallel()
	e := sharedEnv(t)
	userID, email := e.mustUser(t, e.appID)
	appID := e.mustCreateApp(t, map[string]any{}).ID
	const unknown = "00000000-0000-4000-8000-00000000abcd"

	for _, c := range []struct {
		name   string
		path   string
		active func(t *testing.T) bool
	}{
		{"user", "/api/user/" + userID, func(t *testing.T) bool {
			var res api.UserResponse
			e.do(t, "GET", "/api/user/"+userID, withKey(e.key)).wantJSON(t, 200, &res)
			return res.User.Active
		}},
		{"application", "/api/application/" + appID, func(t *testing.T) bool {
			var res api.ApplicationResponse
			e.do(t, "GET", "/api/application/"+appID, withKey(e.key)).wantJSON(t, 200, &res)
			return res.Application.Active && res.Application.State == api.StateActive
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, body := range []struct {
				name string
				opts []reqOpt
			}{
				{"no body", nil},
				{"an empty body", []reqOpt{withBody("application/json", nil)}},
				{"a body, ignored", []reqOpt{withJSON(map[string]any{"user": map[string]any{}, "application": map[string]any{}})}},
			} {
				e.do(t, "DELETE", c.path, withKey(e.key)).wantEmpty(t, 200)
				if c.active(t) {
					t.Fatal("active after DELETE")
				}
				r := e.do(t, "PUT", c.path+"?reactivate=true", append([]reqOpt{withKey(e.key)}, body.opts...)...)
				if c.name == "user" {
					var res api.UserResponse
					if r.wantJSON(t, 200, &res); res.User == nil || !res.User.Active || res.User.Email != email {
						t.Errorf("reactivated with %s: %s", body.name, r.Body)
					}
				} else {
					var res api.ApplicationResponse
					if r.wantJSON(t, 200, &res); res.Application == nil || res.Application.State != api.StateActive || res.Application.Name == "" {
						t.Errorf("reactivated with %s: %s", body.name, r.Body)
					}
				}
				if !c.active(t) {
					t.Errorf("inactive after reactivation with %s", body.name)
				}
			}
			// Once more, on what is active: no change.
			e.do(t, "PUT", c.path+"?reactivate=true", withKey(e.key)).wantJSON(t, 200, nil)
			if !c.active(t) {
				t.Error("inactive after reactivating an active one")
			}
			e.do(t, "PUT", c.path+"?reactivate=maybe", withKey(e.key)).wantErrors(t, "[invalid]reactivate")
		})
	}
	e.do(t, "PUT", "/api/user/"+unknown+"?reactivate=true", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "PUT", "/api/application/"+unknown+"?reactivate=true", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "PUT", "/api/application/"+appID+"?reactivate=true").wantEmpty(t, 401)
	e.mustLogin(t, email, e.appID) // the user reactivated logs in
}
