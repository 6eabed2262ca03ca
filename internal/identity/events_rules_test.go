package identity

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// recordingStore is the real store under events, noting the events
// written to the outbox.
type recordingStore struct {
	eventStore
	written []storage.Event
}

func (r *recordingStore) EnqueueEvent(ctx context.Context, e storage.Event, webhookIDs []string) error {
	r.written = append(r.written, e)
	return r.eventStore.EnqueueEvent(ctx, e, webhookIDs)
}

// recordingEvents returns the event rules of e over a recordingStore,
// counting the times they wake the dispatcher in *woken.
func recordingEvents(e *env, woken *int) (events, *recordingStore) {
	es := e.events()
	rec := &recordingStore{eventStore: es.store}
	es.store = rec
	es.enqueued = func() { *woken++ }
	return es, rec
}

// mustWebhook stores a webhook as is (no validation) and returns its id.
func mustWebhook(t *testing.T, e *env, w api.Webhook) string {
	t.Helper()
	w.ID = NewID()
	if err := e.store.CreateWebhook(e.ctx, w); err != nil {
		t.Fatal(err)
	}
	return w.ID
}

// clearWebhooks deletes every webhook.
func clearWebhooks(t *testing.T, e *env) {
	t.Helper()
	hooks, err := e.store.ListWebhooks(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		if err := e.store.DeleteWebhook(e.ctx, h.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEvents_Emit is the rule of the outbox: an event is written when its
// tenant enables its type and a webhook takes it (the type enabled, and
// the webhook global or of the tenant), with one delivery per such
// webhook, and the dispatcher is woken; otherwise nothing is written, and
// the event is not even built.
func TestEvents_Emit(t *testing.T) {
	e := newEnv(t)
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	const typ = api.EventUserLoginSuccess
	other := NewID()
	takes := map[string]bool{typ: true}
	for _, c := range []struct {
		name     string
		disabled bool          // the tenant does not enable typ
		hooks    []api.Webhook // by description
		want     []int         // the indexes of the hooks delivered to
	}{
		{name: "NoWebhook"},
		{name: "TenantDisables", disabled: true, hooks: []api.Webhook{{Description: "global", Global: true, EventsEnabled: takes}}},
		{name: "TypeNotTaken", hooks: []api.Webhook{{Description: "global", Global: true, EventsEnabled: map[string]bool{api.EventJWTRefresh: true}}}},
		{name: "TypeTakenFalse", hooks: []api.Webhook{{Description: "global", Global: true, EventsEnabled: map[string]bool{typ: false}}}},
		{name: "Global", hooks: []api.Webhook{{Description: "global", Global: true, EventsEnabled: takes}}, want: []int{0}},
		{name: "OfTheTenant", hooks: []api.Webhook{{Description: "own", TenantIDs: []string{other, tn.ID}, EventsEnabled: takes}}, want: []int{0}},
		{name: "OfAnotherTenant", hooks: []api.Webhook{{Description: "other", TenantIDs: []string{other}, EventsEnabled: takes}}},
		{name: "Mixed", hooks: []api.Webhook{
			{Description: "other", TenantIDs: []string{other}, EventsEnabled: takes},
			{Description: "global", Global: true, EventsEnabled: takes},
			{Description: "not taken", Global: true, EventsEnabled: map[string]bool{api.EventJWTRefresh: true}},
			{Description: "own", TenantIDs: []string{tn.ID}, EventsEnabled: takes},
		}, want: []int{1, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearWebhooks(t, e)
			var ids []string
			for _, h := range c.hooks {
				h.URL = "https://hooks.example.org/" + h.Description
				ids = append(ids, mustWebhook(t, e, h))
			}
			tc := tn
			tc.EventConfiguration.Events = map[string]api.EventConfigurationData{typ: {Enabled: !c.disabled}}
			woken := 0
			es, rec := recordingEvents(e, &woken)
			var built []string // the webhooks build was given
			err := es.emit(e.ctx, tc, typ, e.clock.Now(), func(b api.BaseEvent, hooks []api.Webhook) any {
				for _, h := range hooks {
					built = append(built, h.ID)
				}
				return api.UserLoginSuccessEvent{BaseEvent: b}
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range c.want {
				want = append(want, ids[i])
			}
			if d := cmp.Diff(want, built); d != "" {
				t.Errorf("webhooks given to build (-want +got):\n%s", d)
			}
			wantWritten := 0
			if len(want) > 0 {
				wantWritten = 1
			}
			if len(rec.written) != wantWritten || woken != wantWritten {
				t.Fatalf("%d events written, dispatcher woken %d times; want %d", len(rec.written), woken, wantWritten)
			}
			if wantWritten == 0 {
				return
			}
			ev := rec.written[0]
			if ev.Type != typ || ev.TenantID != tn.ID || !ev.Created.Equal(e.clock.Now()) || !ev.KeepUntil.IsZero() {
				t.Errorf("event %+v", ev)
			}
			ds, err := e.store.ListDeliveries(e.ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.WebhookID)
			}
			slices.Sort(got)
			slices.Sort(want)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("deliveries (-want +got):\n%s", d)
			}
		})
	}
}

// TestEvents_RefreshTokens: a jwt.refresh event keeps its access tokens
// only when one of the webhooks that take it may receive bearer
// credentials (https, or http to a loopback host).
func TestEvents_RefreshTokens(t *testing.T) {
	e := newEnv(t)
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	tn.EventConfiguration.Events = map[string]api.EventConfigurationData{api.EventJWTRefresh: {Enabled: true}}
	sess := storage.Session{ID: NewID(), UserID: NewID(), ApplicationID: e.app.ID}
	for _, c := range []struct {
		name   string
		urls   []string
		tokens bool
	}{
		{"HTTPS", []string{"https://hooks.example.org/"}, true},
		{"Loopback", []string{"http://127.0.0.1:8080/"}, true},
		{"LocalhostName", []string{"http://localhost/"}, true},
		{"HTTPRemote", []string{"http://hooks.example.org/"}, false},
		{"HTTPRemoteAndHTTPS", []string{"http://hooks.example.org/", "https://hooks.example.org/"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearWebhooks(t, e)
			for _, u := range c.urls {
				mustWebhook(t, e, api.Webhook{URL: u, Global: true, EventsEnabled: map[string]bool{api.EventJWTRefresh: true}})
			}
			woken := 0
			es, rec := recordingEvents(e, &woken)
			if err := es.emitRefresh(e.ctx, tn, sess, "new.access.token", "old.access.token", e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if len(rec.written) != 1 {
				t.Fatalf("%d events written, want 1", len(rec.written))
			}
			var doc api.EventRequest[api.JWTRefreshEvent]
			if err := json.Unmarshal(rec.written[0].Payload, &doc); err != nil {
				t.Fatal(err)
			}
			ev := doc.Event
			if ev.UserID != sess.UserID || ev.ApplicationID != sess.ApplicationID || ev.RefreshToken != sess.ID {
				t.Errorf("event %+v", ev)
			}
			if got := ev.Token == "new.access.token" && ev.Original == "old.access.token"; got != c.tokens {
				t.Errorf("tokens kept: %v (token %q, original %q), want %v", got, ev.Token, ev.Original, c.tokens)
			}
			if !c.tokens && (ev.Token != "" || ev.Original != "") {
				t.Errorf("a token kept: %q, %q", ev.Token, ev.Original)
			}
		})
	}
}

// TestEvents_ValidateWebhook is the rule of a webhook's fields: what is
// refused, with FusionAuth's codes, and the timeouts filled in.
func TestEvents_ValidateWebhook(t *testing.T) {
	e := newEnv(t)
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	valid := func(change func(*api.Webhook)) api.Webhook {
		w := api.Webhook{URL: "https://hooks.example.org/latch", Global: true,
			EventsEnabled: map[string]bool{api.EventJWTRefreshTokenRevoke: true}}
		if change != nil {
			change(&w)
		}
		return w
	}
	for _, c := range []struct {
		name string
		in   api.Webhook
		want []string // the codes, sorted
	}{
		{"Valid", valid(nil), nil},
		{"ValidOfATenant", valid(func(w *api.Webhook) { w.Global, w.TenantIDs = false, []string{tenants[0].ID} }), nil},
		{"ValidHeaders", valid(func(w *api.Webhook) { w.Headers = map[string]string{"X-Token": "a b"} }), nil},
		{"BlankURL", valid(func(w *api.Webhook) { w.URL = "" }), []string{"[blank]webhook.url"}},
		{"RelativeURL", valid(func(w *api.Webhook) { w.URL = "/hooks" }), []string{"[invalid]webhook.url"}},
		{"FTPURL", valid(func(w *api.Webhook) { w.URL = "ftp://hooks.example.org/" }), []string{"[invalid]webhook.url"}},
		{"URLWithFragment", valid(func(w *api.Webhook) { w.URL = "https://hooks.example.org/#x" }), []string{"[invalid]webhook.url"}},
		{"NegativeTimeout", valid(func(w *api.Webhook) { w.ConnectTimeout = -1 }), []string{"[invalid]webhook.connectTimeout"}},
		{"LongTimeout", valid(func(w *api.Webhook) { w.ReadTimeout = MaxWebhookTimeout + 1 }), []string{"[invalid]webhook.readTimeout"}},
		{"HeaderName", valid(func(w *api.Webhook) { w.Headers = map[string]string{"X Token": "a"} }), []string{"[invalid]webhook.headers"}},
		{"HeaderValue", valid(func(w *api.Webhook) { w.Headers = map[string]string{"X-Token": "a\r\nX-Other: b"} }), []string{"[invalid]webhook.headers"}},
		{"EventType", valid(func(w *api.Webhook) { w.EventsEnabled["user.teleport"] = true }), []string{"[invalid]webhook.eventsEnabled"}},
		{"TenantNotUUID", valid(func(w *api.Webhook) { w.TenantIDs = []string{"tenant"} }), []string{"[invalid]webhook.tenantIds"}},
		{"TenantUnknown", valid(func(w *api.Webhook) { w.TenantIDs = []string{NewID()} }), []string{"[invalid]webhook.tenantIds"}},
		{"SignedWithoutKey", valid(func(w *api.Webhook) { w.SignatureConfiguration.Enabled = true }),
			[]string{"[blank]webhook.signatureConfiguration.signingKeyId"}},
		{"SignedWithUnknownKey", valid(func(w *api.Webhook) {
			w.SignatureConfiguration.Enabled, w.SignatureConfiguration.SigningKeyID = true, NewID()
		}), []string{"[invalid]webhook.signatureConfiguration.signingKeyId"}},
		{"Several", valid(func(w *api.Webhook) { w.URL, w.ConnectTimeout = "", -5 }),
			[]string{"[blank]webhook.url", "[invalid]webhook.connectTimeout"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := c.in
			errs := new(api.Errors)
			e.events().validateWebhook(e.ctx, errs, &w)
			var got []string
			for _, fe := range errs.FieldErrors {
				for _, x := range fe {
					got = append(got, x.Code)
				}
			}
			slices.Sort(got)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Fatalf("codes (-want +got):\n%s", d)
			}
			if c.want == nil && (w.ConnectTimeout != DefaultWebhookConnectTimeout || w.ReadTimeout != DefaultWebhookReadTimeout) {
				t.Errorf("timeouts %d, %d; want the defaults", w.ConnectTimeout, w.ReadTimeout)
			}
		})
	}
}

// TestEvents_EventLog: an event is found by id, as Running while a
// delivery is due, by its tenant and by a caller of every tenant; another
// tenant, or an id that is no UUID, finds nothing. A jwt.refresh event is
// shown without its access tokens whatever its webhooks.
func TestEvents_EventLog(t *testing.T) {
	e := newEnv(t)
	tenants, err := e.store.ListTenants(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenants[0]
	tn.EventConfiguration.Events = map[string]api.EventConfigurationData{api.EventJWTRefresh: {Enabled: true}}
	mustWebhook(t, e, api.Webhook{URL: "https://hooks.example.org/", Global: true, EventsEnabled: map[string]bool{api.EventJWTRefresh: true}})
	woken := 0
	es, rec := recordingEvents(e, &woken)
	sess := storage.Session{ID: NewID(), UserID: NewID(), ApplicationID: e.app.ID}
	if err := es.emitRefresh(e.ctx, tn, sess, "new.access.token", "", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if len(rec.written) != 1 || !strings.Contains(string(rec.written[0].Payload), "new.access.token") {
		t.Fatalf("events written: %d; want one with its token", len(rec.written))
	}
	id := rec.written[0].ID

	for _, c := range []struct {
		name     string
		tenantID string
		id       string
		found    bool
	}{
		{"ItsTenant", tn.ID, id, true},
		{"EveryTenant", "", id, true},
		{"AnotherTenant", NewID(), id, false},
		{"Unknown", "", NewID(), false},
		{"NotUUID", "", "event", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := es.getEventLog(e.ctx, c.tenantID, c.id)
			if !c.found {
				if !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.ID != id || l.EventType != api.EventJWTRefresh || l.EventResult != api.WebhookEventRunning ||
				l.InsertInstant != e.clock.Now().UnixMilli() {
				t.Errorf("log %+v", l)
			}
			if strings.Contains(string(l.Event), "new.access.token") {
				t.Errorf("the log shows the access token: %s", l.Event)
			}
		})
	}
}
