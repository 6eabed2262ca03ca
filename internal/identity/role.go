package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// maxRoleDescription is the longest description of a role, in
// characters, as FusionAuth allows.
const maxRoleDescription = 255

// The Role API. An application's roles live in the application; a
// registration names the roles it holds. Renaming a role renames it in
// every registration that holds it, and deleting a role removes it from
// them, as in FusionAuth, whose registrations refer to roles by id: the
// next token of a registration (a login, a refresh) carries the new
// roles, while JWTs already issued keep theirs until they expire.

// CreateRole adds a role to an application of the tenant ("" for any)
// and returns it. Its id is roleID, else in.ID, else a new one. A name
// that the application has already, or an id, is a duplicate; an
// application that does not exist is [invalid]applicationId.
func (s *Service) CreateRole(ctx context.Context, tenantID, appID, roleID string, in api.ApplicationRole) (api.ApplicationRole, error) {
	if roleID == "" {
		roleID = in.ID
	}
	errs := new(api.Errors)
	checkID(errs, "roleId", roleID)
	checkRole(errs, in)
	if err := errs.Err(); err != nil {
		return api.ApplicationRole{}, err
	}
	if roleID == "" {
		roleID = NewID()
	}
	roleID = strings.ToLower(roleID)
	var out api.ApplicationRole
	err := s.Tx(ctx, func(s *Service) error {
		rec, err := s.roleApplication(ctx, tenantID, appID)
		if err != nil {
			return err
		}
		if roleIndex(rec.Roles, roleID, "") >= 0 {
			return api.FieldError("roleId", "duplicate", fmt.Sprintf("A role with Id [%s] already exists.", roleID))
		}
		if roleIndex(rec.Roles, "", in.Name) >= 0 {
			return duplicateRoleName(in.Name)
		}
		now := millis(s.clock())
		out = api.ApplicationRole{ID: roleID, Name: in.Name, Description: in.Description,
			IsDefault: in.IsDefault, IsSuperRole: in.IsSuperRole, InsertInstant: now, LastUpdateInstant: now}
		rec.Roles = append(rec.Roles, out)
		return s.store.UpdateApplication(ctx, rec)
	})
	return out, err
}

// Role returns a role of an application of the tenant ("" for any):
// [invalid]applicationId when the application does not exist, not found
// when the role does not.
func (s *Service) Role(ctx context.Context, tenantID, appID, roleID string) (api.ApplicationRole, error) {
	rec, err := s.roleApplication(ctx, tenantID, appID)
	if err != nil {
		return api.ApplicationRole{}, err
	}
	i := roleIndex(rec.Roles, roleID, "")
	if i < 0 {
		return api.ApplicationRole{}, notFound("role", roleID)
	}
	return rec.Roles[i], nil
}

// UpdateRole replaces a role's name, description and flags, and returns
// it. A new name is renamed in every registration for the application
// that holds the old one. Errors as Role's, and CreateRole's for the name.
func (s *Service) UpdateRole(ctx context.Context, tenantID, appID, roleID string, in api.ApplicationRole) (api.ApplicationRole, error) {
	errs := new(api.Errors)
	checkRole(errs, in)
	if err := errs.Err(); err != nil {
		return api.ApplicationRole{}, err
	}
	var out api.ApplicationRole
	err := s.Tx(ctx, func(s *Service) error {
		rec, err := s.roleApplication(ctx, tenantID, appID)
		if err != nil {
			return err
		}
		i := roleIndex(rec.Roles, roleID, "")
		if i < 0 {
			return notFound("role", roleID)
		}
		old := rec.Roles[i]
		if j := roleIndex(rec.Roles, "", in.Name); j >= 0 && j != i {
			return duplicateRoleName(in.Name)
		}
		out = api.ApplicationRole{ID: old.ID, Name: in.Name, Description: in.Description,
			IsDefault: in.IsDefault, IsSuperRole: in.IsSuperRole,
			InsertInstant: old.InsertInstant, LastUpdateInstant: millis(s.clock())}
		rec.Roles[i] = out
		if err := s.store.UpdateApplication(ctx, rec); err != nil {
			return err
		}
		if old.Name == in.Name {
			return nil
		}
		return s.store.RenameRole(ctx, rec.ID, old.Name, in.Name)
	})
	return out, err
}

// DeleteRole deletes a role of an application of the tenant ("" for
// any), found by id, or by name when roleID is "", and removes it from
// every registration that holds it. Not found when the application or
// the role does not exist.
func (s *Service) DeleteRole(ctx context.Context, tenantID, appID, roleID, name string) error {
	if roleID == "" && name == "" {
		return notFound("role", "")
	}
	return s.Tx(ctx, func(s *Service) error {
		rec, err := s.application(ctx, tenantID, appID)
		if err != nil {
			return err
		}
		if roleID != "" {
			name = ""
		}
		i := roleIndex(rec.Roles, roleID, name)
		if i < 0 {
			return notFound("role", roleID+name)
		}
		gone := rec.Roles[i].Name
		rec.Roles = append(rec.Roles[:i:i], rec.Roles[i+1:]...)
		if err := s.store.UpdateApplication(ctx, rec); err != nil {
			return err
		}
		return s.store.RenameRole(ctx, rec.ID, gone, "")
	})
}

// roleApplication returns the application a Role API call names; one
// that does not exist (in the tenant) is [invalid]applicationId, as
// FusionAuth answers.
func (s *Service) roleApplication(ctx context.Context, tenantID, appID string) (storage.Application, error) {
	rec, err := s.application(ctx, tenantID, appID)
	if errors.Is(err, storage.ErrNotFound) {
		return rec, api.FieldError("applicationId", "invalid", fmt.Sprintf("No Application with Id [%s] exists.", appID))
	}
	return rec, err
}

// roleIndex returns the index of the role with the id (case-insensitive,
// as every UUID) or, when id is "", the name; -1 if there is none.
func roleIndex(roles []api.ApplicationRole, id, name string) int {
	for i, r := range roles {
		if (id != "" && strings.EqualFold(r.ID, id)) || (id == "" && name != "" && r.Name == name) {
			return i
		}
	}
	return -1
}

// checkRole checks a role of the Role API's requests.
func checkRole(errs *api.Errors, r api.ApplicationRole) {
	if strings.TrimSpace(r.Name) == "" {
		errs.Field("role.name", "blank", "You must specify the [role.name] property.")
	}
	if utf8.RuneCountInString(r.Description) > maxRoleDescription {
		errs.Field("role.description", "tooLong", fmt.Sprintf("The [role.description] property is longer than %d characters.", maxRoleDescription))
	}
}

func duplicateRoleName(name string) error {
	return api.FieldError("role.name", "duplicate", fmt.Sprintf("A role named [%s] already exists.", name))
}

// checkNewRoles checks the roles an application is created with, with
// FusionAuth's codes: a role's own errors under its index
// (application.roles[0]: [blank]role.name, [tooLong]role.description),
// then the names and ids defined twice.
func checkNewRoles(errs *api.Errors, roles []api.ApplicationRole) {
	names, ids := map[string]bool{}, map[string]bool{}
	var dupNames, dupIDs []string
	for i, r := range roles {
		field := fmt.Sprintf("application.roles[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			fieldCode(errs, field, "[blank]role.name", "You must specify the [name] of every role.")
		}
		if utf8.RuneCountInString(r.Description) > maxRoleDescription {
			fieldCode(errs, field, "[tooLong]role.description", fmt.Sprintf("A role's [description] is longer than %d characters.", maxRoleDescription))
		}
		checkID(errs, field+".id", r.ID)
		if names[r.Name] && r.Name != "" {
			dupNames = append(dupNames, r.Name)
		}
		if ids[r.ID] && r.ID != "" {
			dupIDs = append(dupIDs, r.ID)
		}
		names[r.Name], ids[r.ID] = true, true
	}
	if len(dupNames) > 0 {
		errs.Field("application.roles.name", "duplicate", fmt.Sprintf("The roles [%s] are defined twice.", strings.Join(dupNames, ", ")))
	}
	if len(dupIDs) > 0 {
		errs.Field("application.roles.id", "duplicate", fmt.Sprintf("The role ids [%s] are given twice.", strings.Join(dupIDs, ", ")))
	}
}

// fieldCode adds a field error whose code is not Field's "[kind]field":
// FusionAuth names some errors of an object nested in a request by the
// object's own path.
func fieldCode(errs *api.Errors, field, code, message string) {
	if errs.FieldErrors == nil {
		errs.FieldErrors = map[string][]api.Error{}
	}
	errs.FieldErrors[field] = append(errs.FieldErrors[field], api.Error{Code: code, Message: message})
}
