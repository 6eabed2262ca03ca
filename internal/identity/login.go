package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/storage"
)

// LoginOutcome is how a login with the right password ended. Outcomes are
// not errors: httpapi maps each to FusionAuth's status code.
type LoginOutcome int

// Login outcomes, with the status FusionAuth's Login API answers for each.
const (
	LoginOK             LoginOutcome = iota + 1 // 200
	LoginNotRegistered                          // 202: authenticated, not registered for the application
	LoginChangePassword                         // 203: a password change is required
	LoginPrevented                              // 409: locked out after failed attempts
	LoginExpired                                // 410: the account has expired
	LoginInactive                               // 423: the account is deactivated
)

// lockoutActionID identifies Latch's failed-login lock in 409 responses.
const lockoutActionID = "8b6e1f0c-5a2d-4e7b-9c3f-0d1e2f3a4b5c"

var durationUnits = map[string]time.Duration{
	"MINUTES": time.Minute, "HOURS": time.Hour, "DAYS": 24 * time.Hour,
	"WEEKS": 7 * 24 * time.Hour, "MONTHS": 30 * 24 * time.Hour, "YEARS": 365 * 24 * time.Hour,
}

// LoginInput is a login attempt.
type LoginInput struct {
	Request  api.LoginRequest
	TenantID string
	Client   Client
	// OAuth marks the password grant: the application must enable it, and a
	// refresh token is issued only for the offline_access scope.
	OAuth bool
}

// LoginResult is what a login with the right password produced.
type LoginResult struct {
	Outcome   LoginOutcome
	Response  api.LoginResponse
	ExpiresIn int64
	TokenType string
	// IDToken is the OpenID Connect ID token of an OAuth login that was
	// granted the openid scope.
	IDToken string
}

// LoginNeedsAPIKey reports whether the Login API needs an API key for a
// login naming applicationID ("" for none) in the pinned tenant.
func (s *Service) LoginNeedsAPIKey(ctx context.Context, tenantID, applicationID string) (bool, error) {
	if applicationID != "" {
		app, err := s.application(ctx, tenantID, applicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return true, nil
		}
		return app.LoginConfiguration.RequireAuthentication, err
	}
	t, err := s.resolveTenant(ctx, tenantID)
	var ae *api.Errors
	if errors.As(err, &ae) {
		return true, nil
	}
	return t.LoginConfiguration.RequireAuthentication, err
}

// Login authenticates a user. An unknown login id and a wrong password
// both give ErrBadCredentials after the same work (a dummy hash for the
// unknown user), and whether an account is locked, expired or inactive is
// revealed only to the right password.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	req := in.Request
	errs := new(api.Errors)
	if req.LoginID == "" {
		errs.Field("loginId", "blank", "You must specify the [loginId] property.")
	}
	if req.Password == "" {
		errs.Field("password", "blank", "You must specify the [password] property.")
	}
	checkID(errs, "applicationId", req.ApplicationID)
	for _, t := range req.LoginIDTypes {
		if t != "email" && t != "username" {
			errs.Field("loginIdTypes", "invalid", fmt.Sprintf("The login id type [%s] is not supported; use email or username.", t))
		}
	}
	if err := errs.Err(); err != nil {
		return LoginResult{}, err
	}
	var app *storage.Application
	var t api.Tenant
	var err error
	if req.ApplicationID != "" {
		a, err := s.application(ctx, in.TenantID, req.ApplicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return LoginResult{}, api.FieldError("applicationId", "invalid", fmt.Sprintf("No Application with Id [%s] exists.", req.ApplicationID))
		} else if err != nil {
			return LoginResult{}, err
		}
		if !a.Active {
			return LoginResult{}, api.FieldError("applicationId", "inactive", fmt.Sprintf("The Application with Id [%s] is not active.", req.ApplicationID))
		}
		app = &a
		if t, err = s.store.GetTenant(ctx, a.TenantID); err != nil {
			return LoginResult{}, err
		}
	} else if t, err = s.resolveTenant(ctx, in.TenantID); err != nil {
		return LoginResult{}, err
	}

	u, err := s.findLogin(ctx, t.ID, req.LoginID, req.LoginIDTypes)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Password.Hash == "") {
		password.VerifyDummy(req.Password)
		return LoginResult{}, ErrBadCredentials
	} else if err != nil {
		return LoginResult{}, err
	}
	ok, err := password.Verify(req.Password, password.Stored(u.Password))
	if err != nil {
		s.log.Error("verify password", "user", u.ID, "scheme", u.Password.Scheme, "err", err)
		return LoginResult{}, ErrBadCredentials
	}
	if !ok {
		if err := s.recordFailure(ctx, t, app, u); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, ErrBadCredentials
	}
	return s.completeLogin(ctx, in, t, app, u)
}

// findLogin looks a login id up in the order its types name (email, then
// username by default). The login id is used exactly as given.
func (s *Service) findLogin(ctx context.Context, tenantID, loginID string, types []string) (storage.User, error) {
	if len(types) == 0 {
		types = []string{"email", "username"}
	}
	for _, typ := range types {
		var u storage.User
		var err error
		if typ == "email" {
			u, err = s.store.GetUserByEmail(ctx, tenantID, loginID)
		} else {
			u, err = s.store.GetUserByUsername(ctx, tenantID, loginID)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return u, err
		}
	}
	return storage.User{}, notFound("user", "")
}

// completeLogin runs once the password is right.
func (s *Service) completeLogin(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User) (LoginResult, error) {
	now := s.clock()
	if f, err := s.store.GetLoginFailures(ctx, u.ID); err == nil && now.Before(f.LockedUntil) {
		return LoginResult{Outcome: LoginPrevented, Response: api.LoginResponse{Actions: []api.LoginPreventedResponse{{
			ActionID: lockoutActionID, Name: "Account Lock", LocalizedName: "Account Lock",
			Expiry: millis(f.LockedUntil), Reason: "Too many failed login attempts", ReasonCode: "failed_authentication",
		}}}}, nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, err
	}
	switch {
	case !u.Expiry.IsZero() && !now.Before(u.Expiry):
		return LoginResult{Outcome: LoginExpired}, nil
	case !u.Active:
		return LoginResult{Outcome: LoginInactive}, nil
	}
	if in.OAuth && app != nil && !grantEnabled(app.Application, GrantPassword) {
		return LoginResult{}, &api.OAuthError{Code: api.OAuthUnauthorizedClient, Description: "The password grant is not enabled for this application.", Reason: "grant_type_disabled"}
	}

	var res LoginResult
	err := s.Tx(ctx, func(s *Service) error {
		u, err := s.store.GetUser(ctx, u.ID) // re-read inside the transaction
		if err != nil {
			return err
		}
		if password.NeedsRehash(password.Stored(u.Password)) {
			if h, err := password.Hash(in.Request.Password); err == nil {
				u.Password = storage.PasswordHash(h)
			}
		}
		u.LastLogin = now
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := s.store.DeleteLoginFailures(ctx, u.ID); err != nil {
			return err
		}
		var reg *storage.Registration
		if app != nil {
			r, err := s.store.GetRegistration(ctx, u.ID, app.ID)
			switch {
			case err == nil:
				r.LastLogin = now
				if err := s.store.UpdateRegistration(ctx, r); err != nil {
					return err
				}
				reg = &r
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
		}
		if res, err = s.issueLogin(ctx, in, t, app, u, reg); err != nil {
			return err
		}
		if res.Outcome != LoginOK && res.Outcome != LoginNotRegistered {
			return nil
		}
		var appID string
		if app != nil {
			appID = app.ID
		}
		return s.emitLogin(ctx, t, u, appID, false, now)
	})
	return res, err
}

// issueLogin builds the login response: the outcome and, unless noJWT or
// a password change is due, the tokens.
func (s *Service) issueLogin(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User, reg *storage.Registration) (LoginResult, error) {
	regs, err := s.store.ListRegistrations(ctx, u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Outcome: LoginOK, Response: api.LoginResponse{User: userView(u, regs, false)}}
	if u.PasswordChangeRequired {
		res.Outcome = LoginChangePassword
		res.Response = api.LoginResponse{ChangePasswordID: NewID(), ChangePasswordReason: u.PasswordChangeReason}
		return res, nil
	}
	if app != nil && reg == nil {
		res.Outcome = LoginNotRegistered
	}
	if in.Request.NoJWT {
		return res, nil
	}
	var appDoc *api.Application
	if app != nil {
		appDoc = &app.Application
	}
	var sess *storage.Session
	if reg != nil && wantsRefreshToken(in, app.Application) {
		var raw string
		if sess, raw, err = s.newSession(ctx, t, app.Application, u, api.AuthPassword, in.Client.Scopes, in.Client); err != nil {
			return LoginResult{}, err
		}
		res.Response.RefreshToken, res.Response.RefreshTokenID = raw, sess.ID
	}
	if reg == nil {
		appDoc = nil // not registered: a token without application claims
	}
	now := s.clock()
	mint := mintInput{
		tenant: t, app: appDoc, user: u, reg: reg, session: sess, scopes: in.Client.Scopes,
		authType: api.AuthPassword, authTime: now, jkt: in.Client.DPoPJKT,
	}
	tok, exp, err := s.mintAccessToken(ctx, mint)
	if err != nil {
		return LoginResult{}, err
	}
	res.Response.Token, res.Response.TokenExpirationInstant = tok, exp
	if in.OAuth && reg != nil && slices.Contains(in.Client.Scopes, ScopeOpenID) {
		if res.IDToken, err = s.mintIDToken(ctx, mint, tok, exp); err != nil {
			return LoginResult{}, err
		}
	}
	res.ExpiresIn = (exp - millis(now)) / 1000
	res.TokenType = tokenType(in.Client.DPoPJKT)
	return res, nil
}

func wantsRefreshToken(in LoginInput, app api.Application) bool {
	if in.OAuth {
		return app.OAuthConfiguration.GenerateRefreshTokens && slices.Contains(in.Client.Scopes, "offline_access")
	}
	return app.LoginConfiguration.GenerateRefreshTokens
}

// recordFailure counts a wrong password for an existing user and locks the
// account after tooManyAttempts failures within resetCountInSeconds. Every
// failure while locked restarts the lock. When a lock starts, the tenant's
// onLoginPrevented policy revokes the user's refresh tokens. The failure
// is announced with user.login.failed, in the same transaction.
func (s *Service) recordFailure(ctx context.Context, t api.Tenant, app *storage.Application, u storage.User) error {
	cfg := t.FailedAuthenticationConfiguration
	lockout := cfg.TooManyAttempts > 0 && cfg.ActionDuration > 0
	if !lockout && !t.EventConfiguration.Enabled(api.EventUserLoginFailed) {
		return nil
	}
	lockFor := time.Duration(cfg.ActionDuration) * durationUnits[cfg.ActionDurationUnit]
	if lockFor <= 0 {
		lockFor = time.Duration(cfg.ActionDuration) * time.Minute
	}
	window := time.Duration(cfg.ResetCountInSeconds) * time.Second
	var appID string
	if app != nil {
		appID = app.ID
	}
	return s.Tx(ctx, func(s *Service) error {
		now := s.clock()
		if lockout {
			f, err := s.store.GetLoginFailures(ctx, u.ID)
			if errors.Is(err, storage.ErrNotFound) {
				f = storage.LoginFailures{UserID: u.ID}
			} else if err != nil {
				return err
			}
			locked := now.Before(f.LockedUntil)
			switch {
			case locked:
				f.LockedUntil = now.Add(lockFor)
			case f.Count == 0 || now.Sub(f.FirstAt) > window:
				f.Count, f.FirstAt = 1, now
			default:
				f.Count++
			}
			f.LastAt = now
			startsLock := !locked && f.Count >= cfg.TooManyAttempts
			if startsLock {
				f.LockedUntil = now.Add(lockFor)
				f.Count = 0
			}
			if err := s.store.PutLoginFailures(ctx, f); err != nil {
				return err
			}
			if startsLock {
				s.log.Warn("account locked after failed logins", "user", u.ID, "until", f.LockedUntil)
				if t.JWTConfiguration.RefreshTokenRevocationPolicy.OnLoginPrevented {
					if _, err := s.revokeAndEmit(ctx, scopeUser, storage.SessionFilter{UserID: u.ID}, now, ReasonLoginPrevented); err != nil {
						return err
					}
				}
			}
		}
		return s.emitLogin(ctx, t, u, appID, true, now)
	})
}
