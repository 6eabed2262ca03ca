package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
	"github.com/latchid/latch/internal/totp"
)

// Two-factor logins. A user enables an authenticator (TOTP) method with
// a code of its secret; the secret is kept sealed under the master key,
// and the user's first method comes with ten recovery codes, kept as
// keyed hashes. A login with the right password of a user who must give
// a code (the login policy) answers LoginTwoFactor with a twoFactorId and
// issues nothing; POST /api/two-factor/login completes it with a code of
// any method of the user, or a recovery code. Every code is used once:
// an accepted TOTP code is recorded with its time step, so that it is
// refused for the rest of its window on every node; a recovery code is
// deleted.

// Errors of the two-factor rules.
var (
	// ErrTwoFactorCode: the code is not a current code of the user's
	// method, nor an unused recovery code (FusionAuth answers 421).
	ErrTwoFactorCode = errors.New("identity: two-factor code invalid")
	// ErrTwoFactorIDInvalid: the twoFactorId is unknown, expired, spent,
	// or presented by another client or for another application (404).
	ErrTwoFactorIDInvalid = errors.New("identity: two-factor id invalid")
	// ErrTwoFactorLocked: the user's login ID is locked after failed
	// attempts, so no code is checked (409).
	ErrTwoFactorLocked = errors.New("identity: login ID locked")
)

// ReasonMultiFactorEnabled is the revocation reason of the refresh
// tokens a user's new two-factor method revokes (the tenant's
// refreshTokenRevocationPolicy.onMultiFactorEnable).
const ReasonMultiFactorEnabled = "multi-factor enabled"

// Defaults of a tenant's externalIdentifierConfiguration (FusionAuth's).
const (
	DefaultTwoFactorIDTTL    = 300 * time.Second
	DefaultTwoFactorTrustTTL = 30 * 24 * time.Hour
)

// recoveryCodeCount is how many recovery codes a user is given.
const recoveryCodeCount = 10

// recoveryAlphabet is the alphabet of recovery codes: base32's, which
// has no 0/O or 1/I to misread.
const recoveryAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// methodIDAlphabet is the alphabet of method ids (FusionAuth's are four
// characters).
const methodIDAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// twoFactorIDTTL is the lifetime of a tenant's twoFactorIds.
func twoFactorIDTTL(t api.Tenant) time.Duration {
	if s := t.ExternalIdentifierConfiguration.TwoFactorIDTimeToLiveInSeconds; s > 0 {
		return time.Duration(s) * time.Second
	}
	return DefaultTwoFactorIDTTL
}

// twoFactorTrustTTL is the lifetime of a tenant's twoFactorTrustIds.
func twoFactorTrustTTL(t api.Tenant) time.Duration {
	if s := t.ExternalIdentifierConfiguration.TwoFactorTrustIDTimeToLiveInSeconds; s > 0 {
		return time.Duration(s) * time.Second
	}
	return DefaultTwoFactorTrustTTL
}

// LoginPolicy is the two-factor login policy of a login to app (nil for
// none) in tenant t: the application's when it sets one, else the
// tenant's, else api.MultiFactorEnabled.
func LoginPolicy(t api.Tenant, app *api.Application) string {
	if app != nil && app.MultiFactorConfiguration != nil && app.MultiFactorConfiguration.LoginPolicy != "" {
		return app.MultiFactorConfiguration.LoginPolicy
	}
	if p := t.MultiFactorConfiguration.LoginPolicy; p != "" {
		return p
	}
	return api.MultiFactorEnabled
}

// SecondStep is what a login with the right password must do next.
type SecondStep int

// Second steps (NeedsSecondFactor).
const (
	// NoSecondStep: the login completes.
	NoSecondStep SecondStep = iota
	// CodeStep: the login waits for a code (242).
	CodeStep
	// EnrollFirst: the policy requires a code and the user has no method:
	// the login is refused until one is enabled.
	EnrollFirst
)

// NeedsSecondFactor decides a login's second step from the policy, the
// number of methods the user has, and whether it presented a valid trust.
func NeedsSecondFactor(policy string, methods int, trusted bool) SecondStep {
	switch {
	case policy == api.MultiFactorDisabled:
		return NoSecondStep
	case methods > 0 && trusted:
		return NoSecondStep
	case methods > 0:
		return CodeStep
	case policy == api.MultiFactorRequired:
		return EnrollFirst
	}
	return NoSecondStep
}

// randomString returns n characters of alphabet (32 characters: each
// byte's low five bits pick one, without bias).
func randomString(alphabet string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// secretAD binds a sealed TOTP secret to its user and method.
func secretAD(userID, methodID string) []byte {
	return []byte("latch/totp:" + userID + "/" + methodID)
}

// normalizeRecoveryCode folds a recovery code as typed (lower case,
// dashes, spaces) to its stored form.
func normalizeRecoveryCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
}

// recoveryHash is the keyed hash a recovery code is stored as: keyed with
// the master key, so that the table alone does not allow guessing codes.
func recoveryHash(mac func(string, []byte) []byte, userID, code string) []byte {
	return mac("recovery-code", []byte(userID+"/"+normalizeRecoveryCode(code)))
}

// newRecoveryCodes returns recoveryCodeCount fresh codes (XXXXX-XXXXX, 50
// bits each) and their hashes.
func newRecoveryCodes(mac func(string, []byte) []byte, userID string) ([]string, [][]byte, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		c, err := randomString(recoveryAlphabet, 10)
		if err != nil {
			return nil, nil, err
		}
		codes[i] = c[:5] + "-" + c[5:]
		hashes[i] = recoveryHash(mac, userID, c)
	}
	return codes, hashes, nil
}

// methodView is the wire form of a method: never its secret.
func methodView(m storage.TwoFactorMethod) api.TwoFactorMethod {
	return api.TwoFactorMethod{ID: m.ID, Method: m.Method, Authenticator: &api.AuthenticatorConfiguration{
		Algorithm: totp.Algorithm, CodeLength: totp.Digits, TimeStep: int(totp.Period / time.Second)}}
}

// methodViews is methodView of each.
func methodViews(ms []storage.TwoFactorMethod) []api.TwoFactorMethod {
	out := make([]api.TwoFactorMethod, 0, len(ms))
	for _, m := range ms {
		out = append(out, methodView(m))
	}
	return out
}

// codeChecker verifies two-factor codes of one user and spends them.
type codeChecker struct {
	store interface {
		UseTwoFactorCode(ctx context.Context, userID, methodID string, step int64, now, expires time.Time) (bool, error)
		UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error)
	}
	open func(sealed, ad []byte) ([]byte, error)
	mac  func(label string, data []byte) []byte
}

// use reports whether code is a current code of one of methods (each
// code once per window, on every node) or, when recovery is true, an
// unused recovery code of the user (spent by this call).
func (c codeChecker) use(ctx context.Context, userID string, methods []storage.TwoFactorMethod, code string, now time.Time, recovery bool) (bool, error) {
	code = strings.TrimSpace(code)
	for _, m := range methods {
		secret, err := c.open(m.SecretSealed, secretAD(userID, m.ID))
		if err != nil {
			return false, fmt.Errorf("open the secret of two-factor method %s of user %s: %w", m.ID, userID, err)
		}
		if step, ok := totp.Verify(secret, code, now); ok {
			return c.store.UseTwoFactorCode(ctx, userID, m.ID, step, now, totp.StepEnd(step))
		}
	}
	if !recovery || len(normalizeRecoveryCode(code)) != 10 {
		return false, nil
	}
	return c.store.UseRecoveryCode(ctx, userID, recoveryHash(c.mac, userID, code))
}

// codes returns the code checker over s's store.
func (s *Service) codes() codeChecker {
	return codeChecker{store: s.store, open: s.sealer.Open, mac: s.sealer.MAC}
}

// TwoFactorSecret returns a new TOTP secret for a user to enable, with
// its otpauth:// URI when account (the user's login id) is given. The
// URI's issuer is the tenant's issuer, else the server's.
func (s *Service) TwoFactorSecret(ctx context.Context, tenantID, account string) (api.SecretResponse, error) {
	secret, err := totp.NewSecret()
	if err != nil {
		return api.SecretResponse{}, err
	}
	resp := api.SecretResponse{Secret: totp.Base64(secret), SecretBase32Encoded: totp.Base32(secret)}
	if account == "" {
		return resp, nil
	}
	issuer := s.issuer
	if t, err := s.resolveTenant(ctx, tenantID); err == nil && t.Issuer != "" {
		issuer = t.Issuer
	} else if err != nil && !isAPIErrors(err) {
		return api.SecretResponse{}, err
	}
	if issuer == "" {
		issuer = "Latch"
	}
	if resp.OTPAuthURI, err = totp.URI(issuer, account, secret); err != nil {
		return api.SecretResponse{}, err
	}
	return resp, nil
}

// isAPIErrors reports whether err is a validation error (*api.Errors).
func isAPIErrors(err error) bool {
	var ae *api.Errors
	return errors.As(err, &ae)
}

// AccountName is the label of a user's secret in an authenticator app:
// the email, else the username.
func (s *Service) AccountName(ctx context.Context, tenantID, userID string) (string, error) {
	u, err := s.user(ctx, tenantID, userID)
	if err != nil {
		return "", err
	}
	if u.Email != "" {
		return u.Email, nil
	}
	return u.Username, nil
}

// EnableTwoFactor enables an authenticator method for a user of the
// pinned tenant, once req.Code proves the user holds req's secret. The
// user's first method comes with recovery codes (returned once, kept
// hashed); a later one with none. ErrTwoFactorCode for a wrong code.
func (s *Service) EnableTwoFactor(ctx context.Context, tenantID, userID string, req api.TwoFactorRequest) (api.TwoFactorResponse, error) {
	errs := new(api.Errors)
	switch req.Method {
	case "":
		errs.Field("method", "blank", "You must specify the [method] property.")
	case api.TwoFactorAuthenticator:
	case api.TwoFactorEmail, api.TwoFactorSMS:
		errs.Field("method", "invalid", fmt.Sprintf("The method [%s] is not supported: Latch sends no codes by email or SMS. Use [authenticator].", req.Method))
	default:
		errs.Field("method", "invalid", fmt.Sprintf("The method [%s] is not a two-factor method. Use [authenticator].", req.Method))
	}
	var secret []byte
	var err error
	switch {
	case req.Secret != "":
		if secret, err = totp.ParseBase64(req.Secret); err != nil {
			errs.Field("secret", "invalid", "The [secret] property must be a base64 encoded secret of at least 16 bytes.")
		}
	case req.SecretBase32Encoded != "":
		if secret, err = totp.ParseBase32(req.SecretBase32Encoded); err != nil {
			errs.Field("secretBase32Encoded", "invalid", "The [secretBase32Encoded] property must be a base32 encoded secret of at least 16 bytes.")
		}
	case req.Method == api.TwoFactorAuthenticator:
		errs.Field("secret", "blank", "You must specify the [secret] or [secretBase32Encoded] property.")
	}
	if req.Code == "" {
		errs.Field("code", "blank", "You must specify the [code] property.")
	}
	if err := errs.Err(); err != nil {
		return api.TwoFactorResponse{}, err
	}
	now := s.clock()
	step, ok := totp.Verify(secret, strings.TrimSpace(req.Code), now)
	if !ok {
		if _, err := s.user(ctx, tenantID, userID); err != nil {
			return api.TwoFactorResponse{}, err // an unknown user is 404 first
		}
		return api.TwoFactorResponse{}, ErrTwoFactorCode
	}
	var resp api.TwoFactorResponse
	err = s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, userID)
		if err != nil {
			return err
		}
		existing, err := s.store.ListTwoFactorMethods(ctx, u.ID)
		if err != nil {
			return err
		}
		id, err := newMethodID(existing)
		if err != nil {
			return err
		}
		// The code that enabled the method is spent for its window.
		if fresh, err := s.store.UseTwoFactorCode(ctx, u.ID, id, step, now, totp.StepEnd(step)); err != nil {
			return err
		} else if !fresh {
			return ErrTwoFactorCode
		}
		sealed, err := s.sealer.Seal(secret, secretAD(u.ID, id))
		if err != nil {
			return err
		}
		m := storage.TwoFactorMethod{ID: id, UserID: u.ID, Method: api.TwoFactorAuthenticator, SecretSealed: sealed, Inserted: now}
		if err := s.store.CreateTwoFactorMethod(ctx, m); err != nil {
			return err
		}
		if len(existing) == 0 {
			codes, hashes, err := newRecoveryCodes(s.sealer.MAC, u.ID)
			if err != nil {
				return err
			}
			if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
				return err
			}
			resp.RecoveryCodes = codes
		}
		t, err := s.store.GetTenant(ctx, u.TenantID)
		if err != nil {
			return err
		}
		if t.JWTConfiguration.RefreshTokenRevocationPolicy.OnMultiFactorEnable {
			if _, err := s.revokeAndEmit(ctx, scopeUser, storage.SessionFilter{UserID: u.ID}, now, ReasonMultiFactorEnabled); err != nil {
				return err
			}
		}
		return s.emitMethod(ctx, t, u, m, api.EventUserTwoFactorMethodAdd, now)
	})
	return resp, err
}

// newMethodID returns a method id none of existing has.
func newMethodID(existing []storage.TwoFactorMethod) (string, error) {
	for {
		id, err := randomString(methodIDAlphabet, 4)
		if err != nil {
			return "", err
		}
		taken := false
		for _, m := range existing {
			taken = taken || m.ID == id
		}
		if !taken {
			return id, nil
		}
	}
}

// emitMethod writes user.two-factor.method.add or .remove.
func (s *Service) emitMethod(ctx context.Context, t api.Tenant, u storage.User, m storage.TwoFactorMethod, typ string, at time.Time) error {
	if !t.EventConfiguration.Enabled(typ) {
		return nil
	}
	view, err := s.view(ctx, u, false)
	if err != nil {
		return err
	}
	return s.events().emit(ctx, t, typ, at, func(b api.BaseEvent, _ []api.Webhook) any {
		return api.UserTwoFactorMethodEvent{BaseEvent: b, User: &view, Method: methodView(m)}
	})
}

// DisableTwoFactor removes a user's method, given a current code of that
// method or one of the user's recovery codes (spent). Removing the last
// method removes the recovery codes and the trusted computers too. The
// code is checked under the lockout of the user's login ID (its email,
// else its username), as a login's is: a wrong one counts as a failure,
// and while the login ID is locked no code is checked
// (ErrTwoFactorLocked), so that a stolen JWT or API key buys no more
// guesses at a code than a stolen password does.
func (s *Service) DisableTwoFactor(ctx context.Context, tenantID, userID string, req api.TwoFactorDisableRequest) error {
	errs := new(api.Errors)
	if req.MethodID == "" {
		errs.Field("methodId", "blank", "You must specify the [methodId] property.")
	}
	if req.Code == "" {
		errs.Field("code", "blank", "You must specify the [code] property.")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	now := s.clock()
	u, err := s.user(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	t, err := s.store.GetTenant(ctx, u.TenantID)
	if err != nil {
		return err
	}
	policy := lockoutPolicy(t)
	loginID := u.Email
	if loginID == "" {
		loginID = u.Username
	}
	key := s.logins().key(loginID)
	var verdict lockout.Verdict
	reserved, err := s.store.UpdateLoginAttempts(ctx, t.ID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
		a, verdict = policy.Reserve(a, now)
		return a, nil
	})
	switch {
	case err != nil:
		return err
	case verdict == lockout.Locked:
		return ErrTwoFactorLocked
	case verdict == lockout.Crowded:
		return ErrBusy // other checks of the login ID are running
	}
	err = s.Tx(ctx, func(s *Service) error {
		methods, err := s.store.ListTwoFactorMethods(ctx, u.ID)
		if err != nil {
			return err
		}
		var m *storage.TwoFactorMethod
		for i := range methods {
			if methods[i].ID == req.MethodID {
				m = &methods[i]
			}
		}
		if m == nil {
			return api.FieldError("methodId", "invalid", fmt.Sprintf("The user has no two-factor method with id [%s].", req.MethodID))
		}
		ok, err := s.codes().use(ctx, u.ID, []storage.TwoFactorMethod{*m}, req.Code, now, true)
		if err != nil {
			return err
		}
		if !ok {
			return ErrTwoFactorCode
		}
		if err := s.store.DeleteTwoFactorMethod(ctx, u.ID, m.ID); err != nil {
			return err
		}
		if len(methods) == 1 {
			if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, nil); err != nil {
				return err
			}
			if err := s.store.DeleteTwoFactorTrusts(ctx, u.ID); err != nil {
				return err
			}
		}
		return s.emitMethod(ctx, t, u, *m, api.EventUserTwoFactorMethodRemove, now)
	})
	// A wrong code is a failure; anything else gives the check back.
	_, uerr := s.store.UpdateLoginAttempts(context.WithoutCancel(ctx), t.ID, key, func(a storage.LoginAttempts) (storage.LoginAttempts, error) {
		if errors.Is(err, ErrTwoFactorCode) {
			return policy.Fail(a, reserved, now), nil
		}
		return policy.Release(a, reserved), nil
	})
	if err != nil {
		return err
	}
	return uerr
}

// RecoveryCodeCount returns how many unused recovery codes a user has.
func (s *Service) RecoveryCodeCount(ctx context.Context, tenantID, userID string) (int, error) {
	u, err := s.user(ctx, tenantID, userID)
	if err != nil {
		return 0, err
	}
	return s.store.CountRecoveryCodes(ctx, u.ID)
}

// RegenerateRecoveryCodes replaces a user's recovery codes with new ones
// and returns them: the old ones stop working. A user without a
// two-factor method has none (400).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, tenantID, userID string) ([]string, error) {
	var codes []string
	err := s.Tx(ctx, func(s *Service) error {
		u, err := s.user(ctx, tenantID, userID)
		if err != nil {
			return err
		}
		methods, err := s.store.ListTwoFactorMethods(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(methods) == 0 {
			return api.GeneralError("[TwoFactorNotEnabled]", "The user has no two-factor method, so no recovery codes.")
		}
		var hashes [][]byte
		if codes, hashes, err = newRecoveryCodes(s.sealer.MAC, u.ID); err != nil {
			return err
		}
		return s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes)
	})
	return codes, err
}

// twoFactorView adds the user's methods to a user view.
func (s *Service) twoFactorView(ctx context.Context, v *api.User) error {
	ms, err := s.store.ListTwoFactorMethods(ctx, v.ID)
	if err != nil || len(ms) == 0 {
		return err
	}
	v.TwoFactor = &api.UserTwoFactor{Methods: methodViews(ms)}
	return nil
}

// hashTwoFactorID is the stored form of a twoFactorId or twoFactorTrustId.
func hashTwoFactorID(raw string) []byte { return token.HashSecret(raw) }

// validLoginPolicy reports whether p is a multi-factor login policy ("" is
// unset).
func validLoginPolicy(p string) bool {
	switch p {
	case "", api.MultiFactorEnabled, api.MultiFactorRequired, api.MultiFactorDisabled:
		return true
	}
	return false
}

// validateTenantTwoFactor checks a tenant's two-factor settings.
func validateTenantTwoFactor(errs *api.Errors, t *api.Tenant) {
	if !validLoginPolicy(t.MultiFactorConfiguration.LoginPolicy) {
		errs.Field("tenant.multiFactorConfiguration.loginPolicy", "invalid", "The [loginPolicy] must be Enabled, Required or Disabled.")
	}
	x := t.ExternalIdentifierConfiguration
	if x.TwoFactorIDTimeToLiveInSeconds < 0 || x.TwoFactorTrustIDTimeToLiveInSeconds < 0 {
		errs.Field("tenant.externalIdentifierConfiguration", "invalid", "The two-factor identifier lifetimes must not be negative.")
	}
}

// validateApplicationTwoFactor checks an application's two-factor settings.
func validateApplicationTwoFactor(errs *api.Errors, a *api.Application) {
	if a.MultiFactorConfiguration != nil && !validLoginPolicy(a.MultiFactorConfiguration.LoginPolicy) {
		errs.Field("application.multiFactorConfiguration.loginPolicy", "invalid", "The [loginPolicy] must be Enabled, Required or Disabled.")
	}
}
