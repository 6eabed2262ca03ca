package redisstore_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/guard/redisstore"
)

// guard wired to a Store, end to end: two instances of a backend behind
// one URL, each with its own Guard and client, share revocations and
// DPoP proofs through Redis.

const (
	testIssuer = "https://latch.test"
	testApp    = "2b7c3c1e-6a0b-4d5e-8f9a-0b1c2d3e4f50"
	testPublic = "https://shop.test"
)

var tokenSecret = bytes.Repeat([]byte("k"), 32)

// newGuard is one instance of the backend, over store.
func newGuard(t *testing.T, store *redisstore.Store) *guard.Guard {
	t.Helper()
	g, err := guard.New(guard.Config{
		Issuer: testIssuer, Audience: testApp, LatchURL: testIssuer,
		Keys: guard.KeyOptions{
			Set:        guard.StaticKeySet{{ID: "k", Algorithm: "HS256", Key: tokenSecret}},
			Algorithms: []string{"HS256"},
		},
		DPoP:        guard.DPoPOptions{PublicURL: testPublic, Replay: store},
		Revocations: guard.RevocationOptions{Store: store, AcceptUnsigned: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// token signs an access token of the session sid, bound to the DPoP key
// of thumbprint jkt when it is not empty.
func token(t *testing.T, sid, jkt string) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": testIssuer, "aud": testApp, "sub": "ana", "sid": sid, "applicationId": testApp,
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if jkt != "" {
		claims["cnf"] = map[string]string{"jkt": jkt}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "HS256", "kid": "k", "typ": "at+jwt"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, tokenSecret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// revoke is the body of a jwt.refresh-token.revoke event for one session.
func revoke(t *testing.T, id, sid string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": map[string]any{
		"id": id, "type": "jwt.refresh-token.revoke", "createInstant": time.Now().UnixMilli(),
		"tenantId": "t", "userId": "ana", "applicationId": testApp, "sessionId": sid,
		"applicationTimeToLiveInSeconds": map[string]int{testApp: 3600},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func postEvent(g *guard.Guard, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, testPublic+"/latch/events", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	g.Events().ServeHTTP(w, r)
	return w
}

// serve sends a request through g's Handler to a handler answering 204.
func serve(g *guard.Guard, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})).ServeHTTP(w, r)
	return w
}

func TestGuard_RevocationReachesEveryInstance(t *testing.T) {
	p := prefix(t, client(t))
	g1 := newGuard(t, redisstore.New(client(t), redisstore.Config{Prefix: p}))
	g2 := newGuard(t, redisstore.New(client(t), redisstore.Config{Prefix: p}))
	ctx := t.Context()
	tok := token(t, "s1", "")
	for i, g := range []*guard.Guard{g1, g2} {
		if _, err := g.Verify(ctx, tok); err != nil {
			t.Fatalf("instance %d, before the revocation: %v", i+1, err)
		}
	}
	if w := postEvent(g1, revoke(t, "e1", "s1")); w.Code != http.StatusOK {
		t.Fatalf("event to instance 1: %d %s", w.Code, w.Body)
	}
	for i, g := range []*guard.Guard{g1, g2} {
		if _, err := g.Verify(ctx, tok); !errors.Is(err, guard.ErrRevoked) {
			t.Errorf("instance %d, after the revocation reached instance 1: %v, want ErrRevoked", i+1, err)
		}
	}
	// Latch delivers again, to the other instance: acknowledged.
	if w := postEvent(g2, revoke(t, "e1", "s1")); w.Code != http.StatusOK {
		t.Errorf("the event again, to instance 2: %d %s", w.Code, w.Body)
	}
	if _, err := g2.Verify(ctx, token(t, "s2", "")); err != nil {
		t.Errorf("another session: %v", err)
	}
}

func TestGuard_DPoPProofOnceAcrossInstances(t *testing.T) {
	p := prefix(t, client(t))
	g1 := newGuard(t, redisstore.New(client(t), redisstore.Config{Prefix: p}))
	g2 := newGuard(t, redisstore.New(client(t), redisstore.Config{Prefix: p}))
	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, "s1", jkt)
	proof, err := dpop.NewProof(key, http.MethodGet, testPublic+"/api/cart", dpop.ProofOptions{AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, testPublic+"/api/cart", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set(dpop.Header, proof)
		return r
	}
	if w := serve(g1, request()); w.Code != http.StatusNoContent {
		t.Fatalf("instance 1, first use of the proof: %d %s", w.Code, w.Body)
	}
	for i, g := range []*guard.Guard{g2, g1} {
		if w := serve(g, request()); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "used before") {
			t.Errorf("the proof replayed at instance %d: %d %s, want 401, used before", 2-i, w.Code, w.Body)
		}
	}
}

// guard fails closed when Redis cannot be reached: tokens, events and
// DPoP proofs are answered 503, never accepted unchecked.
func TestGuard_FailsClosed(t *testing.T) {
	rdb := unreachable(t)
	g := newGuard(t, redisstore.New(rdb, redisstore.Config{}))
	tok := token(t, "s1", "")
	if _, err := g.Verify(t.Context(), tok); !errors.Is(err, guard.ErrUnavailable) {
		t.Errorf("Verify: %v, want ErrRevocationsUnavailable", err)
	}
	r := httptest.NewRequest(http.MethodGet, testPublic+"/api/cart", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if w := serve(g, r); w.Code != http.StatusServiceUnavailable {
		t.Errorf("Handler, bearer token: %d %s, want 503", w.Code, w.Body)
	}
	if w := postEvent(g, revoke(t, "e1", "s1")); w.Code != http.StatusServiceUnavailable {
		t.Errorf("Events: %d %s, want 503", w.Code, w.Body)
	}

	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	bound := token(t, "s2", jkt)
	proof, err := dpop.NewProof(key, http.MethodGet, testPublic+"/api/cart", dpop.ProofOptions{AccessToken: bound})
	if err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest(http.MethodGet, testPublic+"/api/cart", nil)
	r.Header.Set("Authorization", "DPoP "+bound)
	r.Header.Set(dpop.Header, proof)
	if w := serve(g, r); w.Code != http.StatusServiceUnavailable {
		t.Errorf("Handler, DPoP proof: %d %s, want 503", w.Code, w.Body)
	}
}
