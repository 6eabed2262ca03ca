package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/jws"
	"github.com/latchid/latch/internal/server"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/sqlite"
)

// receipt is one POST a receiver got.
type receipt struct {
	header http.Header
	body   []byte
	status int // what the receiver answered
}

// event decodes the receipt's event.
func (r receipt) event(t *testing.T) map[string]any {
	t.Helper()
	ev := r.eventOrNil()
	if ev == nil {
		t.Fatalf("not an event: %s", r.body)
	}
	return ev
}

// eventOrNil decodes the receipt's event, nil if it holds none; it is
// safe outside the test's goroutine.
func (r receipt) eventOrNil() map[string]any {
	var doc struct {
		Event map[string]any `json:"event"`
	}
	if json.Unmarshal(r.body, &doc) != nil {
		return nil
	}
	return doc.Event
}

// receiver is a webhook endpoint for the tests: it records every POST and
// answers with the status its script gives for it (200 when the script is
// nil).
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	got    []receipt
	script func(r receipt) int
	signal chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{signal: make(chan struct{}, 1)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := receipt{header: r.Header.Clone(), body: body, status: http.StatusOK}
		rc.mu.Lock()
		if rc.script != nil {
			rec.status = rc.script(rec)
		}
		rc.got = append(rc.got, rec)
		status := rec.status
		rc.mu.Unlock()
		select {
		case rc.signal <- struct{}{}:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setScript(f func(r receipt) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.script = f
}

func (rc *receiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.got...)
}

// waitFor waits until cond holds for the receipts (or fails the test).
func (rc *receiver) waitFor(t *testing.T, what string, cond func([]receipt) bool) []receipt {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if got := rc.receipts(); cond(got) {
			return got
		}
		select {
		case <-rc.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; received %d deliveries", what, len(rc.receipts()))
		}
	}
}

// settle waits until no event in l's outbox has a delivery left to make:
// every delivery was recorded delivered or abandoned (the Webhook Event
// Log finds no event Running). A receiver has had every POST of a
// delivered one before Latch records it, and every event is in the outbox
// once the request that caused it is answered; so from then on the
// receivers' receipts are final, and counting them proves that no wrong
// extra delivery was sent.
func (l *testLatch) settle(t *testing.T) {
	t.Helper()
	running := api.WebhookEventLogSearchCriteria{
		Start: 1, End: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), EventResult: api.WebhookEventRunning, NumberOfResults: 1,
	}
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := l.Server.Identity().SearchEventLog(t.Context(), "", running)
		if err != nil {
			t.Fatalf("search the outbox: %v", err)
		}
		if res.Total == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the outbox to settle: %d events with deliveries left, such as %s", res.Total, res.WebhookEventLogs[0].EventType)
		}
		<-tick.C
	}
}

// accepted returns the events of a type the receiver answered 2xx to and
// that match keep.
func accepted(t *testing.T, got []receipt, typ string, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range got {
		if r.status/100 != 2 {
			continue
		}
		ev := r.event(t)
		if ev["type"] == typ && (keep == nil || keep(ev)) {
			out = append(out, ev)
		}
	}
	return out
}

// eventsLatch is a Latch with an application, events enabled on its
// tenant, and a receiver registered as a signed global webhook.
type eventsLatch struct {
	*testLatch
	rc       *receiver
	tenantID string
	appID    string
	secret   string // the application's OAuth client secret
	keyID    string // the webhooks' signing key
	hookID   string
}

// fastEvents is a dispatcher configuration for tests: short polls and backoffs.
func fastEvents() events.Config {
	return events.Config{PollInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
}

var allEvents = []string{api.EventJWTRefreshTokenRevoke, api.EventJWTRefresh, api.EventUserLoginSuccess, api.EventUserLoginFailed}

func startEventsLatch(t *testing.T, dir string, cfg server.Config) *eventsLatch {
	t.Helper()
	if cfg.Events.PollInterval == 0 {
		tr := cfg.Events.Transport
		cfg.Events = fastEvents()
		cfg.Events.Transport = tr
	}
	l := &eventsLatch{testLatch: startLatch(t, dir, cfg), rc: newReceiver(t)}
	var tenants api.TenantResponse
	l.Do(t, l.APIKey, "GET", "/api/tenant", nil, 200, &tenants)
	l.tenantID = tenants.Tenants[0].ID
	on := map[string]any{}
	for _, e := range allEvents {
		on[e] = map[string]any{"enabled": true, "transactionType": "None"}
	}
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+l.tenantID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": on},
	}}, 200, nil)

	var key api.KeyResponse
	l.Do(t, l.APIKey, "POST", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "webhooks"}}, 200, &key)
	l.keyID = key.Key.ID

	l.secret = "a-client-secret-that-is-long-enough-0123456789"
	var app api.ApplicationResponse
	l.Do(t, l.APIKey, "POST", "/api/application", map[string]any{"application": map[string]any{
		"name": "Shop",
		"jwtConfiguration": map[string]any{
			"enabled": true, "timeToLiveInSeconds": 600, "refreshTokenTimeToLiveInMinutes": 60,
			"refreshTokenUsagePolicy":             "OneTimeUse",
			"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 0},
		},
		"oauthConfiguration": map[string]any{"clientSecret": l.secret, "enabledGrants": []string{"password", "refresh_token"}},
	}}, 200, &app)
	l.appID = app.Application.ID
	l.hookID = l.addWebhook(t, l.rc.srv.URL+"/latch/events", true)
	return l
}

// addWebhook registers a global webhook for every event Latch sends.
func (l *eventsLatch) addWebhook(t *testing.T, u string, signed bool) string {
	t.Helper()
	enabled := map[string]bool{}
	for _, e := range allEvents {
		enabled[e] = true
	}
	hook := map[string]any{"url": u, "global": true, "eventsEnabled": enabled, "headers": map[string]string{"X-Shop-Secret": "s"}}
	if signed {
		hook["signatureConfiguration"] = map[string]any{"enabled": true, "signingKeyId": l.keyID}
	}
	var resp api.WebhookResponse
	l.Do(t, l.APIKey, "POST", "/api/webhook", map[string]any{"webhook": hook}, 200, &resp)
	return resp.Webhook.ID
}

// user registers a fresh user for the application and returns its id and email.
func (l *eventsLatch) user(t *testing.T, name string) (string, string) {
	t.Helper()
	email := name + "@example.org"
	return l.Register(t, l.appID, email), email
}

// revokes waits until the outbox has settled, checks that the receiver
// got want jwt.refresh-token.revoke events that keep selects, and returns
// them decoded.
func (l *eventsLatch) revokes(t *testing.T, want int, keep func(map[string]any) bool) []api.JWTRefreshTokenRevokeEvent {
	t.Helper()
	l.settle(t)
	evs := accepted(t, l.rc.receipts(), api.EventJWTRefreshTokenRevoke, keep)
	if len(evs) != want {
		t.Fatalf("%d revoke events, want exactly %d: %v", len(evs), want, evs)
	}
	out := make([]api.JWTRefreshTokenRevokeEvent, len(evs))
	for i, ev := range evs {
		b, _ := json.Marshal(ev)
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// byUser selects events about a user.
func byUser(userID string) func(map[string]any) bool {
	return func(ev map[string]any) bool { return ev["userId"] == userID }
}

// checkRevoke compares a revoke event with want, ignoring id,
// createInstant and info, and comparing the user by id only.
func checkRevoke(t *testing.T, what string, want, got api.JWTRefreshTokenRevokeEvent) {
	t.Helper()
	if got.ID == "" || got.CreateInstant == 0 {
		t.Errorf("%s: event without id or createInstant: %+v", what, got.BaseEvent)
	}
	if (want.User == nil) != (got.User == nil) || (got.User != nil && got.User.ID != want.User.ID) {
		t.Errorf("%s: user = %+v, want %+v", what, got.User, want.User)
	}
	if got.RefreshToken != nil && got.RefreshToken.Token != "" {
		t.Errorf("%s: the event carries the refresh token's value", what)
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(api.BaseEvent{}, "ID", "CreateInstant", "Info"),
		cmpopts.IgnoreFields(api.JWTRefreshTokenRevokeEvent{}, "User", "SessionIDs"), // sessionIds: checkSessionIDs
		cmpopts.IgnoreFields(api.RefreshToken{}, "InsertInstant", "StartInstant", "MetaData"),
		cmpopts.EquateEmpty(),
	}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("%s: event mismatch (-want +got):\n%s", what, d)
	}
}

// checkSessionIDs checks that an event of a user's or an application's
// tokens lists exactly the sessions want, and one of a session none.
func checkSessionIDs(t *testing.T, what string, want []string, got api.JWTRefreshTokenRevokeEvent) {
	t.Helper()
	if d := cmp.Diff(want, got.SessionIDs, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: sessionIds (-want +got):\n%s", what, d)
	}
}

// liveSessions lists the ids of a user's refresh tokens, as Latch reports them.
func (l *eventsLatch) liveSessions(t *testing.T, userID string) []string {
	t.Helper()
	var res api.RefreshTokensResponse
	l.Do(t, l.APIKey, "GET", "/api/jwt/refresh?userId="+userID, nil, 200, &res)
	var ids []string
	for _, rt := range res.RefreshTokens {
		ids = append(ids, rt.ID)
	}
	return ids
}

// revokeEvent is the expected event of a scope.
func (l *eventsLatch) revokeEvent(reason, userID, appID, sessionID string) api.JWTRefreshTokenRevokeEvent {
	ev := api.JWTRefreshTokenRevokeEvent{
		BaseEvent:                      api.BaseEvent{Type: api.EventJWTRefreshTokenRevoke, TenantID: l.tenantID},
		ApplicationID:                  appID,
		ApplicationTimeToLiveInSeconds: map[string]int{l.appID: 600},
		UserID:                         userID,
		SessionID:                      sessionID,
		Reason:                         reason,
	}
	if userID != "" {
		ev.User = &api.User{ID: userID}
	}
	if sessionID != "" {
		ev.RefreshToken = &api.RefreshToken{ID: sessionID, ApplicationID: l.appID, UserID: userID, TenantID: l.tenantID}
	}
	return ev
}

// TestRevocationEvents checks that every way of revoking refresh tokens
// sends exactly the jwt.refresh-token.revoke event FusionAuth defines.
func TestRevocationEvents(t *testing.T) {
	l := startEventsLatch(t, t.TempDir(), server.Config{})
	app := l.appID

	t.Run("DeleteByID", func(t *testing.T) {
		uid, email := l.user(t, "by-id")
		a, b := l.Login(t, app, email), l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh/"+a.RefreshTokenID, nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "DELETE /api/jwt/refresh/{id}", l.revokeEvent("revoked", uid, app, a.RefreshTokenID), got[0])
		if got[0].SessionID == b.RefreshTokenID {
			t.Error("the event names the other session")
		}
		if got[0].Info == nil || got[0].Info.IPAddress != "127.0.0.1" {
			t.Errorf("info = %+v, want the caller's address", got[0].Info)
		}
	})
	t.Run("DeleteByTokenWithEventInfo", func(t *testing.T) {
		uid, email := l.user(t, "by-token")
		a := l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh", map[string]any{
			"token": a.RefreshToken, "eventInfo": map[string]any{"ipAddress": "203.0.113.7", "userAgent": "ShopApp/3.2"},
		}, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "DELETE /api/jwt/refresh with a token", l.revokeEvent("revoked", uid, app, a.RefreshTokenID), got[0])
		if d := cmp.Diff(&api.EventInfo{IPAddress: "203.0.113.7", UserAgent: "ShopApp/3.2"}, got[0].Info); d != "" {
			t.Errorf("info (-want +got):\n%s", d)
		}
	})
	t.Run("DeleteByUser", func(t *testing.T) {
		uid, email := l.user(t, "by-user")
		l.Login(t, app, email)
		l.Login(t, app, email)
		live := l.liveSessions(t, uid)
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh?userId="+uid, nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "DELETE ?userId", l.revokeEvent("revoked", uid, "", ""), got[0])
		checkSessionIDs(t, "DELETE ?userId", live, got[0])
	})
	t.Run("DeleteByUserAndApplication", func(t *testing.T) {
		uid, email := l.user(t, "by-user-app")
		l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh?userId="+uid+"&applicationId="+app, nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "DELETE ?userId&applicationId", l.revokeEvent("revoked", uid, app, ""), got[0])
	})
	t.Run("OAuthRevoke", func(t *testing.T) {
		uid, email := l.user(t, "oauth")
		a := l.Login(t, app, email)
		form := url.Values{"token": {a.RefreshToken}, "client_id": {app}, "client_secret": {l.secret}}
		res, err := http.PostForm(l.Server.URL()+"/oauth2/revoke", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("/oauth2/revoke: %d", res.StatusCode)
		}
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "/oauth2/revoke", l.revokeEvent("revoked", uid, app, a.RefreshTokenID), got[0])
	})
	t.Run("Logout", func(t *testing.T) {
		uid, email := l.user(t, "logout")
		a := l.Login(t, app, email)
		l.Login(t, app, email)
		l.Do(t, "", "POST", "/api/logout?global=false&refreshToken="+url.QueryEscape(a.RefreshToken), nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "logout", l.revokeEvent("logout", uid, app, a.RefreshTokenID), got[0])
		checkSessionIDs(t, "logout", nil, got[0]) // one session: sessionId
	})
	t.Run("GlobalLogout", func(t *testing.T) {
		uid, email := l.user(t, "global-logout")
		a := l.Login(t, app, email)
		l.Login(t, app, email)
		live := l.liveSessions(t, uid)
		if len(live) < 2 {
			t.Fatalf("sessions before the global logout: %v", live)
		}
		l.Do(t, "", "POST", "/api/logout", map[string]any{"global": true, "refreshToken": a.RefreshToken}, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "global logout", l.revokeEvent("global logout", uid, "", ""), got[0])
		checkSessionIDs(t, "global logout", live, got[0])
	})
	t.Run("ReuseDetection", func(t *testing.T) {
		uid, email := l.user(t, "reuse")
		a := l.Login(t, app, email)
		l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: a.RefreshToken}, 200, nil)
		l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: a.RefreshToken}, 400, nil) // the old value again
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "reuse", l.revokeEvent("refresh token reuse", uid, app, a.RefreshTokenID), got[0])
	})
	t.Run("LockoutRevokesNothing", func(t *testing.T) {
		// A guesser who locks a user out ends none of the user's sessions:
		// the only revocation is the password change that follows.
		uid, email := l.user(t, "lockout")
		l.Login(t, app, email)
		for range identityLockoutAttempts {
			l.Do(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: "wrong password", ApplicationID: app}, 404, nil)
		}
		l.Do(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: "wrong password", ApplicationID: app}, 409, nil)
		l.Do(t, l.APIKey, "PATCH", "/api/user/"+uid, map[string]any{"user": map[string]any{"password": "a brand new passphrase"}}, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "password change after a lockout", l.revokeEvent("password changed", uid, "", ""), got[0])
	})
	t.Run("PasswordChange", func(t *testing.T) {
		uid, email := l.user(t, "password")
		l.Login(t, app, email)
		l.Do(t, l.APIKey, "PATCH", "/api/user/"+uid, map[string]any{"user": map[string]any{"password": "a brand new passphrase"}}, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "password change", l.revokeEvent("password changed", uid, "", ""), got[0])
	})
	t.Run("SoftDeleteUser", func(t *testing.T) {
		uid, email := l.user(t, "soft-delete")
		l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/user/"+uid, nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "soft delete", l.revokeEvent("user deactivated", uid, "", ""), got[0])
	})
	t.Run("HardDeleteUser", func(t *testing.T) {
		uid, email := l.user(t, "hard-delete")
		l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/user/"+uid+"?hardDelete=true", nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "hard delete", l.revokeEvent("user deleted", uid, "", ""), got[0])
		if got[0].User.Email != email {
			t.Errorf("the event's user = %+v, want the deleted user's record", got[0].User)
		}
	})
	t.Run("DeleteRegistration", func(t *testing.T) {
		uid, email := l.user(t, "registration")
		l.Login(t, app, email)
		l.Do(t, l.APIKey, "DELETE", "/api/user/registration/"+uid+"/"+app, nil, 200, nil)
		got := l.revokes(t, 1, byUser(uid))
		checkRevoke(t, "registration delete", l.revokeEvent("registration deleted", uid, app, ""), got[0])
	})
	t.Run("NothingLive", func(t *testing.T) {
		uid, _ := l.user(t, "nothing")
		// The registration made a session: revoke it, then revoke again.
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh?userId="+uid, nil, 200, nil)
		l.revokes(t, 1, byUser(uid))
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh?userId="+uid, nil, 404, nil)
		l.Do(t, l.APIKey, "DELETE", "/api/user/"+uid, nil, 200, nil)
		l.revokes(t, 1, byUser(uid)) // still only the first
	})
	t.Run("DeleteByApplication", func(t *testing.T) {
		_, email := l.user(t, "by-app")
		l.Login(t, app, email)
		isApp := func(ev map[string]any) bool { return ev["userId"] == nil && ev["applicationId"] == app }
		l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh?applicationId="+app, nil, 200, nil)
		got := l.revokes(t, 1, isApp)
		checkRevoke(t, "DELETE ?applicationId", l.revokeEvent("revoked", "", app, ""), got[0])
	})
	// Last: it ends the application.
	t.Run("DeleteApplication", func(t *testing.T) {
		_, email := l.user(t, "app-delete")
		l.Login(t, app, email)
		before := len(accepted(t, l.rc.receipts(), api.EventJWTRefreshTokenRevoke, nil))
		l.Do(t, l.APIKey, "DELETE", "/api/application/"+app+"?hardDelete=true", nil, 200, nil)
		isApp := func(ev map[string]any) bool { return ev["reason"] == "application deleted" }
		got := l.revokes(t, 1, isApp)
		checkRevoke(t, "application delete", l.revokeEvent("application deleted", "", app, ""), got[0])
		if n := len(accepted(t, l.rc.receipts(), api.EventJWTRefreshTokenRevoke, nil)); n != before+1 {
			t.Errorf("%d revoke events after the application's deletion, want %d", n, before+1)
		}
	})
}

// identityLockoutAttempts is the default tenant's tooManyAttempts.
const identityLockoutAttempts = 5

// TestLoginAndRefreshEvents checks user.login.success, user.login.failed
// and jwt.refresh, and that the access tokens of jwt.refresh reach only
// webhooks that may receive bearer credentials.
func TestLoginAndRefreshEvents(t *testing.T) {
	var rcHost string
	// Deliveries to hooks.example.test (plain http, not loopback) are
	// carried to the receiver.
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "hooks.example.test" {
			r = r.Clone(r.Context())
			r.URL.Host = rcHost
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	cfg := server.Config{Events: fastEvents()}
	cfg.Events.Transport = transport
	l := startEventsLatch(t, t.TempDir(), cfg)
	rcHost = strings.TrimPrefix(l.rc.srv.URL, "http://")
	l.addWebhook(t, "http://hooks.example.test/latch/events", false)
	uid, email := l.user(t, "ana")

	// Success, with the application (the user is registered).
	a := l.Login(t, l.appID, email)
	got := l.rc.waitFor(t, "two login events", func(got []receipt) bool {
		return len(accepted(t, got, api.EventUserLoginSuccess, byUser2(uid))) >= 2
	})
	for _, ev := range accepted(t, got, api.EventUserLoginSuccess, byUser2(uid)) {
		if ev["applicationId"] != l.appID || ev["authenticationType"] != "PASSWORD" || ev["tenantId"] != l.tenantID {
			t.Errorf("user.login.success = %v", ev)
		}
	}

	// Failure: an existing user with a wrong password; an unknown user sends nothing.
	l.Do(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: email, Password: "wrong password", ApplicationID: l.appID}, 404, nil)
	l.Do(t, l.APIKey, "POST", "/api/login", api.LoginRequest{LoginID: "nobody@example.org", Password: "wrong password", ApplicationID: l.appID}, 404, nil)
	l.settle(t)
	failed := accepted(t, l.rc.receipts(), api.EventUserLoginFailed, nil)
	if len(failed) != 2 {
		t.Fatalf("%d user.login.failed events, want 2 (one per webhook, none for the unknown user)", len(failed))
	}
	for _, ev := range failed {
		user, _ := ev["user"].(map[string]any)
		reason, _ := ev["reason"].(map[string]any)
		if user["id"] != uid || ev["applicationId"] != l.appID || reason["code"] != "credentials" || ev["authenticationType"] != "PASSWORD" {
			t.Errorf("user.login.failed = %v", ev)
		}
	}

	// A refresh: the new token only to the loopback webhook.
	var ref api.JWTRefreshResponse
	l.Do(t, "", "POST", "/api/jwt/refresh", api.RefreshRequest{RefreshToken: a.RefreshToken, Token: a.Token}, 200, &ref)
	got = l.rc.waitFor(t, "two jwt.refresh deliveries", func(got []receipt) bool {
		return len(accepted(t, got, api.EventJWTRefresh, nil)) >= 2
	})
	var withToken, withoutToken int
	var ids []any
	for _, r := range got {
		ev := r.event(t)
		if ev["type"] != api.EventJWTRefresh {
			continue
		}
		ids = append(ids, ev["id"])
		if ev["applicationId"] != l.appID || ev["userId"] != uid || ev["refreshToken"] != a.RefreshTokenID {
			t.Errorf("jwt.refresh = %v", ev)
		}
		if strings.Contains(string(r.body), a.RefreshToken) || strings.Contains(string(r.body), ref.RefreshToken) {
			t.Error("a jwt.refresh event carries a refresh token's value")
		}
		switch r.header.Get(api.HeaderSignatureJWT) {
		case "": // the hooks.example.test webhook is not signed
			if ev["token"] != nil || ev["original"] != nil {
				t.Errorf("jwt.refresh to a plain-http remote URL carries access tokens: %v", ev)
			}
			withoutToken++
		default:
			if ev["token"] != ref.Token || ev["original"] != a.Token {
				t.Errorf("jwt.refresh to the loopback URL: token/original = %v/%v, want the new and the original JWT", ev["token"], ev["original"])
			}
			withToken++
		}
	}
	if withToken != 1 || withoutToken != 1 || ids[0] != ids[1] {
		t.Errorf("jwt.refresh deliveries: %d with token, %d without, ids %v; want one each, one event", withToken, withoutToken, ids)
	}
	// The webhook's headers go along.
	if h := got[0].header; h.Get("X-Shop-Secret") != "s" || h.Get("Content-Type") != "application/json" {
		t.Errorf("delivery headers = %v", h)
	}
}

func byUser2(userID string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		u, _ := ev["user"].(map[string]any)
		return u["id"] == userID
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEventSignature checks X-FusionAuth-Signature-JWT against Latch's
// JWKS: it verifies, names the key, and its request_body_sha256 is the
// body's, so an altered body fails.
func TestEventSignature(t *testing.T) {
	l := startEventsLatch(t, t.TempDir(), server.Config{})
	uid, email := l.user(t, "signed")
	a := l.Login(t, l.appID, email)
	l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh/"+a.RefreshTokenID, nil, 200, nil)
	l.revokes(t, 1, byUser(uid))
	var r receipt
	for _, x := range l.rc.receipts() {
		if ev := x.event(t); ev["type"] == api.EventJWTRefreshTokenRevoke && ev["userId"] == uid {
			r = x
		}
	}
	raw := r.header.Get(api.HeaderSignatureJWT)
	if raw == "" {
		t.Fatal("no signature header")
	}
	var jwks jose.JSONWebKeySet
	l.Do(t, "", "GET", "/.well-known/jwks.json", nil, 200, &jwks)
	var key api.KeyResponse
	l.Do(t, l.APIKey, "GET", "/api/key/"+l.keyID, nil, 200, &key)

	verify := func(body []byte) error {
		sig, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			return err
		}
		kid := sig.Signatures[0].Header.KeyID
		if kid != key.Key.Kid {
			return fmt.Errorf("kid %q, want the webhook's key %q", kid, key.Key.Kid)
		}
		// Typed JWT, never at+jwt: a webhook signature is no access token.
		if typ := sig.Signatures[0].Header.ExtraHeaders[jose.HeaderType]; typ != "JWT" {
			return fmt.Errorf("typ %v, want JWT", typ)
		}
		if jws.HighS("ES256", sig.Signatures[0].Signature) {
			return errors.New("a high-S signature")
		}
		keys := jwks.Key(kid)
		if len(keys) != 1 {
			return fmt.Errorf("kid %q is not in the JWKS", kid)
		}
		payload, err := sig.Verify(keys[0].Key)
		if err != nil {
			return err
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		if want := base64.StdEncoding.EncodeToString(sum[:]); claims[api.SignatureClaimBodySHA256] != want {
			return fmt.Errorf("request_body_sha256 = %v, want %s", claims[api.SignatureClaimBodySHA256], want)
		}
		return nil
	}
	if err := verify(r.body); err != nil {
		t.Fatalf("the signature does not verify: %v", err)
	}
	altered := bytes.Replace(r.body, []byte(uid), []byte("00000000-0000-4000-8000-000000000000"), 1)
	if err := verify(altered); err == nil {
		t.Error("the signature verifies an altered body")
	}
}

// TestEventRetries: a receiver that fails twice gets the same event a
// third time, and then no more.
func TestEventRetries(t *testing.T) {
	l := startEventsLatch(t, t.TempDir(), server.Config{})
	uid, email := l.user(t, "retry")
	a := l.Login(t, l.appID, email)
	isRevoke := func(r receipt) bool {
		ev := r.eventOrNil()
		return ev["type"] == api.EventJWTRefreshTokenRevoke && ev["userId"] == uid
	}
	failures := 0
	l.rc.setScript(func(r receipt) int { // called under the receiver's lock
		if isRevoke(r) && failures < 2 {
			failures++
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh/"+a.RefreshTokenID, nil, 200, nil)
	got := l.rc.waitFor(t, "a successful delivery after two failures", func(got []receipt) bool {
		for _, r := range got {
			if isRevoke(r) && r.status == 200 {
				return true
			}
		}
		return false
	})
	l.settle(t) // no fourth attempt is left to make
	got = l.rc.receipts()
	var statuses []int
	var ids []string
	for _, r := range got {
		if isRevoke(r) {
			statuses = append(statuses, r.status)
			ids = append(ids, r.event(t)["id"].(string))
		}
	}
	if d := cmp.Diff([]int{500, 500, 200}, statuses); d != "" {
		t.Errorf("statuses of the revoke event's deliveries (-want +got):\n%s", d)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("event ids %v, want one id", ids)
			break
		}
	}
	if !strings.Contains(l.Logs.String(), "delivery failed; will retry") {
		t.Error("the failures were not logged")
	}
	if strings.Contains(l.Logs.String(), `{"event"`) || strings.Contains(l.Logs.String(), "applicationTimeToLiveInSeconds") {
		t.Error("a payload was logged")
	}
}

// TestEventOutboxSurvivesRestart: an event that could not be delivered
// before Latch stopped is delivered by the next start.
func TestEventOutboxSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Events: fastEvents()}
	cfg.Events.MinBackoff, cfg.Events.MaxBackoff = 200*time.Millisecond, 200*time.Millisecond
	l := startEventsLatch(t, dir, cfg)
	l.rc.setScript(func(receipt) int { return http.StatusServiceUnavailable })
	uid, email := l.user(t, "durable")
	a := l.Login(t, l.appID, email)
	l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh/"+a.RefreshTokenID, nil, 200, nil)
	isRevoke := func(r receipt) bool {
		ev := r.eventOrNil()
		return ev["type"] == api.EventJWTRefreshTokenRevoke && ev["userId"] == uid
	}
	l.rc.waitFor(t, "a failed attempt", func(got []receipt) bool {
		for _, r := range got {
			if isRevoke(r) {
				return true
			}
		}
		return false
	})
	l.Stop()
	var firstID string
	for _, r := range l.rc.receipts() {
		if isRevoke(r) {
			firstID = r.event(t)["id"].(string)
		}
	}

	// Nothing reaches the receiver while Latch is down; then it answers 200.
	l.rc.setScript(nil)
	l2 := startLatch(t, dir, cfg)
	got := l.rc.waitFor(t, "the delivery after the restart", func(got []receipt) bool {
		for _, r := range got {
			if isRevoke(r) && r.status == 200 {
				return true
			}
		}
		return false
	})
	for _, r := range got {
		if isRevoke(r) && r.status == 200 && r.event(t)["id"] != firstID {
			t.Errorf("after the restart: event %v, want the same event %s", r.event(t)["id"], firstID)
		}
	}
	l2.Stop()

	// A node that died while it held a delivery (claimed, never finished)
	// holds it up only until the lease ends.
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, server.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	crashed := storage.Event{ID: "7f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f", TenantID: l.tenantID, Type: api.EventJWTRefreshTokenRevoke,
		Payload: []byte(`{"event":{"id":"7f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f","type":"jwt.refresh-token.revoke","userId":"` + uid + `"}}`), Created: now}
	if err := st.EnqueueEvent(context.Background(), crashed, []string{l.hookID}); err != nil {
		t.Fatal(err)
	}
	// (It may claim the first event again too: the second start may have
	// been stopped after the receiver's 200 but before it was recorded, so
	// that delivery is due again: at least once.)
	claimed, err := st.ClaimDeliveries(context.Background(), now, 10, now.Add(time.Second))
	st.Close()
	if err != nil || !slices.ContainsFunc(claimed, func(c storage.ClaimedDelivery) bool { return c.EventID == crashed.ID }) {
		t.Fatalf("claim as the crashed node: %d claimed, %v", len(claimed), err)
	}
	startLatch(t, dir, cfg)
	l.rc.waitFor(t, "the crashed node's delivery", func(got []receipt) bool {
		for _, r := range got {
			if ev := r.eventOrNil(); ev["id"] == crashed.ID && r.status == 200 {
				return true
			}
		}
		return false
	})
}

// TestKickstartRollbackEnqueuesNothing: the events a kickstart's requests
// cause are part of its transaction: a kickstart that fails sends nothing
// (and leaves nothing in the outbox), one that succeeds delivers them.
func TestKickstartRollbackEnqueuesNothing(t *testing.T) {
	rc := newReceiver(t)
	kickstart := func(fail bool) string {
		reqs := []map[string]any{
			{"method": "PATCH", "url": "/api/tenant/#{defaultTenantId}", "body": map[string]any{"tenant": map[string]any{
				"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true}}}}}},
			{"method": "POST", "url": "/api/webhook/#{hookId}", "body": map[string]any{"webhook": map[string]any{
				"url": rc.srv.URL, "global": true, "eventsEnabled": map[string]bool{api.EventJWTRefreshTokenRevoke: true}}}},
			{"method": "POST", "url": "/api/application/#{appId}", "body": map[string]any{"application": map[string]any{"name": "Store"}}},
			// The registration logs the user in: a session to revoke.
			{"method": "POST", "url": "/api/user/registration/#{userId}", "body": map[string]any{
				"user": map[string]any{"email": "kim@example.org", "password": testPassword}, "registration": map[string]any{"applicationId": "#{appId}"}}},
			{"method": "DELETE", "url": "/api/jwt/refresh?userId=#{userId}"},
		}
		if fail {
			reqs = append(reqs, map[string]any{"method": "GET", "url": "/api/user/00000000-0000-4000-8000-000000000000"})
		}
		b, err := json.Marshal(map[string]any{
			"variables": map[string]any{"defaultTenantId": "#{UUID()}", "hookId": "#{UUID()}", "appId": "#{UUID()}", "userId": "#{UUID()}"},
			"apiKeys":   []map[string]any{{"key": strings.Repeat("k", 40)}},
			"requests":  reqs,
		})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "kickstart.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	dir := t.TempDir()
	if _, logs, err := openLatch(t, dir, server.Config{Kickstart: kickstart(true), Events: fastEvents()}); err == nil {
		t.Fatalf("a kickstart with a failing request started:\n%s", logs)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, server.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.ListDeliveries(context.Background(), "")
	st.Close()
	if err != nil || len(ds) != 0 {
		t.Errorf("outbox after a failed kickstart: %v, %v; want empty", ds, err)
	}

	// The same kickstart without the failing request: the event goes out.
	startLatch(t, t.TempDir(), server.Config{Kickstart: kickstart(false), Events: fastEvents()}).settle(t)
	if n := len(rc.receipts()); n != 1 {
		t.Errorf("%d deliveries, want 1 (none from the failed kickstart)", n)
	}
}

// TestWebhookAPI covers the Webhook API's validation and verbs.
func TestWebhookAPI(t *testing.T) {
	l := startEventsLatch(t, t.TempDir(), server.Config{})
	bad := []struct {
		name  string
		hook  map[string]any
		field string
	}{
		{"no url", map[string]any{"global": true}, "webhook.url"},
		{"relative url", map[string]any{"url": "/events"}, "webhook.url"},
		{"ftp url", map[string]any{"url": "ftp://example.org/events"}, "webhook.url"},
		{"unknown event", map[string]any{"url": "https://example.org/e", "eventsEnabled": map[string]bool{"user.exploded": true}}, "webhook.eventsEnabled"},
		{"signing without key", map[string]any{"url": "https://example.org/e", "signatureConfiguration": map[string]any{"enabled": true}}, "webhook.signatureConfiguration.signingKeyId"},
		{"unknown key", map[string]any{"url": "https://example.org/e", "signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": "00000000-0000-4000-8000-000000000000"}}, "webhook.signatureConfiguration.signingKeyId"},
		{"unknown tenant", map[string]any{"url": "https://example.org/e", "tenantIds": []string{"00000000-0000-4000-8000-000000000000"}}, "webhook.tenantIds"},
		{"negative timeout", map[string]any{"url": "https://example.org/e", "readTimeout": -1}, "webhook.readTimeout"},
		{"bad header", map[string]any{"url": "https://example.org/e", "headers": map[string]string{"Bad Header": "x"}}, "webhook.headers"},
	}
	for _, c := range bad {
		var errs api.Errors
		l.Do(t, l.APIKey, "POST", "/api/webhook", map[string]any{"webhook": c.hook}, 400, &errs)
		if len(errs.FieldErrors[c.field]) == 0 {
			t.Errorf("%s: errors %+v, want one on %s", c.name, errs, c.field)
		}
	}
	// A FusionAuth event type Latch does not send is accepted.
	var made api.WebhookResponse
	l.Do(t, l.APIKey, "POST", "/api/webhook/6c8a3a52-4f41-4b9a-9a47-54e3a51a8a01", map[string]any{"webhook": map[string]any{
		"url": "https://example.org/e", "eventsEnabled": map[string]bool{"user.create": true}, "tenantIds": []string{l.tenantID},
	}}, 200, &made)
	w := made.Webhook
	if w.ID != "6c8a3a52-4f41-4b9a-9a47-54e3a51a8a01" || w.ConnectTimeout == 0 || w.ReadTimeout == 0 || w.InsertInstant == 0 {
		t.Errorf("created webhook = %+v, want the id, default timeouts and instants", w)
	}
	var list api.WebhookResponse
	l.Do(t, l.APIKey, "GET", "/api/webhook", nil, 200, &list)
	if len(list.Webhooks) != 2 {
		t.Errorf("GET /api/webhook: %d webhooks, want 2", len(list.Webhooks))
	}
	var patched api.WebhookResponse
	l.Do(t, l.APIKey, "PATCH", "/api/webhook/"+w.ID, map[string]any{"webhook": map[string]any{"description": "CRM"}}, 200, &patched)
	if patched.Webhook.Description != "CRM" || patched.Webhook.URL != w.URL || patched.Webhook.InsertInstant != w.InsertInstant {
		t.Errorf("PATCH: %+v", patched.Webhook)
	}
	var put api.WebhookResponse
	l.Do(t, l.APIKey, "PUT", "/api/webhook/"+w.ID, map[string]any{"webhook": map[string]any{"url": "https://example.org/other"}}, 200, &put)
	if put.Webhook.URL != "https://example.org/other" || put.Webhook.Description != "" || len(put.Webhook.EventsEnabled) != 0 {
		t.Errorf("PUT: %+v", put.Webhook)
	}
	l.Do(t, l.APIKey, "DELETE", "/api/webhook/"+w.ID, nil, 200, nil)
	l.Do(t, l.APIKey, "GET", "/api/webhook/"+w.ID, nil, 404, nil)
	l.Do(t, l.APIKey, "DELETE", "/api/webhook/"+w.ID, nil, 404, nil)
	l.Do(t, "", "GET", "/api/webhook", nil, 401, nil)

	// The signing key is in use.
	l.Do(t, l.APIKey, "DELETE", "/api/key/"+l.keyID, nil, 400, nil)

	// The tenant's event configuration is checked too; transactionType is
	// kept, whatever it is.
	var errs api.Errors
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+l.tenantID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{"user.exploded": map[string]any{"enabled": true}}}}}, 400, &errs)
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+l.tenantID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefresh: map[string]any{"enabled": true, "transactionType": "Maybe"}}}}}, 400, &errs)
	var tn api.TenantResponse
	l.Do(t, l.APIKey, "PATCH", "/api/tenant/"+l.tenantID, map[string]any{"tenant": map[string]any{
		"eventConfiguration": map[string]any{"events": map[string]any{api.EventJWTRefresh: map[string]any{"enabled": true, "transactionType": "SuperMajority"}}}}}, 200, &tn)
	if got := tn.Tenant.EventConfiguration.Events[api.EventJWTRefresh]; got != (api.EventConfigurationData{Enabled: true, TransactionType: "SuperMajority"}) {
		t.Errorf("tenant event configuration = %+v", got)
	}
}

// TestEventAbandoned: a delivery that keeps failing is given up after
// MaxAttempts, and the giving up is logged.
func TestEventAbandoned(t *testing.T) {
	cfg := server.Config{Events: fastEvents()}
	cfg.Events.MaxAttempts = 2
	l := startEventsLatch(t, t.TempDir(), cfg)
	uid, email := l.user(t, "abandoned")
	a := l.Login(t, l.appID, email)
	isRevoke := func(r receipt) bool {
		ev := r.eventOrNil()
		return ev["type"] == api.EventJWTRefreshTokenRevoke && ev["userId"] == uid
	}
	l.rc.setScript(func(r receipt) int {
		if isRevoke(r) {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	l.Do(t, l.APIKey, "DELETE", "/api/jwt/refresh/"+a.RefreshTokenID, nil, 200, nil)
	count := func(got []receipt) int {
		n := 0
		for _, r := range got {
			if isRevoke(r) {
				n++
			}
		}
		return n
	}
	l.settle(t) // the delivery was abandoned: no attempt is left to make
	waitLog(t, l.Logs, "delivery abandoned")
	if n := count(l.rc.receipts()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}
