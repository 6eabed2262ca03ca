package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/pgtest"
	"github.com/latchid/latch/internal/server"
)

// TestCacheAcrossNodes: two nodes on one PostgreSQL. An application
// PATCHed on node a to refuse refreshes refuses them on a at once, and on
// node b, which read it before, once identity.DefaultCacheTTL has passed
// since, and not before.
func TestCacheAcrossNodes(t *testing.T) {
	db := pgtest.Schema(t)
	key := make([]byte, 32)
	rand.Read(key)
	clock := newTestClock()
	cfg := server.Config{DatabaseURL: db, MasterKey: hex.EncodeToString(key)}
	a := latchtest.Start(t, latchtest.Options{Config: cfg, Clock: clock})
	b := latchtest.Start(t, latchtest.Options{Config: cfg, Clock: clock})
	app := a.DefaultApplication(t)
	a.Register(t, app.ID, "ana@example.org")
	rt := a.Login(t, app.ID, "ana@example.org").RefreshToken

	refresh := func(l *latchtest.Latch) int {
		code, _ := l.Call(t, "", "POST", "/api/jwt/refresh", map[string]any{"refreshToken": rt})
		return code
	}
	if code := refresh(b); code != http.StatusOK {
		t.Fatalf("b, before the change: %d", code)
	}
	clock.Advance(identity.DefaultCacheTTL / 2)
	a.Do(t, a.APIKey, "PATCH", "/api/application/"+app.ID, map[string]any{"application": map[string]any{
		"loginConfiguration": map[string]any{"allowTokenRefresh": false}}}, http.StatusOK, &api.ApplicationResponse{})
	if code := refresh(a); code != http.StatusBadRequest {
		t.Errorf("a, at once after its change: %d, want 400", code)
	}
	clock.Advance(identity.DefaultCacheTTL/2 - time.Microsecond)
	if code := refresh(b); code != http.StatusOK {
		t.Errorf("b, before its cache expired: %d, want 200 (no cache?)", code)
	}
	clock.Advance(time.Microsecond)
	if code := refresh(b); code != http.StatusBadRequest {
		t.Errorf("b, %v after it read the application: %d, want 400", identity.DefaultCacheTTL, code)
	}
}
