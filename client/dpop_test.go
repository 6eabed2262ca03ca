package client_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/client"
	"github.com/latchid/latch/dpop"
)

// deviceJKT returns the thumbprint of the device key in c's store.
func deviceJKT(t *testing.T, c *client.Client) string {
	t.Helper()
	jkt := mustStored(t, c).DPoPThumbprint()
	if jkt == "" {
		t.Fatal("no device key stored")
	}
	return jkt
}

// boundTo returns the cnf.jkt of a JWT b issued, after verifying it.
func (b *backend) boundTo(t *testing.T, jwt string) string {
	t.Helper()
	_, _, jkt, err := b.verify(jwt)
	if err != nil {
		t.Fatalf("verify JWT: %v", err)
	}
	return jkt
}

// wantProof checks that a request was sent with a valid proof of key jkt
// for method and path (htu without the query), made now, with the hash of
// accessToken ("" for none) and nonce, and with the scheme.
func wantProof(t *testing.T, b *backend, w onWire, scheme, method, path, jkt, accessToken, nonce string) {
	t.Helper()
	if w.Proof == nil {
		t.Errorf("%s %s: no DPoP proof", method, path)
		return
	}
	var ath string
	if accessToken != "" {
		ath = dpop.AccessTokenHash(accessToken)
	}
	want := onWire{
		Path:   strings.SplitN(path, "?", 2)[0],
		Scheme: scheme,
		Proof: &proofClaims{
			JTI:   w.Proof.JTI,
			HTM:   method,
			HTU:   b.srv.URL + strings.SplitN(path, "?", 2)[0],
			IAT:   b.clock.Now().Unix(),
			ATH:   ath,
			Nonce: nonce,
		},
		JKT:    jkt,
		Status: w.Status,
	}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("%s %s (-want +got):\n%s", method, path, diff)
	}
}

// wantDistinctJTIs checks that no two proofs share a jti.
func wantDistinctJTIs(t *testing.T, ws []onWire) {
	t.Helper()
	jtis := map[string]bool{}
	for _, w := range ws {
		if w.Proof == nil {
			continue
		}
		if jtis[w.Proof.JTI] {
			t.Errorf("jti %q used twice", w.Proof.JTI)
		}
		jtis[w.Proof.JTI] = true
	}
}

func TestDPoP_Login(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	mustLogin(t, c)

	tok, err := c.Tokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	key, err := dpop.ParseKey(tok.DPoPKey)
	if err != nil {
		t.Fatalf("stored device key: %v", err)
	}
	if ec, ok := key.(*ecdsa.PrivateKey); !ok || ec.Curve != elliptic.P256() {
		t.Errorf("device key is a %T, want a P-256 ECDSA key", key)
	}
	jkt, _ := dpop.Thumbprint(key.Public())
	if got := tok.DPoPThumbprint(); got != jkt {
		t.Errorf("DPoPThumbprint = %q, want %q", got, jkt)
	}
	w := b.wireSeen()
	if len(w) != 1 {
		t.Fatalf("backend saw %d requests, want 1", len(w))
	}
	wantProof(t, b, w[0], "", http.MethodPost, "/api/login", jkt, "", "")

	// The tokens are bound to the key.
	if !tok.DPoPBound() {
		t.Errorf("DPoPBound = false after a DPoP login")
	}
	if got := b.boundTo(t, tok.AccessToken); got != jkt {
		t.Errorf("JWT bound to %q, want %q", got, jkt)
	}
}

func TestDPoP_Requests(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	jkt := deviceJKT(t, c)
	access, _ := b.issued()

	hc := c.HTTP()
	for _, path := range []string{"/api/cart", "/api/cart?page=2#top", "/api/cart"} {
		if got := get(t, c, b, path); got != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, got)
		}
	}
	resp, err := hc.Post(b.srv.URL+"/api/cart/items", "application/json", strings.NewReader(`{"sku":"apple"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: status %d", resp.StatusCode)
	}
	w := b.wireSeen()
	if len(w) != 5 {
		t.Fatalf("backend saw %d requests, want 5", len(w))
	}
	wantProof(t, b, w[1], "DPoP", http.MethodGet, "/api/cart", jkt, access, "")
	wantProof(t, b, w[2], "DPoP", http.MethodGet, "/api/cart?page=2", jkt, access, "")
	wantProof(t, b, w[3], "DPoP", http.MethodGet, "/api/cart", jkt, access, "")
	wantProof(t, b, w[4], "DPoP", http.MethodPost, "/api/cart/items", jkt, access, "")

	// The JWT expires: the request carrying the refresh token carries a
	// proof of the same key, and the new tokens are bound to it.
	b.clock.Advance(11 * time.Minute)
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if n, _ := b.counts(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	refreshed, _ := b.issued()
	if got := b.boundTo(t, refreshed); got != jkt {
		t.Errorf("refreshed JWT bound to %q, want %q", got, jkt)
	}
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if err := c.Logout(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	w = b.wireSeen()
	if len(w) != 8 {
		t.Fatalf("backend saw %d requests, want 8", len(w))
	}
	s := b.seen()
	if last := s[len(s)-2]; last.RefreshToken == "" || last.Access != access {
		t.Errorf("the refresh was not asked with the old JWT and the refresh token")
	}
	wantProof(t, b, w[5], "DPoP", http.MethodGet, "/api/cart", jkt, access, "")
	wantProof(t, b, w[6], "DPoP", http.MethodGet, "/api/cart", jkt, refreshed, "")
	wantProof(t, b, w[7], "DPoP", http.MethodPost, "/api/logout", jkt, refreshed, "")
	wantDistinctJTIs(t, w)
}

// The device key survives Logout, the backend ending the session, and
// the app's restart.
func TestDPoP_KeyPersists(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	path := filepath.Join(t.TempDir(), "tokens")
	c := b.newClient()
	c.Store = &client.FileStore{Path: path}
	mustLogin(t, c)
	jkt := deviceJKT(t, c)

	// The key is in the token file, encrypted.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	der := mustStored(t, c).DPoPKey
	for _, secret := range [][]byte{der, []byte(base64.StdEncoding.EncodeToString(der))} {
		if bytes.Contains(data, secret) {
			t.Errorf("the token file holds the device key in the clear")
		}
	}

	if err := c.Logout(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	wantLoggedOut(t, c)
	if got := deviceJKT(t, c); got != jkt {
		t.Errorf("key after Logout: %q, want %q", got, jkt)
	}
	mustLogin(t, c)
	if got := deviceJKT(t, c); got != jkt {
		t.Errorf("key after Logout and Login: %q, want %q", got, jkt)
	}
	access, _ := b.issued()
	if got := b.boundTo(t, access); got != jkt {
		t.Errorf("JWT bound to %q, want %q", got, jkt)
	}

	// The backend ends the session.
	b.revokeAll()
	b.clock.Advance(11 * time.Minute)
	if got := get(t, c, b, "/api/cart"); got != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", got)
	}
	wantLoggedOut(t, c)
	if got := deviceJKT(t, c); got != jkt {
		t.Errorf("key after the session ended: %q, want %q", got, jkt)
	}

	// The app restarts, logged out, then logs in.
	restarted := b.newClient()
	restarted.Store = &client.FileStore{Path: path}
	if _, err := restarted.Tokens(t.Context()); !errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("Tokens after restart: %v, want ErrLoginRequired", err)
	}
	mustLogin(t, restarted)
	if got := deviceJKT(t, restarted); got != jkt {
		t.Errorf("key after restart: %q, want %q", got, jkt)
	}
	w := b.wireSeen()
	if last := w[len(w)-1]; last.Path != "/api/login" || last.JKT != jkt {
		t.Errorf("login after restart proved key %q, want %q", last.JKT, jkt)
	}

	// And restarts again, logged in.
	again := b.newClient()
	again.Store = &client.FileStore{Path: path}
	if got := get(t, again, b, "/api/cart"); got != http.StatusOK {
		t.Errorf("status %d after restart", got)
	}
	if w := b.wireSeen(); w[len(w)-1].Scheme != "DPoP" || w[len(w)-1].JKT != jkt {
		t.Errorf("request after restart: %+v", w[len(w)-1])
	}
}

func TestDPoP_Nonce(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.requireNonce = true })
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	n0 := b.nonces.Current()

	// The login is asked for a nonce (400 use_dpop_nonce) and retried once.
	mustLogin(t, c)
	jkt := deviceJKT(t, c)
	access, _ := b.issued()
	w := b.wireSeen()
	if len(w) != 2 || w[0].Status != http.StatusBadRequest || w[0].Proof.Nonce != "" {
		t.Fatalf("login: backend saw %+v, want a challenge then a retry", w)
	}
	wantProof(t, b, w[1], "", http.MethodPost, "/api/login", jkt, "", n0)

	// The nonce is used from then on.
	get(t, c, b, "/api/cart")
	w = b.wireSeen()
	wantProof(t, b, w[2], "DPoP", http.MethodGet, "/api/cart", jkt, access, n0)

	// The backend replaces its nonce: one challenge (401), one retry.
	n1 := b.nonces.replace()
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	w = b.wireSeen()
	if len(w) != 5 || w[3].Status != http.StatusUnauthorized || w[3].Proof.Nonce != n0 {
		t.Fatalf("backend saw %+v, want a challenge then a retry", w[3:])
	}
	wantProof(t, b, w[4], "DPoP", http.MethodGet, "/api/cart", jkt, access, n1)

	// A nonce announced on a success is adopted without a challenge.
	n2 := b.nonces.rotate() // n1 stays valid
	get(t, c, b, "/api/cart")
	get(t, c, b, "/api/cart")
	w = b.wireSeen()
	if len(w) != 7 {
		t.Fatalf("backend saw %d requests, want 7", len(w))
	}
	wantProof(t, b, w[5], "DPoP", http.MethodGet, "/api/cart", jkt, access, n1)
	wantProof(t, b, w[6], "DPoP", http.MethodGet, "/api/cart", jkt, access, n2)

	// A challenged POST is sent again with its body.
	b.nonces.replace()
	before := len(b.seen())
	if got := post(t, c, b, "/api/cart/items", `{"sku":"pear"}`, true); got != http.StatusCreated {
		t.Errorf("POST: status %d", got)
	}
	want := []seen{
		{Path: "/api/cart/items", Access: access, Body: `{"sku":"pear"}`},
		{Path: "/api/cart/items", Access: access, Body: `{"sku":"pear"}`},
	}
	if diff := cmp.Diff(want, b.seen()[before:]); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}

	// A body that cannot be replayed is not: the challenge goes back.
	b.nonces.replace()
	before = len(b.wireSeen())
	if got := post(t, c, b, "/api/cart/items", `{}`, false); got != http.StatusUnauthorized || len(b.wireSeen()) != before+1 {
		t.Errorf("unreplayable POST: status %d after %d sends, want 401 after 1", got, len(b.wireSeen())-before)
	}
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Errorf("status %d after the unreplayable POST", got)
	}

	// A second challenge in a row goes back to the caller, body and all,
	// and the session stays.
	b.nonces.reject(true)
	before = len(b.wireSeen())
	resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") ||
		resp.Header.Get(dpop.NonceHeader) == "" ||
		!strings.Contains(string(body), "use_dpop_nonce") {
		t.Errorf("got %d %v %s, want the 401 use_dpop_nonce", resp.StatusCode, resp.Header, body)
	}
	if n := len(b.wireSeen()) - before; n != 2 {
		t.Errorf("%d sends, want 2", n)
	}
	if got := mustStored(t, c); got.AccessToken != access {
		t.Errorf("the session was dropped after nonce challenges")
	}
	if _, err := c.Tokens(t.Context()); err != nil {
		t.Errorf("Tokens: %v", err)
	}
	// So does a login's.
	before = len(b.wireSeen())
	_, err = b.newClient().Login(t.Context(), testLogin, testPassword)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || !strings.Contains(string(apiErr.Body), "use_dpop_nonce") {
		t.Errorf("Login: %v, want the 400 use_dpop_nonce", err)
	}
	if n := len(b.wireSeen()) - before; n != 2 {
		t.Errorf("login: %d sends, want 2", n)
	}
	b.nonces.reject(false)
	if n, _ := b.counts(); n != 0 {
		t.Errorf("%d refreshes, want 0", n)
	}
}

// A nonce challenge to the request that carries the refresh token: the
// retry carries it again, and the backend refreshes once.
func TestDPoP_NonceDuringRefresh(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.requireNonce = true })
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	old := mustStored(t, c)
	b.clock.Advance(9*time.Minute + 30*time.Second)
	b.nonces.replace()
	before := len(b.seen())
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	access, _ := b.issued()
	want := []seen{
		{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken},
		{Path: "/api/cart", Access: old.AccessToken, RefreshToken: old.RefreshToken},
		{Path: "/api/cart", Access: access},
	}
	if diff := cmp.Diff(want, b.seen()[before:]); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	if n, reused := b.counts(); n != 1 || reused != 0 {
		t.Errorf("%d refreshes and %d reuses, want 1 and 0", n, reused)
	}
	wantStored(t, c, b)
}

// A backend that knows nothing of DPoP ignores the proofs and issues
// unbound tokens, which the client sends with the Bearer scheme.
func TestDPoP_BackendWithoutDPoP(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.noDPoP = true })
	c := b.newClient()
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	tok := mustStored(t, c)
	if tok.DPoPBound() {
		t.Errorf("DPoPBound = true for an unbound JWT")
	}
	if tok.DPoPThumbprint() == "" {
		t.Errorf("no device key")
	}
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	b.clock.Advance(11 * time.Minute)
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d after expiry", got)
	}
	if n, _ := b.counts(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	wantStored(t, c, b)
	if err := c.Logout(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	for _, w := range b.wireSeen()[1:] {
		if w.Scheme != "Bearer" {
			t.Errorf("%s sent with scheme %q, want Bearer", w.Path, w.Scheme)
		}
	}
}

func TestDPoP_Disabled(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	c.DisableDPoP = true
	c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
	mustLogin(t, c)
	tok := mustStored(t, c)
	if tok.DPoPKey != nil || tok.DPoPBound() {
		t.Errorf("DisableDPoP: key %v, bound %v", tok.DPoPKey != nil, tok.DPoPBound())
	}
	get(t, c, b, "/api/cart")
	b.clock.Advance(11 * time.Minute)
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Fatalf("status %d after expiry", got)
	}
	if err := c.Logout(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	w := b.wireSeen()
	if len(w) != 4 {
		t.Fatalf("backend saw %d requests, want 4", len(w))
	}
	for i, w := range w {
		if w.Proof != nil {
			t.Errorf("%s carried a DPoP header", w.Path)
		}
		if i > 0 && w.Scheme != "Bearer" {
			t.Errorf("%s sent with scheme %q, want Bearer", w.Path, w.Scheme)
		}
	}
	// With no key, ending the session clears the store.
	if _, err := c.Store.Load(t.Context()); !errors.Is(err, client.ErrNoTokens) {
		t.Errorf("store after Logout: %v, want ErrNoTokens", err)
	}

	// A device key already stored is kept, unused.
	d := b.newClient()
	mustLogin(t, d)
	jkt := deviceJKT(t, d)
	if err := d.Logout(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	off := b.newClient()
	off.DisableDPoP = true
	off.Store = d.Store
	mustLogin(t, off)
	if got := mustStored(t, off); got.DPoPThumbprint() != jkt || got.DPoPBound() {
		t.Errorf("DisableDPoP after DPoP: key %q (want %q), bound %v", got.DPoPThumbprint(), jkt, got.DPoPBound())
	}
	if w := b.wireSeen(); w[len(w)-1].Proof != nil {
		t.Errorf("DisableDPoP login carried a proof")
	}
}

func TestDPoP_ConcurrentRefresh(t *testing.T) {
	// Not parallel: waitParked counts the goroutines of the whole test binary.
	for _, withNonce := range []bool{false, true} {
		t.Run(fmt.Sprintf("Nonce=%v", withNonce), func(t *testing.T) {
			const n = 8
			b := newBackend(t)
			b.set(func(b *backend) { b.requireNonce = withNonce })
			c := b.newClient()
			c.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
			mustLogin(t, c)
			jkt := deviceJKT(t, c)

			for round := range 3 {
				b.clock.Advance(9*time.Minute + 30*time.Second)
				if withNonce {
					b.nonces.replace() // every first proof is challenged
				}
				before, seenBefore := len(b.wireSeen()), len(b.seen())
				arrived, release := b.holdRefreshes(t)
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
						if err != nil {
							t.Error(err)
							return
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							t.Errorf("round %d: status %d", round, resp.StatusCode)
						}
					})
				}
				// One request refreshes; the others pile up behind it (or,
				// wrongly, carry the refresh token too) before it ends.
				arrived()
				waitParked(t, n-1, false, func() bool { return carriedRefresh(b.seen()[seenBefore:]) > 1 })
				release()
				wg.Wait()
				if refreshes, reused := b.counts(); refreshes != round+1 || reused != 0 {
					t.Errorf("round %d: %d refreshes and %d reuses, want %d and 0", round, refreshes, reused, round+1)
				}
				w := b.wireSeen()[before:]
				accepted := 0
				for _, w := range w {
					if w.Scheme != "DPoP" || w.Proof == nil {
						t.Errorf("round %d: request with scheme %q, proof %v", round, w.Scheme, w.Proof != nil)
					}
					if w.Err == "" {
						accepted++
						if w.JKT != jkt {
							t.Errorf("round %d: proof of key %q, want %q", round, w.JKT, jkt)
						}
					} else if !strings.Contains(w.Err, "nonce") {
						t.Errorf("round %d: proof refused: %s", round, w.Err)
					}
				}
				if accepted != n {
					t.Errorf("round %d: %d proofs accepted, want %d", round, accepted, n)
				}
				wantDistinctJTIs(t, w)
				wantStored(t, c, b)
				access, _ := b.issued()
				if got := b.boundTo(t, access); got != jkt {
					t.Errorf("round %d: refreshed JWT bound to %q, want %q", round, got, jkt)
				}
			}
		})
	}
}

// The backend refuses a bound JWT without the key: as Bearer, without a
// proof, or with a proof of another key, and a thief holding the tokens
// but not the key gets nothing, not even a refresh.
func TestDPoP_StolenTokens(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	c := b.newClient()
	mustLogin(t, c)
	tok := mustStored(t, c)
	url := b.srv.URL + "/api/cart"

	otherKey, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	otherProof, err := dpop.NewProof(otherKey, http.MethodGet, url, dpop.ProofOptions{AccessToken: tok.AccessToken, Now: b.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, auth, proof string
	}{
		{"Bearer", "Bearer " + tok.AccessToken, ""},
		{"NoProof", "DPoP " + tok.AccessToken, ""},
		{"OtherKey", "DPoP " + tok.AccessToken, otherProof},
	} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", tt.auth)
		if tt.proof != "" {
			req.Header.Set(dpop.Header, tt.proof)
		}
		resp, err := b.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tt.name, resp.StatusCode)
		}
	}

	// A thief's client with the tokens and its own key.
	der, err := dpop.MarshalKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	thief := b.newClient()
	stolen := tok
	stolen.DPoPKey = der
	if err := thief.Store.Save(t.Context(), stolen); err != nil {
		t.Fatal(err)
	}
	if got := get(t, thief, b, "/api/cart"); got != http.StatusUnauthorized {
		t.Errorf("thief: status %d, want 401", got)
	}
	b.clock.Advance(11 * time.Minute)
	if err := thief.Store.Save(t.Context(), stolen); err != nil {
		t.Fatal(err)
	}
	thief2 := b.newClient()
	thief2.Store = thief.Store
	if got := get(t, thief2, b, "/api/cart"); got != http.StatusUnauthorized {
		t.Errorf("thief with the refresh token: status %d, want 401", got)
	}
	if n, _ := b.counts(); n != 0 {
		t.Errorf("the thief got %d refreshes", n)
	}
	// The device still can.
	if got := get(t, c, b, "/api/cart"); got != http.StatusOK {
		t.Errorf("device: status %d", got)
	}
}

// Stored Tokens that cannot be read fail closed: nothing they hold is
// used, no request goes out, and nothing is overwritten until Login (or
// Logout) starts over with a new key.
func TestDPoP_TamperedStore(t *testing.T) {
	t.Parallel()
	tamper := map[string]func(t *testing.T, path, keyPath string){
		"TokenFile": func(t *testing.T, path, _ string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x01
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"KeyFile": func(t *testing.T, _, keyPath string) {
			other := make([]byte, 32)
			rand.Read(other)
			if err := os.WriteFile(keyPath, other, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, f := range tamper {
		for _, start := range []string{"Login", "Logout"} {
			t.Run(name+"/"+start, func(t *testing.T) {
				t.Parallel()
				b := newBackend(t)
				dir := t.TempDir()
				path, keyPath := filepath.Join(dir, "tokens"), filepath.Join(dir, "tokens.key")
				c := b.newClient()
				c.Store = &client.FileStore{Path: path, KeyPath: keyPath}
				mustLogin(t, c)
				jkt := deviceJKT(t, c)
				f(t, path, keyPath)
				data, _ := os.ReadFile(path)

				d := b.newClient()
				d.Store = &client.FileStore{Path: path, KeyPath: keyPath}
				d.OnLoginRequired = func() { t.Error("OnLoginRequired called") }
				wantFailsClosed(t, b, d)
				if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
					t.Errorf("the token file was overwritten")
				}

				if start == "Logout" {
					// Logout deletes what it cannot read.
					d.Logout(t.Context(), false)
					if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("token file after Logout: %v", err)
					}
				}
				before := len(b.wireSeen())
				mustLogin(t, d)
				got := deviceJKT(t, d)
				if got == jkt {
					t.Errorf("the login used the old key")
				}
				if w := b.wireSeen()[before]; w.JKT != got {
					t.Errorf("login proved key %q, want the new key %q", w.JKT, got)
				}
				if got := get(t, d, b, "/api/cart"); got != http.StatusOK {
					t.Errorf("status %d", got)
				}
			})
		}
	}

	t.Run("BadKey", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		c := b.newClient()
		mustLogin(t, c)
		tok := mustStored(t, c)
		bad := []byte("not a PKCS#8 key")
		tok.DPoPKey = bad
		if err := c.Store.Save(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		d := b.newClient()
		d.Store = c.Store
		if err := wantFailsClosed(t, b, d); err != nil && strings.Contains(err.Error(), string(bad)) {
			t.Errorf("the error quotes the key: %v", err)
		}
		if got := mustStored(t, d); !bytes.Equal(got.DPoPKey, bad) || got.AccessToken != tok.AccessToken {
			t.Errorf("the store was overwritten")
		}
		mustLogin(t, d)
		if got := mustStored(t, d); got.DPoPThumbprint() == "" || got.AccessToken == tok.AccessToken {
			t.Errorf("Login did not start over")
		}
		if got := get(t, d, b, "/api/cart"); got != http.StatusOK {
			t.Errorf("status %d", got)
		}
	})
}

// wantFailsClosed checks that c, whose store cannot be read, reports no
// session and sends no request, and returns the request's error.
func wantFailsClosed(t *testing.T, b *backend, c *client.Client) error {
	t.Helper()
	before := len(b.wireSeen())
	if _, err := c.Tokens(t.Context()); err == nil || errors.Is(err, client.ErrLoginRequired) {
		t.Errorf("Tokens: %v, want an error", err)
	}
	resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
	if err == nil {
		resp.Body.Close()
		t.Errorf("request succeeded: %d", resp.StatusCode)
	}
	if n := len(b.wireSeen()) - before; n != 0 {
		t.Errorf("%d requests reached the backend", n)
	}
	return err
}

// Tokens names the device key and tells whether the JWT is bound; what it
// prints is up to the app.
func TestTokens_DPoP(t *testing.T) {
	t.Parallel()
	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, _ := dpop.MarshalKey(key)
	jkt, _ := dpop.Thumbprint(key.Public())
	enc := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name  string
		tok   client.Tokens
		jkt   string
		bound bool
	}{
		{"None", client.Tokens{}, "", false},
		{"Bound", client.Tokens{AccessToken: enc(`{"cnf":{"jkt":"` + jkt + `"}}`), DPoPKey: der}, jkt, true},
		{"Unbound", client.Tokens{AccessToken: enc(`{"sub":"x"}`), DPoPKey: der}, jkt, false},
		{"CnfNotObject", client.Tokens{AccessToken: enc(`{"cnf":"x"}`)}, "", false},
		{"BadKey", client.Tokens{AccessToken: "x", DPoPKey: []byte{1, 2, 3}}, "", false},
	}
	for _, tt := range tests {
		if got := tt.tok.DPoPThumbprint(); got != tt.jkt {
			t.Errorf("%s: DPoPThumbprint = %q, want %q", tt.name, got, tt.jkt)
		}
		if got := tt.tok.DPoPBound(); got != tt.bound {
			t.Errorf("%s: DPoPBound = %v, want %v", tt.name, got, tt.bound)
		}
	}
}
