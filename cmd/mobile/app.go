package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

// maxBody bounds the responses the app reads from the backend.
const maxBody = 1 << 20

var (
	// errLoginRequired reports that the user must log in (again): there is
	// no session, or the backend ended it (the article's steps 13-17).
	errLoginRequired = errors.New("login required")
	// errBadCredentials is a 401 to POST /api/login.
	errBadCredentials = errors.New("wrong email or password")
)

// sessionEndedError is a 401 from the backend: it ended the session (the
// refresh token expired or was revoked), and the user must log in again.
// It is an errLoginRequired.
type sessionEndedError struct {
	// Message is the backend's reason, if it gave one.
	Message string
}

// Error says that the session ended, and why.
func (e *sessionEndedError) Error() string {
	if e.Message == "" {
		return "the backend ended the session"
	}
	return "the backend ended the session: " + e.Message
}

// Is makes a sessionEndedError an errLoginRequired.
func (e *sessionEndedError) Is(target error) bool { return target == errLoginRequired }

// unreachableError is a request that reached no backend: the connection
// was refused, the host has no address, or none answered. It says where
// the app looked and how to point it elsewhere.
type unreachableError struct {
	backend string // the --backend URL
	err     error
}

// Error names the backend, the cause and the flag.
func (e *unreachableError) Error() string {
	return fmt.Sprintf("the backend at %s is not reachable (%s): start the storefront (go run ./cmd/storefront), "+
		"or point --backend URL (or MOBILE_BACKEND) at the one you run", e.backend, reachCause(e.err))
}

// Unwrap returns the network error.
func (e *unreachableError) Unwrap() error { return e.err }

// unreachable returns err as an *unreachableError when it is a failure
// to connect to backend, else err.
func unreachable(backend string, err error) error {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") {
		return &unreachableError{backend: backend, err: err}
	}
	return err
}

// reachCause is the short reason a connection failed: "connection
// refused", "no such host" …, without the request and addresses the
// message already gives.
func reachCause(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var sys *os.SyscallError
	switch {
	case errors.As(err, &dns):
		return "no such host " + dns.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &sys):
		return sys.Err.Error()
	case errors.As(err, &op) && op.Timeout():
		return "no answer"
	case errors.As(err, &op):
		return op.Err.Error()
	}
	return err.Error()
}

// isLoginRequired reports whether err means "show the login form".
func isLoginRequired(err error) bool {
	return errors.Is(err, errLoginRequired) || errors.Is(err, client.ErrLoginRequired)
}

// Product is one entry of GET /api/products.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"priceCents"`
}

// CartItem is one line of the cart.
type CartItem struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"priceCents"`
}

// Cart is the body of GET /api/cart.
type Cart struct {
	Items      []CartItem `json:"items"`
	TotalCents int64      `json:"totalCents"`
}

// Session describes the tokens the app holds, without their values
// unless asked for.
type Session struct {
	LoggedIn     bool      `json:"loggedIn"`
	User         string    `json:"user,omitempty"`
	UserID       string    `json:"userId,omitempty"`
	JWTExpiresAt time.Time `json:"jwtExpiresAt,omitzero"`
	JWTExpired   bool      `json:"jwtExpired"`
	RefreshToken bool      `json:"refreshTokenStored"`

	// The token values, filled in only by the tokens command with
	// --show-secrets.
	AccessTokenValue  string `json:"accessToken,omitempty"`
	RefreshTokenValue string `json:"refreshToken,omitempty"`
}

// config is what newApp needs.
type config struct {
	Backend      string        // the storefront's base URL
	StateDir     string        // where the tokens are kept
	InsecureHTTP bool          // allow http:// to a host that is not loopback
	Timeout      time.Duration // per request; zero means none
	Now          func() time.Time
}

// app is the mobile app's logic, written once for the TUI and the
// scripted commands: a client.Client that keeps the session in a
// client.FileStore, and the storefront's API on top of it.
type app struct {
	backend *url.URL
	c       *client.Client
	hc      *http.Client // c.HTTP(): attaches the tokens, adopts refreshed ones
	now     func() time.Time

	mu sync.Mutex
	// onLoginRequired is called (from a request's goroutine) when the SDK
	// reports that the backend ended the session.
	onLoginRequired func()
}

// newApp builds an app for cfg. The token file is per backend (its scheme,
// host and port), so that one backend's tokens are never sent to another;
// the key that encrypts it is shared.
//
// It checks the configuration (client.Client.Validate) before it creates
// the state directory, and without reading the token file: a bad
// --backend fails before anything else, and an unreadable token file does
// not (login and logout replace it).
func newApp(cfg config) (*app, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("no state directory")
	}
	a := &app{now: cfg.Now}
	if a.now == nil {
		a.now = time.Now
	}
	a.c = &client.Client{
		BaseURL:           cfg.Backend,
		HTTPClient:        &http.Client{Timeout: cfg.Timeout},
		OnLoginRequired:   a.loginRequired,
		Now:               cfg.Now,
		AllowInsecureHTTP: cfg.InsecureHTTP,
	}
	u, err := url.Parse(cfg.Backend)
	if err == nil {
		a.c.Store = client.FileStoreFor(cfg.StateDir, u)
	} // else Validate refuses BaseURL
	if err := a.c.Validate(); errors.Is(err, client.ErrInsecureHTTP) {
		return nil, fmt.Errorf("--backend %s: refusing http:// to a host that is not loopback, since the backend receives your password: use https, or --insecure-http (development only)", cfg.Backend)
	} else if err != nil {
		return nil, err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	a.backend = u
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	a.hc = a.c.HTTP()
	return a, nil
}

// setLoginRequiredHook sets what the app does when the SDK's
// OnLoginRequired fires (the TUI posts a message to its program).
func (a *app) setLoginRequiredHook(f func()) {
	a.mu.Lock()
	a.onLoginRequired = f
	a.mu.Unlock()
}

func (a *app) loginRequired() {
	a.mu.Lock()
	f := a.onLoginRequired
	a.mu.Unlock()
	if f != nil {
		f()
	}
}

// Session reports the session the app holds (read from the token file).
func (a *app) Session(ctx context.Context, secrets bool) (Session, error) {
	t, err := a.c.Tokens(ctx)
	if errors.Is(err, client.ErrLoginRequired) {
		return Session{}, nil
	} else if err != nil {
		return Session{}, fmt.Errorf("the stored session cannot be read (log in again, or log out to delete it): %w", err)
	}
	s := Session{
		LoggedIn:     true,
		JWTExpiresAt: t.Expiry,
		JWTExpired:   !t.Expiry.IsZero() && !a.now().Before(t.Expiry),
		RefreshToken: t.RefreshToken != "",
	}
	if t.User != nil {
		s.User = firstNonEmpty(t.User.Email, t.User.Username, t.User.ID)
		s.UserID = t.User.ID
	}
	if secrets {
		s.AccessTokenValue = t.AccessToken
		s.RefreshTokenValue = t.RefreshToken
	}
	return s, nil
}

// Login logs in through the backend (the article's steps 2-5) and stores
// the tokens. A 401 is errBadCredentials; a locked account (409, 423), as
// any other answer, is a *client.APIError with the backend's message.
func (a *app) Login(ctx context.Context, loginID, password string) (*api.User, error) {
	u, err := a.c.Login(ctx, loginID, password)
	err = unreachable(a.backend.String(), err)
	var apiErr *client.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return nil, errBadCredentials
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusConflict || apiErr.Status == http.StatusLocked) && apiErr.Message == "":
		locked := *apiErr
		locked.Message = "the account is locked"
		return nil, &locked
	case err != nil:
		return nil, err
	}
	if u == nil {
		u = &api.User{Email: loginID}
	}
	return u, nil
}

// Logout ends the session on the backend (every session of the user with
// everywhere) and forgets the tokens whatever the backend says. A 401 is
// not an error: the backend had ended the session already.
func (a *app) Logout(ctx context.Context, everywhere bool) error {
	err := unreachable(a.backend.String(), a.c.Logout(ctx, everywhere))
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		return nil
	}
	return err
}

// Products lists the shop's products.
func (a *app) Products(ctx context.Context) ([]Product, error) {
	var body struct {
		Products []Product `json:"products"`
	}
	if err := a.do(ctx, http.MethodGet, "/api/products", nil, &body); err != nil {
		return nil, err
	}
	return body.Products, nil
}

// Cart loads the user's cart (the article's steps 6-12: the SDK sends the
// refresh token when the JWT is about to expire and adopts what the
// backend hands back).
func (a *app) Cart(ctx context.Context) (Cart, error) {
	var c Cart
	err := a.do(ctx, http.MethodGet, "/api/cart", nil, &c)
	return c, err
}

// Add puts quantity of sku in the cart and returns the cart.
func (a *app) Add(ctx context.Context, sku string, quantity int) (Cart, error) {
	body := struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}{sku, quantity}
	return a.changeCart(ctx, http.MethodPost, "/api/cart/items", body)
}

// Remove takes sku out of the cart and returns the cart.
func (a *app) Remove(ctx context.Context, sku string) (Cart, error) {
	return a.changeCart(ctx, http.MethodDelete, "/api/cart/items/"+url.PathEscape(sku), nil)
}

// RemoveOne takes one of sku out of the cart and returns the cart: the
// whole line when it holds one. The storefront's API has no decrement, so
// a line of several is removed and put back one fewer; should the second
// step fail, the error says so, with the cart as it is.
func (a *app) RemoveOne(ctx context.Context, sku string) (Cart, error) {
	c, err := a.Cart(ctx)
	if err != nil {
		return Cart{}, err
	}
	quantity := 0
	for _, it := range c.Items {
		if it.SKU == sku {
			quantity = it.Quantity
		}
	}
	c, err = a.Remove(ctx, sku)
	if err != nil || quantity <= 1 {
		return c, err
	}
	after, err := a.Add(ctx, sku, quantity-1)
	if err != nil {
		return c, &putBackError{sku: sku, quantity: quantity - 1, err: err}
	}
	return after, nil
}

// putBackError is RemoveOne's second step failing: the line is gone, and
// the cart RemoveOne returns with it is the backend's.
type putBackError struct {
	sku      string
	quantity int
	err      error
}

// Error says what is missing from the cart.
func (e *putBackError) Error() string {
	return fmt.Sprintf("removed every %s, and could not put %d back: %v", e.sku, e.quantity, e.err)
}

// Unwrap returns the failure of the put back.
func (e *putBackError) Unwrap() error { return e.err }

// changeCart sends a change and returns the cart: the one the backend
// answered with, or else a fresh GET /api/cart.
func (a *app) changeCart(ctx context.Context, method, path string, body any) (Cart, error) {
	var raw json.RawMessage
	if err := a.do(ctx, method, path, body, &raw); err != nil {
		return Cart{}, err
	}
	var probe struct {
		Items *[]CartItem `json:"items"`
		Cart  *Cart       `json:"cart"`
	}
	if len(raw) > 0 && json.Unmarshal(raw, &probe) == nil {
		switch {
		case probe.Cart != nil:
			return *probe.Cart, nil
		case probe.Items != nil:
			var c Cart
			if json.Unmarshal(raw, &c) == nil {
				return c, nil
			}
		}
	}
	return a.Cart(ctx)
}

// do sends a request to the backend through the SDK's HTTP client and
// decodes a 2xx JSON answer into out (if there is a body). A 401 is a
// *sessionEndedError, an errLoginRequired (the SDK has cleared the session
// and called OnLoginRequired when the backend ended it); any other non-2xx
// is a *client.APIError (client.CheckResponse).
func (a *app) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		// A *bytes.Reader gives the request a GetBody, so that the SDK
		// can replay it after a 401 caused by a clock behind the backend's.
		rd = bytes.NewReader(b)
	}
	u := *a.backend
	u.Path += path
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return unreachable(a.backend.String(), err)
	}
	defer resp.Body.Close()
	if err := client.CheckResponse(resp); err != nil {
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
			return &sessionEndedError{Message: apiErr.Message}
		}
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: response: %w", method, path, err)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// formatCents writes an amount in cents as "12.34".
func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}
