package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

const testCode = "287082"

// secondFactorDue reports whether a login with the right password must
// give a code: the user has one and trustID is not one the backend issued.
func (b *backend) secondFactorDue(trustID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.twoFactorCode != "" && !b.trusted[trustID]
}

// loginTwoFactor plays the storefront's POST /api/login/two-factor: the
// twoFactorId must be pending and proved by the first step's key, the
// code right; it is spent on success.
func (b *backend) loginTwoFactor(w http.ResponseWriter, r *http.Request) {
	rec, jkt, err := b.checkProof(r, "", "")
	if err != nil {
		b.record(rec, denyProof(w, err, false))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		TwoFactorID string `json:"twoFactorId"`
		Code        string `json:"code"`
		TrustDevice bool   `json:"trustDevice"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		b.record(rec, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	b.mu.Lock()
	b.loginBodies = append(b.loginBodies, string(body))
	firstKey, ok := b.pending[req.TwoFactorID]
	right := req.Code == b.twoFactorCode
	var res api.LoginResponse
	if ok && firstKey == jkt && right {
		delete(b.pending, req.TwoFactorID)
		access, refresh, exp := b.issueLocked(testUserID, jkt)
		res = api.LoginResponse{
			User: &api.User{ID: testUserID, Email: testLogin, Active: true}, Token: access, RefreshToken: refresh, TokenExpirationInstant: exp.UnixMilli(),
		}
		if req.TrustDevice {
			res.TwoFactorTrustID = rand.Text()
			b.trusted[res.TwoFactorTrustID] = true
		}
	}
	b.mu.Unlock()
	switch {
	case !ok || firstKey != jkt:
		b.record(rec, http.StatusUnauthorized)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": client.CodeTwoFactorExpired, "message": "log in again"})
		return
	case !right:
		b.record(rec, http.StatusUnauthorized)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": client.CodeInvalidTwoFactorCode, "message": "The code is not valid."})
		return
	}
	b.record(rec, http.StatusOK)
	writeJSON(w, http.StatusOK, res)
}

func TestLoginSecondFactor(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.twoFactorCode = testCode })
	c := b.newClient()
	ctx := context.Background()

	if _, err := c.CompleteTwoFactor(ctx, testCode, false); !errors.Is(err, client.ErrNoTwoFactorPending) {
		t.Fatalf("CompleteTwoFactor before any login: %v, want ErrNoTwoFactorPending", err)
	}
	u, err := c.Login(ctx, testLogin, testPassword)
	var tf *client.TwoFactorRequiredError
	if !errors.As(err, &tf) || u != nil {
		t.Fatalf("Login = %v, %v; want a *TwoFactorRequiredError", u, err)
	}
	if len(tf.Methods) != 1 || tf.Methods[0].Method != api.TwoFactorAuthenticator {
		t.Errorf("methods %+v, want the authenticator", tf.Methods)
	}
	if _, err := c.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		t.Fatalf("Tokens after the first step: %v, want ErrLoginRequired", err)
	}
	if !c.TwoFactorPending() {
		t.Fatal("TwoFactorPending is false after the first step")
	}

	// A wrong code: 401, and the login still awaits one.
	_, err = c.CompleteTwoFactor(ctx, "000000", false)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != client.CodeInvalidTwoFactorCode {
		t.Fatalf("wrong code: %v, want a 401 %s", err, client.CodeInvalidTwoFactorCode)
	}
	if !c.TwoFactorPending() {
		t.Fatal("a wrong code ended the pending login")
	}
	if _, err := c.Tokens(ctx); !errors.Is(err, client.ErrLoginRequired) {
		t.Fatalf("Tokens after a wrong code: %v", err)
	}

	// The right code, proved by the same key as the password (the backend
	// refuses another key).
	u, err = c.CompleteTwoFactor(ctx, " "+testCode+" ", false)
	if err != nil || u == nil || u.ID != testUserID {
		t.Fatalf("CompleteTwoFactor = %v, %v", u, err)
	}
	if c.TwoFactorPending() {
		t.Error("the login still awaits a code after it completed")
	}
	tok, err := c.Tokens(ctx)
	if err != nil || !tok.DPoPBound() || tok.TwoFactorTrustID != "" {
		t.Fatalf("tokens after the second step: bound %v, trust %q, %v", tok.DPoPBound(), tok.TwoFactorTrustID, err)
	}
	b.mu.Lock()
	bodies := b.loginBodies
	b.mu.Unlock()
	for _, body := range bodies[1:] {
		if strings.Contains(body, testPassword) {
			t.Errorf("the second step sent the password: %s", body)
		}
	}
	if _, err := c.CompleteTwoFactor(ctx, testCode, false); !errors.Is(err, client.ErrNoTwoFactorPending) {
		t.Errorf("CompleteTwoFactor again: %v, want ErrNoTwoFactorPending", err)
	}
	// The session works like any other.
	resp, err := c.HTTP().Get(b.srv.URL + "/api/cart")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/cart after the second step: %d", resp.StatusCode)
	}
}

func TestLoginTrustDevice(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.twoFactorCode = testCode })
	store := new(client.MemoryStore)
	c := b.newClient()
	c.Store = store
	ctx := context.Background()
	if _, err := c.Login(ctx, testLogin, testPassword); !errors.As(err, new(*client.TwoFactorRequiredError)) {
		t.Fatalf("Login: %v", err)
	}
	if _, err := c.CompleteTwoFactor(ctx, testCode, true); err != nil {
		t.Fatal(err)
	}
	tok, _ := c.Tokens(ctx)
	if tok.TwoFactorTrustID == "" {
		t.Fatal("no trust id kept after trustDevice")
	}
	if err := c.Logout(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The trust id outlives the session, in the store, like the device key.
	kept, err := store.Load(ctx)
	if err != nil || kept.AccessToken != "" || kept.TwoFactorTrustID != tok.TwoFactorTrustID || len(kept.DPoPKey) == 0 {
		t.Fatalf("after logout the store holds token %q, trust %q, key %d bytes (%v)", kept.AccessToken, kept.TwoFactorTrustID, len(kept.DPoPKey), err)
	}
	// A new Client on the same store (the app restarted) logs in without
	// a code.
	c2 := b.newClient()
	c2.Store = store
	if _, err := c2.Login(ctx, testLogin, testPassword); err != nil {
		t.Fatalf("Login on a trusted device: %v", err)
	}
	// Without the trust id (another device), the code is due again.
	c3 := b.newClient()
	if _, err := c3.Login(ctx, testLogin, testPassword); !errors.As(err, new(*client.TwoFactorRequiredError)) {
		t.Fatalf("Login on another device: %v, want a second factor required", err)
	}
}

func TestLoginSecondFactorEnds(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.twoFactorCode = testCode })
	c := b.newClient()
	ctx := context.Background()
	if _, err := c.Login(ctx, testLogin, testPassword); !errors.As(err, new(*client.TwoFactorRequiredError)) {
		t.Fatalf("Login: %v", err)
	}
	// The backend forgets the pending login (it expired).
	b.set(func(b *backend) { clear(b.pending) })
	_, err := c.CompleteTwoFactor(ctx, testCode, false)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != client.CodeTwoFactorExpired {
		t.Fatalf("CompleteTwoFactor on an expired login: %v", err)
	}
	if c.TwoFactorPending() {
		t.Error("an expired login still awaits a code")
	}
	// A new Login abandons a pending one.
	if _, err := c.Login(ctx, testLogin, testPassword); !errors.As(err, new(*client.TwoFactorRequiredError)) {
		t.Fatalf("Login: %v", err)
	}
	if _, err := c.Login(ctx, testLogin, "wrong password"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	if c.TwoFactorPending() {
		t.Error("a login awaits a code after a new Login failed")
	}
}

func TestCompleteTwoFactorConcurrent(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.set(func(b *backend) { b.twoFactorCode = testCode })
	c := b.newClient()
	ctx := context.Background()
	if _, err := c.Login(ctx, testLogin, testPassword); !errors.As(err, new(*client.TwoFactorRequiredError)) {
		t.Fatalf("Login: %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = c.CompleteTwoFactor(ctx, testCode, false) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var apiErr *client.APIError
		switch {
		case err == nil:
			ok++
		case errors.Is(err, client.ErrNoTwoFactorPending), errors.As(err, &apiErr) && apiErr.Code == client.CodeTwoFactorExpired:
		default:
			t.Errorf("CompleteTwoFactor: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent completions succeeded, want 1", ok, n)
	}
	if _, err := c.Tokens(ctx); err != nil || c.TwoFactorPending() {
		t.Fatalf("after the race: tokens %v, pending %v", err, c.TwoFactorPending())
	}
}
