package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/latchid/latch/api"
)

// ErrNoTwoFactorPending is what CompleteTwoFactor returns when no login
// awaits a second factor: none was started, it completed, it expired at
// the backend, or a later Login replaced it.
var ErrNoTwoFactorPending = errors.New("client: no login awaits a second factor")

// Codes of the backend's error answers to the second step of a login
// (APIError.Code).
const (
	// CodeInvalidTwoFactorCode: the code was wrong (401); the login still
	// awaits one.
	CodeInvalidTwoFactorCode = "invalid_two_factor_code"
	// CodeTwoFactorExpired: the pending login is over (401); the user
	// logs in again, password and all.
	CodeTwoFactorExpired = "two_factor_expired"
)

// TwoFactorRequiredError is what Login returns when the password was
// right and the backend wants a second factor (its 202 answer): no tokens
// yet. The Client keeps the pending login (never the password); the app
// asks the user for a code and calls CompleteTwoFactor.
//
//	_, err := c.Login(ctx, email, password)
//	var tf *client.TwoFactorRequiredError
//	if errors.As(err, &tf) {
//		code := askForCode(tf.Methods)
//		_, err = c.CompleteTwoFactor(ctx, code, trustThisDevice)
//	}
type TwoFactorRequiredError struct {
	// Methods are the user's second factors, to say where the code comes
	// from.
	Methods []api.TwoFactorMethod
}

// Error says that a second factor is due.
func (e *TwoFactorRequiredError) Error() string {
	return "client: a second factor is required: complete the login with a code"
}

// pendingLogin is a login that awaits its second factor: the backend's
// id for it and the device key that proved the first step, which must
// prove the second.
type pendingLogin struct {
	twoFactorID string
	key         *deviceKey
}

// awaitSecondFactor reads a login's 202 answer: with a twoFactorId, the
// login now awaits a code (a *TwoFactorRequiredError); without, an
// *APIError.
func (c *Client) awaitSecondFactor(key *deviceKey, resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginBody))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("client: login response: %w", err)
	}
	var la api.LoginResponse
	if json.Unmarshal(b, &la) != nil || la.TwoFactorID == "" {
		e := &APIError{Status: resp.StatusCode, Body: b}
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
			e.parseJSON(t)
		}
		return e
	}
	c.mu.Lock()
	c.pending = &pendingLogin{twoFactorID: la.TwoFactorID, key: key}
	c.mu.Unlock()
	return &TwoFactorRequiredError{Methods: la.Methods}
}

// TwoFactorPending reports whether a login awaits its second factor
// (Login returned a *TwoFactorRequiredError and CompleteTwoFactor has not
// finished it).
func (c *Client) TwoFactorPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending != nil
}

// CompleteTwoFactor finishes the login that Login left awaiting a second
// factor: it posts code (from the user's authenticator app, or one of
// their recovery codes) to the backend's POST /api/login/two-factor, with
// a DPoP proof by the same device key that proved the first step, stores
// the tokens it answers with, and returns the user. With trustDevice the
// backend also answers a trust id, which the Client keeps (see
// Tokens.TwoFactorTrustID) and sends with its later logins, which then
// need no code while the backend trusts the device.
//
// Without a pending login it returns ErrNoTwoFactorPending. A wrong code
// is an *APIError with Status 401 and Code CodeInvalidTwoFactorCode, and
// the login still awaits a code; a pending login that the backend no
// longer knows (expired, used) is one with CodeTwoFactorExpired, and ends.
// A locked account is 409, as for Login.
func (c *Client) CompleteTwoFactor(ctx context.Context, code string, trustDevice bool) (*api.User, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	p := c.pending
	c.mu.Unlock()
	if p == nil {
		return nil, ErrNoTwoFactorPending
	}
	body, err := json.Marshal(struct {
		TwoFactorID string `json:"twoFactorId"`
		Code        string `json:"code"`
		TrustDevice bool   `json:"trustDevice"`
	}{p.twoFactorID, strings.TrimSpace(code), trustDevice})
	if err != nil {
		return nil, err
	}
	resp, err := c.sendDirect(p.key, "", func() (*http.Request, error) { return c.newJSONPost(ctx, "/api/login/two-factor", body) })
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return c.adoptLogin(ctx, p.key, resp, p)
	}
	e := newAPIError(resp)
	if e.Code == CodeTwoFactorExpired {
		c.mu.Lock()
		if c.pending == p {
			c.pending = nil
		}
		c.mu.Unlock()
	}
	return nil, e
}

// TwoFactorEnrolment is a new TOTP secret for the user's authenticator
// app, as StartTwoFactorEnrolment returns it: nothing is enabled until
// EnableTwoFactor confirms it with a code.
type TwoFactorEnrolment struct {
	// Secret is the secret in base32, for the user to type into the app.
	Secret string `json:"secret"`
	// URI is its otpauth:// URI, for the app to scan as a QR code.
	URI string `json:"uri"`
}

// TwoFactorStatus reports whether the logged-in user has a second factor
// (GET /api/account/two-factor), and which.
func (c *Client) TwoFactorStatus(ctx context.Context) (enabled bool, methods []api.TwoFactorMethod, err error) {
	var res struct {
		Enabled bool                  `json:"enabled"`
		Methods []api.TwoFactorMethod `json:"methods"`
	}
	if err := c.account(ctx, http.MethodGet, "/api/account/two-factor", nil, &res); err != nil {
		return false, nil, err
	}
	return res.Enabled, res.Methods, nil
}

// StartTwoFactorEnrolment asks the backend for a new TOTP secret for the
// logged-in user (POST /api/account/two-factor/secret), to show as a QR
// code of its URI and as text.
func (c *Client) StartTwoFactorEnrolment(ctx context.Context) (TwoFactorEnrolment, error) {
	var e TwoFactorEnrolment
	if err := c.account(ctx, http.MethodPost, "/api/account/two-factor/secret", nil, &e); err != nil {
		return TwoFactorEnrolment{}, err
	}
	if e.Secret == "" {
		return TwoFactorEnrolment{}, errors.New("client: the backend answered no secret")
	}
	return e, nil
}

// EnableTwoFactor enables the authenticator for the logged-in user (POST
// /api/account/two-factor) with the secret of StartTwoFactorEnrolment and
// a code the app computed from it, and returns the recovery codes, which
// the backend shows this once: each logs in once without the app. A wrong
// code is an *APIError with Status 400 and Code CodeInvalidTwoFactorCode.
func (c *Client) EnableTwoFactor(ctx context.Context, secret, code string) (recoveryCodes []string, err error) {
	in := struct {
		Secret string `json:"secret"`
		Code   string `json:"code"`
	}{strings.TrimSpace(secret), strings.TrimSpace(code)}
	var res struct {
		RecoveryCodes []string `json:"recoveryCodes"`
	}
	if err := c.account(ctx, http.MethodPost, "/api/account/two-factor", in, &res); err != nil {
		return nil, err
	}
	return res.RecoveryCodes, nil
}

// DisableTwoFactor removes the logged-in user's authenticator (DELETE
// /api/account/two-factor) with a current code of it or a recovery code.
// A wrong code is an *APIError with Status 400 and Code
// CodeInvalidTwoFactorCode; a user without one, 404.
func (c *Client) DisableTwoFactor(ctx context.Context, code string) error {
	in := struct {
		Code string `json:"code"`
	}{strings.TrimSpace(code)}
	return c.account(ctx, http.MethodDelete, "/api/account/two-factor", in, nil)
}

// account sends an authenticated JSON request through HTTP (so that the
// JWT is refreshed as needed) and decodes a 2xx answer into out; any
// other status is an *APIError, and without a session ErrLoginRequired.
func (c *Client) account(ctx context.Context, method, path string, in, out any) error {
	if err := c.init(); err != nil {
		return err
	}
	if _, err := c.Tokens(ctx); err != nil {
		return err
	}
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP().Do(req)
	if err != nil {
		return err
	}
	if err := CheckResponse(resp); err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxLoginBody)).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	return nil
}
