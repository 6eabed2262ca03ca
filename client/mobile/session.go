package mobile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/client"
)

// DefaultTimeoutMillis is how long, in milliseconds, each call of a
// Session may take (30 s) until SetTimeoutMillis changes it: the request
// and, for Do, reading the response body.
const DefaultTimeoutMillis = 30000

// MaxBodyBytes bounds the response body Do reads into memory (32 MiB); a
// longer body fails the call.
const MaxBodyBytes = 32 << 20

// KeyFileName is the name of the file, in the directory given to
// NewSession, that holds the key encrypting the token files (mode 0600).
const KeyFileName = client.StoreKeyFile

// errNoSession is what the methods of a Session not made by NewSession
// return.
var errNoSession = errors.New("mobile: Session not made by NewSession")

// LoginRequiredHandler is told when the backend has ended the session (a
// logout on another device, a revocation, an expired refresh token): the
// app shows its login form. Implement it in Kotlin or Java (an object
// implementing mobile.LoginRequiredHandler) or in Swift (a class, an
// NSObject, adopting the protocol MobileLoginRequiredHandlerProtocol,
// which Objective-C calls MobileLoginRequiredHandler) and pass it to
// Session.SetLoginRequiredHandler.
//
// LoginRequired is called once per session, after the tokens were
// cleared, on the thread of the request that found the session over,
// while that request waits: it should only post an event to the UI
// thread and return.
type LoginRequiredHandler interface {
	// LoginRequired reports that the user must log in again.
	LoginRequired()
}

// Session is one user's session with an app's backend: a client.Client
// with its tokens and DPoP device key in an encrypted client.FileStore.
// Make it with NewSession: in Java and Kotlin the constructor
// Session(baseURL, dir, allowInsecureHTTP) or Mobile.newSession(...); in
// Swift MobileNewSession(baseURL, dir, allowInsecureHTTP, &error), which
// reports why it failed where the initializer MobileSession(_:dir:
// allowInsecureHTTP:) only returns nil. It is safe for concurrent use;
// its methods block, so call them off the UI thread.
type Session struct {
	c  *client.Client
	hc *http.Client // c.HTTP()
	// base is BaseURL without trailing slashes, which Do prefixes to paths.
	base string

	mu      sync.Mutex
	timeout time.Duration // 0: none
	handler LoginRequiredHandler
}

// config is what newSession needs; tests set now, which NewSession
// leaves nil.
type config struct {
	baseURL, dir      string
	allowInsecureHTTP bool
	now               func() time.Time // nil: time.Now
}

// NewSession returns a Session with the backend at baseURL (such as
// "https://shop.example.com"), keeping the tokens and the DPoP device key
// encrypted in dir, which it creates (mode 0700) if need be: on Android
// a directory under Context.getFilesDir(), on iOS one under Application
// Support. DPoP is on: the tokens are bound to a P-256 key made on the
// device at the first Login.
//
// baseURL must be https, or http for a loopback host (an emulator's
// 10.0.2.2 is not loopback), unless allowInsecureHTTP is set, which is for
// development only: the backend receives the user's password. A bad
// baseURL or dir is an error (client.Client.Validate's). A session
// already stored in dir, for this backend, is picked up: LoggedIn
// reports it.
//
// The tokens of each backend (scheme, host and port) go to a file of
// their own in dir, so that a build pointed at another backend never
// sends it this one's tokens; the key file (KeyFileName) is shared.
func NewSession(baseURL, dir string, allowInsecureHTTP bool) (*Session, error) {
	return newSession(config{baseURL: baseURL, dir: dir, allowInsecureHTTP: allowInsecureHTTP})
}

func newSession(cfg config) (*Session, error) {
	if cfg.dir == "" {
		return nil, errors.New("mobile: NewSession: no directory for the tokens")
	}
	s := &Session{timeout: DefaultTimeoutMillis * time.Millisecond}
	s.c = &client.Client{
		BaseURL:           cfg.baseURL,
		OnLoginRequired:   s.loginRequired,
		Now:               cfg.now,
		AllowInsecureHTTP: cfg.allowInsecureHTTP,
	}
	u, err := url.Parse(cfg.baseURL)
	if err == nil {
		s.c.Store = client.FileStoreFor(cfg.dir, u)
	} // else Validate refuses BaseURL
	if err := s.c.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return nil, fmt.Errorf("mobile: NewSession: %w", err)
	}
	s.base = strings.TrimRight(cfg.baseURL, "/")
	s.hc = s.c.HTTP()
	return s, nil
}

// SetTimeoutMillis sets how long, in milliseconds, each later call may
// take: Login, Logout, LoggedIn, User, and Do including the reading of
// the response body. Zero or less means no limit. The default is
// DefaultTimeoutMillis. A call that runs out of time fails with an error
// (Java: an Exception), and a refresh it was waiting for goes on for the
// other calls.
func (s *Session) SetTimeoutMillis(ms int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ms <= 0 {
		s.timeout = 0
		return
	}
	s.timeout = time.Duration(ms) * time.Millisecond
}

// SetLoginRequiredHandler sets what is told when the backend ends the
// session (see LoginRequiredHandler); nil (Java null, Swift nil) removes
// it. Set it before the first request.
func (s *Session) SetLoginRequiredHandler(h LoginRequiredHandler) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// loginRequired is the Client's OnLoginRequired.
func (s *Session) loginRequired() {
	s.mu.Lock()
	h := s.handler
	s.mu.Unlock()
	if h != nil {
		h.LoginRequired()
	}
}

// ctx returns a context for one call, with the Session's timeout.
func (s *Session) ctx() (context.Context, context.CancelFunc) {
	s.mu.Lock()
	d := s.timeout
	s.mu.Unlock()
	if d <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), d)
}

// ready reports errNoSession for a Session not made by NewSession.
func (s *Session) ready() error {
	if s == nil || s.c == nil {
		return errNoSession
	}
	return nil
}

// Login posts the user's credentials to the backend's POST /api/login
// (client.Client.Login), keeps the tokens it answers with, bound to the
// device's DPoP key, replacing any session, and returns the user.
//
// The backend's refusal is an error whose status StatusOf reads: 401 for
// a wrong login id or password, 423 or 409 for a locked account, 403
// when the account may not log in; MessageOf gives the backend's message
// to show, CodeOf its machine-readable code (such as
// "invalid_credentials"). When the password was right and the account
// has a second factor, the error is one for which IsTwoFactorRequired is
// true: no tokens yet; the app asks for a code and calls
// CompleteTwoFactor.
func (s *Session) Login(loginID, password string) (*User, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.c.Login(ctx, loginID, password); err != nil {
		return nil, err
	}
	return s.user(ctx)
}

// Logout ends the session at the backend (POST /api/logout,
// client.Client.Logout) and forgets the tokens; with global, every
// session of the user ends, on every device, which learns it when its
// JWT next needs a refresh. The device key stays. Logging out with no
// session is not an error. When the backend cannot be reached or refuses
// (an error, with StatusOf for a refusal), the tokens are forgotten all
// the same.
func (s *Session) Logout(global bool) error {
	if err := s.ready(); err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.c.Logout(ctx, global)
}

// LoggedIn reports whether the Session holds a session: a Login not
// followed by Logout nor ended by the backend. It reads the token file
// but asks the backend nothing, so a session the backend ended elsewhere
// still counts until a request finds out. Stored tokens that cannot be
// read (another device's file, tampering) count as none.
func (s *Session) LoggedIn() bool {
	if s.ready() != nil {
		return false
	}
	ctx, cancel := s.ctx()
	defer cancel()
	_, err := s.c.Tokens(ctx)
	return err == nil
}

// User returns the logged-in user, as the backend described it at Login,
// with the roles of the current JWT; without a session, an error for
// which IsLoginRequired is true. Like LoggedIn it asks the backend
// nothing.
func (s *Session) User() (*User, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.user(ctx)
}

func (s *Session) user(ctx context.Context) (*User, error) {
	t, err := s.c.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	return newUser(t), nil
}

// Do sends a request to the backend through the SDK's transport
// (client.Client.Transport), which attaches the JWT with a DPoP proof,
// refreshes the JWT when it is about to expire, adopts the tokens the
// backend answers with and, when the backend ends the session, clears it
// and calls the LoginRequiredHandler.
//
// path is the request's path below the Session's base URL, with any
// query, such as "/api/cart" or "/api/products?page=2"; it must start
// with "/". body may be nil (Java null) or empty for none; contentType,
// when not "", is sent as Content-Type.
//
// Any answer of the backend is a Response, whatever its status (see
// Response.Check); an error means no answer: the network, the timeout
// (SetTimeoutMillis), a body longer than MaxBodyBytes, a token file
// that cannot be written. A 401 that ended the session is a Response
// with Status 401, after the LoginRequiredHandler was called.
func (s *Session) Do(method, path string, body []byte, contentType string) (*Response, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("mobile: Do: path %q does not start with /", path)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var rd io.Reader
	if len(body) > 0 {
		// A copy: gomobile lends the caller's bytes for the call only, and
		// the transport may still be reading the body when an early
		// answer makes Do return.
		rd = bytes.NewReader(bytes.Clone(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("mobile: Do: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("mobile: Do: read the response: %w", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, fmt.Errorf("mobile: Do: the response body exceeds %d bytes", MaxBodyBytes)
	}
	return &Response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// CompleteTwoFactor finishes a login that Login left awaiting a second
// factor (IsTwoFactorRequired(err) was true): code is a code of the
// user's authenticator app, or one of their recovery codes
// (client.Client.CompleteTwoFactor). With trustDevice the backend
// trusts this device from then on, and its next logins need no code. It
// keeps the tokens, bound to the same device key as the first step, and
// returns the user. A wrong code is an error with StatusOf 401 and CodeOf
// "invalid_two_factor_code", after which the login still awaits a code;
// CodeOf "two_factor_expired" means the user must log in again.
func (s *Session) CompleteTwoFactor(code string, trustDevice bool) (*User, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.c.CompleteTwoFactor(ctx, code, trustDevice); err != nil {
		return nil, err
	}
	return s.user(ctx)
}

// TwoFactorPending reports whether a login awaits its second factor.
func (s *Session) TwoFactorPending() bool {
	return s.ready() == nil && s.c.TwoFactorPending()
}

// TwoFactorEnabled reports whether the logged-in user has a second
// factor (client.Client.TwoFactorStatus), for the settings view.
func (s *Session) TwoFactorEnabled() (bool, error) {
	if err := s.ready(); err != nil {
		return false, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	on, _, err := s.c.TwoFactorStatus(ctx)
	return on, err
}

// StartTwoFactorEnrolment asks the backend for a new authenticator
// secret for the logged-in user (client.Client.StartTwoFactorEnrolment):
// the app shows its URI as a QR code and its secret as text, then asks
// for a code and calls EnableTwoFactor.
func (s *Session) StartTwoFactorEnrolment() (*TwoFactorEnrolment, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.c.StartTwoFactorEnrolment(ctx)
	if err != nil {
		return nil, err
	}
	return &TwoFactorEnrolment{Secret: e.Secret, URI: e.URI}, nil
}

// EnableTwoFactor enables the authenticator with the secret of
// StartTwoFactorEnrolment and a code the user's app computed from it,
// and returns the recovery codes to show the user this once. A wrong
// code is an error with StatusOf 400 and CodeOf "invalid_two_factor_code".
func (s *Session) EnableTwoFactor(secret, code string) (*RecoveryCodes, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	codes, err := s.c.EnableTwoFactor(ctx, secret, code)
	if err != nil {
		return nil, err
	}
	return &RecoveryCodes{codes: codes}, nil
}

// DisableTwoFactor removes the logged-in user's authenticator, with a
// current code of it or a recovery code.
func (s *Session) DisableTwoFactor(code string) error {
	if err := s.ready(); err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	return s.c.DisableTwoFactor(ctx, code)
}
