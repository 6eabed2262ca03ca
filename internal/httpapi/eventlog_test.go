package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/server"
)

// unreachableHook is a webhook URL nothing listens on: its deliveries stay
// due, and their events Running.
const unreachableHook = "http://127.0.0.1:9/hook"

// mustWebhook enables the event types for the tenant and registers a
// webhook at hookURL that takes them, for every tenant.
func (e *env) mustWebhook(t *testing.T, tenantID, hookURL string, types ...string) {
	t.Helper()
	events, enabled := map[string]any{}, map[string]bool{}
	for _, typ := range types {
		events[typ] = map[string]any{"enabled": true}
		enabled[typ] = true
	}
	e.mustPatchTenant(t, tenantID, map[string]any{"eventConfiguration": map[string]any{"events": events}})
	e.do(t, "POST", "/api/webhook", withKey(e.key), withJSON(map[string]any{"webhook": map[string]any{
		"url": hookURL, "global": true, "eventsEnabled": enabled,
	}})).wantJSON(t, 200, nil)
}

// searchLog searches the event log with the key and insists on 200.
func (e *env) searchLog(t *testing.T, key string, criteria map[string]any, opts ...reqOpt) api.WebhookEventLogSearchResponse {
	t.Helper()
	var res api.WebhookEventLogSearchResponse
	r := e.do(t, "POST", "/api/system/webhook-event-log/search", append([]reqOpt{withKey(key),
		withJSON(map[string]any{"search": criteria})}, opts...)...).wantJSON(t, 200, &res)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("search answer without Cache-Control: no-store")
	}
	return res
}

// revokeEvent decodes the jwt.refresh-token.revoke event of a log entry.
func revokeEvent(t *testing.T, l api.WebhookEventLog) api.JWTRefreshTokenRevokeEvent {
	t.Helper()
	var ev api.EventRequest[api.JWTRefreshTokenRevokeEvent]
	if err := json.Unmarshal(l.Event, &ev); err != nil {
		t.Fatalf("event of %s: %v", l.ID, err)
	}
	return ev.Event
}

// The log holds the events sent to webhooks, with FusionAuth's shape:
// the body as delivered, the type, the result, the instant; searched by
// type and time, ordered and paged, by POST or GET, one by id.
func TestEventLog_Search(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustWebhook(t, e.tenantID, unreachableHook, api.EventJWTRefreshTokenRevoke, api.EventJWTRefresh)
	userID, email := e.mustUser(t, e.appID)
	login := e.mustLogin(t, email, e.appID)
	refreshed := e.mustRefresh(t, login.RefreshToken)
	e.clock.Advance(time.Second)
	t0 := e.clock.Now()
	e.do(t, "DELETE", "/api/jwt/refresh?userId="+userID, withKey(e.key)).wantStatus(t, 200)
	e.clock.Advance(time.Second)
	_, other := e.mustUser(t, e.appID)
	otherLogin := e.mustLogin(t, other, e.appID)
	e.do(t, "DELETE", "/api/jwt/refresh/"+otherLogin.RefreshTokenID, withKey(e.key)).wantStatus(t, 200)

	res := e.searchLog(t, e.key, map[string]any{"eventType": api.EventJWTRefreshTokenRevoke, "orderBy": "insertInstant ASC"})
	if res.Total != 2 || len(res.WebhookEventLogs) != 2 {
		t.Fatalf("search: %+v, want the two revocations", res)
	}
	first := res.WebhookEventLogs[0]
	ev := revokeEvent(t, first)
	if first.ID != ev.ID || first.EventType != api.EventJWTRefreshTokenRevoke || first.EventResult != api.WebhookEventRunning ||
		first.InsertInstant != t0.UnixMilli() || ev.CreateInstant != first.InsertInstant {
		t.Errorf("first entry %+v (event id %s, createInstant %d), want the user's revocation, Running, at %d",
			first, ev.ID, ev.CreateInstant, t0.UnixMilli())
	}
	if ev.UserID != userID || ev.Type != api.EventJWTRefreshTokenRevoke || ev.ApplicationTimeToLiveInSeconds[e.appID] == 0 ||
		!slices.Contains(ev.SessionIDs, login.RefreshTokenID) {
		t.Errorf("first event %+v, want the user's with its session and the JWT lifetime", ev)
	}
	if second := revokeEvent(t, res.WebhookEventLogs[1]); second.SessionID != otherLogin.RefreshTokenID {
		t.Errorf("second event %+v, want the other session's", second)
	}

	// One by id: the same entry.
	var one api.WebhookEventLogResponse
	e.do(t, "GET", "/api/system/webhook-event-log/"+first.ID, withKey(e.key)).wantJSON(t, 200, &one)
	if got, _ := json.Marshal(one.WebhookEventLog); string(got) != string(mustMarshal(t, first)) {
		t.Errorf("GET by id = %s, want %s", got, mustMarshal(t, first))
	}
	e.do(t, "GET", "/api/system/webhook-event-log/00000000-0000-4000-8000-000000000000", withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/system/webhook-event-log/not-an-id", withKey(e.key)).wantEmpty(t, 404)

	// The default order is the newest first; the page has numberOfResults
	// entries from startRow on, and total counts them all.
	res = e.searchLog(t, e.key, map[string]any{"eventType": api.EventJWTRefreshTokenRevoke, "numberOfResults": 1})
	if res.Total != 2 || len(res.WebhookEventLogs) != 1 || revokeEvent(t, res.WebhookEventLogs[0]).SessionID != otherLogin.RefreshTokenID {
		t.Errorf("newest first, one a page: %+v", res)
	}
	res = e.searchLog(t, e.key, map[string]any{"eventType": api.EventJWTRefreshTokenRevoke, "numberOfResults": 1, "startRow": 1})
	if res.Total != 2 || len(res.WebhookEventLogs) != 1 || res.WebhookEventLogs[0].ID != first.ID {
		t.Errorf("second page: %+v", res)
	}
	// GET takes the criteria as query parameters.
	var viaGet api.WebhookEventLogSearchResponse
	e.do(t, "GET", "/api/system/webhook-event-log/search?eventType="+api.EventJWTRefreshTokenRevoke+
		"&orderBy=insertInstant+ASC&numberOfResults=1&eventResult=Running&start="+fmt.Sprint(t0.UnixMilli()), withKey(e.key)).
		wantJSON(t, 200, &viaGet)
	if viaGet.Total != 2 || len(viaGet.WebhookEventLogs) != 1 || viaGet.WebhookEventLogs[0].ID != first.ID {
		t.Errorf("GET search: %+v", viaGet)
	}
	// start and end bound insertInstant, both included.
	res = e.searchLog(t, e.key, map[string]any{"start": t0.UnixMilli(), "end": t0.UnixMilli()})
	if res.Total != 1 || res.WebhookEventLogs[0].ID != first.ID {
		t.Errorf("start = end = the first revocation's instant: %+v", res)
	}
	// Nothing is Succeeded or Failed while the webhook cannot be reached.
	for _, result := range []string{api.WebhookEventSucceeded, api.WebhookEventFailed} {
		if res := e.searchLog(t, e.key, map[string]any{"eventResult": result}); res.Total != 0 || res.WebhookEventLogs == nil {
			t.Errorf("eventResult %s: %+v, want none, as an empty list", result, res)
		}
	}

	// jwt.refresh goes to a loopback URL with its access tokens, but the
	// log shows it without them.
	res = e.searchLog(t, e.key, map[string]any{"eventType": api.EventJWTRefresh})
	if res.Total != 1 {
		t.Fatalf("jwt.refresh: %+v", res)
	}
	body := string(res.WebhookEventLogs[0].Event)
	if strings.Contains(body, refreshed.Token) || strings.Contains(body, `"token"`) || strings.Contains(body, `"original"`) ||
		!strings.Contains(body, login.RefreshTokenID) {
		t.Errorf("the log's jwt.refresh event %s holds a bearer token, or lacks the session", body)
	}

	// The default span is the last hour, to the end of the minute.
	e.clock.Advance(2 * time.Hour)
	if res := e.searchLog(t, e.key, map[string]any{}); res.Total != 0 {
		t.Errorf("two hours later, by default: %+v, want none", res)
	}
	if res := e.searchLog(t, e.key, map[string]any{"start": t0.Add(-time.Minute).UnixMilli()}); res.Total != 3 {
		t.Errorf("two hours later, from before the events: total %d, want 3", res.Total)
	}
}

// mustMarshal is v as JSON.
func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Criteria the search cannot take: a 400 with FusionAuth's error JSON that
// names the field.
func TestEventLog_BadCriteria(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		criteria map[string]any
		code     string
	}{
		{map[string]any{"eventType": "no.such.event"}, "[invalid]search.eventType"},
		{map[string]any{"eventResult": "Done"}, "[invalid]search.eventResult"},
		{map[string]any{"numberOfResults": api.MaxWebhookEventLogResults + 1}, "[invalid]search.numberOfResults"},
		{map[string]any{"numberOfResults": -1}, "[invalid]search.numberOfResults"},
		{map[string]any{"startRow": -1}, "[invalid]search.startRow"},
		{map[string]any{"orderBy": "sequence"}, "[invalid]search.orderBy"},
		{map[string]any{"orderBy": "insertInstant UP"}, "[invalid]search.orderBy"},
		{map[string]any{"event": "*revoke*"}, "[invalid]search.event"},
		{map[string]any{"start": 2000, "end": 1000}, "[invalid]search.end"},
	} {
		e.do(t, "POST", "/api/system/webhook-event-log/search", withKey(e.key), withJSON(map[string]any{"search": c.criteria})).
			wantErrors(t, c.code)
	}
	e.do(t, "POST", "/api/system/webhook-event-log/search", withKey(e.key), withJSON(`{"search":{"start":"yesterday"}}`)).
		wantStatus(t, 400)
	e.do(t, "GET", "/api/system/webhook-event-log/search?numberOfResults=many", withKey(e.key)).
		wantErrors(t, "[invalid]search.numberOfResults")
}

// A key locked to a tenant sees that tenant's events only; a key of every
// tenant sees all, or those of the tenant X-FusionAuth-TenantId names.
func TestEventLog_TenantLocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustWebhook(t, e.tenantID, unreachableHook, api.EventJWTRefreshTokenRevoke)
	other := e.mustCreateTenant(t, "other "+randomSuffix())
	e.mustPatchTenant(t, other, map[string]any{"eventConfiguration": map[string]any{"events": map[string]any{
		api.EventJWTRefreshTokenRevoke: map[string]any{"enabled": true}}}})
	var app api.ApplicationResponse
	e.do(t, "POST", "/api/application", withKey(e.key), withTenant(other), withJSON(map[string]any{"application": map[string]any{"name": "other"}})).
		wantJSON(t, 200, &app)
	revoke := func(tenantID, appID string) string {
		var u api.UserResponse
		e.do(t, "POST", "/api/user/registration", withKey(e.key), withTenant(tenantID), withJSON(map[string]any{
			"user":         map[string]any{"email": "u-" + randomSuffix() + "@example.org", "password": testPassword},
			"registration": map[string]any{"applicationId": appID},
		})).wantJSON(t, 200, &u)
		var login api.LoginResponse
		e.login(t, map[string]any{"loginId": u.User.Email, "password": testPassword, "applicationId": appID}, withTenant(tenantID)).
			wantJSON(t, 200, &login)
		e.do(t, "DELETE", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantStatus(t, 200)
		res := e.searchLog(t, e.key, map[string]any{"numberOfResults": 1})
		return res.WebhookEventLogs[0].ID
	}
	mine := revoke(e.tenantID, e.appID)
	e.clock.Advance(time.Second)
	theirs := revoke(other, app.Application.ID)

	locked := e.mustCreateAPIKey(t, map[string]any{"tenantId": e.tenantID})
	res := e.searchLog(t, locked.Key, map[string]any{})
	if res.Total != 1 || res.WebhookEventLogs[0].ID != mine {
		t.Errorf("a key locked to the tenant: %+v, want its one event", res)
	}
	e.do(t, "GET", "/api/system/webhook-event-log/"+mine, withKey(locked.Key)).wantJSON(t, 200, nil)
	e.do(t, "GET", "/api/system/webhook-event-log/"+theirs, withKey(locked.Key)).wantEmpty(t, 404)
	// The header cannot widen a locked key.
	e.do(t, "POST", "/api/system/webhook-event-log/search", withKey(locked.Key), withTenant(other), withJSON(`{"search":{}}`)).
		wantEmpty(t, 401)

	if res := e.searchLog(t, e.key, map[string]any{}); res.Total != 2 {
		t.Errorf("a key of every tenant: total %d, want 2", res.Total)
	}
	if res := e.searchLog(t, e.key, map[string]any{}, withTenant(other)); res.Total != 1 || res.WebhookEventLogs[0].ID != theirs {
		t.Errorf("a key of every tenant, the other tenant named: %+v", res)
	}
}

// The log is an endpoint of API key permissions: search and retrieval
// each need their own, and no key is a 401.
func TestEventLog_Permissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	search := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/system/webhook-event-log/search": []string{"POST"}}}})
	users := e.mustCreateAPIKey(t, map[string]any{"permissions": map[string]any{"endpoints": map[string]any{
		"/api/user": []string{"GET", "POST"}}}})
	id := "00000000-0000-4000-8000-000000000000"
	for _, c := range []struct {
		key, method, path string
		status            int
	}{
		{search.Key, "POST", "/api/system/webhook-event-log/search", 200},
		{search.Key, "GET", "/api/system/webhook-event-log/search", 401},
		{search.Key, "GET", "/api/system/webhook-event-log/" + id, 401},
		{users.Key, "POST", "/api/system/webhook-event-log/search", 401},
		{users.Key, "GET", "/api/system/webhook-event-log/" + id, 401},
		{"", "POST", "/api/system/webhook-event-log/search", 401},
		{"", "GET", "/api/system/webhook-event-log/" + id, 401},
		{"not-a-key", "POST", "/api/system/webhook-event-log/search", 401},
		{e.key, "GET", "/api/system/webhook-event-log/" + id, 404},
	} {
		var opts []reqOpt
		if c.key != "" {
			opts = append(opts, withKey(c.key))
		}
		if c.method == "POST" {
			opts = append(opts, withJSON(`{"search":{}}`))
		}
		r := e.do(t, c.method, c.path, opts...)
		if r.Status != c.status {
			t.Errorf("%s with key %q: %d, want %d", c.method+" "+c.path, c.key, r.Status, c.status)
		}
	}
}

// A revocation stays in the log, delivered or not, for as long as the
// JWTs it concerns may live; other events go with their deliveries.
func TestEventLog_RevocationKeptForTheJWTLifetime(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *server.Config) { c.GCInterval = 5 * time.Millisecond })
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	e.mustWebhook(t, e.tenantID, hook.URL, api.EventJWTRefreshTokenRevoke)
	short := e.mustCreateApp(t, map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 60}})
	long := e.mustCreateApp(t, map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 2 * 24 * 3600}})
	revoke := func(appID string) {
		_, email := e.mustUser(t, appID)
		login := e.mustLogin(t, email, appID)
		e.do(t, "DELETE", "/api/jwt/refresh/"+login.RefreshTokenID, withKey(e.key)).wantStatus(t, 200)
	}
	start := e.clock.Now().Add(-time.Minute).UnixMilli()
	revoke(short.ID)
	e.clock.Advance(time.Second)
	revoke(long.ID)
	all := func() api.WebhookEventLogSearchResponse {
		return e.searchLog(t, e.key, map[string]any{"start": start, "end": e.clock.Now().UnixMilli(), "orderBy": "insertInstant ASC"})
	}
	wait := func(what string, done func(api.WebhookEventLogSearchResponse) bool) api.WebhookEventLogSearchResponse {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			res := all()
			if done(res) {
				return res
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s: %+v", what, res)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	res := wait("both are delivered", func(res api.WebhookEventLogSearchResponse) bool {
		return res.Total == 2 && res.WebhookEventLogs[0].EventResult == api.WebhookEventSucceeded &&
			res.WebhookEventLogs[1].EventResult == api.WebhookEventSucceeded
	})
	keptID := res.WebhookEventLogs[1].ID
	if ttl := revokeEvent(t, res.WebhookEventLogs[1]).ApplicationTimeToLiveInSeconds[long.ID]; ttl != 2*24*3600 {
		t.Fatalf("the second event names a JWT lifetime of %d s, want two days", ttl)
	}

	// A day and a half later, the reaper collects the delivered
	// deliveries, and the short-lived revocation with them; the other
	// stays, its JWTs still alive. Both go in one collection, so the
	// first one's going is the signal that it ran.
	e.clock.Advance(36 * time.Hour)
	res = wait("the short-lived revocation is collected", func(res api.WebhookEventLogSearchResponse) bool { return res.Total < 2 })
	if res.Total != 1 || res.WebhookEventLogs[0].ID != keptID {
		t.Fatalf("after the collection: %+v, want the long-lived revocation only", res)
	}
	e.do(t, "GET", "/api/system/webhook-event-log/"+keptID, withKey(e.key)).wantJSON(t, 200, nil)

	// Once its JWTs have expired (and the reaper's day has passed), it goes.
	e.clock.Advance(48 * time.Hour)
	wait("the long-lived revocation is collected", func(res api.WebhookEventLogSearchResponse) bool { return res.Total == 0 })
	e.do(t, "GET", "/api/system/webhook-event-log/"+keptID, withKey(e.key)).wantEmpty(t, 404)
}
