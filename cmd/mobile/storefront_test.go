package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test credentials.
const (
	testLogin    = "ana@example.org"
	testPassword = "correct horse battery staple"
	lockedLogin  = "bob@example.org"
)

// fakeStore plays the storefront's contract (DESIGN.md, "storefront" and
// "Between app and backend") in memory: JWTs that expire after ttl (not
// signed: the app never verifies them), one-time-use refresh tokens
// rotated on every refresh, refresh through the Refresh-Token header with
// Access-Token and Refresh-Token in the answer, 401 with WWW-Authenticate
// when the user must log in again, and a cart per user.
type fakeStore struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	ttl      time.Duration          // JWT lifetime
	jwts     map[string]jwtInfo     // live JWTs
	refresh  map[string]string      // live refresh token → user
	carts    map[string][]*CartItem // user → cart
	logins   int                    // POST /api/login answered 200
	refreshs int                    // refreshes done
	requests []string               // "METHOD path" of every request
	sentRT   []string               // Refresh-Token headers received by guarded routes
}

type jwtInfo struct {
	user string
	exp  time.Time
}

var catalogue = []Product{
	{SKU: "MUG-1", Name: "Coffee mug", PriceCents: 1200},
	{SKU: "TEE-2", Name: "T-shirt", PriceCents: 2500},
	{SKU: "PEN-3", Name: "Fountain pen", PriceCents: 4999},
}

func newFakeStore(t *testing.T) *fakeStore {
	f := &fakeStore{
		t:       t,
		ttl:     10 * time.Minute,
		jwts:    map[string]jwtInfo{},
		refresh: map[string]string{},
		carts:   map[string][]*CartItem{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", f.login)
	mux.HandleFunc("GET /api/products", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"products": catalogue})
	})
	mux.HandleFunc("GET /api/cart", f.guard(func(w http.ResponseWriter, r *http.Request, user string) {
		writeJSON(w, 200, f.cart(user))
	}))
	mux.HandleFunc("POST /api/cart/items", f.guard(f.addItem))
	mux.HandleFunc("DELETE /api/cart/items/{sku}", f.guard(f.removeItem))
	mux.HandleFunc("POST /api/logout", f.guard(f.logout))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mintLocked issues a JWT (with an exp claim the SDK reads) and a refresh
// token for user.
func (f *fakeStore) mintLocked(user string) (jwt, rt string, exp time.Time) {
	exp = time.Now().Add(f.ttl)
	payload, _ := json.Marshal(map[string]any{"sub": user, "exp": exp.Unix(), "jti": randomToken()[:16]})
	jwt = "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	f.jwts[jwt] = jwtInfo{user, time.Unix(exp.Unix(), 0)}
	rt = randomToken()
	f.refresh[rt] = user
	return jwt, rt, exp
}

func (f *fakeStore) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LoginID  string `json:"loginId"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request", "message": "bad JSON"})
		return
	}
	switch {
	case req.LoginID == lockedLogin:
		writeJSON(w, 409, map[string]string{"error": "login_prevented", "message": "Too many failed logins: try again in 5 minutes."})
		return
	case req.LoginID != testLogin || req.Password != testPassword:
		writeJSON(w, 401, map[string]string{"error": "invalid_credentials", "message": "Wrong login id or password."})
		return
	}
	f.mu.Lock()
	jwt, rt, exp := f.mintLocked(req.LoginID)
	f.logins++
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"user":                   map[string]any{"id": "u-ana", "email": req.LoginID, "active": true},
		"token":                  jwt,
		"refreshToken":           rt,
		"tokenExpirationInstant": exp.UnixMilli(),
	})
}

// guard plays guard: it lets a live JWT through, refreshes an expired (or
// about to be refused) one when the request carries a live refresh token,
// rotating the refresh token, and answers 401 otherwise.
func (f *fakeStore) guard(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		jwt, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		rt := r.Header.Get("Refresh-Token")
		f.mu.Lock()
		if rt != "" {
			f.sentRT = append(f.sentRT, rt)
		}
		info, ok := f.jwts[jwt]
		live := ok && time.Now().Before(info.exp)
		// Like guard's early window: a JWT presented with a refresh token
		// that expires within a minute is refreshed.
		early := ok && time.Now().Add(time.Minute).After(info.exp)
		user := info.user
		if rt != "" && (!live || early) {
			if u, ok := f.refresh[rt]; ok {
				delete(f.refresh, rt) // one-time use
				var newJWT, newRT string
				newJWT, newRT, _ = f.mintLocked(u)
				f.refreshs++
				w.Header().Set("Access-Token", newJWT)
				w.Header().Set("Refresh-Token", newRT)
				user, live = u, true
			}
		}
		f.mu.Unlock()
		if !live {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, 401, map[string]string{"error": "invalid_token", "error_description": "log in again"})
			return
		}
		h(w, r, user)
	}
}

func (f *fakeStore) cart(user string) Cart {
	c := Cart{Items: []CartItem{}}
	for _, it := range f.carts[user] {
		c.Items = append(c.Items, *it)
		c.TotalCents += it.PriceCents * int64(it.Quantity)
	}
	return c
}

func (f *fakeStore) addItem(w http.ResponseWriter, r *http.Request, user string) {
	var req struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Quantity < 1 {
		writeJSON(w, 400, map[string]string{"error": "invalid_request", "message": "bad item"})
		return
	}
	var p *Product
	for i := range catalogue {
		if catalogue[i].SKU == req.SKU {
			p = &catalogue[i]
		}
	}
	if p == nil {
		writeJSON(w, 404, map[string]string{"error": "not_found", "message": "No product " + req.SKU + "."})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	found := false
	for _, it := range f.carts[user] {
		if it.SKU == p.SKU {
			it.Quantity += req.Quantity
			found = true
		}
	}
	if !found {
		f.carts[user] = append(f.carts[user], &CartItem{SKU: p.SKU, Name: p.Name, Quantity: req.Quantity, PriceCents: p.PriceCents})
	}
	writeJSON(w, 200, f.cart(user))
}

// removeItem answers 204, so that the app has to load the cart again.
func (f *fakeStore) removeItem(w http.ResponseWriter, r *http.Request, user string) {
	sku := r.PathValue("sku")
	f.mu.Lock()
	defer f.mu.Unlock()
	items := f.carts[user]
	for i, it := range items {
		if it.SKU == sku {
			f.carts[user] = append(items[:i:i], items[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, 404, map[string]string{"error": "not_found", "message": "No " + sku + " in the cart."})
}

func (f *fakeStore) logout(w http.ResponseWriter, r *http.Request, user string) {
	var req struct {
		Global bool `json:"global"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Global {
		f.revokeLocked(user)
	} else {
		delete(f.refresh, r.Header.Get("Refresh-Token"))
		jwt, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		delete(f.jwts, jwt)
	}
	w.WriteHeader(http.StatusOK)
}

// revoke ends every session of user: its refresh tokens and (as
// revocation events do) its JWTs.
func (f *fakeStore) revoke(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revokeLocked(user)
}

func (f *fakeStore) revokeLocked(user string) {
	for rt, u := range f.refresh {
		if u == user {
			delete(f.refresh, rt)
		}
	}
	for jwt, info := range f.jwts {
		if info.user == user {
			delete(f.jwts, jwt)
		}
	}
}

// expireJWTs makes every JWT expired, as time passing would.
func (f *fakeStore) expireJWTs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for jwt, info := range f.jwts {
		info.exp = time.Now().Add(-time.Second)
		f.jwts[jwt] = info
	}
}

// liveRefreshTokens returns the refresh tokens still valid.
func (f *fakeStore) liveRefreshTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rts []string
	for rt := range f.refresh {
		rts = append(rts, rt)
	}
	return rts
}

func (f *fakeStore) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}
