package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// DefaultBrowserScope is the scope LoginWithBrowser asks for when
// BrowserLogin.Scope is empty: an ID token and a refresh token.
const DefaultBrowserScope = "openid offline_access"

// DefaultRedirectPath is the path of the loopback redirect URI when
// BrowserLogin.RedirectPath is empty.
const DefaultRedirectPath = "/callback"

// maxDiscovery bounds the discovery document the Client reads.
const maxDiscovery = 1 << 20

// BrowserLogin configures LoginWithBrowser: the OAuth 2.0 authorization
// code flow for native apps (RFC 8252) against Latch, in the system
// browser.
type BrowserLogin struct {
	// Issuer is Latch's URL, such as "https://auth.example.com": its
	// discovery document is Issuer + "/.well-known/openid-configuration".
	// It must be https, or http for a loopback host unless the Client's
	// AllowInsecureHTTP is set. The authorization response must carry the
	// document's issuer in iss (RFC 9207).
	Issuer string

	// ClientID is the application's OAuth client id (its id in Latch).
	// The application must have the authorization_code grant enabled and
	// http://127.0.0.1/callback (with RedirectPath's path) among its
	// authorized redirect URLs: Latch accepts the loopback redirect URI on
	// any port (RFC 8252 §7.3), and LoginWithBrowser listens on a random
	// one.
	ClientID string

	// Open shows the authorization URL to the user: on a desktop it
	// starts the system browser (xdg-open, open), on a phone it opens a
	// browser tab. It must not wait for the user to log in. Required.
	Open func(authorizationURL string) error

	// Scope is the space-separated scope asked for; empty means
	// DefaultBrowserScope. offline_access asks for a refresh token.
	Scope string

	// RedirectPath is the path of the loopback redirect URI; empty means
	// DefaultRedirectPath.
	RedirectPath string

	// LoginHint, when set, is sent as login_hint: the login page may fill
	// in the email with it.
	LoginHint string

	// Prompt, when set, is sent as prompt (OpenID Connect Core
	// §3.1.2.1): "login" asks for the password even when the browser
	// holds a session at Latch; "none" asks for no page at all, and ends
	// in an *AuthorizationError login_required when there is no session.
	Prompt string
}

// AuthorizationError is an error response to the authorization request
// (RFC 6749 §4.1.2.1) that came back to the loopback redirect: the user
// declined, the application is not allowed the flow, or (with
// prompt=none) a login is required.
type AuthorizationError struct {
	// Code is the error code: access_denied, invalid_request,
	// unauthorized_client, login_required, …
	Code string
	// Description is error_description, when Latch sent one.
	Description string
}

// Error returns the code and the description.
func (e *AuthorizationError) Error() string {
	if e.Description == "" {
		return "client: authorization failed: " + e.Code
	}
	return "client: authorization failed: " + e.Code + ": " + e.Description
}

// LoginWithBrowser logs the user in through Latch's own login page in
// the system browser, following RFC 8252 (OAuth 2.0 for Native Apps), and
// stores the tokens as Login does, replacing any session. It returns the
// user the access token names.
//
// It reads Latch's discovery document, listens for the redirect on
// 127.0.0.1 at a random port, and calls b.Open with the authorization
// URL, which carries a PKCE S256 challenge (RFC 7636), a random state and
// nonce and, unless DisableDPoP is set, dpop_jkt, the thumbprint of the
// device key (RFC 9449 §10; the key is made as Login makes it). It then
// waits for the browser's redirect, or for ctx to end: the app bounds the
// wait with ctx. A redirect whose state is not this login's is answered
// 400 and ignored. The one whose state matches ends the wait: it must
// carry the issuer in iss (RFC 9207, against mix-up) and a code, which
// LoginWithBrowser exchanges at Latch's token endpoint with the PKCE
// verifier and a DPoP proof of the device key, so that the tokens are
// bound to the device as Login's are. An error response in the redirect
// is an *AuthorizationError; a refused exchange an *APIError.
//
// The tokens come from Latch itself, not through the backend: the
// application ClientID must be the one the backend verifies tokens for,
// and the backend refreshes them as it refreshes those of Login.
func (c *Client) LoginWithBrowser(ctx context.Context, b BrowserLogin) (*api.User, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if b.Open == nil {
		return nil, &ConfigError{Field: "BrowserLogin.Open", Err: ErrNotSet}
	}
	if b.ClientID == "" {
		return nil, &ConfigError{Field: "BrowserLogin.ClientID", Err: ErrNotSet}
	}
	issuerURL, _, err := parseBaseURL(b.Issuer, c.AllowInsecureHTTP)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Field = "BrowserLogin.Issuer"
		}
		return nil, err
	}
	meta, err := c.discover(ctx, issuerURL)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	key, err := c.loginKeyLocked(ctx)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	req, err := newAuthRequest(b, key)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("client: loopback redirect listener: %w", err)
	}
	redirect := &redirectHandler{
		path:        req.redirectPath,
		state:       req.state,
		issuer:      meta.Issuer,
		issRequired: meta.IssParameterSupported,
		done:        make(chan redirectResult, 1),
	}
	req.redirectURI = "http://" + ln.Addr().String() + req.redirectPath
	srv := &http.Server{Handler: redirect, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		// The page has been written before done was signalled; the
		// browser may keep its connection open, which must not hold us.
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if srv.Shutdown(shutCtx) != nil {
			srv.Close()
		}
	}()

	if err := b.Open(req.url(meta.AuthorizationEndpoint)); err != nil {
		return nil, fmt.Errorf("client: open the browser: %w", err)
	}
	var res redirectResult
	select {
	case res = <-redirect.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("client: waiting for the browser's redirect: %w", context.Cause(ctx))
	}
	if res.err != nil {
		return nil, res.err
	}
	tr, err := c.exchangeCode(ctx, meta.TokenEndpoint, b.ClientID, req, res.code, key)
	if err != nil {
		return nil, err
	}
	return c.adoptBrowserTokens(ctx, tr, b.ClientID, meta.Issuer, req.nonce, key)
}

// providerMetadata is what LoginWithBrowser reads of Latch's discovery
// document (OpenID Connect Discovery 1.0, RFC 8414).
type providerMetadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	IssParameterSupported         bool     `json:"authorization_response_iss_parameter_supported"`
}

// discover reads the discovery document at issuer and checks that it
// offers what the flow needs, at URLs as safe as issuer's own.
func (c *Client) discover(ctx context.Context, issuer *url.URL) (*providerMetadata, error) {
	u := *issuer
	u.Path += "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.direct().Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: discovery: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newAPIError(resp)
	}
	defer resp.Body.Close()
	var m providerMetadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDiscovery)).Decode(&m); err != nil {
		return nil, fmt.Errorf("client: discovery document %s: %w", u.String(), err)
	}
	switch {
	case m.Issuer == "":
		return nil, fmt.Errorf("client: discovery document %s names no issuer", u.String())
	case m.AuthorizationEndpoint == "":
		return nil, fmt.Errorf("client: %s offers no authorization endpoint (authorization_endpoint)", m.Issuer)
	case m.TokenEndpoint == "":
		return nil, fmt.Errorf("client: %s offers no token endpoint (token_endpoint)", m.Issuer)
	case m.CodeChallengeMethodsSupported != nil && !slices.Contains(m.CodeChallengeMethodsSupported, "S256"):
		return nil, fmt.Errorf("client: %s does not offer PKCE with S256 (code_challenge_methods_supported)", m.Issuer)
	}
	for name, raw := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint} {
		if _, _, err := parseEndpoint(raw, c.AllowInsecureHTTP); err != nil {
			return nil, fmt.Errorf("client: discovery's %s %q: %w", name, raw, err)
		}
	}
	return &m, nil
}

// parseEndpoint checks an endpoint's URL as parseBaseURL checks a base
// URL, but lets it carry a query (RFC 6749 §3.1).
func parseEndpoint(raw string, allowInsecure bool) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", err
	}
	q := u.RawQuery
	u.RawQuery = ""
	b, origin, err := parseBaseURL(u.String(), allowInsecure)
	if err != nil {
		return nil, "", err
	}
	b.RawQuery = q
	return b, origin, nil
}

// authRequest is one authorization request's secrets and parameters.
type authRequest struct {
	clientID     string
	scope        string
	loginHint    string
	prompt       string
	redirectPath string
	redirectURI  string // set once the listener has its port
	state        string
	nonce        string
	verifier     string // the PKCE code_verifier (RFC 7636 §4.1)
	jkt          string // the device key's thumbprint, "" without DPoP
}

// newAuthRequest makes the request's random values: state, nonce and a
// PKCE verifier, each of 256 bits.
func newAuthRequest(b BrowserLogin, key *deviceKey) (*authRequest, error) {
	r := &authRequest{
		clientID:     b.ClientID,
		scope:        firstNonEmpty(b.Scope, DefaultBrowserScope),
		loginHint:    b.LoginHint,
		prompt:       b.Prompt,
		redirectPath: firstNonEmpty(b.RedirectPath, DefaultRedirectPath),
	}
	if !strings.HasPrefix(r.redirectPath, "/") {
		r.redirectPath = "/" + r.redirectPath
	}
	r.state, r.nonce, r.verifier = randomString(), randomString(), randomString()
	if key != nil {
		jkt, err := dpop.Thumbprint(key.signer.Public())
		if err != nil {
			return nil, fmt.Errorf("client: DPoP key thumbprint: %w", err)
		}
		r.jkt = jkt
	}
	return r, nil
}

// randomString returns 32 random bytes, base64url-encoded: 43 characters
// of the PKCE verifier's alphabet (RFC 7636 §4.1).
func randomString() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// codeChallenge is the S256 challenge of a verifier (RFC 7636 §4.2).
func codeChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// url returns the authorization URL: endpoint with the request's
// parameters added to any query it has.
func (r *authRequest) url(endpoint string) string {
	u, _ := url.Parse(endpoint) // checked by discover
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", r.clientID)
	q.Set("redirect_uri", r.redirectURI)
	q.Set("scope", r.scope)
	q.Set("state", r.state)
	q.Set("nonce", r.nonce)
	q.Set("code_challenge", codeChallenge(r.verifier))
	q.Set("code_challenge_method", "S256")
	if r.jkt != "" {
		q.Set("dpop_jkt", r.jkt)
	}
	if r.loginHint != "" {
		q.Set("login_hint", r.loginHint)
	}
	if r.prompt != "" {
		q.Set("prompt", r.prompt)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// redirectResult is what the loopback redirect brought: a code, or why
// the login failed.
type redirectResult struct {
	code string
	err  error
}

// redirectHandler serves the loopback redirect URI. Only a GET of path
// whose state is the login's counts: it ends the wait with a code or an
// error, once. Anything else (another path, a wrong or missing state,
// which any local process could send) is answered with an error status
// and leaves the wait alone.
type redirectHandler struct {
	path        string
	state       string
	issuer      string
	issRequired bool                // the server promised iss (RFC 9207 §3)
	done        chan redirectResult // buffered for one result
	decided     atomic.Bool         // a redirect with the state came
}

// ServeHTTP implements http.Handler.
func (h *redirectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(h.state)) != 1 {
		http.Error(w, "This is not the sign-in the app is waiting for.", http.StatusBadRequest)
		return
	}
	if !h.decided.CompareAndSwap(false, true) {
		// A second redirect with the right state (a reload): the first
		// one decided.
		http.Error(w, "This sign-in has already been handled.", http.StatusConflict)
		return
	}
	res := h.decide(q)
	h.done <- res // buffered for one
	status, title, text := http.StatusOK, "Signed in", "You are signed in. You can close this window and return to the app."
	if res.err != nil {
		status, title, text = http.StatusBadRequest, "Sign-in failed", "The sign-in did not complete. Return to the app to try again."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>%s</title><h1>%s</h1><p>%s</p></html>\n", title, title, text)
}

// decide judges a redirect whose state is the login's: the issuer first
// (a response from another server is neither a code nor an error of
// ours, RFC 9207 §2.4), then an error, then the code.
func (h *redirectHandler) decide(q url.Values) redirectResult {
	iss, hasIss := q["iss"]
	switch {
	case hasIss && (len(iss) != 1 || iss[0] != h.issuer):
		return redirectResult{err: fmt.Errorf("client: the authorization response comes from issuer %q, not %q", q.Get("iss"), h.issuer)}
	case !hasIss && h.issRequired:
		return redirectResult{err: fmt.Errorf("client: the authorization response carries no iss, which %s promises", h.issuer)}
	case q.Get("error") != "":
		return redirectResult{err: &AuthorizationError{Code: q.Get("error"), Description: q.Get("error_description")}}
	case q.Get("code") == "":
		return redirectResult{err: errors.New("client: the authorization response carries neither code nor error")}
	}
	return redirectResult{code: q.Get("code")}
}

// exchangeCode redeems the code at the token endpoint (RFC 6749 §4.1.3)
// with the PKCE verifier and, when key is set, a DPoP proof for the token
// endpoint. When Latch asks for a DPoP nonce it retries once with it. It
// follows no redirect: the code and the verifier go to the endpoint the
// discovery document names, and nowhere else.
func (c *Client) exchangeCode(ctx context.Context, endpoint, clientID string, r *authRequest, code string, key *deviceKey) (*api.AccessTokenResponse, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {r.redirectURI},
		"client_id":     {clientID},
		"code_verifier": {r.verifier},
	}.Encode()
	nonce := ""
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if key != nil {
			proof, err := dpop.NewProof(key.signer, http.MethodPost, endpoint, dpop.ProofOptions{Nonce: nonce, Now: c.now()})
			if err != nil {
				return nil, fmt.Errorf("client: DPoP proof: %w", err)
			}
			req.Header.Set(dpop.Header, proof)
		}
		resp, err := c.direct().Do(req)
		if err != nil {
			return nil, fmt.Errorf("client: token request: %w", err)
		}
		if n, ok := useNonce(resp); ok && try == 0 && key != nil {
			discard(resp)
			nonce = n
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, newAPIError(resp)
		}
		defer resp.Body.Close()
		var tr api.AccessTokenResponse
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxLoginBody)).Decode(&tr); err != nil {
			return nil, fmt.Errorf("client: token response: %w", err)
		}
		return &tr, nil
	}
}

// adoptBrowserTokens checks the token response and stores it as Login
// stores its tokens. The ID token, which came straight from the token
// endpoint over a connection the Client checked, is read without
// verifying its signature (OpenID Connect Core §3.1.3.7) for its issuer,
// audience and nonce; the access token for the user it names and for the
// key it is bound to.
func (c *Client) adoptBrowserTokens(ctx context.Context, tr *api.AccessTokenResponse, clientID, issuer, nonce string, key *deviceKey) (*api.User, error) {
	if tr.AccessToken == "" {
		return nil, errors.New("client: token response carries no access_token")
	}
	if tr.IDToken != "" {
		if err := checkIDToken(tr.IDToken, clientID, issuer, nonce); err != nil {
			return nil, err
		}
	}
	if jkt := jwtJKT(tr.AccessToken); jkt != "" {
		want := ""
		if key != nil {
			want, _ = dpop.Thumbprint(key.signer.Public())
		}
		if jkt != want {
			return nil, errors.New("client: the access token is bound to a key that is not the device's")
		}
	}
	var fallback time.Time
	if tr.ExpiresIn > 0 {
		fallback = c.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	t := Tokens{
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		Expiry:       tokenExpiry(tr.AccessToken, fallback),
		User:         userFromToken(tr.AccessToken, tr.UserID),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if key != nil {
		c.key = key
	}
	if c.key != nil {
		t.DPoPKey = bytes.Clone(c.key.der)
	}
	if err := c.store.Save(context.WithoutCancel(ctx), t); err != nil {
		return nil, fmt.Errorf("client: save tokens: %w", err)
	}
	c.setLocked(&t)
	return t.clone().User, nil
}

// checkIDToken checks an ID token's iss, aud and nonce, read without
// verification.
func checkIDToken(idToken, clientID, issuer, nonce string) error {
	payload := jwtPayload(idToken)
	var claims struct {
		Issuer   string       `json:"iss"`
		Audience api.Audience `json:"aud"`
		Nonce    string       `json:"nonce"`
	}
	if payload == nil || json.Unmarshal(payload, &claims) != nil {
		return errors.New("client: the ID token cannot be read")
	}
	switch {
	case claims.Issuer != issuer:
		return fmt.Errorf("client: the ID token's issuer is %q, not %q", claims.Issuer, issuer)
	case !slices.Contains(claims.Audience, clientID):
		return errors.New("client: the ID token is not for this client")
	case subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(nonce)) != 1:
		return errors.New("client: the ID token's nonce is not this login's")
	}
	return nil
}

// userFromToken returns the user an access token names (sub, email,
// preferred_username, tid), read without verification, as the user
// Login's response would carry; userID stands in for a missing sub.
func userFromToken(accessToken, userID string) *api.User {
	claims, _ := Tokens{AccessToken: accessToken}.Claims()
	u := &api.User{
		ID:       firstNonEmpty(claims.Subject, userID),
		TenantID: claims.TenantID,
		Email:    claims.Email,
		Username: claims.PreferredUsername,
		Active:   true,
		Verified: claims.EmailVerified,
	}
	return u
}
