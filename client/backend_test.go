package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

// clock is a fake clock shared by a backend and its clients.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Test credentials.
const (
	testLogin    = "ana@example.org"
	testPassword = "correct horse battery"
	testUserID   = "00000000-0000-0000-0000-00000000a0a0"
)

// backend plays an app backend protected by guard, following DESIGN.md's
// contract between app and backend: JWTs signed with ES256, one-time-use
// refresh tokens rotated on every refresh, 401 with WWW-Authenticate when
// the user must log in again.
type backend struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clock
	key   *ecdsa.PrivateKey

	mu sync.Mutex
	// ttl is the JWTs' lifetime.
	ttl time.Duration
	// early: guard refreshes a JWT presented with a refresh token when it
	// expires within this window.
	early time.Duration
	// skew is added to the clock when checking expiry: the backend's
	// clock runs ahead of the device's.
	skew time.Duration
	// refreshDelay slows refreshes down, to let concurrent requests pile up.
	refreshDelay time.Duration
	// logoutStatus, if set, is the status POST /api/logout answers.
	logoutStatus int

	live     map[string]string // refresh token → user id
	rotated  map[string]bool   // refresh tokens already rotated
	access   string            // last JWT issued
	refresh  string            // last refresh token issued
	requests []seen            // guarded requests, in arrival order
	refreshes,
	reused int
	logouts []api.LogoutRequest
}

// seen records what a guarded request carried.
type seen struct {
	Path         string
	Access       string
	RefreshToken string
	Body         string
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{
		t:       t,
		clock:   newClock(),
		key:     key,
		ttl:     10 * time.Minute,
		early:   time.Minute,
		live:    map[string]string{},
		rotated: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", b.login)
	mux.HandleFunc("POST /api/logout", b.logout)
	mux.HandleFunc("GET /api/cart", b.guard(func(w http.ResponseWriter, r *http.Request, user string) {
		writeJSON(w, http.StatusOK, map[string]string{"user": user})
	}))
	mux.HandleFunc("POST /api/cart/items", b.guard(func(w http.ResponseWriter, r *http.Request, user string) {
		w.WriteHeader(http.StatusCreated)
	}))
	mux.HandleFunc("GET /api/products", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []string{"apple"})
	})
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

// newClient returns a Client for b with a MemoryStore.
func (b *backend) newClient() *client.Client {
	return &client.Client{
		BaseURL:    b.srv.URL,
		HTTPClient: b.srv.Client(),
		Store:      new(client.MemoryStore),
		Now:        b.clock.Now,
	}
}

func (b *backend) set(f func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// issued returns the last tokens the backend issued.
func (b *backend) issued() (access, refresh string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.access, b.refresh
}

// seen returns the guarded requests received so far.
func (b *backend) seen() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.requests...)
}

// logoutsSeen returns the logout requests received so far, with the
// Refresh-Token header in RefreshToken.
func (b *backend) logoutsSeen() []api.LogoutRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]api.LogoutRequest(nil), b.logouts...)
}

func (b *backend) counts() (refreshes, reused int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refreshes, b.reused
}

// revokeAll forgets every refresh token, as a global logout would.
func (b *backend) revokeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.live)
}

// issueLocked mints a JWT and a refresh token for user.
func (b *backend) issueLocked(user string) (access, refresh string, exp time.Time) {
	exp = b.clock.Now().Add(b.ttl)
	b.access = b.sign(user, exp)
	b.refresh = rand.Text()
	b.live[b.refresh] = user
	return b.access, b.refresh, exp
}

func (b *backend) login(w http.ResponseWriter, r *http.Request) {
	var req api.LoginRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, api.FieldError("loginId", "invalid", "bad JSON"))
		return
	}
	switch {
	case req.LoginID == "":
		writeJSON(w, http.StatusBadRequest, api.FieldError("loginId", "blank", "loginId is required"))
	case req.LoginID == "locked@example.org":
		writeJSON(w, http.StatusLocked, map[string]string{"message": "account locked"})
	case req.LoginID == "prevented@example.org":
		writeJSON(w, http.StatusConflict, api.LoginResponse{Actions: []api.LoginPreventedResponse{{LocalizedName: "Too many attempts"}}})
	case req.LoginID != testLogin || req.Password != testPassword:
		w.WriteHeader(http.StatusUnauthorized)
	default:
		b.mu.Lock()
		access, refresh, exp := b.issueLocked(testUserID)
		b.mu.Unlock()
		writeJSON(w, http.StatusOK, api.LoginResponse{
			User:                   &api.User{ID: testUserID, Email: testLogin, Active: true},
			Token:                  access,
			RefreshToken:           refresh,
			TokenExpirationInstant: exp.UnixMilli(),
		})
	}
}

func (b *backend) logout(w http.ResponseWriter, r *http.Request) {
	var req api.LogoutRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	req.RefreshToken = r.Header.Get(api.HeaderRefreshToken)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logouts = append(b.logouts, req)
	if b.logoutStatus != 0 {
		w.WriteHeader(b.logoutStatus)
		return
	}
	user := b.live[req.RefreshToken]
	for rt, u := range b.live {
		if rt == req.RefreshToken || (req.Global && u == user) {
			delete(b.live, rt)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// guard wraps a handler as DESIGN.md's guard middleware behaves.
func (b *backend) guard(h func(w http.ResponseWriter, r *http.Request, user string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		jwt, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		rt := r.Header.Get(api.HeaderRefreshToken)
		b.mu.Lock()
		b.requests = append(b.requests, seen{Path: r.URL.Path, Access: jwt, RefreshToken: rt, Body: string(body)})
		now := b.clock.Now().Add(b.skew)
		user, exp, err := b.verify(jwt)
		expired := err != nil || !now.Before(exp)
		if !expired && (rt == "" || now.Add(b.early).Before(exp)) {
			b.mu.Unlock()
			h(w, r, user)
			return
		}
		if rt == "" {
			b.mu.Unlock()
			unauthorized(w)
			return
		}
		if b.rotated[rt] {
			b.reused++
			b.mu.Unlock()
			unauthorized(w)
			return
		}
		user, ok := b.live[rt]
		if !ok {
			b.mu.Unlock()
			unauthorized(w)
			return
		}
		delete(b.live, rt)
		b.rotated[rt] = true
		b.refreshes++
		access, refresh, _ := b.issueLocked(user)
		delay := b.refreshDelay
		b.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set(api.HeaderAccessToken, access)
		w.Header().Set(api.HeaderRefreshToken, refresh)
		h(w, r, user)
	}
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

var b64 = base64.RawURLEncoding

// sign makes a compact ES256 JWS (RFC 7515, RFC 7518 §3.4).
func (b *backend) sign(sub string, exp time.Time) string {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "test"})
	payload, _ := json.Marshal(map[string]any{"sub": sub, "exp": exp.Unix(), "iat": b.clock.Now().Unix(), "jti": rand.Text()})
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, b.key, digest[:])
	if err != nil {
		b.t.Error(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

// verify checks a JWS from sign and returns its subject and expiry.
func (b *backend) verify(jwt string) (sub string, exp time.Time, err error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", time.Time{}, errors.New("malformed")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", time.Time{}, errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&b.key.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", time.Time{}, errors.New("bad signature")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", time.Time{}, err
	}
	var claims struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", time.Time{}, err
	}
	return claims.Sub, time.Unix(claims.Exp, 0), nil
}
