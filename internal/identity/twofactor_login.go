package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// The two steps of a two-factor login, and the lockout. The right
// password of a user who must give a code neither counts as a failure nor
// clears the login ID's failures: its reservation is given back, and the
// login waits (a twoFactorId). Each code presented for it is then
// reserved and counted exactly as a password check is (package lockout),
// a wrong one recorded as a failure, and the right one clears the
// failures as a successful login does; while the login ID is locked, no
// code is checked. So the right password does not buy more guesses at
// the code.

// secondStep decides, for a login with the right password, whether it
// must wait for a code. When it must, it stores the waiting login and
// returns the 242 answer (or, for the OAuth password grant, the
// two_factor_required error) with waits true.
func (ls logins) secondStep(ctx context.Context, in LoginInput, t api.Tenant, app *storage.Application, u storage.User, key string,
	rehashed *storage.PasswordHash) (LoginResult, bool, error) {
	var appDoc *api.Application
	var appID string
	if app != nil {
		appDoc, appID = &app.Application, app.ID
	}
	p := LoginPolicy(t, appDoc)
	if p == api.MultiFactorDisabled {
		return LoginResult{}, false, nil
	}
	methods, err := ls.store.ListTwoFactorMethods(ctx, u.ID)
	if err != nil {
		return LoginResult{}, false, err
	}
	now := ls.now()
	trusted := false
	if id := in.Request.TwoFactorTrustID; id != "" && len(methods) > 0 {
		tr, err := ls.store.GetTwoFactorTrust(ctx, hashTwoFactorID(id))
		switch {
		case err == nil:
			trusted = tr.UserID == u.ID && now.Before(tr.Expires)
		case !errors.Is(err, storage.ErrNotFound):
			return LoginResult{}, false, err
		}
	}
	step := NeedsSecondFactor(p, len(methods), trusted)
	if step == NoSecondStep {
		return LoginResult{}, false, nil
	}
	// The password was right: its check does not count (check gives its
	// slot back).
	if step == EnrollFirst {
		const msg = "Two-factor authentication is required, and the user has no two-factor method: enable one (POST /api/user/two-factor) first."
		if in.OAuth {
			return LoginResult{}, true, &api.OAuthError{Code: api.OAuthTwoFactorRequired, Description: msg, Reason: "two_factor_required"}
		}
		return LoginResult{}, true, api.GeneralError("[TwoFactorRequired]", msg)
	}

	raw, err := token.NewRefreshToken() // 256 random bits
	if err != nil {
		return LoginResult{}, true, err
	}
	pending := storage.TwoFactorLogin{Hash: hashTwoFactorID(raw), TenantID: t.ID, UserID: u.ID, ApplicationID: appID, LoginKey: key,
		Address: in.Client.Address, DPoPJKT: in.Client.DPoPJKT, Inserted: now, Expires: now.Add(twoFactorIDTTL(t))}
	err = ls.tx(ctx, func(tx logins) error {
		if rehashed != nil {
			u, err := tx.store.GetUser(ctx, u.ID)
			if err != nil {
				return err
			}
			u.Password = *rehashed
			if err := tx.store.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.store.CreateTwoFactorLogin(ctx, pending)
	})
	if err != nil {
		return LoginResult{}, true, err
	}
	views := methodViews(methods)
	if in.OAuth {
		return LoginResult{}, true, &api.OAuthError{Code: api.OAuthTwoFactorRequired, Reason: "two_factor_required",
			Description: "A two-factor code is required: complete the login at POST /api/two-factor/login.", TwoFactorID: raw, TwoFactorMethods: views}
	}
	return LoginResult{Outcome: LoginTwoFactor, Response: api.LoginResponse{TwoFactorID: raw, Methods: views}}, true, nil
}

// TwoFactorLoginInput is the second step of a two-factor login.
type TwoFactorLoginInput struct {
	Request api.TwoFactorLoginRequest
	// TenantID is the tenant the request is pinned to ("" for none).
	TenantID string
	// Client is the caller: it must be the first step's (address and DPoP
	// key), and the tokens are bound to its DPoP key.
	Client Client
}

// TwoFactorLogin completes a login that answered LoginTwoFactor, with a
// code of one of the user's methods or a recovery code (spent). It
// answers as Login does (LoginOK with the tokens, and a twoFactorTrustId
// when the request trusts the computer); ErrTwoFactorIDInvalid for a
// twoFactorId that is unknown, expired, spent, or presented by another
// client or for another application; ErrTwoFactorCode for a wrong code,
// which counts toward the lockout; LoginPrevented while the login ID is
// locked.
func (s *Service) TwoFactorLogin(ctx context.Context, in TwoFactorLoginInput) (LoginResult, error) {
	return s.logins().twoFactor(ctx, in)
}

// twoFactor is Service.TwoFactorLogin.
func (ls logins) twoFactor(ctx context.Context, in TwoFactorLoginInput) (LoginResult, error) {
	req := in.Request
	errs := new(api.Errors)
	if req.TwoFactorID == "" {
		errs.Field("twoFactorId", "blank", "You must specify the [twoFactorId] property.")
	}
	if req.Code == "" {
		errs.Field("code", "blank", "You must specify the [code] property.")
	}
	checkID(errs, "applicationId", req.ApplicationID)
	if err := errs.Err(); err != nil {
		return LoginResult{}, err
	}
	pending, err := ls.store.GetTwoFactorLogin(ctx, hashTwoFactorID(req.TwoFactorID))
	if errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, ErrTwoFactorIDInvalid
	} else if err != nil {
		return LoginResult{}, err
	}
	now := ls.now()
	switch {
	case !now.Before(pending.Expires),
		in.TenantID != "" && in.TenantID != pending.TenantID,
		req.ApplicationID != "" && req.ApplicationID != pending.ApplicationID,
		in.Client.Address != pending.Address,
		in.Client.DPoPJKT != pending.DPoPJKT:
		return LoginResult{}, ErrTwoFactorIDInvalid
	}
	t, err := ls.store.GetTenant(ctx, pending.TenantID)
	if err != nil {
		return LoginResult{}, err
	}
	var app *storage.Application
	if pending.ApplicationID != "" {
		a, err := ls.tenants.application(ctx, t.ID, pending.ApplicationID)
		if errors.Is(err, storage.ErrNotFound) {
			return LoginResult{}, ErrTwoFactorIDInvalid
		} else if err != nil {
			return LoginResult{}, err
		}
		if !a.Active {
			return LoginResult{}, api.FieldError("applicationId", "inactive", fmt.Sprintf("The Application with Id [%s] is not active.", a.ID))
		}
		app = &a
	}

	// The code is checked under the lockout, as a password is.
	policy := lockoutPolicy(t)
	if a, err := ls.store.GetLoginAttempts(ctx, t.ID, pending.LoginKey); err == nil && policy.Locked(a, now) {
		return prevented(a), nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, err
	}
	var verdict lockout.Verdict
	reserved, err := ls.store.UpdateLoginAttempts(ctx, t.ID, pending.LoginKey, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
		a, verdict = policy.Reserve(a, now)
		return a, nil
	})
	switch {
	case err != nil:
		return LoginResult{}, err
	case verdict == lockout.Locked:
		return prevented(reserved), nil
	case verdict == lockout.Crowded:
		return LoginResult{}, ErrBusy // other checks of the login ID are running
	}
	failed := false // the failure took the slot
	defer func() {
		if !failed {
			ls.giveBack(context.WithoutCancel(ctx), t.ID, pending.LoginKey, policy, reserved)
		}
	}()
	u, err := ls.store.GetUser(ctx, pending.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, ErrTwoFactorIDInvalid
	} else if err != nil {
		return LoginResult{}, err
	}
	methods, err := ls.store.ListTwoFactorMethods(ctx, u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	ok, err := ls.codes.use(ctx, u.ID, methods, req.Code, now, true)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		_, err := ls.store.UpdateLoginAttempts(ctx, t.ID, pending.LoginKey, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
			return policy.Fail(a, reserved, ls.now()), nil
		})
		failed = err == nil
		return LoginResult{}, errors.Join(ErrTwoFactorCode, err)
	}
	// Spend the twoFactorId: of concurrent second steps, one goes on.
	if err := ls.store.DeleteTwoFactorLogin(ctx, pending.Hash); errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, ErrTwoFactorIDInvalid
	} else if err != nil {
		return LoginResult{}, err
	}
	switch {
	case !u.Expiry.IsZero() && !now.Before(u.Expiry):
		return LoginResult{Outcome: LoginExpired}, nil
	case !u.Active:
		return LoginResult{Outcome: LoginInactive}, nil
	}
	li := LoginInput{Request: api.LoginRequest{ApplicationID: pending.ApplicationID, NoJWT: req.NoJWT}, TenantID: t.ID, Client: in.Client}
	res, err := ls.finish(ctx, li, t, app, u, pending.LoginKey, nil)
	if err != nil || !req.TrustComputer || (res.Outcome != LoginOK && res.Outcome != LoginNotRegistered) {
		return res, err
	}
	raw, err := token.NewRefreshToken()
	if err != nil {
		return LoginResult{}, err
	}
	trust := storage.TwoFactorTrust{Hash: hashTwoFactorID(raw), UserID: u.ID, Inserted: now, Expires: now.Add(twoFactorTrustTTL(t))}
	if err := ls.store.CreateTwoFactorTrust(ctx, trust); err != nil {
		return LoginResult{}, err
	}
	res.Response.TwoFactorTrustID = raw
	return res, nil
}
