package guard_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
)

// Tests of the events handler without a Latch: events and tokens are
// signed here.

const (
	unitIssuer = "https://latch.test"
	unitApp    = "2b7c3c1e-6a0b-4d5e-8f9a-0b1c2d3e4f50"
	otherApp   = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
)

// unitEnv is a Guard over static keys: tokenKey signs access tokens (and
// may sign events, as Latch's JWKS keys do), hookSecret is an HMAC event
// key of Config.EventKeys.
type unitEnv struct {
	g          *guard.Guard
	clock      *latchtest.Clock
	tokenKey   *ecdsa.PrivateKey
	hookSecret []byte
	store      *countingStore
}

// countingStore counts the revocations added to a MemoryRevocationStore.
type countingStore struct {
	*guard.MemoryRevocationStore
	adds atomic.Int64
}

func (c *countingStore) Add(ctx context.Context, r guard.Revocation) error {
	c.adds.Add(1)
	return c.MemoryRevocationStore.Add(ctx, r)
}

func newUnit(t *testing.T, change ...func(*guard.Config)) *unitEnv {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &unitEnv{clock: newClock(), tokenKey: priv, hookSecret: bytes.Repeat([]byte("s"), 32)}
	u.store = &countingStore{MemoryRevocationStore: guard.NewMemoryRevocationStore(guard.MemoryRevocationStoreConfig{Now: u.clock.Now})}
	cfg := guard.Config{
		Issuer: unitIssuer, Audience: unitApp, LatchURL: unitIssuer, Now: u.clock.Now,
		Keys: guard.KeyOptions{Set: guard.StaticKeySet{{ID: "token-key", Algorithm: "ES256", Key: &priv.PublicKey}}},
		Revocations: guard.RevocationOptions{
			EventKeys: guard.StaticKeySet{{ID: "hook-key", Algorithm: "HS256", Key: u.hookSecret}},
			Store:     u.store,
		},
	}
	for _, c := range change {
		c(&cfg)
	}
	if u.g, err = guard.New(cfg); err != nil {
		t.Fatal(err)
	}
	return u
}

// token is an access token of the user for the application, of the
// session sid, issued at iat and valid for an hour.
func (u *unitEnv) token(t *testing.T, sub, sid, app string, iat time.Time) string {
	t.Helper()
	return signToken(t, es256Key(u.tokenKey), map[string]any{"alg": "ES256", "kid": "token-key", "typ": "at+jwt"}, map[string]any{
		"iss": unitIssuer, "aud": unitApp, "sub": sub, "sid": sid, "applicationId": app,
		"iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix(),
	})
}

// verify reports Verify's error for a token.
func (u *unitEnv) verify(t *testing.T, tok string) error {
	t.Helper()
	_, err := u.g.Verify(context.Background(), tok)
	return err
}

// bodySig is a signature claim set for body.
func bodySig(body []byte) map[string]any {
	sum := sha256.Sum256(body)
	return map[string]any{api.SignatureClaimBodySHA256: base64.StdEncoding.EncodeToString(sum[:])}
}

// hmacSig signs body with the HMAC event key.
func (u *unitEnv) hmacSig(t *testing.T, body []byte) string {
	return signToken(t, hs256Key(u.hookSecret), map[string]any{"alg": "HS256", "kid": "hook-key", "typ": "JWT"}, bodySig(body))
}

// post delivers an event body with the signature headers given.
func (u *unitEnv) post(body []byte, sigs ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/latch/events", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for _, s := range sigs {
		r.Header.Add(api.HeaderSignatureJWT, s)
	}
	return serve(u.g.Events(), r)
}

// revokeEvent is the body of a jwt.refresh-token.revoke event.
func revokeEvent(t *testing.T, id string, at time.Time, members map[string]any) []byte {
	t.Helper()
	ev := map[string]any{"id": id, "type": api.EventJWTRefreshTokenRevoke, "createInstant": at.UnixMilli(),
		"tenantId": "t", "applicationTimeToLiveInSeconds": map[string]int{unitApp: 600}}
	for k, v := range members {
		ev[k] = v
	}
	b, err := json.Marshal(map[string]any{"event": ev})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEvents_Signature(t *testing.T) {
	t.Parallel()
	u := newUnit(t)
	now := u.clock.Now()
	tok := u.token(t, "ana", "s1", unitApp, now)
	body := revokeEvent(t, "e1", now, map[string]any{"sessionId": "s1", "userId": "ana", "applicationId": unitApp})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	refused := []struct {
		name string
		sigs []string
		body []byte
	}{
		{"unsigned", nil, body},
		{"altered body", []string{u.hmacSig(t, body)}, append(bytes.Clone(body[:len(body)-2]), []byte(` }}`)...)},
		{"unknown key", []string{signToken(t, es256Key(other), map[string]any{"alg": "ES256", "kid": "nobody"}, bodySig(body))}, body},
		{"wrong key for the kid", []string{signToken(t, es256Key(other), map[string]any{"alg": "ES256", "kid": "token-key"}, bodySig(body))}, body},
		{"HS256 with the token key's kid", []string{signToken(t, hs256Key(pemOf(t, &u.tokenKey.PublicKey)), map[string]any{"alg": "HS256", "kid": "token-key"}, bodySig(body))}, body},
		{"alg none", []string{encodeSegment(t, map[string]any{"alg": "none", "kid": "hook-key"}) + "." + encodeSegment(t, bodySig(body)) + "."}, body},
		{"no body hash", []string{signToken(t, hs256Key(u.hookSecret), map[string]any{"alg": "HS256", "kid": "hook-key"}, map[string]any{"iat": now.Unix()})}, body},
		{"two signatures", []string{u.hmacSig(t, body), u.hmacSig(t, body)}, body},
		{"expired signature", []string{signToken(t, hs256Key(u.hookSecret), map[string]any{"alg": "HS256", "kid": "hook-key"},
			map[string]any{api.SignatureClaimBodySHA256: bodySig(body)[api.SignatureClaimBodySHA256], "exp": now.Add(-time.Hour).Unix()})}, body},
		{"jwk header", []string{signToken(t, hs256Key(u.hookSecret), map[string]any{"alg": "HS256", "kid": "hook-key", "jwk": map[string]any{}}, bodySig(body))}, body},
	}
	for _, c := range refused {
		rec := u.post(c.body, c.sigs...)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d %s, want 401", c.name, rec.Code, rec.Body)
		}
	}
	if err := u.verify(t, tok); err != nil {
		t.Fatalf("after refused events, the token is refused: %v", err)
	}
	if n := u.store.adds.Load(); n != 0 {
		t.Fatalf("refused events recorded %d revocations", n)
	}

	// Signed with the HMAC event key, or with a key of the key set.
	if rec := u.post(body, u.hmacSig(t, body)); rec.Code != http.StatusOK {
		t.Fatalf("HMAC-signed event: %d %s", rec.Code, rec.Body)
	}
	body2 := revokeEvent(t, "e2", now, map[string]any{"sessionId": "s2"})
	es := signToken(t, es256Key(u.tokenKey), map[string]any{"alg": "ES256", "kid": "token-key", "typ": "JWT"}, bodySig(body2))
	if rec := u.post(body2, es); rec.Code != http.StatusOK {
		t.Fatalf("ES256-signed event: %d %s", rec.Code, rec.Body)
	}
	if !errors.Is(u.verify(t, tok), guard.ErrRevoked) {
		t.Error("the revoked session's token still verifies")
	}

	// Method and body.
	r := httptest.NewRequest("GET", "/latch/events", nil)
	if rec := serve(u.g.Events(), r); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
	junk := []byte(`{"not":"an event"}`)
	if rec := u.post(junk, u.hmacSig(t, junk)); rec.Code != http.StatusBadRequest {
		t.Errorf("a signed body that is no event: %d", rec.Code)
	}
	login := []byte(`{"event":{"id":"e3","type":"user.login.success","createInstant":1}}`)
	if rec := u.post(login, u.hmacSig(t, login)); rec.Code != http.StatusOK {
		t.Errorf("another event type: %d, want 200 (ignored)", rec.Code)
	}
}

func TestEvents_AcceptUnsigned(t *testing.T) {
	t.Parallel()
	u := newUnit(t, func(c *guard.Config) { c.Revocations.AcceptUnsigned = true })
	now := u.clock.Now()
	body := revokeEvent(t, "e1", now, map[string]any{"sessionId": "s1"})
	if rec := u.post(body, u.hmacSig(t, []byte("something else"))); rec.Code != http.StatusUnauthorized {
		t.Errorf("a bad signature with AcceptUnsignedEvents: %d, want 401", rec.Code)
	}
	if rec := u.post(body); rec.Code != http.StatusOK {
		t.Fatalf("an unsigned event with AcceptUnsignedEvents: %d %s", rec.Code, rec.Body)
	}
	if !errors.Is(u.verify(t, u.token(t, "ana", "s1", unitApp, now)), guard.ErrRevoked) {
		t.Error("the unsigned event was not applied")
	}
}

// Each scope refuses what it covers, and nothing else, until the tokens
// concerned have expired.
func TestEvents_Scopes(t *testing.T) {
	t.Parallel()
	type tok struct {
		sub, sid, app string
		iat           time.Duration // from the event
		refused       bool
	}
	cases := []struct {
		name    string
		members map[string]any
		tokens  []tok
	}{
		{"session", map[string]any{"sessionId": "s1", "userId": "ana", "applicationId": unitApp}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"ana", "s1", unitApp, 10 * time.Second, true}, // a session's tokens, whatever their iat
			{"ana", "s2", unitApp, -time.Minute, false},
		}},
		{"FusionAuth's refreshToken object", map[string]any{"refreshToken": map[string]any{"id": "s1", "userId": "ana"}, "userId": "ana", "applicationId": unitApp}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"ana", "s2", unitApp, -time.Minute, false},
		}},
		{"user", map[string]any{"userId": "ana"}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"ana", "s2", unitApp, 0, true}, // issued in the same second
			{"ana", "s3", unitApp, time.Second, false},
			{"bob", "s4", unitApp, -time.Minute, false},
		}},
		// Latch lists the sessions it revoked: a login in the revocation's
		// own second (a session not listed) passes.
		{"user, its sessions listed", map[string]any{"userId": "ana", "sessionIds": []string{"s1", "s2"}}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"ana", "s2", unitApp, 0, true},            // a listed session, in the same second
			{"ana", "s5", unitApp, 0, false},           // a later login, in the same second
			{"ana", "s6", unitApp, -time.Second, true}, // any token of an earlier second
			{"ana", "", unitApp, -time.Second, true},
			{"bob", "s7", unitApp, -time.Minute, false},
		}},
		{"application, its sessions listed", map[string]any{"applicationId": unitApp, "sessionIds": []string{"s1"}}, []tok{
			{"bob", "s1", unitApp, 0, true},
			{"bob", "s3", unitApp, 0, false},
			{"ana", "s4", unitApp, -time.Second, true},
		}},
		{"user and application", map[string]any{"userId": "ana", "applicationId": unitApp}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"ana", "s2", "", -time.Minute, true}, // aud is the application
			{"ana", "s3", unitApp, time.Second, false},
			{"bob", "s4", unitApp, -time.Minute, false},
		}},
		{"application", map[string]any{"applicationId": unitApp}, []tok{
			{"ana", "s1", unitApp, -time.Minute, true},
			{"bob", "s2", unitApp, -time.Minute, true},
			{"bob", "s3", unitApp, time.Second, false},
		}},
		{"another application", map[string]any{"applicationId": otherApp}, []tok{
			{"ana", "s1", unitApp, -time.Minute, false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := newUnit(t)
			at := u.clock.Now()
			body := revokeEvent(t, "e-"+c.name, at, c.members)
			if rec := u.post(body, u.hmacSig(t, body)); rec.Code != http.StatusOK {
				t.Fatalf("event: %d %s", rec.Code, rec.Body)
			}
			for _, k := range c.tokens {
				err := u.verify(t, u.token(t, k.sub, k.sid, k.app, at.Add(k.iat)))
				if got := errors.Is(err, guard.ErrRevoked); got != k.refused || (!k.refused && err != nil) {
					t.Errorf("token %+v: err = %v, want refused %v", k, err, k.refused)
				}
			}
			// After the lifetime (600 s) and the leeway, the record goes.
			u.clock.Advance(600*time.Second + guard.DefaultLeeway + time.Second)
			for _, k := range c.tokens {
				if k.iat < 0 {
					continue
				}
				if err := u.verify(t, u.token(t, k.sub, k.sid, k.app, at.Add(k.iat))); err != nil {
					t.Errorf("token %+v after the revocation lapsed: %v", k, err)
				}
			}
		})
	}
}

func TestEvents_Dedup(t *testing.T) {
	t.Parallel()
	u := newUnit(t)
	body := revokeEvent(t, "e1", u.clock.Now(), map[string]any{"userId": "ana"})
	for i := range 3 {
		if rec := u.post(body, u.hmacSig(t, body)); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i, rec.Code)
		}
	}
	if n := u.store.adds.Load(); n != 1 {
		t.Errorf("three deliveries of one event recorded %d revocations, want 1", n)
	}
	// An event whose tokens have all expired records nothing.
	old := revokeEvent(t, "e2", u.clock.Now().Add(-time.Hour), map[string]any{"userId": "bob"})
	if rec := u.post(old, u.hmacSig(t, old)); rec.Code != http.StatusOK {
		t.Fatalf("old event: %d", rec.Code)
	}
	if n := u.store.adds.Load(); n != 1 {
		t.Errorf("an event about expired tokens recorded a revocation")
	}
}

func TestMemoryRevocationStore_Bounded(t *testing.T) {
	t.Parallel()
	clock := newClock()
	ctx := context.Background()
	m := guard.NewMemoryRevocationStore(guard.MemoryRevocationStoreConfig{MaxEntries: 2, Now: clock.Now})
	now := clock.Now()
	add := func(user string, until time.Duration) error {
		return m.Add(ctx, guard.Revocation{Scope: guard.Scope{UserID: user}, At: now, Until: now.Add(until)})
	}
	if err := add("a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := add("b", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := add("c", time.Hour); !errors.Is(err, guard.ErrRevocationStoreFull) {
		t.Fatalf("a third record: %v, want ErrRevocationStoreFull", err)
	}
	// Merging into a record already held needs no room.
	if err := m.Add(ctx, guard.Revocation{Scope: guard.Scope{UserID: "b"}, At: now.Add(time.Second), Until: now.Add(2 * time.Hour)}); err != nil {
		t.Fatalf("merge: %v", err)
	}
	got, _ := m.Lookup(ctx, []guard.Scope{{UserID: "b"}})
	if len(got) != 1 || !got[0].At.Equal(now.Add(time.Second)) || !got[0].Until.Equal(now.Add(2*time.Hour)) {
		t.Errorf("merged record = %+v", got)
	}
	clock.Advance(time.Minute)
	if err := add("c", time.Hour); err != nil {
		t.Fatalf("after a record expired: %v", err)
	}
	if got, _ := m.Lookup(ctx, []guard.Scope{{UserID: "a"}}); len(got) != 0 {
		t.Errorf("an expired record is still found: %+v", got)
	}
	if n := m.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}

	// The handler answers 503 when the store is full, so Latch retries.
	u := newUnit(t, func(c *guard.Config) { c.Revocations.Store = m })
	body := revokeEvent(t, "e-full", clock.Now(), map[string]any{"userId": "d"})
	if rec := u.post(body, u.hmacSig(t, body)); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("event into a full store: %d, want 503", rec.Code)
	}
}

// Tests with a real Latch: the event travels from Latch's outbox to the
// guard's handler.

// eventSink serves a Guard's Events handler as Latch's webhook and keeps
// what it received.
type eventSink struct {
	srv *httptest.Server

	mu       sync.Mutex
	received []sinkReceipt
	arrived  chan struct{} // a value when a receipt was added since the last wait
}

type sinkReceipt struct {
	body      []byte
	signature string
	status    int
}

// newEventSink serves g.Events() and registers it with Latch as a signed
// webhook for jwt.refresh-token.revoke, which the tenant enables.
func newEventSink(t *testing.T, f *fixture) *eventSink {
	t.Helper()
	s := &eventSink{arrived: make(chan struct{}, 1)}
	h := f.g.Events()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.received = append(s.received, sinkReceipt{body: body, signature: r.Header.Get(api.HeaderSignatureJWT), status: rec.Code})
		s.mu.Unlock()
		select {
		case s.arrived <- struct{}{}:
		default: // a wake-up is pending already
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(s.srv.Close)

	var tenants api.TenantResponse
	f.mustCall(t, "GET", "/api/tenant", nil, &tenants)
	f.mustCall(t, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true}}},
	}}, nil)
	var key api.KeyResponse
	f.mustCall(t, "POST", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "webhooks"}}, &key)
	f.mustCall(t, "POST", "/api/webhook", map[string]any{"webhook": map[string]any{
		"url": s.srv.URL + "/latch/events", "global": true,
		"eventsEnabled":          map[string]bool{api.EventJWTRefreshTokenRevoke: true},
		"signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": key.Key.ID},
	}}, nil)
	return s
}

func (s *eventSink) receipts() []sinkReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkReceipt(nil), s.received...)
}

// waitAccepted waits until the handler accepted n events: it looks again
// each time the sink has answered a delivery.
func (s *eventSink) waitAccepted(t *testing.T, n int) []sinkReceipt {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		var ok []sinkReceipt
		for _, r := range s.receipts() {
			if r.status == http.StatusOK {
				ok = append(ok, r)
			}
		}
		if len(ok) >= n {
			return ok
		}
		select {
		case <-s.arrived:
		case <-timeout:
			t.Fatalf("timed out waiting for %d accepted events; received %+v", n, s.receipts())
		}
	}
}

// The article's stolen JWT: once its session is revoked at Latch, the
// event reaches guard and the same unexpired JWT is refused, while the
// user's other session goes on.
func TestEvents_RevokedSessionReachesGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sink := newEventSink(t, f)
	h := f.g.Handler(&backend{})
	email := f.newUser(t, f.appID)
	stolen, other := f.login(t, email, f.appID), f.login(t, email, f.appID)
	for _, l := range []api.LoginResponse{stolen, other} {
		if rec := serve(h, request(l.Token, "")); rec.Code != http.StatusOK {
			t.Fatalf("before the revocation: %d %s", rec.Code, rec.Body)
		}
	}

	f.mustCall(t, "DELETE", "/api/jwt/refresh/"+stolen.RefreshTokenID, nil, nil)
	got := sink.waitAccepted(t, 1)

	rec := serve(h, request(stolen.Token, ""))
	wantRefusal(t, rec, http.StatusUnauthorized, api.OAuthInvalidToken, invalidToken("The access token has been revoked."))
	// With its (revoked) refresh token the request is refreshed at Latch,
	// which refuses: still 401.
	rec = serve(h, request(stolen.Token, stolen.RefreshToken))
	wantRefusal(t, rec, http.StatusUnauthorized, api.OAuthInvalidToken, "*")
	if rec := serve(h, request(other.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("the user's other session: %d %s", rec.Code, rec.Body)
	}

	// A redelivery is answered 200 (deduplicated); the event with an
	// altered body is refused.
	ev := got[0]
	post := func(body []byte, sig string) int {
		req, _ := http.NewRequest("POST", sink.srv.URL+"/latch/events", bytes.NewReader(body))
		req.Header.Set(api.HeaderSignatureJWT, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(ev.body, ev.signature); code != http.StatusOK {
		t.Errorf("redelivery: %d", code)
	}
	forged := bytes.Replace(ev.body, []byte(stolen.RefreshTokenID), []byte(other.RefreshTokenID), 1)
	if bytes.Equal(forged, ev.body) {
		t.Fatal("the event does not name the session")
	}
	if code := post(forged, ev.signature); code != http.StatusUnauthorized {
		t.Errorf("an altered event: %d, want 401", code)
	}
	if code := post(forged, ""); code != http.StatusUnauthorized {
		t.Errorf("an unsigned event: %d, want 401", code)
	}
	if rec := serve(h, request(other.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("the other session after the forged events: %d", rec.Code)
	}
	f.noTokensLogged(t, stolen.Token, stolen.RefreshToken, other.Token)
}

// Log out everywhere: every JWT the user had is refused, and a JWT of a
// later login passes.
func TestEvents_UserRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sink := newEventSink(t, f)
	h := f.g.Handler(&backend{})
	email := f.newUser(t, f.appID)
	a, b := f.login(t, email, f.appID), f.login(t, email, f.appID)
	bystander := f.session(t)

	f.clock.Advance(10 * time.Second)
	code, body := f.Call(t, f.APIKey, "POST", "/api/logout", map[string]any{"global": true, "refreshToken": a.RefreshToken})
	if code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	sink.waitAccepted(t, 1)
	for _, l := range []api.LoginResponse{a, b} {
		rec := serve(h, request(l.Token, ""))
		wantRefusal(t, rec, http.StatusUnauthorized, api.OAuthInvalidToken, invalidToken("The access token has been revoked."))
	}
	if rec := serve(h, request(bystander.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("another user: %d", rec.Code)
	}
	f.clock.Advance(time.Second)
	c := f.login(t, email, f.appID)
	if rec := serve(h, request(c.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("a login after the revocation: %d %s", rec.Code, rec.Body)
	}
	if n := len(sink.receipts()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}
