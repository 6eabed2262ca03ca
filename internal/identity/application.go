package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// OAuth grant types.
const (
	GrantPassword     = "password"
	GrantRefreshToken = "refresh_token"
)

// knownGrants are the grant names FusionAuth accepts in enabledGrants;
// Latch serves password and refresh_token and stores the others as given.
var knownGrants = []string{GrantAuthorizationCode, "client_credentials", "implicit", GrantPassword, GrantRefreshToken,
	"urn:ietf:params:oauth:grant-type:device_code"}

// DefaultApplication returns an application filled with Latch's defaults;
// requests are decoded over it. Its jwtConfiguration is off (the tenant's
// applies) but holds the tenant defaults, so an application that turns it
// on and sets only some fields gets Latch's defaults for the others: in
// particular the one-time-use grace period that keeps parallel requests
// from logging an honest user out. (Reuse detection is the tenant's
// revocation policy, whatever the application holds: see jwtConfig.)
func DefaultApplication() api.Application {
	jwt := DefaultTenant().JWTConfiguration
	jwt.Enabled = false
	return api.Application{
		Active:           true,
		JWTConfiguration: jwt,
		LoginConfiguration: api.LoginConfiguration{
			AllowTokenRefresh:     true,
			GenerateRefreshTokens: true,
			RequireAuthentication: true,
		},
		OAuthConfiguration: api.OAuthConfiguration{
			ClientAuthenticationPolicy: api.ClientAuthRequired,
			GenerateRefreshTokens:      true,
		},
	}
}

// CreateApplication validates and stores a new application in the tenant
// (pinned, or the only one), and returns it with its OAuth client secret:
// the one given, or a new one.
func (s *Service) CreateApplication(ctx context.Context, tenantID, id string, a api.Application) (api.Application, error) {
	errs := new(api.Errors)
	checkID(errs, "applicationId", id)
	if err := errs.Err(); err != nil {
		return api.Application{}, err
	}
	if a.TenantID != "" && tenantID == "" {
		tenantID = a.TenantID
	}
	t, err := s.resolveTenant(ctx, tenantID)
	if err != nil {
		return api.Application{}, err
	}
	if id == "" {
		id = NewID()
	} else if err := s.checkNewApplicationID(ctx, t.ID, id); err != nil {
		return api.Application{}, err
	}
	a.ID, a.TenantID = id, t.ID
	// Every application starts active, whatever the request says: FusionAuth
	// ignores active on create, and its Go client sends "active": false
	// with every request.
	a.Active = true
	secret := a.OAuthConfiguration.ClientSecret
	if secret == "" {
		if secret, err = token.NewAPIKey(); err != nil {
			return api.Application{}, err
		}
	}
	s.validateApplication(ctx, errs, &a)
	checkNewRoles(errs, a.Roles)
	if err := errs.Err(); err != nil {
		return api.Application{}, err
	}
	now := millis(s.clock())
	a.InsertInstant, a.LastUpdateInstant = now, now
	for i := range a.Roles {
		if a.Roles[i].ID == "" {
			a.Roles[i].ID = NewID()
		}
		a.Roles[i].ID = strings.ToLower(a.Roles[i].ID)
		a.Roles[i].InsertInstant, a.Roles[i].LastUpdateInstant = now, now
	}
	rec := storage.Application{Application: a}
	if err := s.setClientSecret(&rec, secret); err != nil {
		return api.Application{}, err
	}
	rec.OAuthConfiguration.ClientSecret = ""
	if err := s.store.CreateApplication(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			if cerr := s.checkNewApplicationID(ctx, t.ID, id); cerr != nil {
				return api.Application{}, cerr
			}
			return api.Application{}, unusableID("applicationId", id) // the other one is gone again
		}
		return api.Application{}, err
	}
	a.OAuthConfiguration.ClientSecret = secret
	return a, nil
}

// checkNewApplicationID checks the id a new application of tenantID asks
// for, as checkNewUserID does a user's: an application of the same
// tenant holding it is a duplicate, one of another tenant is invisible,
// and its id merely unusable.
func (s *Service) checkNewApplicationID(ctx context.Context, tenantID, id string) error {
	if id == uuid.Nil.String() {
		return unusableID("applicationId", id)
	}
	other, err := s.store.GetApplication(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.TenantID == tenantID:
		return api.FieldError("applicationId", "duplicate", fmt.Sprintf("An Application with Id [%s] already exists.", id))
	default:
		return unusableID("applicationId", id)
	}
}

// GetApplication returns an application of the tenant ("" for any).
func (s *Service) GetApplication(ctx context.Context, tenantID, id string) (api.Application, error) {
	rec, err := s.application(ctx, tenantID, id)
	return applicationView(rec), err
}

// GetApplicationWithSecret is GetApplication with the OAuth client
// secret, for the callers that may read it: API keys allowed to read
// applications, to which FusionAuth returns it too. An application whose
// secret was stored before Latch kept secrets sealed (its hash only) has
// none to show.
func (s *Service) GetApplicationWithSecret(ctx context.Context, tenantID, id string) (api.Application, error) {
	rec, err := s.application(ctx, tenantID, id)
	if err != nil {
		return api.Application{}, err
	}
	return s.applicationWithSecret(rec)
}

// ListApplicationsWithSecrets is ListApplications with the OAuth client
// secrets (see GetApplicationWithSecret).
func (s *Service) ListApplicationsWithSecrets(ctx context.Context, tenantID string) ([]api.Application, error) {
	recs, err := s.store.ListApplications(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]api.Application, len(recs))
	for i, r := range recs {
		if out[i], err = s.applicationWithSecret(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// applicationView is the response form of an application, without its
// client secret: its state as FusionAuth spells it, derived from Active,
// so that documents stored with another spelling read the same.
func applicationView(rec storage.Application) api.Application {
	a := rec.Application
	a.State = applicationState(a.Active)
	a.OAuthConfiguration.ClientSecret = ""
	return a
}

// applicationWithSecret is applicationView with the client secret opened.
func (s *Service) applicationWithSecret(rec storage.Application) (api.Application, error) {
	a := applicationView(rec)
	secret, err := s.clientSecret(rec)
	a.OAuthConfiguration.ClientSecret = secret
	return a, err
}

// clientSecretAD is the additional data a client secret is sealed with:
// its application's id, under a label of its own, so that a sealed secret
// opens only as its own application's, and nothing else the master key
// seals (a signing key is sealed with its bare id) opens as a secret.
func clientSecretAD(appID string) []byte { return []byte("oauth client secret\x00" + appID) }

// setClientSecret keeps secret in rec twice: hashed, to authenticate
// clients with (AuthenticateClient), and sealed under the master key, for
// the Application API to return (GetApplicationWithSecret).
func (s *Service) setClientSecret(rec *storage.Application, secret string) error {
	sealed, err := s.sealer.Seal([]byte(secret), clientSecretAD(rec.ID))
	if err != nil {
		return fmt.Errorf("seal the client secret of application %s: %w", rec.ID, err)
	}
	rec.ClientSecretHash, rec.ClientSecretSealed = token.HashSecret(secret), sealed
	return nil
}

// clientSecret opens rec's sealed client secret: "" when it has none, as
// an application stored before secrets were sealed (its hash only).
func (s *Service) clientSecret(rec storage.Application) (string, error) {
	if len(rec.ClientSecretSealed) == 0 {
		return "", nil
	}
	b, err := s.sealer.Open(rec.ClientSecretSealed, clientSecretAD(rec.ID))
	if err != nil {
		return "", fmt.Errorf("open the client secret of application %s: %w", rec.ID, err)
	}
	return string(b), nil
}

// applicationState spells an application's state (FusionAuth's ObjectState).
func applicationState(active bool) string {
	if active {
		return api.StateActive
	}
	return api.StateInactive
}

func (s *Service) application(ctx context.Context, tenantID, id string) (storage.Application, error) {
	if !ValidID(id) {
		return storage.Application{}, notFound("application", id)
	}
	rec, err := s.store.GetApplication(ctx, id)
	if err != nil {
		return storage.Application{}, err
	}
	if tenantID != "" && rec.TenantID != tenantID {
		return storage.Application{}, notFound("application", id)
	}
	return rec, nil
}

// ListApplications returns the applications of a tenant ("" for all).
func (s *Service) ListApplications(ctx context.Context, tenantID string) ([]api.Application, error) {
	recs, err := s.store.ListApplications(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]api.Application, len(recs))
	for i, r := range recs {
		out[i] = applicationView(r)
	}
	return out, nil
}

// UpdateApplication validates and replaces an application, and returns it
// with its client secret. A non-empty client secret replaces the stored
// one; an empty one keeps it. The state and the roles stay as they are,
// whatever a says:
// as in FusionAuth, only DeleteApplication and ReactivateApplication
// change the state, and only the Role API (CreateRole, UpdateRole,
// DeleteRole) the roles.
func (s *Service) UpdateApplication(ctx context.Context, tenantID, id string, a api.Application) (api.Application, error) {
	var out api.Application
	err := s.Tx(ctx, func(s *Service) error {
		var err error
		out, err = s.updateApplication(ctx, tenantID, id, a)
		return err
	})
	return out, err
}

func (s *Service) updateApplication(ctx context.Context, tenantID, id string, a api.Application) (api.Application, error) {
	old, err := s.application(ctx, tenantID, id)
	if err != nil {
		return api.Application{}, err
	}
	a.ID, a.TenantID = id, old.TenantID
	// Neither the state nor the roles are an update's to change, as in
	// FusionAuth: a full update that carries no roles (FusionAuth's Go
	// client omits an empty list) must not take them away from the
	// registrations that hold them. The Role API changes roles.
	a.Active, a.Roles = old.Active, old.Roles
	errs := new(api.Errors)
	s.validateApplication(ctx, errs, &a)
	if err := errs.Err(); err != nil {
		return api.Application{}, err
	}
	a.InsertInstant = old.InsertInstant
	a.LastUpdateInstant = millis(s.clock())
	rec := storage.Application{Application: a, ClientSecretHash: old.ClientSecretHash, ClientSecretSealed: old.ClientSecretSealed}
	if secret := a.OAuthConfiguration.ClientSecret; secret != "" {
		if err := s.setClientSecret(&rec, secret); err != nil {
			return api.Application{}, err
		}
	}
	rec.OAuthConfiguration.ClientSecret = ""
	if err := s.store.UpdateApplication(ctx, rec); err != nil {
		return api.Application{}, err
	}
	return s.applicationWithSecret(rec)
}

// ReactivateApplication makes an application that DeleteApplication
// deactivated active again, and returns it with its client secret; an
// active one stays as it is.
func (s *Service) ReactivateApplication(ctx context.Context, tenantID, id string) (api.Application, error) {
	var out api.Application
	err := s.Tx(ctx, func(s *Service) error {
		rec, err := s.application(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if !rec.Active {
			rec.Active, rec.State = true, api.StateActive
			rec.LastUpdateInstant = millis(s.clock())
			if err := s.store.UpdateApplication(ctx, rec); err != nil {
				return err
			}
		}
		out, err = s.applicationWithSecret(rec)
		return err
	})
	return out, err
}

// DeleteApplication deletes an application with its registrations and
// refresh tokens (hard), or deactivates it (soft). Either way its refresh
// tokens are revoked, with their event (all of an application), so that
// backends stop accepting its access tokens too.
func (s *Service) DeleteApplication(ctx context.Context, tenantID, id string, hard bool) error {
	return s.Tx(ctx, func(s *Service) error {
		app, err := s.application(ctx, tenantID, id)
		if err != nil {
			return err
		}
		reason := ReasonApplicationDeleted
		if !hard {
			reason = ReasonApplicationDeactivated
		}
		if _, err := s.revokeAndEmit(ctx, scopeApp, storage.SessionFilter{ApplicationID: id}, s.clock(), reason); err != nil {
			return err
		}
		if hard {
			return s.store.DeleteApplication(ctx, id)
		}
		app.Active, app.State = false, api.StateInactive
		app.LastUpdateInstant = millis(s.clock())
		return s.store.UpdateApplication(ctx, app)
	})
}

func (s *Service) validateApplication(ctx context.Context, errs *api.Errors, a *api.Application) {
	if a.Name == "" {
		errs.Field("application.name", "blank", "You must specify the [application.name] property.")
	}
	a.State = applicationState(a.Active)
	validateApplicationTwoFactor(errs, a)
	if a.JWTConfiguration.Enabled {
		s.validateJWTConfiguration(ctx, errs, "application.jwtConfiguration", &a.JWTConfiguration)
	} else if id := a.JWTConfiguration.AccessTokenKeyID; id != "" {
		if _, err := s.store.GetKey(ctx, id); err != nil {
			errs.Field("application.jwtConfiguration.accessTokenKeyId", "invalid", fmt.Sprintf("The key [%s] does not exist.", id))
		}
	}
	o := &a.OAuthConfiguration
	o.ClientID = a.ID
	switch o.ClientAuthenticationPolicy {
	case "":
		o.ClientAuthenticationPolicy = api.ClientAuthRequired
		if !o.RequireClientAuthentication {
			o.ClientAuthenticationPolicy = api.ClientAuthNotRequired
		}
	case api.ClientAuthRequired, api.ClientAuthNotRequired, api.ClientAuthNotRequiredWhenUsingPKCE:
	default:
		errs.Field("application.oauthConfiguration.clientAuthenticationPolicy", "invalid",
			"The [clientAuthenticationPolicy] must be Required, NotRequired or NotRequiredWhenUsingPKCE.")
	}
	o.RequireClientAuthentication = o.ClientAuthenticationPolicy == api.ClientAuthRequired
	validateAuthorizationSettings(errs, o)
	for _, g := range o.EnabledGrants {
		if !slices.Contains(knownGrants, g) {
			errs.Field("application.oauthConfiguration.enabledGrants", "invalid", fmt.Sprintf("The grant [%s] is not a known grant type.", g))
		}
	}
}

// RoleNames returns the names of an application's roles.
func roleNames(a api.Application) []string {
	names := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		names[i] = r.Name
	}
	return names
}

// defaultRoles returns the roles marked isDefault.
func defaultRoles(a api.Application) []string {
	var names []string
	for _, r := range a.Roles {
		if r.IsDefault {
			names = append(names, r.Name)
		}
	}
	return names
}

// jwtConfig returns the configuration that governs an application's
// tokens: the one place where the application's jwtConfiguration meets
// its tenant's. The rule is FusionAuth's, as its documentation states it:
//   - The application's block applies only when its enabled is true;
//     otherwise the tenant's applies in whole (Application API,
//     application.jwtConfiguration.enabled: "using the JWT configuration
//     defined here or the global JWT configuration defined by the Tenant",
//     https://fusionauth.io/docs/apis/applications). A block that is off
//     overrides nothing, whatever it holds: the Go client sends its zero
//     values (a gracePeriodInSeconds of 0, an all-false revocation policy)
//     beside "enabled": false, and they leave the tenant's in force.
//   - An enabled block sets the access and refresh token lifetimes, the
//     usage and expiration policies (with the sliding window's maximum)
//     and the one-time-use grace period: the settings the application's
//     JWT tab offers (Core concepts, Applications, "Refresh Token
//     Settings", https://fusionauth.io/docs/get-started/core-concepts/applications).
//   - The refreshTokenRevocationPolicy is always the tenant's. FusionAuth
//     documents it on the tenant only (Tenant API,
//     tenant.jwtConfiguration.refreshTokenRevocationPolicy.*,
//     https://fusionauth.io/docs/apis/tenants), shows it on the tenant's
//     settings and not the application's, and the grace period's note
//     speaks of "the Tenant Refresh Token Revocation Policy". An
//     application's copy, which FusionAuth's clients send (all false when
//     unset), is stored and has no effect: a client's zero values cannot
//     switch the tenant's theft detection (onOneTimeTokenReuse) off. Of
//     the four, onOneTimeTokenReuse is read by refresh and logout,
//     onPasswordChanged by a password change. onLoginPrevented is read by
//     nothing: the failed-login lock is the only thing that prevents a
//     login, and it revokes no session, so that a stranger who locks a
//     login ID out ends none of its user's sessions
//     (TestLogin_LockoutKeepsSessions). onMultiFactorEnable has nothing
//     to act on until Latch has multi-factor authentication.
//   - The signing keys: the application's accessTokenKeyId applies even
//     when its block is off, and the tenant's fills in for an enabled
//     block that names none.
func jwtConfig(t api.Tenant, a *api.Application) api.JWTConfiguration {
	if a != nil && a.JWTConfiguration.Enabled {
		c := a.JWTConfiguration
		if c.AccessTokenKeyID == "" {
			c.AccessTokenKeyID = t.JWTConfiguration.AccessTokenKeyID
		}
		c.RefreshTokenRevocationPolicy = t.JWTConfiguration.RefreshTokenRevocationPolicy
		return c
	}
	c := t.JWTConfiguration
	if a != nil && a.JWTConfiguration.AccessTokenKeyID != "" {
		c.AccessTokenKeyID = a.JWTConfiguration.AccessTokenKeyID
	}
	return c
}
