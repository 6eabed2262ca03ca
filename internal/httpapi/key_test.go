package httpapi_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/api"
)

// Each algorithm signs an application's tokens when set on it, and the
// token header carries that algorithm and the key's kid.
func TestKey_PerApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Warm the key cache first, so new keys must verify without a reload.
	_, warm := e.mustUser(t, e.appID)
	e.validate(t, e.mustLogin(t, warm, e.appID).Token).wantJSON(t, 200, nil)

	for _, tc := range []struct {
		alg, kty string
		public   bool
	}{
		{"ES256", "EC", true},
		{"RS256", "RSA", true},
		{"EdDSA", "OKP", true},
		{"HS256", "HMAC", false},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			k := e.mustGenerateKey(t, tc.alg)
			if k.Type != tc.kty || (k.PublicKey != "") != tc.public {
				t.Errorf("key = %+v, want type %s, public key %v", k, tc.kty, tc.public)
			}
			if tc.public && !strings.HasPrefix(k.PublicKey, "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("public key = %q", k.PublicKey)
			}
			var got api.KeyResponse
			r := e.do(t, "GET", "/api/key/"+k.ID, withKey(e.key))
			r.wantJSON(t, 200, &got)
			if got.Key.ID != k.ID || got.Key.Kid != k.Kid || strings.Contains(string(r.Body), "PRIVATE") || strings.Contains(string(r.Body), `"secret"`) {
				t.Errorf("retrieved key = %s", r.Body)
			}

			appID := e.mustAppWithRoles(t)
			e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": k.ID}})
			_, email := e.mustUser(t, appID)
			login := e.mustLogin(t, email, appID)
			if h := headerOf(t, login.Token); h["alg"] != tc.alg || h["kid"] != k.Kid {
				t.Errorf("JWT header = %v, want alg %s kid %s", h, tc.alg, k.Kid)
			}
			e.validate(t, login.Token).wantJSON(t, 200, nil)
			refreshed := e.mustRefresh(t, login.RefreshToken)
			if h := headerOf(t, refreshed.Token); h["alg"] != tc.alg {
				t.Errorf("refreshed JWT alg = %v", h["alg"])
			}
			e.validate(t, refreshed.Token).wantJSON(t, 200, nil)

			var jwks struct {
				Keys []map[string]any `json:"keys"`
			}
			e.do(t, "GET", "/.well-known/jwks.json").wantJSON(t, 200, &jwks)
			found := false
			for _, j := range jwks.Keys {
				if j["kid"] == k.Kid {
					found = true
					if j["alg"] != tc.alg {
						t.Errorf("JWK alg = %v", j["alg"])
					}
				}
			}
			if found != tc.public {
				t.Errorf("key in the JWKS = %v, want %v", found, tc.public)
			}

			// In use: cannot be deleted.
			e.do(t, "DELETE", "/api/key/"+k.ID, withKey(e.key)).wantErrors(t, "[KeyInUse]")
		})
	}
}

func TestKey_CRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var list api.KeyResponse
	e.do(t, "GET", "/api/key", withKey(e.key)).wantJSON(t, 200, &list)
	if len(list.Keys) != 1 || list.Keys[0].Algorithm != "ES256" {
		t.Fatalf("keys = %+v, want the default ES256 key", list.Keys)
	}
	def := list.Keys[0]
	e.do(t, "DELETE", "/api/key/"+def.ID, withKey(e.key)).wantErrors(t, "[KeyInUse]")

	id := "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
	var res api.KeyResponse
	e.do(t, "POST", "/api/key/generate/"+id, withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "RS256"}})).wantJSON(t, 200, &res)
	if res.Key.ID != id || res.Key.Length != 2048 {
		t.Errorf("generated key = %+v", res.Key)
	}
	e.do(t, "POST", "/api/key/generate/"+id, withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "RS256"}})).wantErrors(t, "[duplicate]keyId")
	e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "none"}})).wantErrors(t, "[invalid]key.algorithm")
	e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{}})).wantErrors(t, "[invalid]key.algorithm")
	e.do(t, "POST", "/api/key/generate/nope", withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "ES256"}})).wantErrors(t, "[couldNotConvert]keyId")

	// Not in use: deletable.
	e.do(t, "DELETE", "/api/key/"+id, withKey(e.key)).wantEmpty(t, 200)
	e.do(t, "GET", "/api/key/"+id, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "DELETE", "/api/key/"+id, withKey(e.key)).wantEmpty(t, 404)
	e.do(t, "GET", "/api/key").wantEmpty(t, 401)

	// A tenant signing with a key holds it too; an application cannot name an unknown key.
	k := e.mustGenerateKey(t, "EdDSA")
	e.mustPatchTenant(t, e.tenantID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": k.ID}})
	e.do(t, "DELETE", "/api/key/"+k.ID, withKey(e.key)).wantErrors(t, "[KeyInUse]")
	_, email := e.mustUser(t, e.appID)
	if h := headerOf(t, e.mustLogin(t, email, e.appID).Token); h["alg"] != "EdDSA" {
		t.Errorf("tenant key alg = %v", h["alg"])
	}
	e.do(t, "PATCH", "/api/application/"+e.appID, withKey(e.key), withJSON(map[string]any{"application": map[string]any{
		"jwtConfiguration": map[string]any{"accessTokenKeyId": "00000000-0000-4000-8000-000000000000"}}})).
		wantErrors(t, "[invalid]application.jwtConfiguration.accessTokenKeyId")
}

// A deleted key verifies nothing more: tokens it signed stop validating at
// once, as it leaves the JWKS.
func TestKey_DeletedKeyStopsVerifying(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k := e.mustGenerateKey(t, "ES256")
	appID := e.mustAppWithRoles(t)
	e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": k.ID}})
	_, email := e.mustUser(t, appID)
	login := e.mustLogin(t, email, appID)
	e.validate(t, login.Token).wantJSON(t, 200, nil)

	// Move the application to the default key, then delete the old one.
	app := e.mustPatchApp(t, appID, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": nil}})
	if app.JWTConfiguration.AccessTokenKeyID != "" {
		t.Fatalf("accessTokenKeyId = %q after removing it", app.JWTConfiguration.AccessTokenKeyID)
	}
	e.do(t, "DELETE", "/api/key/"+k.ID, withKey(e.key)).wantEmpty(t, 200)
	e.validate(t, login.Token).wantEmpty(t, 401)
	var all api.PublicKeyResponse
	e.do(t, "GET", "/api/jwt/public-key").wantJSON(t, 200, &all)
	if _, ok := all.PublicKeys[k.Kid]; ok {
		t.Error("a deleted key is still published")
	}
	// The session goes on with the default key.
	e.validate(t, e.mustRefresh(t, login.RefreshToken).Token).wantJSON(t, 200, nil)
}

// Every key answer says whether Latch holds the private key, as
// FusionAuth's hasPrivateKey does: true for each key pair Latch generated
// (all of its keys), and left out for HMAC keys. Generate, retrieve and
// list answer alike.
func TestKey_HasPrivateKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// hasPrivateKey reads the member from a raw key object: nil when absent.
	hasPrivateKey := func(t *testing.T, key map[string]any) any {
		t.Helper()
		v, ok := key["hasPrivateKey"]
		if !ok {
			return nil
		}
		return v
	}
	for _, tc := range []struct {
		alg  string
		want any
	}{
		{"ES256", true},
		{"RS256", true},
		{"EdDSA", true},
		{"HS256", nil},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			var made struct{ Key map[string]any }
			e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{
				"algorithm": tc.alg, "name": "hasPrivateKey " + tc.alg, "hasPrivateKey": false,
			}})).wantJSON(t, 200, &made)
			if got := hasPrivateKey(t, made.Key); got != tc.want {
				t.Errorf("generate: hasPrivateKey %v, want %v", got, tc.want)
			}
			id, _ := made.Key["id"].(string)
			var got struct{ Key map[string]any }
			e.do(t, "GET", "/api/key/"+id, withKey(e.key)).wantJSON(t, 200, &got)
			if v := hasPrivateKey(t, got.Key); v != tc.want {
				t.Errorf("retrieve: hasPrivateKey %v, want %v", v, tc.want)
			}
			var list struct{ Keys []map[string]any }
			e.do(t, "GET", "/api/key", withKey(e.key)).wantJSON(t, 200, &list)
			found := false
			for _, k := range list.Keys {
				if k["id"] == id {
					found = true
					if v := hasPrivateKey(t, k); v != tc.want {
						t.Errorf("list: hasPrivateKey %v, want %v", v, tc.want)
					}
				}
			}
			if !found {
				t.Errorf("key %s not listed", id)
			}
		})
	}
}

// The Key API spells algorithms as FusionAuth's KeyAlgorithm does: an
// Ed25519 key is Ed25519 (its JWTs' alg is EdDSA), which it takes as well
// as the JWS name; the others as their JWS algorithm. Types are KeyType.
func TestKey_AlgorithmNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ asked, algorithm, kty, jws string }{
		{"ES256", "ES256", "EC", "ES256"},
		{"RS256", "RS256", "RSA", "RS256"},
		{"HS256", "HS256", "HMAC", "HS256"},
		{"Ed25519", "Ed25519", "OKP", "EdDSA"},
		{"EdDSA", "Ed25519", "OKP", "EdDSA"},
	} {
		var res api.KeyResponse
		e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": c.asked}})).wantJSON(t, 200, &res)
		if res.Key.Algorithm != c.algorithm || res.Key.Type != c.kty {
			t.Errorf("key generated for %s: algorithm %q, type %q; want %s, %s", c.asked, res.Key.Algorithm, res.Key.Type, c.algorithm, c.kty)
		}
		var list api.KeyResponse
		e.do(t, "GET", "/api/key", withKey(e.key)).wantJSON(t, 200, &list)
		for _, k := range list.Keys {
			if k.ID == res.Key.ID && k.Algorithm != c.algorithm {
				t.Errorf("listed %s key: algorithm %q", c.asked, k.Algorithm)
			}
		}
		appID := e.mustCreateApp(t, map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": res.Key.ID}}).ID
		_, email := e.mustUser(t, appID)
		if h := headerOf(t, e.mustLogin(t, email, appID).Token); h["alg"] != c.jws {
			t.Errorf("JWT of a key generated for %s: alg %v, want %s", c.asked, h["alg"], c.jws)
		}
	}
	errs := e.do(t, "POST", "/api/key/generate", withKey(e.key), withJSON(map[string]any{"key": map[string]any{"algorithm": "ES384"}})).
		wantErrors(t, "[invalid]key.algorithm")
	if msg := errs.FieldErrors["key.algorithm"][0].Message; !strings.Contains(msg, "Ed25519") || strings.Contains(msg, "EdDSA") {
		t.Errorf("message %q, want the Key API's names", msg)
	}
}
