package identity

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/latchid/latch/api"
)

// The client secret is stored hashed and sealed, never in the clear; the
// sealed secret opens only as its own application's; an application
// stored with a hash only (before secrets were sealed) authenticates as
// before and shows no secret until a new one is set.
func TestClientSecret_Sealed(t *testing.T) {
	e := newEnv(t)
	const secret = "the client secret of the shop, long enough"
	app, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Shop",
		OAuthConfiguration: api.OAuthConfiguration{ClientSecret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	if app.OAuthConfiguration.ClientSecret != secret {
		t.Fatalf("created with secret %q", app.OAuthConfiguration.ClientSecret)
	}
	rec, err := e.store.GetApplication(e.ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(rec)
	if len(rec.ClientSecretSealed) == 0 || len(rec.ClientSecretHash) == 0 || bytes.Contains(doc, []byte(secret)) {
		t.Errorf("stored: sealed %d bytes, hash %d bytes, clear secret present %v", len(rec.ClientSecretSealed), len(rec.ClientSecretHash), bytes.Contains(doc, []byte(secret)))
	}
	if got, err := e.GetApplicationWithSecret(e.ctx, "", app.ID); err != nil || got.OAuthConfiguration.ClientSecret != secret {
		t.Errorf("GetApplicationWithSecret = %q, %v", got.OAuthConfiguration.ClientSecret, err)
	}
	if got, _ := e.GetApplication(e.ctx, "", app.ID); got.OAuthConfiguration.ClientSecret != "" {
		t.Error("GetApplication returns the secret")
	}
	if list, err := e.ListApplicationsWithSecrets(e.ctx, ""); err != nil || len(list) != 2 || list[1].OAuthConfiguration.ClientSecret != secret {
		t.Errorf("ListApplicationsWithSecrets = %+v, %v", list, err)
	}

	// Moved to another application, the sealed secret does not open.
	other, err := e.CreateApplication(e.ctx, "", "", api.Application{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	orec, _ := e.store.GetApplication(e.ctx, other.ID)
	orec.ClientSecretSealed = rec.ClientSecretSealed
	if err := e.store.UpdateApplication(e.ctx, orec); err != nil {
		t.Fatal(err)
	}
	if got, err := e.GetApplicationWithSecret(e.ctx, "", other.ID); err == nil || got.OAuthConfiguration.ClientSecret == secret {
		t.Errorf("another application's sealed secret opened: %q, %v", got.OAuthConfiguration.ClientSecret, err)
	}

	// A hash only, as stored before secrets were sealed.
	rec.ClientSecretSealed = nil
	if err := e.store.UpdateApplication(e.ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, err := e.GetApplicationWithSecret(e.ctx, "", app.ID); err != nil || got.OAuthConfiguration.ClientSecret != "" {
		t.Errorf("hash only: GetApplicationWithSecret = %q, %v; want none", got.OAuthConfiguration.ClientSecret, err)
	}
	if _, err := e.AuthenticateClient(e.ctx, app.ID, secret); err != nil {
		t.Errorf("hash only: the secret no longer authenticates: %v", err)
	}
	// An update without a secret keeps the hash; one with a secret seals it.
	upd := app
	upd.OAuthConfiguration.ClientSecret = ""
	if got, err := e.UpdateApplication(e.ctx, "", app.ID, upd); err != nil || got.OAuthConfiguration.ClientSecret != "" {
		t.Errorf("hash only, updated without a secret: %q, %v", got.OAuthConfiguration.ClientSecret, err)
	}
	if _, err := e.AuthenticateClient(e.ctx, app.ID, secret); err != nil {
		t.Errorf("hash only, updated without a secret: the secret no longer authenticates: %v", err)
	}
	upd.OAuthConfiguration.ClientSecret = "a new secret"
	if _, err := e.UpdateApplication(e.ctx, "", app.ID, upd); err != nil {
		t.Fatal(err)
	}
	if got, err := e.GetApplicationWithSecret(e.ctx, "", app.ID); err != nil || got.OAuthConfiguration.ClientSecret != "a new secret" {
		t.Errorf("after a new secret: %q, %v", got.OAuthConfiguration.ClientSecret, err)
	}
	if _, err := e.AuthenticateClient(e.ctx, app.ID, secret); err == nil {
		t.Error("the replaced secret still authenticates")
	}
}
