package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/lockout"
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
	LoginTwoFactor                              // 242: the login waits for a two-factor code
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

// logins holds the password login rules: the request's checks, the
// lockout of a login ID (package lockout, over the LoginAttempts
// records), the password check through the hashing gate (package
// password), the rehash of a password on login, FusionAuth's login
// outcomes, and the tokens a login issues. The Login API and the OAuth
// password grant both go through it (LoginInput.OAuth). The Service's
// login methods delegate to it, and what it needs of the rest of the
// Service is named here: a part of the store, the tenant and application
// lookups, the keyed hash of login IDs, the sessions a login starts, the
// minting of tokens, and the login events.
type logins struct {
	store   loginStore
	now     func() time.Time // UTC, to the microsecond
	log     *slog.Logger
	hashing *password.Gate
	// checks counts the passwords checked (Service.PasswordChecks).
	checks *atomic.Uint64
	// mac is the keyed hash of login IDs (token.Sealer.MAC).
	mac      func(label string, data []byte) []byte
	tenants  loginTenants
	sessions loginSessions
	tokens   accessTokens
	events   loginEvents
	// codes verifies and spends two-factor codes (twofactor.go).
	codes codeChecker
	// tx runs fn with logins whose writes commit together, or not at all.
	tx func(ctx context.Context, fn func(logins) error) error
}

// loginStore is the part of storage.Store that logins read and write.
type loginStore interface {
	GetTenant(ctx context.Context, id string) (api.Tenant, error)
	GetLoginAttempts(ctx context.Context, tenantID, key string) (storage.LoginAttempts, error)
	UpdateLoginAttempts(ctx context.Context, tenantID, key string, update func(storage.LoginAttempts) (storage.LoginAttempts, error)) (storage.LoginAttempts, error)
	DeleteLoginAttempts(ctx context.Context, tenantID, key string) error
	GetUserByEmail(ctx context.Context, tenantID, email string) (storage.User, error)
	GetUserByUsername(ctx context.Context, tenantID, username string) (storage.User, error)
	GetUser(ctx context.Context, id string) (storage.User, error)
	UpdateUser(ctx context.Context, u storage.User) error
	ListRegistrations(ctx context.Context, userID string) ([]storage.Registration, error)
	GetRegistration(ctx context.Context, userID, applicationID string) (storage.Registration, error)
	UpdateRegistration(ctx context.Context, r storage.Registration) error
	// Two-factor logins (twofactor_login.go).
	ListTwoFactorMethods(ctx context.Context, userID string) ([]storage.TwoFactorMethod, error)
	CreateTwoFactorLogin(ctx context.Context, l storage.TwoFactorLogin) error
	GetTwoFactorLogin(ctx context.Context, hash []byte) (storage.TwoFactorLogin, error)
	DeleteTwoFactorLogin(ctx context.Context, hash []byte) error
	CreateTwoFactorTrust(ctx context.Context, t storage.TwoFactorTrust) error
	GetTwoFactorTrust(ctx context.Context, hash []byte) (storage.TwoFactorTrust, error)
}

// loginTenants finds the tenant and the application a login names
// (tenant.go, application.go).
type loginTenants interface {
	application(ctx context.Context, tenantID, id string) (storage.Application, error)
	resolveTenant(ctx context.Context, pinned string) (api.Tenant, error)
}

// loginSessions starts the refresh-token session of a login (session.go).
type loginSessions interface {
	create(ctx context.Context, t api.Tenant, app api.Application, u storage.User, authType string, scopes []string, c Client) (*storage.Session, string, error)
}

// loginEvents records user.login.success and user.login.failed: the
// events type (events.go).
type loginEvents interface {
	emitLogin(ctx context.Context, t api.Tenant, u storage.User, appID string, failed bool, at time.Time) error
}

// logins returns the login rules over s's store, in s's transaction if it
// is in one; outside one, tenants and applications are read through the
// cache (see recordCache).
func (s *Service) logins() logins {
	reads := *s
	reads.store = s.reads()
	return logins{store: reads.store, now: s.clock, log: s.log, hashing: s.hashing, checks: s.checks, mac: s.sealer.MAC,
		tenants: &reads, sessions: s.sessions(), tokens: s, events: s.events(), codes: s.codes(),
		tx: func(ctx context.Context, fn func(logins) error) error {
			return s.Tx(ctx, func(tx *Service) error { return fn(tx.logins()) })
		}}
}

// LoginNeedsAPIKey reports whether the Login API needs an API key for a
// login naming applicationID ("" for none) in the pinned tenant.
func (s *Service) LoginNeedsAPIKey(ctx context.Context, tenantID, applicationID string) (bool, error) {
	return s.logins().needsAPIKey(ctx, tenantID, applicationID)
}

// needsAPIKey is Service.LoginNeedsAPIKey.
func (ls logins) needsAPIKey(ctx context.Context, tenantID, applicationID string) (bool, error) {
	if applicationID != "" {
		app, err := ls.tenants.application(ctx, tenantID, applicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return true, nil
		}
		return app.LoginConfiguration.RequireAuthentication, err
	}
	t, err := ls.tenants.resolveTenant(ctx, tenantID)
	var ae *api.Errors
	if errors.As(err, &ae) {
		return true, nil
	}
	return t.LoginConfiguration.RequireAuthentication, err
}

// Login authenticates a user. An unknown login id and a wrong password
// both give ErrBadCredentials after the same work (a dummy hash for the
// unknown user, and the same writes); a locked login ID gets
// LoginPrevented whatever the password, known or not; whether an account
// is expired or inactive is revealed only to the right password. ErrBusy
// when too many passwords are being hashed, or too many of the login ID's
// are being checked at once (see package lockout): no lock, and nothing
// said about the password.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	return s.logins().login(ctx, in)
}

// login is Service.Login.
func (ls logins) login(ctx context.Context, in LoginInput) (LoginResult, error) {
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
		a, err := ls.tenants.application(ctx, in.TenantID, req.ApplicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return LoginResult{}, api.FieldError("applicationId", "invalid", fmt.Sprintf("No Application with Id [%s] exists.", req.ApplicationID))
		} else if err != nil {
			return LoginResult{}, err
		}
		if !a.Active {
			return LoginResult{}, api.FieldError("applicationId", "inactive", fmt.Sprintf("The Application with Id [%s] is not active.", req.ApplicationID))
		}
		app = &a
		if t, err = ls.store.GetTenant(ctx, a.TenantID); err != nil {
			return LoginResult{}, err
		}
	} else if t, err = ls.tenants.resolveTenant(ctx, in.TenantID); err != nil {
		return LoginResult{}, err
	}

	return ls.check(ctx, in, t, app)
}

// check checks the password of a login whose request is valid, under
// the tenant's lockout (see package lockout): refused at once while the
// login ID is locked, and with ErrBusy while its window's failures and
// running checks fill the threshold; otherwise a hashing slot taken
// (ErrBusy when there is none, with nothing counted), and a check
// reserved (an in-flight slot) while the password is hashed, the check
// made at the same cost whether or not a user has the ID, then recorded
// as a failure or completed, each in one write, so that an unknown ID
// and a wrong password look alike in status, body and time. A check that
// ends any other way gives its slot back. The hash starts with the
// reservation's write rather than after it, so that the write costs a
// login no time; a hash whose reservation is refused (another attempt
// took the last slot meanwhile) is dropped unread, and starts only after
// the write when the record read in the slot says the reservation will
// be refused.
func (ls logins) check(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application) (LoginResult, error) {
	req := in.Request
	policy := lockoutPolicy(t)
	key := ls.key(req.LoginID)
	if a, err := ls.store.GetLoginAttempts(ctx, t.ID, key); err == nil {
		switch policy.Admit(a, ls.now()) { // the cheap way out for a flood
		case lockout.Locked:
			return prevented(a), nil
		case lockout.Crowded:
			return LoginResult{}, ErrBusy
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, err
	}
	release, err := ls.hashing.Enter(ctx)
	if err != nil {
		// A full queue, or a wait the request's deadline cut short: busy,
		// and nothing counted, so that a busy server does not count an
		// honest user's attempt as a failure.
		return LoginResult{}, ErrBusy
	}
	defer release()
	// Read again: checks may have been reserved or failed during the wait.
	current, err := ls.store.GetLoginAttempts(ctx, t.ID, key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, err
	}

	u, err := ls.find(ctx, t.ID, req.LoginID, req.LoginIDTypes)
	var stored *password.Stored
	switch {
	case err == nil && u.Password.Hash != "":
		p := password.Stored(u.Password)
		stored = &p
	case err == nil || errors.Is(err, storage.ErrNotFound):
		u = storage.User{} // no such user, or none with a password: both are "no"
	default:
		return LoginResult{}, err
	}
	var hashed chan passwordCheck
	hash := func() {
		hashed = make(chan passwordCheck, 1)
		go func() {
			var c passwordCheck
			c.ok, c.err = password.Check(req.Password, stored)
			if c.ok && password.NeedsRehash(*stored) {
				if h, err := password.Hash(req.Password); err == nil {
					c.rehashed = (*storage.PasswordHash)(&h)
				}
			}
			hashed <- c
		}()
	}
	if policy.Admit(current, ls.now()) == lockout.Granted {
		hash()
	}
	var verdict lockout.Verdict
	reserved, err := ls.store.UpdateLoginAttempts(ctx, t.ID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
		a, verdict = policy.Reserve(a, ls.now())
		return a, nil
	})
	if err != nil || verdict != lockout.Granted {
		if hashed != nil {
			<-hashed // the slot is the hash's until it ends
		}
		switch {
		case err != nil:
			return LoginResult{}, err
		case verdict == lockout.Locked:
			return prevented(reserved), nil
		}
		// Other checks of this login ID are running: no lock, and nothing
		// said about the password; the caller retries in a moment.
		return LoginResult{}, ErrBusy
	}
	failed := false // the failure took the slot
	defer func() {
		if !failed {
			ls.giveBack(context.WithoutCancel(ctx), t.ID, key, policy, reserved)
		}
	}()
	if hashed == nil {
		hash()
	}
	c := <-hashed
	release() // the hashing is done; the writes need no slot
	ls.checks.Add(1)
	if c.err != nil {
		ls.log.Error("verify password", "user", u.ID, "scheme", u.Password.Scheme, "err", c.err)
	}
	if !c.ok {
		if err := ls.failed(ctx, t, app, key, policy, reserved, u); err != nil {
			return LoginResult{}, err
		}
		failed = true
		return LoginResult{}, ErrBadCredentials
	}
	return ls.complete(ctx, in, t, app, u, key, c.rehashed)
}

// passwordCheck is the outcome of password.Check, and the new hash of a
// right password stored with a scheme to upgrade.
type passwordCheck struct {
	ok       bool
	err      error
	rehashed *storage.PasswordHash
}

// giveBack gives back the slot of reserved, a check that ended without a
// failure: one that never ran, or ended in an error or an expired or
// inactive account, counts as no failure. A login deleted the record, and
// the slot with it: then only a read is made. A slot that cannot be given
// back is lost until the window ends; the answer stands.
func (ls logins) giveBack(ctx context.Context, tenantID, key string, policy lockout.Policy, reserved storage.LoginAttempts) {
	a, err := ls.store.GetLoginAttempts(ctx, tenantID, key)
	if err == nil && !policy.Release(a, reserved).Equal(a) {
		_, err = ls.store.UpdateLoginAttempts(ctx, tenantID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
			return policy.Release(a, reserved), nil
		})
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		ls.log.Error("give back a login check's slot", "tenant", tenantID, "err", err)
	}
}

// key is the key of a login ID's attempts: a keyed hash of the login
// ID as the store folds it (lower case), so that the table never holds
// what anyone typed (a password typed in the wrong field, say).
func (ls logins) key(loginID string) string {
	return hex.EncodeToString(ls.mac("login-id", []byte(strings.ToLower(loginID))))
}

// lockoutPolicy is a tenant's failedAuthenticationConfiguration as a
// lockout.Policy.
func lockoutPolicy(t api.Tenant) lockout.Policy {
	cfg := t.FailedAuthenticationConfiguration
	unit, ok := durationUnits[cfg.ActionDurationUnit]
	if !ok {
		unit = time.Minute
	}
	return lockout.Policy{
		Threshold: cfg.TooManyAttempts,
		Window:    time.Duration(cfg.ResetCountInSeconds) * time.Second,
		Duration:  time.Duration(cfg.ActionDuration) * unit,
	}
}

// prevented is the answer to every attempt while a login ID is locked:
// the same for every attempt, whatever its password.
func prevented(a storage.LoginAttempts) LoginResult {
	return LoginResult{Outcome: LoginPrevented, Response: api.LoginResponse{Actions: []api.LoginPreventedResponse{{
		ActionID: lockoutActionID, Name: "Account Lock", LocalizedName: "Account Lock",
		Expiry: millis(a.LockedUntil), Reason: "Too many failed login attempts", ReasonCode: "failed_authentication",
	}}}}
}

// failed records the failed check of reserved, a login ID's
// reservation, and announces it with user.login.failed when a user has
// the ID, in one transaction. The same write happens whether or not a
// user has the ID.
func (ls logins) failed(ctx context.Context, t api.Tenant, app *storage.Application, key string, policy lockout.Policy, reserved storage.LoginAttempts, u storage.User) error {
	var appID string
	if app != nil {
		appID = app.ID
	}
	return ls.tx(ctx, func(tx logins) error {
		now := tx.now()
		_, err := tx.store.UpdateLoginAttempts(ctx, t.ID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
			return policy.Fail(a, reserved, now), nil
		})
		if err != nil || u.ID == "" {
			return err
		}
		return tx.events.emitLogin(ctx, t, u, appID, true, now)
	})
}

// find looks a login id up in the order its types name (email, then
// username by default). The login id is used exactly as given.
func (ls logins) find(ctx context.Context, tenantID, loginID string, types []string) (storage.User, error) {
	if len(types) == 0 {
		types = []string{"email", "username"}
	}
	for _, typ := range types {
		var u storage.User
		var err error
		if typ == "email" {
			u, err = ls.store.GetUserByEmail(ctx, tenantID, loginID)
		} else {
			u, err = ls.store.GetUserByUsername(ctx, tenantID, loginID)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return u, err
		}
	}
	return storage.User{}, notFound("user", "")
}

// complete runs once the password is right: an expired or
// deactivated account is told so (its check counts as no failure, and
// check gives its slot back), any other
// login clears the login ID's attempts. rehashed, when set, replaces the
// stored password hash.
func (ls logins) complete(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User, key string, rehashed *storage.PasswordHash) (LoginResult, error) {
	now := ls.now()
	switch {
	case !u.Expiry.IsZero() && !now.Before(u.Expiry):
		return LoginResult{Outcome: LoginExpired}, nil
	case !u.Active:
		return LoginResult{Outcome: LoginInactive}, nil
	}
	if in.OAuth && app != nil && !grantEnabled(app.Application, GrantPassword) {
		return LoginResult{}, &api.OAuthError{Code: api.OAuthUnauthorizedClient, Description: "The password grant is not enabled for this application.", Reason: "grant_type_disabled"}
	}
	if res, waits, err := ls.secondStep(ctx, in, t, app, u, key, rehashed); waits || err != nil {
		return res, err
	}
	return ls.finish(ctx, in, t, app, u, key, rehashed)
}

// finish completes a login whose every step is done: the user's last
// login, the login ID's attempts cleared, the registration's last login,
// the tokens and user.login.success, in one transaction.
func (ls logins) finish(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User, key string, rehashed *storage.PasswordHash) (LoginResult, error) {
	now := ls.now()
	var res LoginResult
	err := ls.tx(ctx, func(tx logins) error {
		u, err := tx.store.GetUser(ctx, u.ID) // re-read inside the transaction
		if err != nil {
			return err
		}
		if rehashed != nil {
			u.Password = *rehashed
		}
		u.LastLogin = now
		if err := tx.store.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.store.DeleteLoginAttempts(ctx, t.ID, key); err != nil {
			return err
		}
		var reg *storage.Registration
		if app != nil {
			r, err := tx.store.GetRegistration(ctx, u.ID, app.ID)
			switch {
			case err == nil:
				r.LastLogin = now
				if err := tx.store.UpdateRegistration(ctx, r); err != nil {
					return err
				}
				reg = &r
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
		}
		if res, err = tx.issue(ctx, in, t, app, u, reg); err != nil {
			return err
		}
		if res.Outcome != LoginOK && res.Outcome != LoginNotRegistered {
			return nil
		}
		var appID string
		if app != nil {
			appID = app.ID
		}
		return tx.events.emitLogin(ctx, t, u, appID, false, now)
	})
	return res, err
}

// issue builds the login response: the outcome and, unless noJWT or
// a password change is due, the tokens.
func (ls logins) issue(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User, reg *storage.Registration) (LoginResult, error) {
	regs, err := ls.store.ListRegistrations(ctx, u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	view := userView(u, regs, false)
	if ms, err := ls.store.ListTwoFactorMethods(ctx, u.ID); err != nil {
		return LoginResult{}, err
	} else if len(ms) > 0 {
		view.TwoFactor = &api.UserTwoFactor{Methods: methodViews(ms)}
	}
	res := LoginResult{Outcome: LoginOK, Response: api.LoginResponse{User: view}}
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
		if sess, raw, err = ls.sessions.create(ctx, t, app.Application, u, api.AuthPassword, in.Client.Scopes, in.Client); err != nil {
			return LoginResult{}, err
		}
		res.Response.RefreshToken, res.Response.RefreshTokenID = raw, sess.ID
	}
	if reg == nil {
		appDoc = nil // not registered: a token without application claims
	}
	now := ls.now()
	mint := mintInput{
		tenant: t, app: appDoc, user: u, reg: reg, session: sess, scopes: in.Client.Scopes,
		authType: api.AuthPassword, authTime: now, jkt: in.Client.DPoPJKT,
	}
	tok, exp, err := ls.tokens.mintAccessToken(ctx, mint)
	if err != nil {
		return LoginResult{}, err
	}
	res.Response.Token, res.Response.TokenExpirationInstant = tok, exp
	if in.OAuth && reg != nil && slices.Contains(in.Client.Scopes, ScopeOpenID) {
		if res.IDToken, err = ls.tokens.mintIDToken(ctx, mint, tok, exp); err != nil {
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
