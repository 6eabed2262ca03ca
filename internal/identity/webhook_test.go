package identity

import (
	"testing"

	"github.com/latchid/latch/api"
)

// TestWebhook_Rules: a webhook is checked with FusionAuth's codes, on
// create and update alike, and gets the default timeouts when it sets
// none; a key that signs a webhook cannot be deleted, and a rotation
// moves the webhook to the new key.
func TestWebhook_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: "HS256"})
	if err != nil {
		t.Fatal(err)
	}
	valid := func() api.Webhook { return api.Webhook{URL: "https://hooks.example.org/latch"} }
	for _, tc := range []struct {
		name  string
		edit  func(*api.Webhook)
		codes []string
	}{
		{"defaults", func(*api.Webhook) {}, nil},
		{"no URL", func(w *api.Webhook) { w.URL = "" }, []string{"[blank]webhook.url"}},
		{"relative URL", func(w *api.Webhook) { w.URL = "/latch" }, []string{"[invalid]webhook.url"}},
		{"another scheme", func(w *api.Webhook) { w.URL = "ftp://hooks.example.org/" }, []string{"[invalid]webhook.url"}},
		{"a fragment", func(w *api.Webhook) { w.URL = "https://hooks.example.org/#x" }, []string{"[invalid]webhook.url"}},
		{"timeouts out of range", func(w *api.Webhook) { w.ConnectTimeout, w.ReadTimeout = -1, MaxWebhookTimeout+1 },
			[]string{"[invalid]webhook.connectTimeout", "[invalid]webhook.readTimeout"}},
		{"header name", func(w *api.Webhook) { w.Headers = map[string]string{"X Bad": "v"} }, []string{"[invalid]webhook.headers"}},
		{"header value", func(w *api.Webhook) { w.Headers = map[string]string{"X-Ok": "a\r\nX-Injected: b"} }, []string{"[invalid]webhook.headers"}},
		{"event type", func(w *api.Webhook) { w.EventsEnabled = map[string]bool{"user.teleport": true} }, []string{"[invalid]webhook.eventsEnabled"}},
		{"known event types", func(w *api.Webhook) {
			w.EventsEnabled = map[string]bool{api.EventJWTRefreshTokenRevoke: true, "user.create": true}
		}, nil},
		{"tenant not a UUID", func(w *api.Webhook) { w.TenantIDs = []string{"default"} }, []string{"[invalid]webhook.tenantIds"}},
		{"unknown tenant", func(w *api.Webhook) { w.TenantIDs = []string{nilID} }, []string{"[invalid]webhook.tenantIds"}},
		{"its tenant", func(w *api.Webhook) { w.TenantIDs = []string{e.app.TenantID} }, nil},
		{"signed without a key", func(w *api.Webhook) { w.SignatureConfiguration.Enabled = true },
			[]string{"[blank]webhook.signatureConfiguration.signingKeyId"}},
		{"signed with an unknown key", func(w *api.Webhook) {
			w.SignatureConfiguration = api.WebhookSignatureConfiguration{Enabled: true, SigningKeyID: nilID}
		}, []string{"[invalid]webhook.signatureConfiguration.signingKeyId"}},
		{"signed", func(w *api.Webhook) {
			w.SignatureConfiguration = api.WebhookSignatureConfiguration{Enabled: true, SigningKeyID: key.ID}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := valid()
			tc.edit(&w)
			got, err := e.CreateWebhook(e.ctx, "", w)
			wantCodes(t, "create", err, tc.codes...)
			if tc.codes != nil {
				return
			}
			if got.ID == "" || got.InsertInstant == 0 || got.ConnectTimeout == 0 || got.ReadTimeout == 0 {
				t.Errorf("created %+v: want an id, an instant and timeouts", got)
			}
			if w.ConnectTimeout == 0 && (got.ConnectTimeout != DefaultWebhookConnectTimeout || got.ReadTimeout != DefaultWebhookReadTimeout) {
				t.Errorf("timeouts %d, %d; want the defaults", got.ConnectTimeout, got.ReadTimeout)
			}
			bad := got
			bad.URL = ""
			_, err = e.UpdateWebhook(e.ctx, got.ID, bad)
			wantCodes(t, "update without a URL", err, "[blank]webhook.url")
		})
	}

	w, err := e.CreateWebhook(e.ctx, "", api.Webhook{URL: "https://hooks.example.org/signed",
		SignatureConfiguration: api.WebhookSignatureConfiguration{Enabled: true, SigningKeyID: e.defaultTenant(t).JWTConfiguration.AccessTokenKeyID}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.CreateWebhook(e.ctx, w.ID, valid())
	wantCodes(t, "the same id again", err, "[duplicate]webhookId")
	_, err = e.CreateWebhook(e.ctx, "hook", valid())
	wantCodes(t, "id not a UUID", err, "[couldNotConvert]webhookId")
	wantCodes(t, "delete the key a webhook signs with", e.DeleteKey(e.ctx, key.ID), "[KeyInUse]")

	rotated, err := e.RotateKey(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.GetWebhook(e.ctx, w.ID)
	if err != nil || got.SignatureConfiguration.SigningKeyID != rotated.ID {
		t.Errorf("after a rotation the webhook signs with %q (%v), want %s", got.SignatureConfiguration.SigningKeyID, err, rotated.ID)
	}
	if _, err := e.SignWithKey(e.ctx, rotated.ID, map[string]any{"request_body_sha256": "x"}); err != nil {
		t.Errorf("sign with the new key: %v", err)
	}

	wantNotFound(t, "delete an unknown webhook", e.DeleteWebhook(e.ctx, nilID))
	if err := e.DeleteWebhook(e.ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetWebhook(e.ctx, w.ID)
	wantNotFound(t, "a deleted webhook", err)
	_, err = e.UpdateWebhook(e.ctx, w.ID, valid())
	wantNotFound(t, "update a deleted webhook", err)
	if all, err := e.ListWebhooks(e.ctx); err != nil || len(all) != 4 {
		t.Errorf("webhooks left: %d, %v; want the 4 valid ones made above", len(all), err)
	}
}

// TestTenant_EventConfiguration: a tenant enables known event types only,
// with a known transactionType, None when it names none.
func TestTenant_EventConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		events map[string]api.EventConfigurationData
		codes  []string
	}{
		{"unknown event", map[string]api.EventConfigurationData{"user.teleport": {Enabled: true}}, []string{"[invalid]tenant.eventConfiguration.events"}},
		{"unknown transactionType", map[string]api.EventConfigurationData{"user.create": {Enabled: true, TransactionType: "Most"}},
			[]string{"[invalid]tenant.eventConfiguration.events"}},
		{"defaults", map[string]api.EventConfigurationData{"user.create": {Enabled: true}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := e.defaultTenant(t)
			tn.EventConfiguration.Events = tc.events
			got, err := e.UpdateTenant(e.ctx, tn.ID, tn)
			wantCodes(t, "update", err, tc.codes...)
			if tc.codes == nil && got.EventConfiguration.Events["user.create"].TransactionType != api.TransactionNone {
				t.Errorf("transactionType %q, want %q", got.EventConfiguration.Events["user.create"].TransactionType, api.TransactionNone)
			}
		})
	}
}
