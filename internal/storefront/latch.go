package storefront

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/latchid/latch/api"
)

const (
	// latchTimeout bounds each call the storefront makes to Latch itself
	// (guard bounds its own).
	latchTimeout = 10 * time.Second
	// maxLatchBody caps what is read of Latch's answers.
	maxLatchBody = 1 << 20
)

// errLatchUnavailable: Latch could not be reached, or answered 5xx or 429.
var errLatchUnavailable = errors.New("storefront: latch unavailable")

// Errors of Open's check of the application id and the API key at Latch.
var (
	// ErrAPIKeyRefused: Latch answered 401 to the API key (Config.APIKey):
	// it is wrong or expired, or not allowed GET /api/application.
	ErrAPIKeyRefused = errors.New("storefront: Latch refuses the API key")
	// ErrUnknownApplication: Latch has no application with the id
	// Config.ApplicationID that the API key may see.
	ErrUnknownApplication = errors.New("storefront: Latch has no such application")
)

// latch calls Latch's API on behalf of the storefront: the Login API with
// the application id and API key, logout and revocation.
type latch struct {
	base   string // LatchURL without a trailing slash
	appID  string
	apiKey string
	hc     *http.Client // follows no redirect: passwords and tokens must not travel on
}

// newLatch returns a latch over hc, which it copies to refuse redirects.
func newLatch(base, appID, apiKey string, hc *http.Client) *latch {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &latch{base: base, appID: appID, apiKey: apiKey, hc: &c}
}

// call sends one request to Latch and returns the status and the body.
// A transport error, 429 or 5xx is errLatchUnavailable.
func (l *latch) call(ctx context.Context, method, path string, body any, withKey bool) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, latchTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if withKey && l.apiKey != "" {
		req.Header.Set("Authorization", l.apiKey) // FusionAuth's form: the raw key
	}
	res, err := l.hc.Do(req)
	if err != nil {
		// The error names the URL, never the body: no password in it.
		return 0, nil, fmt.Errorf("%w: %s %s: %w", errLatchUnavailable, method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxLatchBody))
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
		return res.StatusCode, nil, fmt.Errorf("%w: %s %s: status %d", errLatchUnavailable, method, path, res.StatusCode)
	}
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%w: %s %s: read answer: %w", errLatchUnavailable, method, path, err)
	}
	return res.StatusCode, b, nil
}

// login relays a login to Latch's POST /api/login with the application id
// and the API key, and returns Latch's status and body.
func (l *latch) login(ctx context.Context, req api.LoginRequest) (int, []byte, error) {
	req.ApplicationID = l.appID
	return l.call(ctx, http.MethodPost, "/api/login", req, true)
}

// logout revokes a refresh token, or with global every refresh token of
// its owner, through Latch's POST /api/logout (which answers 200 whatever
// the token).
func (l *latch) logout(ctx context.Context, refreshToken string, global bool, jkt string) error {
	// The thumbprint of the app's key, when its proof was verified here,
	// goes with the API key: without it, Latch ends no session of a
	// DPoP-bound refresh token.
	code, b, err := l.call(ctx, http.MethodPost, "/api/logout", api.LogoutRequest{Global: global, RefreshToken: refreshToken, DPoPJKT: jkt}, jkt != "")
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return fmt.Errorf("storefront: latch answered logout with %d%s", code, errorCodes(b))
	}
	return nil
}

// revokeSession revokes one session (the sid of a JWT, which is its
// refresh token's id) with the API key.
func (l *latch) revokeSession(ctx context.Context, sessionID string) error {
	return l.revoke(ctx, "/api/jwt/refresh/"+url.PathEscape(sessionID))
}

// revokeUser revokes every refresh token of a user with the API key.
func (l *latch) revokeUser(ctx context.Context, userID string) error {
	return l.revoke(ctx, "/api/jwt/refresh?userId="+url.QueryEscape(userID))
}

// revoke sends a revocation; 404 (nothing of the kind left) is success.
func (l *latch) revoke(ctx context.Context, path string) error {
	code, b, err := l.call(ctx, http.MethodDelete, path, nil, true)
	if err != nil {
		return err
	}
	if code/100 != 2 && code != http.StatusNotFound {
		return fmt.Errorf("storefront: latch answered revocation with %d%s", code, errorCodes(b))
	}
	return nil
}

// checkApplication reads the storefront's application at Latch with the
// API key: one cheap call that fails, as logins would, when the key or the
// application id is wrong. A transport error, 429 or 5xx is
// errLatchUnavailable.
func (l *latch) checkApplication(ctx context.Context) error {
	path := "/api/application/" + url.PathEscape(l.appID)
	code, b, err := l.call(ctx, http.MethodGet, path, nil, true)
	if err != nil {
		return err
	}
	switch code {
	case http.StatusOK:
		var res api.ApplicationResponse
		if err := json.Unmarshal(b, &res); err != nil || res.Application == nil || res.Application.ID != l.appID {
			return fmt.Errorf("storefront: Latch's answer to GET %s is not the application", path)
		}
		return nil
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (401 to GET %s): it is wrong, expired, or not allowed that call", ErrAPIKeyRefused, path)
	case http.StatusNotFound:
		return fmt.Errorf("%w: %q, or none that the API key may see", ErrUnknownApplication, l.appID)
	default:
		return fmt.Errorf("storefront: Latch answered %d to GET %s%s", code, path, errorCodes(b))
	}
}

// discoverIssuer reads the issuer from Latch's OpenID configuration.
func (l *latch) discoverIssuer(ctx context.Context) (string, error) {
	code, b, err := l.call(ctx, http.MethodGet, "/.well-known/openid-configuration", nil, false)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("storefront: discover issuer: latch answered %d", code)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Issuer == "" {
		return "", errors.New("storefront: discover issuer: the OpenID configuration has no issuer")
	}
	return doc.Issuer, nil
}

// errorCodes summarises an api.Errors body for the log: its codes, which
// name fields and never carry a value.
func errorCodes(b []byte) string {
	var errs api.Errors
	if json.Unmarshal(b, &errs) != nil || errs.Empty() {
		return ""
	}
	return " (" + errs.Error() + ")"
}
