package identity

import (
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// The roles an application is created with are checked with FusionAuth's
// codes: a role's own errors under its index, names and ids given twice
// under application.roles.name and application.roles.id.
func TestCheckNewRoles(t *testing.T) {
	const id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	for _, c := range []struct {
		name  string
		roles []api.ApplicationRole
		want  []string // field: code
	}{
		{"none", nil, nil},
		{"fine", []api.ApplicationRole{{Name: "a", ID: id}, {Name: "b", Description: strings.Repeat("é", 255)}}, nil},
		{"blank", []api.ApplicationRole{{Name: "a"}, {Name: " "}}, []string{"application.roles[1]: [blank]role.name"}},
		{"long description", []api.ApplicationRole{{Name: "a", Description: strings.Repeat("d", 256)}},
			[]string{"application.roles[0]: [tooLong]role.description"}},
		{"bad id", []api.ApplicationRole{{Name: "a", ID: "x"}}, []string{"application.roles[0].id: [couldNotConvert]application.roles[0].id"}},
		{"name twice", []api.ApplicationRole{{Name: "a"}, {Name: "b"}, {Name: "a"}}, []string{"application.roles.name: [duplicate]application.roles.name"}},
		{"id twice", []api.ApplicationRole{{Name: "a", ID: id}, {Name: "b", ID: id}},
			[]string{"application.roles.id: [duplicate]application.roles.id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs := new(api.Errors)
			checkNewRoles(errs, c.roles)
			var got []string
			for field, list := range errs.FieldErrors {
				for _, e := range list {
					got = append(got, field+": "+e.Code)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("errors %v, want %v", got, c.want)
			}
		})
	}
}

// UpdateApplication keeps the roles and the state, whatever it is given;
// the Role API changes roles, and registrations follow.
func TestUpdateApplication_KeepsRolesAndState(t *testing.T) {
	e := newEnv(t)
	app, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Shop", Roles: []api.ApplicationRole{{Name: "admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := app
	in.Roles, in.Active = nil, false
	got, err := e.UpdateApplication(e.ctx, "", app.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Roles) != 1 || got.Roles[0] != app.Roles[0] || !got.Active || got.State != api.StateActive {
		t.Errorf("updated = roles %+v, active %v, state %q; want admin, active", got.Roles, got.Active, got.State)
	}

	res, err := e.Register(e.ctx, "", "", app.ID, api.RegistrationRequest{
		User:         &api.User{Email: "ana@example.org", Password: testPassword},
		Registration: api.UserRegistration{ApplicationID: app.ID, Roles: []string{"admin"}},
	}, Client{NoTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateRole(e.ctx, "", app.ID, app.Roles[0].ID, api.ApplicationRole{Name: "owner"}); err != nil {
		t.Fatal(err)
	}
	reg, err := e.GetRegistration(e.ctx, "", res.User.ID, app.ID)
	if err != nil || !slices.Equal(reg.Roles, []string{"owner"}) {
		t.Errorf("registration after the rename: %v, %v; want [owner]", reg.Roles, err)
	}
	if err := e.DeleteRole(e.ctx, "", app.ID, "", "owner"); err != nil {
		t.Fatal(err)
	}
	reg, err = e.GetRegistration(e.ctx, "", res.User.ID, app.ID)
	if err != nil || len(reg.Roles) != 0 {
		t.Errorf("registration after the delete: %v, %v; want no roles", reg.Roles, err)
	}
}
