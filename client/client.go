package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/api"
)

// DefaultRefreshWindow is how long before its expiry a JWT is sent with
// the refresh token when Client.RefreshWindow is zero.
const DefaultRefreshWindow = time.Minute

// maxLoginBody bounds the login response the Client reads.
const maxLoginBody = 1 << 20

// Client talks to an app's backend on behalf of one user: it logs in,
// keeps the tokens in Store and attaches them to requests (see the package
// documentation).
//
// The exported fields may be changed until the first method call; after
// that a Client is safe for concurrent use and must not be copied.
// Validate checks the fields up front, without touching Store or the
// network; a configuration it refuses makes every other method fail with
// the same error.
type Client struct {
	// BaseURL is the backend's URL, such as "https://shop.example.com";
	// Login posts to BaseURL + "/api/login" and Logout to BaseURL +
	// "/api/logout". It must be https, or http for a loopback host
	// (127.0.0.0/8, ::1, localhost) unless AllowInsecureHTTP is set: the
	// backend receives the user's password.
	BaseURL string

	// HTTPClient sends the requests. Nil means http.DefaultClient. Its
	// Transport must not be this Client's own Transport.
	HTTPClient *http.Client

	// Store keeps the tokens. Nil means a new MemoryStore. A Store with a
	// method Validate() error (as FileStore has) is checked with it by
	// Validate and on first use.
	Store TokenStore

	// OnLoginRequired, if set, is called when the backend ends the session
	// (see Transport), once per session, after the store is cleared. It is
	// called synchronously from the request's goroutine with no lock held,
	// so it should return quickly (post a UI event, say).
	OnLoginRequired func()

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// RefreshWindow is how long before the JWT expires the Client starts
	// sending the refresh token. Zero means DefaultRefreshWindow; a negative
	// value means only once it has expired.
	RefreshWindow time.Duration

	// AllowInsecureHTTP permits an http:// BaseURL for a host that is not
	// loopback. Only for development on a trusted network.
	AllowInsecureHTTP bool

	// DisableDPoP turns DPoP (RFC 9449) off: the Client makes no device
	// key, sends no DPoP header and presents the JWT with the Bearer
	// scheme, so the backend issues unbound tokens. A device key already
	// in Store is kept, unused. A session whose JWT is bound to the key
	// cannot be used without it: the backend refuses it, and the user logs
	// in again.
	DisableDPoP bool

	initOnce sync.Once
	initErr  error
	base     *url.URL     // BaseURL, parsed, path without trailing slash
	store    TokenStore   // Store or a MemoryStore
	origin   string       // scheme://host:port of base, lower case
	hc       *http.Client // HTTPClient or http.DefaultClient

	// mu guards the session state below.
	mu sync.Mutex
	// loaded reports whether cur reflects the store.
	loaded bool
	// cur is the session, nil when logged out.
	cur *Tokens
	// gen counts changes of cur; a response is applied only to the
	// session its request was sent with.
	gen uint64
	// rejected: the backend refused cur's JWT although the Client thought
	// it fresh; send the refresh token from now on.
	rejected bool
	// declined: the backend answered a request carrying the refresh token
	// without refreshing (the JWT was still good to it); stop sending the
	// refresh token until the JWT has expired.
	declined bool
	// refreshing is non-nil while a request carrying the refresh token is
	// in flight; it is closed when that request's response has been applied.
	refreshing chan struct{}
	// key is the device's DPoP key, nil until loaded from the store or
	// made at Login. Once set it stays, across sessions.
	key *deviceKey
	// nonce is the latest DPoP-Nonce the backend sent, for the next proofs.
	nonce string
	// trustID is the device's twoFactorTrustId (see
	// Tokens.TwoFactorTrustID), sent with every Login; "" for none.
	trustID string
	// pending is the login awaiting its second factor, nil for none.
	pending *pendingLogin
}

// init validates the configuration (see Validate), once.
func (c *Client) init() error {
	c.initOnce.Do(func() {
		c.hc = c.HTTPClient
		if c.hc == nil {
			c.hc = http.DefaultClient
		}
		c.store = c.Store
		if c.store == nil {
			c.store = new(MemoryStore)
		}
		c.base, c.origin, c.initErr = c.check()
	})
	return c.initErr
}

// originOf returns scheme://host:port, with the default port made explicit.
func originOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return strings.ToLower(u.Scheme) + "://" + host + ":" + port
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) refreshWindow() time.Duration {
	switch {
	case c.RefreshWindow == 0:
		return DefaultRefreshWindow
	case c.RefreshWindow < 0:
		return 0
	}
	return c.RefreshWindow
}

// endpoint returns BaseURL + path.
func (c *Client) endpoint(path string) string {
	u := *c.base
	u.Path += path
	return u.String()
}

// direct returns an HTTP client like HTTPClient that follows no redirect,
// for Login and Logout: a password or a refresh token must not be replayed
// to wherever a redirect points.
func (c *Client) direct() *http.Client {
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// Login posts the user's credentials to the backend's POST /api/login,
// stores the tokens it answers with, replacing any session, and returns
// the user. A status other than 200 yields an *APIError (401 for bad
// credentials, 409 or 423 with a Message when the account is locked),
// except 202 with a twoFactorId: the password was right and a second
// factor is due, which Login reports as a *TwoFactorRequiredError,
// keeping the pending login (never the password) for CompleteTwoFactor.
// Login sends the device's TwoFactorTrustID, if it holds one, so that a
// trusted device is asked for no code. A Login abandons any login that
// awaited a code.
//
// Unless DisableDPoP is set, the request carries a DPoP proof (RFC 9449)
// made with the device key, which Login creates when Store holds none and
// keeps in Store from then on, so that the backend binds the tokens to it.
// When the backend asks for a nonce (use_dpop_nonce), Login retries once
// with it. If Store holds Tokens that cannot be read (a tampered or
// undecryptable file, a key that does not parse), Login never uses what
// they hold: it starts over with a new key and replaces them.
func (c *Client) Login(ctx context.Context, loginID, password string) (*api.User, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	key, err := c.loginKeyLocked(ctx)
	trustID := c.trustID
	c.pending = nil // a new login abandons the one awaiting a code
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(api.LoginRequest{LoginID: loginID, Password: password, TwoFactorTrustID: trustID})
	if err != nil {
		return nil, err
	}
	resp, err := c.sendDirect(key, "", func() (*http.Request, error) { return c.newJSONPost(ctx, "/api/login", body) })
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return c.adoptLogin(ctx, key, resp, nil)
	case http.StatusAccepted:
		return nil, c.awaitSecondFactor(key, resp)
	}
	return nil, newAPIError(resp)
}

// adoptLogin reads a login's 200 answer, stores its tokens, replacing any
// session, and returns the user. key is the device key that signed the
// request's proof. When p is not nil, the answer completes that pending
// login, which ends unless another Login has replaced it meanwhile.
func (c *Client) adoptLogin(ctx context.Context, key *deviceKey, resp *http.Response, p *pendingLogin) (*api.User, error) {
	defer resp.Body.Close()
	var lr api.LoginResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxLoginBody)).Decode(&lr); err != nil {
		return nil, fmt.Errorf("client: login response: %w", err)
	}
	if lr.Token == "" {
		return nil, errors.New("client: login response carries no token")
	}
	var fallback time.Time
	if lr.TokenExpirationInstant > 0 {
		fallback = time.UnixMilli(lr.TokenExpirationInstant)
	}
	t := Tokens{
		AccessToken:  lr.Token,
		RefreshToken: lr.RefreshToken,
		Expiry:       tokenExpiry(lr.Token, fallback),
		User:         lr.User,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p != nil && c.pending == p {
		c.pending = nil
	}
	if key != nil {
		// The tokens are bound to the key that signed the proof, whatever
		// the store was found to hold meanwhile.
		c.key = key
	}
	if c.key != nil {
		t.DPoPKey = bytes.Clone(c.key.der)
	}
	if lr.TwoFactorTrustID != "" {
		c.trustID = lr.TwoFactorTrustID
	}
	t.TwoFactorTrustID = c.trustID
	err := c.store.Save(context.WithoutCancel(ctx), t)
	if err != nil {
		return nil, fmt.Errorf("client: save tokens: %w", err)
	}
	c.setLocked(&t)
	return t.clone().User, nil
}

// loginKeyLocked loads the store, to find the device key, and makes the
// key if there is none. It returns the key to sign the login's proof
// with, nil when DPoP is disabled. Stored Tokens that cannot be read hold
// no usable key: the login makes a new one and replaces them.
func (c *Client) loginKeyLocked(ctx context.Context) (*deviceKey, error) {
	// On error c.key stays as it was: nil, or the key an earlier Login
	// made after the same error.
	_ = c.loadLocked(ctx)
	if c.DisableDPoP {
		return nil, nil
	}
	if c.key == nil {
		k, err := newDeviceKey()
		if err != nil {
			return nil, err
		}
		c.key = k
	}
	return c.proofKeyLocked(), nil
}

// sendDirect sends the request build makes, following no redirect, with a
// DPoP proof when key is set and with accessToken, if set, in
// Authorization. When the backend asks for a nonce it sends a new request
// with a new proof, once. It adopts the DPoP-Nonce of a 2xx response.
// newJSONPost is a POST of the JSON body to the storefront's path that
// asks for JSON back: sendDirect's build, made afresh for each try.
func (c *Client) newJSONPost(ctx context.Context, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (c *Client) sendDirect(key *deviceKey, accessToken string, build func() (*http.Request, error)) (*http.Response, error) {
	for try := 0; ; try++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		if err := c.authorize(req, key, c.currentNonce(), accessToken); err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := c.direct().Do(req)
		if err != nil {
			return nil, err
		}
		if nonce, ok := useNonce(resp); ok {
			c.mu.Lock()
			c.nonce = nonce
			c.mu.Unlock()
			if try == 0 && key != nil {
				discard(resp)
				continue
			}
			return resp, nil
		}
		c.mu.Lock()
		c.adoptNonceLocked(resp)
		c.mu.Unlock()
		return resp, nil
	}
}

// Logout posts {"global": global} to the backend's POST /api/logout with
// the JWT (and a DPoP proof, as Transport sends them) and the refresh
// token (so that the backend can revoke it, or with global every session
// of the user), then ends the session locally whatever the outcome. A
// status other than 2xx yields an *APIError. With no session it only ends
// it locally. Logout waits for a refresh in flight, so that it presents
// the current refresh token.
//
// Ending the session locally forgets the tokens and keeps the device's
// DPoP key (and the TwoFactorTrustID, if any): the store then holds
// Tokens with those alone (see TokenStore), and the next Login uses the
// same key. If the store cannot
// be read, Logout clears it, and the next Login makes a new key.
func (c *Client) Logout(ctx context.Context, global bool) error {
	if err := c.init(); err != nil {
		return err
	}
	a, err := c.acquire(ctx, true)
	if err == nil {
		err = c.postLogout(ctx, a, global)
	}
	// Release the refresh slot and clear in one step, so that no request
	// waiting for the slot sends the refresh token just revoked.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked(a)
	return errors.Join(err, c.clearLocked(ctx))
}

func (c *Client) postLogout(ctx context.Context, a attempt, global bool) error {
	if a.tok.AccessToken == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		Global bool `json:"global"`
	}{global})
	if err != nil {
		return err
	}
	resp, err := c.sendDirect(a.key, a.tok.AccessToken, func() (*http.Request, error) {
		req, err := c.newJSONPost(ctx, "/api/logout", body)
		if err != nil {
			return nil, err
		}
		if a.tok.RefreshToken != "" {
			req.Header.Set(api.HeaderRefreshToken, a.tok.RefreshToken)
		}
		return req, nil
	})
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return nil
}

// clearLocked ends the session locally: it forgets the tokens and keeps
// the device key, if there is one, in the store.
func (c *Client) clearLocked(ctx context.Context) error {
	c.setLocked(nil)
	var err error
	if c.key != nil || c.trustID != "" {
		kept := Tokens{TwoFactorTrustID: c.trustID}
		if c.key != nil {
			kept.DPoPKey = bytes.Clone(c.key.der)
		}
		err = c.store.Save(context.WithoutCancel(ctx), kept)
	} else {
		err = c.store.Clear(context.WithoutCancel(ctx))
	}
	if err != nil {
		return fmt.Errorf("client: clear tokens: %w", err)
	}
	return nil
}

// Tokens returns a copy of the current session's tokens (loading them from
// Store on first use), or ErrLoginRequired when there is none. An app
// calls it at start to choose between its login form and its content. The
// copy includes the device key (DPoPKey), a secret: to show whether DPoP
// is in use, display Tokens.DPoPBound and Tokens.DPoPThumbprint.
func (c *Client) Tokens(ctx context.Context) (Tokens, error) {
	if err := c.init(); err != nil {
		return Tokens{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.loadLocked(ctx); err != nil {
		return Tokens{}, err
	}
	if c.cur == nil {
		return Tokens{}, ErrLoginRequired
	}
	return c.cur.clone(), nil
}

// loadLocked loads the session from the store, once.
func (c *Client) loadLocked(ctx context.Context) error {
	if c.loaded {
		return nil
	}
	t, err := c.store.Load(ctx)
	switch {
	case errors.Is(err, ErrNoTokens):
		c.key = nil
		c.trustID = ""
		c.setLocked(nil)
	case err != nil:
		return fmt.Errorf("client: load tokens: %w", err)
	default:
		if err := c.adoptKeyLocked(t.DPoPKey); err != nil {
			return err
		}
		c.trustID = t.TwoFactorTrustID
		if t.AccessToken == "" {
			c.setLocked(nil)
			break
		}
		if t.Expiry.IsZero() {
			t.Expiry = jwtExpiry(t.AccessToken)
		}
		c.setLocked(&t)
	}
	return nil
}

// setLocked replaces the session, which starts with no flags.
func (c *Client) setLocked(t *Tokens) {
	c.cur = t
	c.loaded = true
	c.gen++
	c.rejected = false
	c.declined = false
}
