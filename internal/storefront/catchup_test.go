package storefront_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storefront"
)

// searchCall is guard's catch-up at Latch.
const searchCall = "POST /api/system/webhook-event-log/search"

// wantRevoked asserts guard's 401 for a revoked JWT.
func wantRevoked(t *testing.T, res response) {
	t.Helper()
	wantLoginAgain(t, res)
	var body struct {
		Description string `json:"error_description"`
	}
	res.decode(t, &body)
	if body.Description != "The access token has been revoked." {
		t.Errorf("refusal %s, want a revoked token's", res.body)
	}
}

// A storefront restarted after "log out everywhere" refuses the revoked
// JWTs: the event reached the process before the restart, whose memory
// is gone, and the new one catches up at Latch before it trusts a JWT
// issued before it started. Another user's JWT passes.
func TestCatchUp_RestartAfterLogoutEverywhere(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	before := e.startStorefront(t, storefront.Config{DataDir: dir, RegisterWebhook: true})
	s := &env{url: before.URL(), hc: e.hc, clock: e.clock}
	email, _ := e.newUser(t)
	other, _ := e.newUser(t)
	victim, bystander := s.login(t, email), s.login(t, other)
	s.cart(t, victim.Token)
	res := s.do(t, req{method: "POST", path: "/api/logout", jwt: victim.Token, refresh: victim.RefreshToken,
		body: storefront.LogoutRequest{Global: true}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("log out everywhere: %d %s", res.StatusCode, res.body)
	}
	e.settled(t)
	wantRevoked(t, s.do(t, req{method: "GET", path: "/api/cart", jwt: victim.Token}))
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	e.rt.Reset()
	after := e.startStorefront(t, storefront.Config{DataDir: dir})
	s = &env{url: after.URL(), hc: e.hc, clock: e.clock}
	wantRevoked(t, s.do(t, req{method: "GET", path: "/api/cart", jwt: victim.Token}))
	s.cart(t, bystander.Token)
	wantRevoked(t, s.do(t, req{method: "GET", path: "/api/cart", jwt: victim.Token}))
	if n := e.rt.N(searchCall); n != 1 {
		t.Errorf("%d searches of Latch's event log after the restart, want 1", n)
	}
	if !strings.Contains(e.logs.String(), "caught up on revocations") {
		t.Error("the log does not show the catch-up")
	}
}

// A storefront that was down while Latch sent the revocation (its webhook
// URL unreachable, the delivery still due) refuses the revoked JWT once
// it starts, without the delivery.
func TestCatchUp_DownWhileSent(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	before := e.startStorefront(t, storefront.Config{DataDir: dir, RegisterWebhook: true})
	s := &env{url: before.URL(), hc: e.hc, clock: e.clock}
	email, userID := e.newUser(t)
	other, _ := e.newUser(t)
	victim, bystander := s.login(t, email), s.login(t, other)
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}
	e.revokeAll(t, userID)
	var log api.WebhookEventLogSearchResponse
	e.admin(t, "POST", "/api/system/webhook-event-log/search", api.WebhookEventLogSearchRequest{Search: api.WebhookEventLogSearchCriteria{
		EventType: api.EventJWTRefreshTokenRevoke, EventResult: api.WebhookEventRunning}}, &log)
	if log.Total != 1 {
		t.Fatalf("event log: %+v, want the revocation, its delivery still due", log)
	}

	// Up again, on another port: the delivery cannot reach it.
	after := e.startStorefront(t, storefront.Config{DataDir: dir})
	s = &env{url: after.URL(), hc: e.hc, clock: e.clock}
	wantRevoked(t, s.do(t, req{method: "GET", path: "/api/cart", jwt: victim.Token}))
	s.cart(t, bystander.Token)
}
