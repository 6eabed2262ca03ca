package guard_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// searchCall is the catch-up's request to Latch.
const searchCall = "POST /api/system/webhook-event-log/search"

// lostWebhook registers, for jwt.refresh-token.revoke (which the tenant
// enables), a webhook at an address nothing listens on: Latch logs every
// revocation, and no delivery ever arrives.
func (l *latch) lostWebhook(t testing.TB) {
	t.Helper()
	var tenants api.TenantResponse
	l.mustCall(t, "GET", "/api/tenant", nil, &tenants)
	l.mustCall(t, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true}}},
	}}, nil)
	l.mustCall(t, "POST", "/api/webhook", map[string]any{"webhook": map[string]any{
		"url": "http://127.0.0.1:9/latch/events", "global": true, "eventsEnabled": map[string]bool{api.EventJWTRefreshTokenRevoke: true},
	}}, nil)
}

// logoutEverywhere ends every session of the user of login at Latch.
func (f *fixture) logoutEverywhere(t testing.TB, login api.LoginResponse) {
	t.Helper()
	if code, body := f.Call(t, f.APIKey, "POST", "/api/logout", map[string]any{"global": true, "refreshToken": login.RefreshToken}); code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
}

// catchingUp is the Config change of a Guard that catches up with the
// bootstrap API key.
func (f *fixture) catchingUp(c *guard.Config) { c.Revocations.CatchUp, c.APIKey = true, f.APIKey }

var revoked = invalidToken("The access token has been revoked.")

// A backend restarted after "log out everywhere" (its revocations were
// in memory) refuses the revoked JWTs: its guard catches up at Latch
// once, on the first JWT from before it started, and the user's JWTs are
// refused while another user's pass.
func TestCatchUp_AfterRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.lostWebhook(t)
	victim, bystander := f.session(t), f.session(t)
	f.clock.Advance(10 * time.Second)
	f.logoutEverywhere(t, victim)

	// A guard that does not catch up (the restarted process's, before)
	// takes the revoked JWT: nothing told it.
	if rec := serve(f.g.Handler(&backend{}), request(victim.Token, "")); rec.Code != http.StatusOK {
		t.Fatalf("without CatchUp: %d, want the hole this closes (200)", rec.Code)
	}
	if n := f.rt.n(searchCall); n != 0 {
		t.Fatalf("%d searches without CatchUp", n)
	}

	g := f.guard(t, f.catchingUp)
	h := g.Handler(&backend{})
	if n := f.rt.n(searchCall); n != 0 {
		t.Fatalf("%d searches before a request needs one", n)
	}
	wantRefusal(t, serve(h, request(victim.Token, "")), http.StatusUnauthorized, api.OAuthInvalidToken, revoked)
	if _, err := g.Verify(context.Background(), victim.Token); !errors.Is(err, guard.ErrRevoked) {
		t.Errorf("Verify = %v, want ErrRevoked", err)
	}
	if rec := serve(h, request(bystander.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("another user's JWT: %d %s", rec.Code, rec.Body)
	}
	// With its refresh token, the revoked session is refused by Latch.
	wantRefusal(t, serve(h, request(victim.Token, victim.RefreshToken)), http.StatusUnauthorized, api.OAuthInvalidToken, "*")
	// A later login of the user passes.
	f.clock.Advance(time.Second)
	if rec := serve(h, request(f.login(t, victim.User.Email, f.appID).Token, "")); rec.Code != http.StatusOK {
		t.Errorf("a login after the revocation: %d %s", rec.Code, rec.Body)
	}
	if n := f.rt.n(searchCall); n != 1 {
		t.Errorf("%d searches, want one for every request", n)
	}
	if !strings.Contains(f.glog.String(), "caught up on revocations") {
		t.Errorf("no log line for the catch-up:\n%s", f.glog)
	}
	f.noTokensLogged(t, victim.Token, victim.RefreshToken, bystander.Token)
}

// Latch down when the backend starts: JWTs from before are refused (503,
// fail closed, and a refresh cannot happen either), without a search per
// request; once Latch is back and the retry pause has passed, the next
// request catches up, and the revoked JWT is refused while another passes.
func TestCatchUp_LatchDownAtStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.lostWebhook(t)
	victim, bystander := f.session(t), f.session(t)
	f.clock.Advance(10 * time.Second)
	f.logoutEverywhere(t, victim)
	// The keys are known (fetched before Latch went down), so that only
	// the catch-up is missing.
	keys := guard.NewRemoteKeySet(f.url+"/.well-known/jwks.json", guard.RemoteKeySetConfig{
		HTTPClient: &http.Client{Transport: f.rt}, Now: f.clock.Now})
	if _, err := f.guard(t, func(c *guard.Config) { c.Keys.Set = keys }).Verify(context.Background(), bystander.Token); err != nil {
		t.Fatal(err)
	}
	addr, dir := strings.TrimPrefix(f.url, "http://"), f.Dir
	f.Close()

	g := f.guard(t, f.catchingUp, func(c *guard.Config) { c.Keys.Set = keys })
	h := g.Handler(&backend{})
	for _, tok := range []string{victim.Token, bystander.Token} {
		wantRefusal(t, serve(h, request(tok, "")), http.StatusServiceUnavailable, "temporarily_unavailable", "")
		if _, err := g.Verify(context.Background(), tok); !errors.Is(err, guard.ErrRevocationsUnavailable) {
			t.Errorf("Verify with Latch down = %v, want ErrRevocationsUnavailable", err)
		}
	}
	wantRefusal(t, serve(h, request(bystander.Token, bystander.RefreshToken)), http.StatusServiceUnavailable, "temporarily_unavailable", "")
	if n := f.rt.n(searchCall); n != 1 {
		t.Errorf("%d searches within the retry pause, want 1", n)
	}
	if !strings.Contains(f.glog.String(), "cannot catch up on revocations yet") {
		t.Errorf("no log line for the failed catch-up:\n%s", f.glog)
	}

	latchtest.Start(t, latchtest.Options{Clock: f.clock, Config: server.Config{DataDir: dir, Addr: addr}})
	f.clock.Advance(guard.CatchUpRetry)
	wantRefusal(t, serve(h, request(victim.Token, "")), http.StatusUnauthorized, api.OAuthInvalidToken, revoked)
	if rec := serve(h, request(bystander.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("another user's JWT once caught up: %d %s", rec.Code, rec.Body)
	}
	if n := f.rt.n(searchCall); n != 2 {
		t.Errorf("%d searches, want 2", n)
	}
}

// A key that may not search the event log: a clear log line; JWTs from
// before the guard are refused (503), but a request with its refresh
// token is refreshed through Latch, which knows whether the session lives.
func TestCatchUp_KeyNotPermitted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var key api.APIKeyResponse
	f.mustCall(t, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"permissions": map[string]any{
		"endpoints": map[string]any{"/api/jwt/refresh": []string{"POST"}}}}}, &key)
	login := f.session(t)
	g := f.guard(t, func(c *guard.Config) { c.Revocations.CatchUp, c.APIKey = true, key.APIKey.Key })
	h := g.Handler(&backend{})

	wantRefusal(t, serve(h, request(login.Token, "")), http.StatusServiceUnavailable, "temporarily_unavailable", "")
	logs := f.glog.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "permitted to POST /api/system/webhook-event-log/search") ||
		!strings.Contains(logs, "status 401") {
		t.Errorf("the log does not say that the key may not search the event log:\n%s", logs)
	}
	rec := serve(h, request(login.Token, login.RefreshToken))
	if rec.Code != http.StatusOK || rec.Header().Get(api.HeaderAccessToken) == "" {
		t.Errorf("with the refresh token: %d %s, want a refresh", rec.Code, rec.Body)
	}
	// A JWT issued after the guard was made (its leeway past) needs no
	// catch-up: its revocations are events to come.
	f.clock.Advance(guard.DefaultLeeway + time.Second)
	later := f.session(t)
	if rec := serve(h, request(later.Token, "")); rec.Code != http.StatusOK {
		t.Errorf("a JWT issued after the guard was made: %d %s", rec.Code, rec.Body)
	}
	f.noTokensLogged(t, login.Token, login.RefreshToken, later.Token, key.APIKey.Key)
}

// seenSignal is a RevocationStore that reports each event it records.
type seenSignal struct {
	guard.RevocationStore
	seen chan string
}

func (s *seenSignal) MarkSeen(ctx context.Context, id string, until time.Time) error {
	err := s.RevocationStore.MarkSeen(ctx, id, until)
	s.seen <- id
	return err
}

// A backend that keeps running but misses a delivery (its webhook is
// unreachable) learns the revocation at the next periodic catch-up, which
// a request starts in the background once it is due.
func TestCatchUp_Periodic(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.lostWebhook(t)
	victim, bystander := f.session(t), f.session(t)
	store := &seenSignal{guard.NewMemoryRevocationStore(guard.MemoryRevocationStoreConfig{Now: f.clock.Now}), make(chan string, 16)}
	g := f.guard(t, f.catchingUp, func(c *guard.Config) { c.Revocations.Store = store })
	h := g.Handler(&backend{})
	if rec := serve(h, request(bystander.Token, "")); rec.Code != http.StatusOK {
		t.Fatalf("first request: %d %s", rec.Code, rec.Body)
	}

	f.logoutEverywhere(t, victim)
	if rec := serve(h, request(victim.Token, "")); rec.Code != http.StatusOK {
		t.Fatalf("before the next catch-up (no delivery): %d", rec.Code)
	}
	if n := f.rt.n(searchCall); n != 1 {
		t.Fatalf("%d searches before the next is due, want 1", n)
	}
	f.clock.Advance(guard.CatchUpEvery)
	if rec := serve(h, request(bystander.Token, "")); rec.Code != http.StatusOK {
		t.Fatalf("the request that starts the catch-up: %d", rec.Code)
	}
	select {
	case <-store.seen:
	case <-time.After(15 * time.Second):
		t.Fatal("the periodic catch-up recorded nothing")
	}
	wantRefusal(t, serve(h, request(victim.Token, "")), http.StatusUnauthorized, api.OAuthInvalidToken, revoked)
	if n := f.rt.n(searchCall); n != 2 {
		t.Errorf("%d searches, want 2", n)
	}
}

// Without Latch: the configuration, and JWTs older than the catch-up
// reaches.
func TestCatchUp_Config(t *testing.T) {
	t.Parallel()
	if _, err := guard.New(guard.Config{Issuer: unitIssuer, Audience: unitApp, LatchURL: unitIssuer,
		Revocations: guard.RevocationOptions{CatchUp: true}}); err == nil ||
		!strings.Contains(err.Error(), "CatchUp needs APIKey") {
		t.Errorf("CatchUp without APIKey: %v", err)
	}
	u := newUnit(t, func(c *guard.Config) { c.Revocations.CatchUp, c.APIKey = true, "key" })
	iat := u.clock.Now().Add(-guard.DefaultRevocationTTL - time.Minute)
	tok := signToken(t, es256Key(u.tokenKey), hdr("ES256", "token-key"), map[string]any{
		"iss": unitIssuer, "aud": unitApp, "sub": "u", "iat": iat.Unix(), "exp": u.clock.Now().Add(time.Hour).Unix(),
	})
	if err := u.verify(t, tok); !errors.Is(err, guard.ErrRevocationsUnavailable) {
		t.Errorf("a JWT issued beyond the catch-up's reach: %v, want ErrRevocationsUnavailable", err)
	}
}
