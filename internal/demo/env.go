package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/fakeclock"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storefront"
)

// The system Start sets up.
const (
	// Email is the login id of the demo's user.
	Email = "ana@example.org"
	// ApplicationName is the name of the storefront's application in Latch.
	ApplicationName = "Store"
	// Role is the application's default role, which the user is granted.
	Role = "customer"
	// JWTLifetime is the lifetime of the application's JWTs.
	JWTLifetime = 5 * time.Minute
	// RefreshLifetime is the lifetime of a refresh token, counted from its
	// last use (the SlidingWindow expiration policy).
	RefreshLifetime = 60 * time.Minute
	// GracePeriod is how long after a one-time-use refresh token rotated
	// Latch still answers its previous value with the current successor (a
	// lost response, parallel requests); after it, the previous value is
	// reuse, which revokes the whole session.
	GracePeriod = 10 * time.Second
	// LockAfter failed logins within LockWindow lock a login ID for
	// LockDuration (the tenant defaults).
	LockAfter    = 5
	LockWindow   = time.Minute
	LockDuration = 3 * time.Minute
)

// Clock advances of the walk.
const (
	// guardReuseWindow is how long guard serves the outcome of a refresh
	// again to requests presenting the same refresh token (and DPoP key).
	guardReuseWindow = guard.ReuseWindow
	// PastJWT moves the clock past a fresh JWT's expiry and the clock skew
	// guard tolerates (the storefront keeps guard's default leeway).
	PastJWT = JWTLifetime + guard.DefaultLeeway + 30*time.Second
	// PastGrace moves the clock past Latch's grace period and guard's
	// reuse window, so that a rotated refresh token presented again is
	// seen by Latch as reuse.
	PastGrace = max(GracePeriod, guardReuseWindow) + 30*time.Second
	// PastRefresh moves the clock past a refresh token's lifetime since
	// its last use.
	PastRefresh = RefreshLifetime + time.Minute
)

// Environment names the kickstart file reads its secrets from (through
// Start's own lookup, never the process environment), so that neither the
// password nor the API key is written to the data directory.
const (
	envAPIKey   = "LATCH_DEMO_API_KEY"
	envPassword = "LATCH_DEMO_PASSWORD"
)

// Clock is the clock Latch, the storefront and the app share: it stands
// still until Advance moves it. It is safe for concurrent use.
type Clock = fakeclock.Clock

// NewClock returns a Clock reading start (the current second when zero).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second)
	}
	return fakeclock.New(start)
}

// Options configures Start and Run. The zero value runs the demo as
// `latch demo` does, printing nothing.
type Options struct {
	// Out receives the walk's lines; nothing is printed when nil.
	Out io.Writer
	// Quiet prints only a failing scene's lines and the failure, or, when
	// every scene passed, one line that says so (and, with Keep, where the
	// data is).
	Quiet bool
	// Width wraps the printed lines at this many columns, at spaces, each
	// continuation indented under the text it continues; 0: no wrapping.
	Width int
	// Keep keeps the temporary data directory (Latch's database, the
	// storefront's, the kickstart file); Run prints where it is.
	Keep bool
	// Dir is where the temporary data directory is made; os.TempDir()
	// when empty.
	Dir string
	// Logger receives Latch's and the storefront's logs; they are
	// discarded when nil.
	Logger *slog.Logger
	// Start is the clock's first reading; the current second when zero.
	Start time.Time
	// Password is the user's password; a random one when empty. It is
	// never printed.
	Password string

	// Application, when set, adjusts the application the kickstart
	// creates, after the demo has configured it. For tests that check the
	// walk fails when Latch is configured otherwise.
	Application func(*api.Application)
	// RevocationPolicy, when set, adjusts the default tenant's
	// refreshTokenRevocationPolicy after the demo has set it to Latch's
	// defaults (reuse detection on). The tenant's policy is the one that
	// applies, whatever the application carries.
	RevocationPolicy func(*api.RevocationPolicy)
	// Storefront, when set, adjusts the storefront's configuration.
	Storefront func(*storefront.Config)
	// Latch, when set, adjusts Latch's configuration.
	Latch func(*server.Config)
	// LatchTransport, when set, wraps the transport of the storefront's
	// calls to Latch, below the Recorder that observes them (so that what
	// it changes is what the walk sees Latch answer).
	LatchTransport func(http.RoundTripper) http.RoundTripper
	// MobileTransport, when set, wraps the transport of the app's calls
	// to the storefront, below the Recorder that observes them.
	MobileTransport func(http.RoundTripper) http.RoundTripper
	// EventTransport, when set, wraps the transport of Latch's webhook
	// deliveries to the storefront, below the Recorder that observes
	// them.
	EventTransport func(http.RoundTripper) http.RoundTripper

	// Extra are scenes walked after Scenes.
	Extra []Scene
}

// Env is Latch and the storefront running in this process, set up for the
// walk. Close stops both.
type Env struct {
	// Clock is the clock Latch and the storefront read.
	Clock *Clock
	// Latch is the identity server (the article's Identity).
	Latch *server.Server
	// Store is the storefront (the article's Store).
	Store *storefront.Server
	// LatchURL and StoreURL are their base URLs, on loopback.
	LatchURL, StoreURL string
	// AppID is the id of the application "Store".
	AppID string
	// APIKey is Latch's admin API key, which the storefront uses. A
	// secret: never print it.
	APIKey string
	// Email and Password are the user's credentials. The password is a
	// secret: never print it.
	Email, Password string
	// LatchCalls records every call the storefront makes to Latch.
	LatchCalls *Recorder
	// Events records Latch's webhook deliveries: the revocation events
	// it sends the storefront (POST /latch/events), which the storefront
	// registered for when it opened.
	Events *Recorder
	// Dir is the temporary data directory.
	Dir string

	keep      bool
	transport *http.Transport // of the storefront's calls and the admin's
	admin     *http.Client    // to Latch with the API key, unrecorded
	latchDone chan error
	storeDone chan error
	closeOnce sync.Once
	closeErr  error
}

// Start starts Latch and the storefront on free loopback ports, with their
// data in a new temporary directory, and sets Latch up through a kickstart
// file: the application "Store" and the user ana@example.org.
func Start(ctx context.Context, opts Options) (*Env, error) {
	dir, err := os.MkdirTemp(opts.Dir, "latch-demo-*")
	if err != nil {
		return nil, fmt.Errorf("demo: make the data directory: %w", err)
	}
	e := &Env{
		Clock:    NewClock(opts.Start),
		Email:    Email,
		Password: opts.Password,
		Dir:      dir,
		keep:     opts.Keep,
	}
	if err := e.start(ctx, opts); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

func (e *Env) start(ctx context.Context, opts Options) error {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if e.Password == "" {
		e.Password = randomSecret()
	}
	e.APIKey = randomSecret()
	e.AppID = uuid.NewString()
	ks, err := kickstartFile(e.AppID, opts.Application, opts.RevocationPolicy)
	if err != nil {
		return err
	}
	ksPath := filepath.Join(e.Dir, "kickstart.json")
	if err := os.WriteFile(ksPath, ks, 0o600); err != nil {
		return fmt.Errorf("demo: write the kickstart file: %w", err)
	}
	secrets := map[string]string{envAPIKey: e.APIKey, envPassword: e.Password}
	e.transport = http.DefaultTransport.(*http.Transport).Clone()
	var deliveries http.RoundTripper = e.transport
	if opts.EventTransport != nil {
		deliveries = opts.EventTransport(deliveries)
	}
	e.Events = &Recorder{Next: deliveries}
	latchCfg := server.Config{
		Addr:      "127.0.0.1:0",
		DataDir:   filepath.Join(e.Dir, "latch"),
		Kickstart: ksPath,
		Logger:    logger,
		Now:       e.Clock.Now,
		Getenv: func(name string) (string, bool) {
			v, ok := secrets[name]
			return v, ok
		},
		// Deliveries are due by the shared clock, which stands still
		// between steps: the first attempt is made at once, and polling
		// often keeps the walk from waiting on the dispatcher.
		Events: events.Config{Transport: e.Events, PollInterval: 50 * time.Millisecond},
	}
	if opts.Latch != nil {
		opts.Latch(&latchCfg)
	}
	e.Latch, err = server.Open(ctx, latchCfg)
	if err != nil {
		return fmt.Errorf("demo: start Latch: %w", err)
	}
	e.latchDone = make(chan error, 1)
	go func() { e.latchDone <- e.Latch.Serve() }()
	e.LatchURL = e.Latch.URL()

	e.admin = &http.Client{Transport: e.transport, Timeout: 10 * time.Second}
	var next http.RoundTripper = e.transport
	if opts.LatchTransport != nil {
		next = opts.LatchTransport(next)
	}
	e.LatchCalls = &Recorder{Next: next}
	cfg := storefront.Config{
		Addr:          "127.0.0.1:0",
		LatchURL:      e.LatchURL,
		ApplicationID: e.AppID,
		APIKey:        e.APIKey,
		DataDir:       filepath.Join(e.Dir, "storefront"),
		HTTPClient:    &http.Client{Transport: e.LatchCalls, Timeout: 10 * time.Second},
		Logger:        logger,
		Now:           e.Clock.Now,
		// Latch's revocation events reach the storefront (the article's
		// step 21): it registers its webhook at Latch as it opens, at its
		// own loopback URL.
		RegisterWebhook: true,
	}
	if opts.Storefront != nil {
		opts.Storefront(&cfg)
	}
	e.Store, err = storefront.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: start the storefront: %w", err)
	}
	e.storeDone = make(chan error, 1)
	go func() { e.storeDone <- e.Store.Serve() }()
	e.StoreURL = e.Store.URL()
	return nil
}

// Close stops the storefront and Latch and, unless Options.Keep was set,
// removes the data directory. It may be called more than once.
func (e *Env) Close() error {
	e.closeOnce.Do(func() {
		var errs []error
		if e.Store != nil {
			errs = append(errs, e.Store.Close(), <-e.storeDone)
		}
		if e.Latch != nil {
			errs = append(errs, e.Latch.Close(), <-e.latchDone)
		}
		if e.transport != nil {
			e.transport.CloseIdleConnections()
		}
		if !e.keep {
			errs = append(errs, os.RemoveAll(e.Dir))
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// LiveSessions returns the ids of the user's live (neither expired nor
// revoked) refresh tokens, as Latch's admin API lists them.
func (e *Env) LiveSessions(ctx context.Context, userID string) ([]string, error) {
	var out api.RefreshTokensResponse
	if err := e.adminCall(ctx, http.MethodGet, "/api/jwt/refresh?userId="+url.QueryEscape(userID), &out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.RefreshTokens))
	for i, t := range out.RefreshTokens {
		ids[i] = t.ID
	}
	return ids, nil
}

// RevokeSession revokes the session (refresh token) sid at Latch with the
// API key, as an operator does when a user reports a device stolen:
// DELETE /api/jwt/refresh/{id}.
func (e *Env) RevokeSession(ctx context.Context, sid string) error {
	return e.adminCall(ctx, http.MethodDelete, "/api/jwt/refresh/"+url.PathEscape(sid), nil)
}

// StoreWebhook returns the webhook Latch holds for the storefront's
// events route, or nil when there is none.
func (e *Env) StoreWebhook(ctx context.Context) (*api.Webhook, error) {
	var out api.WebhookResponse
	if err := e.adminCall(ctx, http.MethodGet, "/api/webhook", &out); err != nil {
		return nil, err
	}
	for _, h := range out.Webhooks {
		if h.URL == e.StoreURL+storefront.EventsPath {
			return &h, nil
		}
	}
	return nil, nil
}

// adminCall sends a request without a body to Latch with the API key and
// decodes a 200 answer into out (when not nil).
func (e *Env) adminCall(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, e.LatchURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", e.APIKey)
	resp, err := e.admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: Latch answered %d", method, req.URL.Path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Application returns the application the kickstart creates: Latch's
// defaults with the demo's lifetimes and refresh-token policies, then
// adjust (when not nil).
func Application(adjust func(*api.Application)) api.Application {
	app := identity.DefaultApplication()
	app.Name = ApplicationName
	app.Roles = []api.ApplicationRole{{Name: Role, IsDefault: true, Description: "a shopper"}}
	j := &app.JWTConfiguration
	j.Enabled = true
	j.TimeToLiveInSeconds = int(JWTLifetime / time.Second)
	j.RefreshTokenTimeToLiveInMinutes = int(RefreshLifetime / time.Minute)
	j.RefreshTokenUsagePolicy = api.RefreshOneTimeUse
	j.RefreshTokenExpirationPolicy = api.ExpirationSlidingWindow
	j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds = int(GracePeriod / time.Second)
	app.LoginConfiguration = api.LoginConfiguration{AllowTokenRefresh: true, GenerateRefreshTokens: true, RequireAuthentication: true}
	if adjust != nil {
		adjust(&app)
	}
	return app
}

// revocationPolicy returns the default tenant's refreshTokenRevocationPolicy
// as the kickstart sets it: Latch's defaults, then adjust (when not nil).
func revocationPolicy(adjust func(*api.RevocationPolicy)) api.RevocationPolicy {
	p := identity.DefaultTenant().JWTConfiguration.RefreshTokenRevocationPolicy
	if adjust != nil {
		adjust(&p)
	}
	return p
}

// kickstartFile returns the kickstart file: the API key, the default
// tenant's revocation policy, the application and the user, with the
// secrets left as ENV placeholders.
func kickstartFile(appID string, adjust func(*api.Application), policy func(*api.RevocationPolicy)) ([]byte, error) {
	type request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
		Body   any    `json:"body"`
	}
	f := struct {
		Variables map[string]string `json:"variables"`
		APIKeys   []map[string]any  `json:"apiKeys"`
		Requests  []request         `json:"requests"`
	}{
		Variables: map[string]string{"applicationId": appID, "defaultTenantId": "#{UUID()}"},
		APIKeys:   []map[string]any{{"key": "#{ENV." + envAPIKey + "}", "description": "latch demo: the storefront's key"}},
		Requests: []request{
			// Stated, not left to the defaults: the walk's theft detection
			// rests on it.
			{Method: "PATCH", URL: "/api/tenant/#{defaultTenantId}", Body: map[string]any{"tenant": map[string]any{
				"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": revocationPolicy(policy)},
			}}},
			{Method: "POST", URL: "/api/application/#{applicationId}", Body: api.ApplicationRequest{Application: Application(adjust)}},
			{Method: "POST", URL: "/api/user/registration", Body: map[string]any{
				"user":         map[string]any{"email": Email, "password": "#{ENV." + envPassword + "}"},
				"registration": map[string]any{"applicationId": "#{applicationId}", "roles": []string{Role}},
			}},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("demo: kickstart file: %w", err)
	}
	return buf.Bytes(), nil
}

// randomSecret returns 32 random bytes, base64url: a password or an API key.
func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Exchange is one request and its response, as a Recorder saw them.
type Exchange struct {
	// Method and Path are the request's; Query its raw query.
	Method, Path, Query string
	// RequestHeader and RequestBody are what was sent. The body may hold a
	// password or a token: never print it.
	RequestHeader http.Header
	RequestBody   []byte
	// Status, Header and Body are the response's; Status is 0 when the
	// round trip failed, with Err.
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// Call returns "METHOD /path".
func (x Exchange) Call() string { return x.Method + " " + x.Path }

// maxRecordedBody bounds the bodies a Recorder keeps.
const maxRecordedBody = 1 << 20

// Recorder is an http.RoundTripper that sends requests through Next (or
// http.DefaultTransport) and records each exchange, bodies included, for
// the walk to check and print. It is safe for concurrent use.
type Recorder struct {
	// Next sends the requests.
	Next http.RoundTripper

	mu  sync.Mutex
	log []Exchange
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x := Exchange{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, RequestHeader: req.Header.Clone()}
	if req.Body != nil && req.Body != http.NoBody {
		var rd io.ReadCloser
		var err error
		if req.GetBody != nil {
			rd, err = req.GetBody()
		}
		if req.GetBody == nil || err != nil {
			// Read the body once, and send what was read.
			b, rerr := io.ReadAll(req.Body)
			req.Body.Close()
			if rerr != nil {
				return nil, rerr
			}
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(b))
			x.RequestBody = b
		} else {
			x.RequestBody, _ = io.ReadAll(io.LimitReader(rd, maxRecordedBody))
			rd.Close()
		}
	}
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		x.Err = err
		r.add(x)
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
	resp.Body.Close()
	if err != nil {
		x.Err = err
		r.add(x)
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	x.Status, x.Header, x.Body = resp.StatusCode, resp.Header.Clone(), b
	r.add(x)
	return resp, nil
}

func (r *Recorder) add(x Exchange) {
	r.mu.Lock()
	r.log = append(r.log, x)
	r.mu.Unlock()
}

// Take returns the exchanges recorded since the last Take, oldest first,
// and forgets them.
func (r *Recorder) Take() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	xs := r.log
	r.log = nil
	return xs
}

// Count returns how many of the exchanges recorded since the last Take
// were "METHOD /path" (call).
func (r *Recorder) Count(call string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.log {
		if strings.EqualFold(x.Call(), call) {
			n++
		}
	}
	return n
}
