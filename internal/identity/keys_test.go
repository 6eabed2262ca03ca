package identity

import (
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

// TestKey_Generate: a key is made for a supported algorithm (the Key API's
// name or the JWS one), with a kid and a public key; an HMAC key shows no
// public part and no hasPrivateKey; anything else is refused.
func TestKey_Generate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		alg, want, typ string
		codes          []string
	}{
		{"ES256", "ES256", "EC", nil},
		{"Ed25519", api.KeyAlgorithmEd25519, "OKP", nil},
		{"EdDSA", api.KeyAlgorithmEd25519, "OKP", nil},
		{"HS256", "HS256", "HMAC", nil},
		{"none", "", "", []string{"[invalid]key.algorithm"}},
		{"", "", "", []string{"[invalid]key.algorithm"}},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			k, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: tc.alg})
			wantCodes(t, "generate", err, tc.codes...)
			if tc.codes != nil {
				return
			}
			if k.ID == "" || k.Kid == "" || k.Algorithm != tc.want || k.Type != tc.typ || k.Name == "" {
				t.Errorf("generated %+v, want a %s key of type %s", k, tc.want, tc.typ)
			}
			if hmac := tc.typ == "HMAC"; hmac != (k.HasPrivateKey == nil) || hmac != (k.PublicKey == "") {
				t.Errorf("generated %+v: hasPrivateKey and publicKey only for a key pair", k)
			}
		})
	}
	k, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.GenerateKey(e.ctx, k.ID, api.Key{Algorithm: "ES256"})
	wantCodes(t, "the same id again", err, "[duplicate]keyId")
	_, err = e.GenerateKey(e.ctx, "key", api.Key{Algorithm: "ES256"})
	wantCodes(t, "id not a UUID", err, "[couldNotConvert]keyId")
}

// TestKey_TenantsAndDeletion: a caller locked to a tenant sees the keys
// its tenant's tokens are signed with and no other; a key in use cannot
// be deleted, an unused one can.
func TestKey_TenantsAndDeletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := e.defaultTenant(t)
	signing := def.JWTConfiguration.AccessTokenKeyID
	appKey, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	unused, err := e.GenerateKey(e.ctx, "", api.Key{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	other := e.mustTenant(t, "Other", func(tn *api.Tenant) {
		tn.JWTConfiguration.AccessTokenKeyID, tn.JWTConfiguration.IDTokenKeyID = unused.ID, unused.ID
	})
	a := e.app
	a.JWTConfiguration.AccessTokenKeyID = appKey.ID
	if _, err := e.UpdateApplication(e.ctx, "", a.ID, a); err != nil {
		t.Fatal(err)
	}

	ids := func(tenantID string) map[string]bool {
		t.Helper()
		keys, err := e.ListKeys(e.ctx, tenantID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, k := range keys {
			m[k.ID] = true
		}
		return m
	}
	if got := ids(def.ID); len(got) != 2 || !got[signing] || !got[appKey.ID] {
		t.Errorf("the default tenant's keys: %v, want its own and its application's", got)
	}
	if got := ids(other.ID); len(got) != 1 || !got[unused.ID] {
		t.Errorf("the other tenant's keys: %v, want its one", got)
	}
	if got := ids(""); len(got) != 3 {
		t.Errorf("every key: %v, want 3", got)
	}
	_, err = e.GetKey(e.ctx, other.ID, signing)
	wantNotFound(t, "another tenant's key", err)
	if k, err := e.GetKey(e.ctx, def.ID, appKey.ID); err != nil || k.ID != appKey.ID {
		t.Errorf("its application's key: %v", err)
	}

	wantCodes(t, "delete a tenant's key", e.DeleteKey(e.ctx, signing), "[KeyInUse]")
	wantCodes(t, "delete an application's key", e.DeleteKey(e.ctx, appKey.ID), "[KeyInUse]")
	if err := e.DeleteTenant(e.ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteKey(e.ctx, unused.ID); err != nil {
		t.Errorf("delete an unused key: %v", err)
	}
	_, err = e.GetKey(e.ctx, "", unused.ID)
	wantNotFound(t, "a deleted key", err)
}

// TestKey_Rotate: a rotation gives the tenant a new key of the same
// algorithm, which signs at once; the old key signs no more, and verifies
// until the longest access token it may have signed expires, plus a minute.
func TestKey_Rotate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustImport(t, "", api.User{Email: "ana@example.org", Registrations: registered(e.app.ID)})
	def := e.defaultTenant(t)
	old := def.JWTConfiguration.AccessTokenKeyID
	before, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login", before, err, LoginOK)

	k, err := e.RotateKey(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == old || k.Algorithm != "ES256" {
		t.Errorf("rotated to %+v, want a new ES256 key", k)
	}
	if now := e.defaultTenant(t); now.JWTConfiguration.AccessTokenKeyID != k.ID || now.JWTConfiguration.IDTokenKeyID != k.ID {
		t.Errorf("the tenant signs with %s and %s, want %s", now.JWTConfiguration.AccessTokenKeyID, now.JWTConfiguration.IDTokenKeyID, k.ID)
	}
	retired, err := e.GetKey(e.ctx, "", old)
	if err != nil {
		t.Fatal(err)
	}
	until := e.clock.Now().Add(DefaultAccessTokenTTLSeconds*time.Second + time.Minute)
	if retired.ExpirationInstant != until.UnixMilli() {
		t.Errorf("the old key expires at %d, want %d", retired.ExpirationInstant, until.UnixMilli())
	}
	after, err := e.login("ana@example.org", testPassword)
	wantOutcome(t, "login after the rotation", after, err, LoginOK)
	for name, tok := range map[string]string{"old": before.Response.Token, "new": after.Response.Token} {
		if _, err := e.ValidateToken(e.ctx, tok); err != nil {
			t.Errorf("the %s key's token does not validate: %v", name, err)
		}
	}
	jwks, err := e.JWKS(e.ctx)
	if err != nil || len(jwks.Keys) != 2 {
		t.Errorf("JWKS: %d keys, %v; want the old and the new", len(jwks.Keys), err)
	}
	e.clock.Set(until)
	if jwks, err := e.JWKS(e.ctx); err != nil || len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != k.Kid {
		t.Errorf("JWKS once the old key expired: %+v, %v; want the new key only", jwks.Keys, err)
	}
}
