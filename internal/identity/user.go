package identity

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
)

// maxPreferredLanguages is FusionAuth's cap on user.preferredLanguages.
const maxPreferredLanguages = 20

// CreateUser validates and stores a new user in the pinned (or only)
// tenant, and returns it with an access token for it (no application claims).
func (s *Service) CreateUser(ctx context.Context, tenantID, id string, req api.UserRequest) (api.UserResponse, error) {
	var resp api.UserResponse
	hashed, err := s.hashIfSet(ctx, req.User.Password)
	if err != nil {
		return resp, err
	}
	err = s.Tx(ctx, func(s *Service) error {
		u, t, err := s.newUser(ctx, tenantID, id, req.User, hashed, req.SendSetPasswordEmail, "user")
		if err != nil {
			return err
		}
		if err := s.insertUser(ctx, u, "user"); err != nil {
			return err
		}
		resp.User = userView(u, nil, false)
		if req.SendSetPasswordEmail {
			return nil
		}
		resp.Token, resp.TokenExpirationInstant, err = s.mintAccessToken(ctx, mintInput{
			tenant: t, user: u, authType: api.AuthUserCreate, authTime: u.Inserted,
		})
		return err
	})
	return resp, err
}

// hashIfSet hashes a new password, if there is one, before the
// transaction that stores it: waiting for a hashing slot must not hold the
// database's writer.
func (s *Service) hashIfSet(ctx context.Context, plain string) (storage.PasswordHash, error) {
	if plain == "" {
		return storage.PasswordHash{}, nil
	}
	return s.hashPassword(ctx, plain)
}

// newUser validates a user of a create request (field paths under prefix)
// and returns the record to insert, with hashed, the hash of in.Password.
func (s *Service) newUser(ctx context.Context, tenantID, id string, in api.User, hashed storage.PasswordHash, passwordOptional bool, prefix string) (storage.User, api.Tenant, error) {
	errs := new(api.Errors)
	checkID(errs, "userId", id)
	if err := errs.Err(); err != nil {
		return storage.User{}, api.Tenant{}, err
	}
	if in.TenantID != "" && tenantID == "" {
		tenantID = in.TenantID
	}
	t, err := s.resolveTenant(ctx, tenantID)
	if err != nil {
		return storage.User{}, api.Tenant{}, err
	}
	chosen := id != ""
	if !chosen {
		id = NewID()
	}
	now := s.clock()
	u := storage.User{
		ID:                     id,
		TenantID:               t.ID,
		Email:                  fold(in.Email),
		Username:               in.Username,
		Active:                 true,
		Verified:               true,
		PasswordChangeRequired: in.PasswordChangeRequired,
		Expiry:                 fromMillis(in.Expiry),
		Profile:                in.UserProfile,
		Inserted:               now,
		Updated:                now,
	}
	if u.PasswordChangeRequired {
		u.PasswordChangeReason = "Administrative"
	}
	validateUserFields(errs, prefix, in)
	switch {
	case in.Password != "":
		checkPassword(errs, prefix+".password", in.Password, t.PasswordValidationRules)
	case !passwordOptional:
		errs.Field(prefix+".password", "blank", fmt.Sprintf("You must specify the [%s.password] property.", prefix))
	}
	if err := errs.Err(); err != nil {
		return storage.User{}, api.Tenant{}, err
	}
	if chosen {
		if err := s.checkNewUserID(ctx, u, "userId"); err != nil {
			return storage.User{}, api.Tenant{}, err
		}
	}
	if err := s.checkUnique(ctx, u, prefix); err != nil {
		return storage.User{}, api.Tenant{}, err
	}
	if in.Password != "" {
		u.Password = hashed
		u.PasswordUpdated = now
	}
	return u, t, nil
}

// validateUserFields checks the fields a user request may carry. The
// codes are FusionAuth's: [blank] on both user.email and user.username
// when neither is given, [notEmail] for an address that is not one, and
// [couldNotConvert] for a birthDate that is not a date.
func validateUserFields(errs *api.Errors, prefix string, in api.User) {
	if in.Email == "" && in.Username == "" {
		msg := fmt.Sprintf("You must specify either the [%[1]s.email] or [%[1]s.username] property.", prefix)
		errs.Field(prefix+".email", "blank", msg)
		errs.Field(prefix+".username", "blank", msg)
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			errs.Field(prefix+".email", "notEmail", fmt.Sprintf("The [%s.email] property is not a valid email address.", prefix))
		}
	}
	if len(in.Username) > 191 || strings.ContainsAny(in.Username, " \t\r\n") {
		errs.Field(prefix+".username", "invalid", fmt.Sprintf("The [%s.username] property must be at most 191 characters, without white space.", prefix))
	}
	if in.BirthDate != "" {
		if _, err := time.Parse(time.DateOnly, in.BirthDate); err != nil {
			errs.Field(prefix+".birthDate", "couldNotConvert", fmt.Sprintf("The [%s.birthDate] property must be a date in the format YYYY-MM-DD.", prefix))
		}
	}
	if len(in.PreferredLanguages) > maxPreferredLanguages {
		errs.Field(prefix+".preferredLanguages", "tooMany", fmt.Sprintf("The [%s.preferredLanguages] property holds at most %d languages.", prefix, maxPreferredLanguages))
	}
	if in.Expiry < 0 {
		errs.Field(prefix+".expiry", "invalid", fmt.Sprintf("The [%s.expiry] property must be an instant.", prefix))
	}
	switch in.UsernameStatus {
	case "", "ACTIVE", "PENDING", "REJECTED":
	default:
		errs.Field(prefix+".usernameStatus", "invalid", "The [usernameStatus] must be ACTIVE, PENDING or REJECTED.")
	}
}

// checkPassword applies the tenant's password rules.
func checkPassword(errs *api.Errors, field, pw string, r api.PasswordValidationRules) {
	n := len([]rune(pw))
	switch {
	case n < r.MinLength:
		errs.Field(field, "tooShort", fmt.Sprintf("The [%s] property is shorter than the minimum of [%d] characters.", field, r.MinLength))
	case n > r.MaxLength:
		errs.Field(field, "tooLong", fmt.Sprintf("The [%s] property is longer than the maximum of [%d] characters.", field, r.MaxLength))
	}
}

// checkUnique reports a taken email or username as a field error, so the
// caller gets FusionAuth's [duplicate] codes rather than a storage conflict.
func (s *Service) checkUnique(ctx context.Context, u storage.User, prefix string) error {
	errs := new(api.Errors)
	if u.Email != "" {
		other, err := s.store.GetUserByEmail(ctx, u.TenantID, u.Email)
		switch {
		case err == nil && other.ID != u.ID:
			errs.Field(prefix+".email", "duplicate", fmt.Sprintf("A User with email = [%s] already exists.", u.Email))
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	if u.Username != "" {
		other, err := s.store.GetUserByUsername(ctx, u.TenantID, u.Username)
		switch {
		case err == nil && other.ID != u.ID:
			errs.Field(prefix+".username", "duplicate", fmt.Sprintf("A User with username = [%s] already exists.", u.Username))
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	return errs.Err()
}

// checkNewUserID checks the id a new user u asks for (field names it in
// the error). A user of u's tenant holding it is a duplicate, which the
// caller may see. A user of another tenant must look as if it did not
// exist; but ids are global keys, so the id cannot be given either: the
// answer is unusableID's, which names no owner.
func (s *Service) checkNewUserID(ctx context.Context, u storage.User, field string) error {
	if u.ID == uuid.Nil.String() {
		return unusableID(field, u.ID)
	}
	other, err := s.store.GetUser(ctx, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.TenantID == u.TenantID:
		return api.FieldError(field, "duplicate", fmt.Sprintf("A User with Id [%s] already exists.", u.ID))
	default:
		return unusableID(field, u.ID)
	}
}

// insertUser stores u, turning a uniqueness race into FusionAuth's error.
func (s *Service) insertUser(ctx context.Context, u storage.User, prefix string) error {
	err := s.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrConflict) {
		if uerr := s.checkUnique(ctx, u, prefix); uerr != nil {
			return uerr
		}
		if uerr := s.checkNewUserID(ctx, u, "userId"); uerr != nil {
			return uerr
		}
		return unusableID("userId", u.ID) // the other user is gone again
	}
	return err
}

// GetUser returns a user with its registrations. withScheme adds the
// password's encryptionScheme, which only API-key retrieval shows.
func (s *Service) GetUser(ctx context.Context, tenantID, id string, withScheme bool) (api.User, error) {
	u, err := s.user(ctx, tenantID, id)
	if err != nil {
		return api.User{}, err
	}
	return s.view(ctx, u, withScheme)
}

// ListUsers returns the users of the pinned tenant (or the only one), with
// their registrations, ordered by email, then username.
func (s *Service) ListUsers(ctx context.Context, tenantID string) ([]api.User, error) {
	t, err := s.resolveTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	users, err := s.store.ListUsers(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]api.User, 0, len(users))
	for _, u := range users {
		v, err := s.view(ctx, u, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// FindUser looks a user up by email or username (loginId tries both),
// within the pinned tenant or the only one.
func (s *Service) FindUser(ctx context.Context, tenantID, email, username string) (api.User, error) {
	t, err := s.resolveTenant(ctx, tenantID)
	if err != nil {
		return api.User{}, err
	}
	var u storage.User
	if email != "" {
		u, err = s.store.GetUserByEmail(ctx, t.ID, email)
	} else {
		u, err = s.store.GetUserByUsername(ctx, t.ID, username)
	}
	if err != nil {
		return api.User{}, err
	}
	return s.view(ctx, u, true)
}

func (s *Service) user(ctx context.Context, tenantID, id string) (storage.User, error) {
	if !ValidID(id) {
		return storage.User{}, notFound("user", id)
	}
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return storage.User{}, err
	}
	if tenantID != "" && u.TenantID != tenantID {
		return storage.User{}, notFound("user", id)
	}
	return u, nil
}

func (s *Service) view(ctx context.Context, u storage.User, withScheme bool) (api.User, error) {
	regs, err := s.store.ListRegistrations(ctx, u.ID)
	if err != nil {
		return api.User{}, err
	}
	v := userView(u, regs, withScheme)
	if err := s.twoFactorView(ctx, v); err != nil {
		return api.User{}, err
	}
	return *v, nil
}

// userView is the response form of a user: never the hash, salt or factor.
func userView(u storage.User, regs []storage.Registration, withScheme bool) *api.User {
	v := &api.User{
		ID:                        u.ID,
		TenantID:                  u.TenantID,
		Email:                     u.Email,
		Username:                  u.Username,
		Active:                    u.Active,
		Verified:                  u.Verified,
		Expiry:                    millis(u.Expiry),
		PasswordChangeRequired:    u.PasswordChangeRequired,
		PasswordChangeReason:      u.PasswordChangeReason,
		PasswordLastUpdateInstant: millis(u.PasswordUpdated),
		InsertInstant:             millis(u.Inserted),
		LastUpdateInstant:         millis(u.Updated),
		LastLoginInstant:          millis(u.LastLogin),
		UserProfile:               u.Profile,
	}
	if u.Verified {
		v.VerifiedInstant = millis(u.Inserted)
	}
	if withScheme {
		v.EncryptionScheme = u.Password.Scheme
	}
	for _, r := range regs {
		v.Registrations = append(v.Registrations, *registrationView(r))
	}
	return v
}

func registrationView(r storage.Registration) *api.UserRegistration {
	return &api.UserRegistration{
		ID:                r.ID,
		ApplicationID:     r.ApplicationID,
		Roles:             r.Roles,
		Data:              r.Data,
		Username:          r.Username,
		Verified:          r.Verified,
		VerifiedInstant:   millis(r.Inserted),
		InsertInstant:     millis(r.Inserted),
		LastUpdateInstant: millis(r.Updated),
		LastLoginInstant:  millis(r.LastLogin),
	}
}

// UpdateUser replaces a user's fields with in (PUT semantics; the caller
// merges for PATCH). A non-empty password is re-hashed, and then the
// tenant's onPasswordChanged policy revokes the user's refresh tokens.
// reactivate turns a soft-deleted user active again.
func (s *Service) UpdateUser(ctx context.Context, tenantID, id string, in api.User, reactivate bool) (api.User, error) {
	var out api.User
	hashed, err := s.hashIfSet(ctx, in.Password)
	if err != nil {
		return out, err
	}
	err = s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, id)
		if err != nil {
			return err
		}
		t, err := s.store.GetTenant(ctx, u.TenantID)
		if err != nil {
			return err
		}
		errs := new(api.Errors)
		validateUserFields(errs, "user", in)
		if in.Password != "" {
			checkPassword(errs, "user.password", in.Password, t.PasswordValidationRules)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		now := s.clock()
		u.Email, u.Username = fold(in.Email), in.Username
		u.Profile = in.UserProfile
		u.Expiry = fromMillis(in.Expiry)
		u.PasswordChangeRequired = in.PasswordChangeRequired
		if !u.PasswordChangeRequired {
			u.PasswordChangeReason = ""
		} else if u.PasswordChangeReason == "" {
			u.PasswordChangeReason = "Administrative"
		}
		if reactivate {
			u.Active = true
		}
		u.Updated = now
		if err := s.checkUnique(ctx, u, "user"); err != nil {
			return err
		}
		if in.Password != "" {
			u.Password = hashed
			u.PasswordUpdated = now
			u.PasswordChangeRequired, u.PasswordChangeReason = false, ""
		}
		if err := s.store.UpdateUser(ctx, u); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return s.checkUnique(ctx, u, "user")
			}
			return err
		}
		if in.Password != "" && t.JWTConfiguration.RefreshTokenRevocationPolicy.OnPasswordChanged {
			if _, err := s.revokeAndEmit(ctx, scopeUser, storage.SessionFilter{UserID: u.ID}, now, ReasonPasswordChanged); err != nil {
				return err
			}
		}
		out, err = s.view(ctx, u, false)
		return err
	})
	return out, err
}

// ReactivateUser makes a user that DeleteUser deactivated active again,
// and returns it; an active user stays as it is.
func (s *Service) ReactivateUser(ctx context.Context, tenantID, id string) (api.User, error) {
	var out api.User
	err := s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if !u.Active {
			u.Active, u.Updated = true, s.clock()
			if err := s.store.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		out, err = s.view(ctx, u, false)
		return err
	})
	return out, err
}

// DeleteUser deletes a user (hard) or deactivates it (soft). Either way
// its refresh tokens are revoked, with their event.
func (s *Service) DeleteUser(ctx context.Context, tenantID, id string, hard bool) error {
	return s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, id)
		if err != nil {
			return err
		}
		now := s.clock()
		if hard {
			// Revoked first, so that the event describes the user.
			if _, err := s.revokeAndEmit(ctx, scopeUser, storage.SessionFilter{UserID: id}, now, ReasonUserDeleted); err != nil {
				return err
			}
			return s.store.DeleteUser(ctx, id)
		}
		u.Active, u.Updated = false, now
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return err
		}
		_, err = s.revokeAndEmit(ctx, scopeUser, storage.SessionFilter{UserID: id}, now, ReasonUserDeactivated)
		return err
	})
}

// Register registers a user for an application: an existing one (userID
// from the URL, no user fields in the body), or a new one created in the
// same transaction. It answers with a token and, when the application
// generates them, a refresh token.
func (s *Service) Register(ctx context.Context, tenantID, userID, appID string, req api.RegistrationRequest, client Client) (api.RegistrationResponse, error) {
	var resp api.RegistrationResponse
	if appID != "" {
		req.Registration.ApplicationID = appID
	}
	combined := req.User != nil && (req.User.Email != "" || req.User.Username != "" || req.User.Password != "")
	var hashed storage.PasswordHash
	if combined {
		var err error
		if hashed, err = s.hashIfSet(ctx, req.User.Password); err != nil {
			return resp, err
		}
	}
	err := s.Tx(ctx, func(s *Service) error {
		var u storage.User
		var t api.Tenant
		var err error
		errs := new(api.Errors)
		if req.Registration.ApplicationID == "" {
			errs.Field("registration.applicationId", "blank", "You must specify the [registration.applicationId] property.")
		}
		checkID(errs, "registration.applicationId", req.Registration.ApplicationID)
		if err := errs.Err(); err != nil {
			return err
		}
		if combined {
			if u, t, err = s.newUser(ctx, tenantID, userID, *req.User, hashed, req.SendSetPasswordEmail, "user"); err != nil {
				return err
			}
		} else {
			if userID == "" {
				validateUserFields(errs, "user", api.User{}) // neither email nor username
				return errs.Err()
			}
			if u, err = s.user(ctx, tenantID, userID); err != nil {
				return err
			}
			if t, err = s.store.GetTenant(ctx, u.TenantID); err != nil {
				return err
			}
		}
		app, err := s.application(ctx, t.ID, req.Registration.ApplicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return api.FieldError("registration.applicationId", "invalid", fmt.Sprintf("No Application with Id [%s] exists.", req.Registration.ApplicationID))
		} else if err != nil {
			return err
		}
		reg, err := s.newRegistration(ctx, u, app.Application, req.Registration)
		if err != nil {
			return err
		}
		if combined {
			if err := s.insertUser(ctx, u, "user"); err != nil {
				return err
			}
			resp.User = userView(u, []storage.Registration{reg}, false)
		}
		if err := s.store.CreateRegistration(ctx, reg); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return api.FieldError("registration", "duplicate", "The user is already registered for this application.")
			}
			return err
		}
		resp.Registration = registrationView(reg)
		if req.SendSetPasswordEmail || u.Password.Hash == "" || client.NoTokens {
			return nil
		}
		var sess *storage.Session
		if app.LoginConfiguration.GenerateRefreshTokens {
			var raw string
			if sess, raw, err = s.newSession(ctx, t, app.Application, u, api.AuthRegistration, nil, client); err != nil {
				return err
			}
			resp.RefreshToken, resp.RefreshTokenID = raw, sess.ID
		}
		resp.Token, resp.TokenExpirationInstant, err = s.mintAccessToken(ctx, mintInput{
			tenant: t, app: &app.Application, user: u, reg: &reg, session: sess,
			authType: api.AuthRegistration, authTime: s.clock(), jkt: client.DPoPJKT,
		})
		return err
	})
	return resp, err
}

func (s *Service) newRegistration(ctx context.Context, u storage.User, app api.Application, in api.UserRegistration) (storage.Registration, error) {
	errs := new(api.Errors)
	checkID(errs, "registration.id", in.ID)
	roles := in.Roles
	if roles == nil {
		roles = defaultRoles(app)
	}
	known := roleNames(app)
	for _, r := range roles {
		if !slices.Contains(known, r) {
			errs.Field("registration.roles", "invalid", fmt.Sprintf("The role [%s] is not defined on the application.", r))
		}
	}
	if err := errs.Err(); err != nil {
		return storage.Registration{}, err
	}
	id := in.ID
	if id == "" {
		id = NewID()
	}
	now := s.clock()
	return storage.Registration{
		ID: id, UserID: u.ID, ApplicationID: app.ID, TenantID: u.TenantID,
		Roles: slices.Compact(slices.Sorted(slices.Values(roles))), Username: in.Username, Verified: true, Data: in.Data,
		Inserted: now, Updated: now,
	}, nil
}

// GetRegistration returns a user's registration for an application.
func (s *Service) GetRegistration(ctx context.Context, tenantID, userID, appID string) (api.UserRegistration, error) {
	if _, err := s.user(ctx, tenantID, userID); err != nil {
		return api.UserRegistration{}, err
	}
	if !ValidID(appID) {
		return api.UserRegistration{}, notFound("application", appID)
	}
	r, err := s.store.GetRegistration(ctx, userID, appID)
	if err != nil {
		return api.UserRegistration{}, err
	}
	return *registrationView(r), nil
}

// UpdateRegistration replaces a registration's roles, username and data.
func (s *Service) UpdateRegistration(ctx context.Context, tenantID, userID, appID string, in api.UserRegistration) (api.UserRegistration, error) {
	var out api.UserRegistration
	err := s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, userID)
		if err != nil {
			return err
		}
		old, err := s.store.GetRegistration(ctx, userID, appID)
		if err != nil {
			return err
		}
		app, err := s.application(ctx, "", appID)
		if err != nil {
			return err
		}
		in.ID = old.ID
		r, err := s.newRegistration(ctx, u, app.Application, in)
		if err != nil {
			return err
		}
		r.Inserted, r.LastLogin = old.Inserted, old.LastLogin
		if err := s.store.UpdateRegistration(ctx, r); err != nil {
			return err
		}
		out = *registrationView(r)
		return nil
	})
	return out, err
}

// DeleteRegistration removes a registration and revokes the user's
// refresh tokens for that application, with their event.
func (s *Service) DeleteRegistration(ctx context.Context, tenantID, userID, appID string) error {
	return s.Tx(ctx, func(s *Service) error {
		if _, err := s.user(ctx, tenantID, userID); err != nil {
			return err
		}
		if !ValidID(appID) {
			return notFound("application", appID)
		}
		if err := s.store.DeleteRegistration(ctx, userID, appID); err != nil {
			return err
		}
		_, err := s.revokeAndEmit(ctx, scopeUserApp, storage.SessionFilter{UserID: userID, ApplicationID: appID}, s.clock(), ReasonRegistrationDeleted)
		return err
	})
}

// ImportUsers stores users brought from another system, with their
// registrations, all or none, as FusionAuth's Import API documents them:
//
//   - a user with an encryptionScheme brings a password hash of that
//     scheme (with its factor, else the request's factor, and its salt);
//     it logs in unchanged and is rehashed to argon2id at its first login;
//   - a user without one brings its password in plain text, which is
//     hashed on import. FusionAuth hashes it with the request's
//     encryptionScheme and factor; Latch always hashes new passwords with
//     argon2id, which is stronger than any scheme a request may name, so
//     those two say nothing more to it;
//   - active and verified are the user's (FusionAuth's default for both is
//     false: a user imported without "active": true is deactivated and
//     cannot log in), and a registration's verified is the registration's.
func (s *Service) ImportUsers(ctx context.Context, tenantID string, req api.ImportRequest) error {
	if len(req.Users) == 0 {
		return api.FieldError("users", "blank", "You must specify at least one user in the [users] property.")
	}
	// Plain-text passwords are hashed before the transaction, as a new
	// user's are: waiting for a hashing slot must not hold the writer.
	plain := make([]storage.PasswordHash, len(req.Users))
	for i, in := range req.Users {
		if in.EncryptionScheme != "" || in.Password == "" {
			continue
		}
		h, err := s.hashPassword(ctx, in.Password)
		if err != nil {
			return err
		}
		plain[i] = h
	}
	return s.Tx(ctx, func(s *Service) error {
		t, err := s.resolveTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		errs := new(api.Errors)
		for i, in := range req.Users {
			prefix := fmt.Sprintf("users[%d]", i)
			if err := s.importUser(ctx, t, in, req, plain[i], prefix, errs); err != nil {
				return err
			}
		}
		return errs.Err()
	})
}

// importUser validates and stores one user of an import (field paths
// under prefix), adding what is wrong with it to errs. hashed is the hash
// of its plain-text password, when it brings one.
func (s *Service) importUser(ctx context.Context, t api.Tenant, in api.User, req api.ImportRequest, hashed storage.PasswordHash, prefix string, errs *api.Errors) error {
	before := len(errs.FieldErrors) + len(errs.GeneralErrors)
	checkID(errs, prefix+".id", in.ID)
	validateUserFields(errs, prefix, in)
	ph := hashed
	if in.EncryptionScheme != "" && in.Password != "" {
		ph = storage.PasswordHash{Scheme: in.EncryptionScheme, Factor: in.Factor, Salt: in.Salt, Hash: in.Password}
		if ph.Factor == 0 {
			ph.Factor = req.Factor
		}
		if err := password.ValidateImport(password.Stored(ph)); err != nil {
			errs.Field(prefix+".password", "invalid", fmt.Sprintf("The [%s.password] hash is not valid for its encryptionScheme: %v", prefix, err))
		}
	}
	if len(errs.FieldErrors)+len(errs.GeneralErrors) > before {
		return nil
	}
	id := in.ID
	if id == "" {
		id = NewID()
	}
	now := s.clock()
	u := storage.User{
		ID: id, TenantID: t.ID, Email: fold(in.Email), Username: in.Username, Password: ph,
		Active: in.Active, Verified: in.Verified, PasswordChangeRequired: in.PasswordChangeRequired,
		Expiry: fromMillis(in.Expiry), Profile: in.UserProfile,
		Inserted: now, Updated: now,
	}
	if in.InsertInstant != 0 {
		u.Inserted = fromMillis(in.InsertInstant)
	}
	if ph.Hash != "" {
		u.PasswordUpdated = now
		// A hash brought along keeps its age; a plain-text password is
		// new (FusionAuth ignores the instant then, too).
		if in.PasswordLastUpdateInstant != 0 && in.EncryptionScheme != "" {
			u.PasswordUpdated = fromMillis(in.PasswordLastUpdateInstant)
		}
	}
	if u.PasswordChangeRequired {
		u.PasswordChangeReason = "Administrative"
	}
	var err error
	if in.ID != "" {
		err = s.checkNewUserID(ctx, u, prefix+".id")
	}
	if err == nil {
		err = s.checkUnique(ctx, u, prefix)
	}
	if err != nil {
		var ae *api.Errors
		if errors.As(err, &ae) {
			if errs.FieldErrors == nil {
				errs.FieldErrors = make(map[string][]api.Error)
			}
			for f, fe := range ae.FieldErrors {
				errs.FieldErrors[f] = append(errs.FieldErrors[f], fe...)
			}
			return nil
		}
		return err
	}
	if err := s.insertUser(ctx, u, prefix); err != nil {
		return err
	}
	for j, r := range in.Registrations {
		app, err := s.application(ctx, t.ID, r.ApplicationID)
		if err != nil {
			errs.Field(fmt.Sprintf("%s.registrations[%d].applicationId", prefix, j), "invalid", fmt.Sprintf("No Application with Id [%s] exists.", r.ApplicationID))
			continue
		}
		reg, err := s.newRegistration(ctx, u, app.Application, r)
		if err != nil {
			return err
		}
		reg.Verified = r.Verified // FusionAuth's default for an import: false
		if err := s.store.CreateRegistration(ctx, reg); err != nil {
			return err
		}
	}
	return nil
}
