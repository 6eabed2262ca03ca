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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/fakeclock"
)

// newClock is the fake clock a backend and its clients share.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Unix(1_700_000_000, 0)) }

// Test credentials.
const (
	testLogin    = "ana@example.org"
	testPassword = "correct horse battery"
	testUserID   = "00000000-0000-0000-0000-00000000a0a0"
)

// backend plays an app backend protected by guard, following DESIGN.md's
// contract between app and backend: JWTs signed with ES256, one-time-use
// refresh tokens rotated on every refresh, 401 with WWW-Authenticate when
// the user must log in again, and DPoP (RFC 9449): a login with a valid
// proof gets tokens bound to the proof's key (cnf.jkt in the JWT, and the
// refresh token remembers it), a bound JWT is accepted only with the DPoP
// scheme and a valid proof of that key, and a refresh keeps the binding.
type backend struct {
	t     *testing.T
	srv   *httptest.Server
	clock *fakeclock.Clock
	key   *ecdsa.PrivateKey
	// verifier checks proofs; nonceVerifier too, requiring nonces.
	verifier, nonceVerifier *dpop.Verifier
	nonces                  *testNonces

	mu sync.Mutex
	// ttl is the JWTs' lifetime.
	ttl time.Duration
	// early: guard refreshes a JWT presented with a refresh token when it
	// expires within this window.
	early time.Duration
	// skew is added to the clock when checking expiry: the backend's
	// clock runs ahead of the device's.
	skew time.Duration
	// gate, when set, holds every refresh, once it rotated the token and
	// before it answers, until the test closes it; each refresh held
	// signals arrived first (holdRefreshes).
	gate, arrived chan struct{}
	// logoutStatus, if set, is the status POST /api/logout answers.
	logoutStatus int
	// noDPoP makes the backend ignore DPoP: it issues unbound tokens and
	// accepts the Bearer scheme only, as a backend without DPoP support.
	noDPoP bool
	// requireNonce makes the backend require DPoP nonces (nonces).
	requireNonce bool

	live     map[string]grant // refresh token → what it grants
	rotated  map[string]bool  // refresh tokens already rotated
	access   string           // last JWT issued
	refresh  string           // last refresh token issued
	requests []seen           // guarded requests, in arrival order
	wire     []onWire         // every request, in arrival order
	refreshes,
	reused int
	logouts []api.LogoutRequest

	// twoFactorCode, when set, is the user's second factor: a login with
	// the right password answers 202 unless it presents a trusted id.
	twoFactorCode string
	pending       map[string]string // twoFactorId → the first step's key
	trusted       map[string]bool   // twoFactorTrustIds issued
	loginBodies   []string          // bodies of POST /api/login and /api/login/two-factor
}

// grant is what a refresh token grants: a user's session, bound to a DPoP
// key when jkt is set.
type grant struct {
	user, jkt string
}

// onWire records the authentication of any request to the backend.
type onWire struct {
	Path string
	// Scheme is the Authorization scheme, "" without Authorization.
	Scheme string
	// Proof holds the claims of the DPoP header, nil without one.
	Proof *proofClaims
	// JKT is the thumbprint of the proof's key, when the proof verified.
	JKT string
	// Err says why the proof was refused, "" when it was not.
	Err string
	// Status is the status the backend answered.
	Status int
}

// proofClaims are a DPoP proof's claims.
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// testNonces is a dpop.NonceSource the test controls: it accepts the
// current nonce and the previous one, or, when rejecting, none at all and
// hands out a new nonce every time.
type testNonces struct {
	mu        sync.Mutex
	cur, prev string
	rejecting bool
}

func (n *testNonces) Current() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rejecting {
		n.prev, n.cur = n.cur, rand.Text()
	}
	return n.cur
}

func (n *testNonces) Valid(nonce string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.rejecting && (nonce == n.cur || nonce == n.prev)
}

// rotate makes a new nonce current; the old one stays valid.
func (n *testNonces) rotate() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.prev, n.cur = n.cur, rand.Text()
	return n.cur
}

// replace makes a new nonce current and no other valid.
func (n *testNonces) replace() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.prev, n.cur = "", rand.Text()
	return n.cur
}

func (n *testNonces) reject(on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rejecting = on
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
		live:    map[string]grant{},
		rotated: map[string]bool{},
		nonces:  &testNonces{cur: rand.Text()},
		pending: map[string]string{},
		trusted: map[string]bool{},
	}
	b.verifier, err = dpop.NewVerifier(dpop.Config{
		Replay: &dpop.MemoryReplayCache{Now: b.clock.Now},
		Now:    b.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.nonceVerifier, err = dpop.NewVerifier(dpop.Config{
		Replay: &dpop.MemoryReplayCache{Now: b.clock.Now},
		Nonce:  b.nonces,
		Now:    b.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", b.login)
	mux.HandleFunc("POST /api/logout", b.logout)
	mux.HandleFunc("POST /api/login/two-factor", b.loginTwoFactor)
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

// holdRefreshes makes the backend hold the refreshes that reach it from
// now on, until release (or the end of the test): such a refresh stays in
// flight for as long as the test needs. arrived waits for the first.
func (b *backend) holdRefreshes(t *testing.T) (arrived, release func()) {
	gate, signal := make(chan struct{}), make(chan struct{}, 1)
	b.set(func(b *backend) { b.gate, b.arrived = gate, signal })
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	return func() {
		t.Helper()
		select {
		case <-signal:
		case <-time.After(10 * time.Second):
			t.Fatal("no refresh reached the backend within 10s")
		}
	}, release
}

// parked counts the goroutines blocked in a Client until another
// goroutine's refresh ends; with logout, only those of Logout.
func parked(logout bool) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[select") && strings.Contains(g, "/client.(*Client).acquire(") &&
			(!logout || strings.Contains(g, "/client.(*Client).Logout(")) {
			count++
		}
	}
	return count
}

// waitParked waits until n goroutines are parked (see parked), or until
// stop reports that waiting is over (the client sent what it should have
// held back).
func waitParked(t *testing.T, n int, logout bool, stop func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for parked(logout) < n && !stop() {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines waiting for the refresh in flight after 10s, want %d", parked(logout), n)
		}
		<-tick.C
	}
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

// wireSeen returns what every request so far carried.
func (b *backend) wireSeen() []onWire {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]onWire(nil), b.wire...)
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

// issueLocked mints a JWT and a refresh token for user, bound to the DPoP
// key jkt when it is set.
func (b *backend) issueLocked(user, jkt string) (access, refresh string, exp time.Time) {
	exp = b.clock.Now().Add(b.ttl)
	b.access = b.sign(user, jkt, exp)
	b.refresh = rand.Text()
	b.live[b.refresh] = grant{user: user, jkt: jkt}
	return b.access, b.refresh, exp
}

// checkProof verifies r's DPoP proof, if any, and records r. It returns
// the proof key's thumbprint ("" without a proof) or, when the proof is
// refused, the error to answer with: use_dpop_nonce with a DPoP-Nonce, or
// invalid_dpop_proof. A backend with noDPoP checks nothing.
func (b *backend) checkProof(r *http.Request, accessToken, boundJKT string) (rec *onWire, jkt string, err error) {
	rec = &onWire{Path: r.URL.Path}
	rec.Scheme, _, _ = strings.Cut(r.Header.Get("Authorization"), " ")
	if raw := r.Header.Get(dpop.Header); raw != "" {
		rec.Proof = decodeProof(b.t, raw)
	}
	b.mu.Lock()
	noDPoP, v := b.noDPoP, b.verifier
	if b.requireNonce {
		v = b.nonceVerifier
	}
	b.mu.Unlock()
	if noDPoP {
		return rec, "", nil
	}
	raw, err := dpop.FromHeader(r.Header)
	if errors.Is(err, dpop.ErrNoProof) {
		return rec, "", nil
	}
	var p *dpop.Proof
	if err == nil {
		p, err = v.Verify(r.Context(), raw, dpop.Request{
			Method:      r.Method,
			URL:         b.srv.URL + r.URL.EscapedPath(),
			AccessToken: accessToken,
			BoundJKT:    boundJKT,
		})
	}
	if err != nil {
		rec.Err = err.Error()
		return rec, "", err
	}
	rec.JKT = p.JKT
	return rec, p.JKT, nil
}

// record appends rec, with the status answered.
func (b *backend) record(rec *onWire, status int) {
	rec.Status = status
	b.mu.Lock()
	b.wire = append(b.wire, *rec)
	b.mu.Unlock()
}

// decodeProof returns the claims of a proof, read without verification.
func decodeProof(t *testing.T, proof string) *proofClaims {
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Errorf("DPoP header is not a compact JWS")
		return &proofClaims{}
	}
	payload, err := b64.DecodeString(parts[1])
	var c proofClaims
	if err == nil {
		err = json.Unmarshal(payload, &c)
	}
	if err != nil {
		t.Errorf("DPoP proof payload: %v", err)
	}
	return &c
}

// denyProof answers a refused proof: 401 with a DPoP challenge at a
// resource, 400 with a JSON error at the login (RFC 9449 §5, §7.1, §9).
func denyProof(w http.ResponseWriter, err error, resource bool) int {
	code := "invalid_dpop_proof"
	var nonceErr *dpop.NonceError
	if errors.As(err, &nonceErr) {
		code = "use_dpop_nonce"
		w.Header().Set(dpop.NonceHeader, nonceErr.Nonce)
	}
	if resource {
		w.Header().Set("WWW-Authenticate", `DPoP algs="ES256", error="`+code+`", error_description="proof refused"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": code})
		return http.StatusUnauthorized
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": "proof refused"})
	return http.StatusBadRequest
}

func (b *backend) login(w http.ResponseWriter, r *http.Request) {
	rec, jkt, err := b.checkProof(r, "", "")
	if err != nil {
		b.record(rec, denyProof(w, err, false))
		return
	}
	var req api.LoginRequest
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.loginBodies = append(b.loginBodies, string(body))
	b.mu.Unlock()
	if err := json.Unmarshal(body, &req); err != nil {
		b.record(rec, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, api.FieldError("loginId", "invalid", "bad JSON"))
		return
	}
	switch {
	case req.LoginID == "":
		b.record(rec, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, api.FieldError("loginId", "blank", "loginId is required"))
	case req.LoginID == "locked@example.org":
		b.record(rec, http.StatusLocked)
		writeJSON(w, http.StatusLocked, map[string]string{"message": "account locked"})
	case req.LoginID == "prevented@example.org":
		b.record(rec, http.StatusConflict)
		writeJSON(w, http.StatusConflict, api.LoginResponse{Actions: []api.LoginPreventedResponse{{LocalizedName: "Too many attempts"}}})
	case req.LoginID != testLogin || req.Password != testPassword:
		b.record(rec, http.StatusUnauthorized)
		w.WriteHeader(http.StatusUnauthorized)
	case b.secondFactorDue(req.TwoFactorTrustID):
		b.record(rec, http.StatusAccepted)
		id := rand.Text()
		b.mu.Lock()
		b.pending[id] = jkt
		b.mu.Unlock()
		writeJSON(w, http.StatusAccepted, map[string]any{
			"twoFactorId": id, "methods": []api.TwoFactorMethod{{ID: "m1", Method: api.TwoFactorAuthenticator}},
		})
	default:
		b.record(rec, http.StatusOK)
		b.mu.Lock()
		access, refresh, exp := b.issueLocked(testUserID, jkt)
		b.mu.Unlock()
		b.successNonce(w)
		writeJSON(w, http.StatusOK, api.LoginResponse{
			User:                   &api.User{ID: testUserID, Email: testLogin, Active: true},
			Token:                  access,
			RefreshToken:           refresh,
			TokenExpirationInstant: exp.UnixMilli(),
		})
	}
}

// successNonce sends the current nonce with a successful response, when
// the backend requires nonces, so that the client keeps up (RFC 9449 §8.2).
func (b *backend) successNonce(w http.ResponseWriter) {
	b.mu.Lock()
	require := b.requireNonce
	b.mu.Unlock()
	if require {
		b.nonces.mu.Lock()
		w.Header().Set(dpop.NonceHeader, b.nonces.cur)
		b.nonces.mu.Unlock()
	}
}

func (b *backend) logout(w http.ResponseWriter, r *http.Request) {
	if !b.authenticateLogout(w, r) {
		return
	}
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
	user := b.live[req.RefreshToken].user
	for rt, g := range b.live {
		if rt == req.RefreshToken || (req.Global && g.user == user) {
			delete(b.live, rt)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// authenticateLogout checks the credentials of a logout as guard would,
// except for expiry (a logout may present an expired JWT), and answers 401
// when they fail.
func (b *backend) authenticateLogout(w http.ResponseWriter, r *http.Request) bool {
	scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	_, _, bound, verr := b.verify(jwt)
	rec, _, err := b.checkProof(r, jwt, bound)
	if err != nil {
		b.record(rec, denyProof(w, err, true))
		return false
	}
	if verr == nil && !b.schemeOK(scheme, bound, rec) {
		b.record(rec, unauthorized(w, true))
		return false
	}
	b.record(rec, http.StatusOK)
	return true
}

// schemeOK reports whether a JWT bound to jkt ("" for none) may be
// presented with scheme: a bound JWT only with DPoP and a proof, an
// unbound one only with Bearer. Without DPoP, Bearer only.
func (b *backend) schemeOK(scheme, jkt string, rec *onWire) bool {
	b.mu.Lock()
	noDPoP := b.noDPoP
	b.mu.Unlock()
	switch {
	case noDPoP:
		return scheme == "Bearer"
	case jkt != "":
		return scheme == "DPoP" && rec.JKT == jkt
	default:
		return scheme == "Bearer"
	}
}

// guard wraps a handler as DESIGN.md's guard middleware behaves.
func (b *backend) guard(h func(w http.ResponseWriter, r *http.Request, user string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		rt := r.Header.Get(api.HeaderRefreshToken)
		user, exp, bound, verr := b.verify(jwt)
		// The proof first: it is checked before the token is used, and a
		// nonce challenge comes before anything else.
		rec, proofJKT, perr := b.checkProof(r, jwt, bound)
		b.mu.Lock()
		b.requests = append(b.requests, seen{Path: r.URL.Path, Access: jwt, RefreshToken: rt, Body: string(body)})
		b.mu.Unlock()
		if perr != nil {
			b.record(rec, denyProof(w, perr, true))
			return
		}
		if verr == nil && !b.schemeOK(scheme, bound, rec) {
			b.record(rec, unauthorized(w, bound != ""))
			return
		}
		b.mu.Lock()
		now := b.clock.Now().Add(b.skew)
		expired := verr != nil || !now.Before(exp)
		if !expired && (rt == "" || now.Add(b.early).Before(exp)) {
			b.mu.Unlock()
			b.record(rec, http.StatusOK)
			b.successNonce(w)
			h(w, r, user)
			return
		}
		if rt == "" {
			b.mu.Unlock()
			b.record(rec, unauthorized(w, bound != ""))
			return
		}
		if b.rotated[rt] {
			b.reused++
			b.mu.Unlock()
			b.record(rec, unauthorized(w, bound != ""))
			return
		}
		g, ok := b.live[rt]
		// A refresh token bound to a key refreshes only with a proof of
		// that key, and the new tokens keep the binding.
		if !ok || g.jkt != "" && g.jkt != proofJKT {
			b.mu.Unlock()
			b.record(rec, unauthorized(w, bound != ""))
			return
		}
		delete(b.live, rt)
		b.rotated[rt] = true
		b.refreshes++
		access, refresh, _ := b.issueLocked(g.user, g.jkt)
		gate, arrived := b.gate, b.arrived
		b.mu.Unlock()
		if gate != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-gate
		}
		b.record(rec, http.StatusOK)
		b.successNonce(w)
		w.Header().Set(api.HeaderAccessToken, access)
		w.Header().Set(api.HeaderRefreshToken, refresh)
		h(w, r, g.user)
	}
}

// unauthorized answers 401 invalid_token, with a DPoP challenge for a
// bound token.
func unauthorized(w http.ResponseWriter, bound bool) int {
	if bound {
		w.Header().Set("WWW-Authenticate", `DPoP algs="ES256", error="invalid_token"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
	return http.StatusUnauthorized
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

var b64 = base64.RawURLEncoding

// sign makes a compact ES256 JWS (RFC 7515, RFC 7518 §3.4), bound to the
// DPoP key jkt when it is set (cnf.jkt, RFC 9449 §6.1).
func (b *backend) sign(sub, jkt string, exp time.Time) string {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "test"})
	claims := map[string]any{"sub": sub, "exp": exp.Unix(), "iat": b.clock.Now().Unix(), "jti": rand.Text()}
	if jkt != "" {
		claims["cnf"] = map[string]string{"jkt": jkt}
	}
	payload, _ := json.Marshal(claims)
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

// verify checks a JWS from sign and returns its subject, its expiry and
// the thumbprint of the DPoP key it is bound to ("" for none).
func (b *backend) verify(jwt string) (sub string, exp time.Time, jkt string, err error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", time.Time{}, "", errors.New("malformed")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", time.Time{}, "", errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&b.key.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", time.Time{}, "", errors.New("bad signature")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", time.Time{}, "", err
	}
	var claims struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", time.Time{}, "", err
	}
	return claims.Sub, time.Unix(claims.Exp, 0), claims.Cnf.JKT, nil
}
