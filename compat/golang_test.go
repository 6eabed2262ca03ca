package compat_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/latchtest"
	"github.com/latchid/latch/internal/server"
)

// The Go tests reuse the TypeScript test's kickstart (kickstartFile): its
// application has the password and refresh_token grants, a client secret
// that is required, one-time-use refresh tokens (no grace period, a reuse
// does not revoke the session) and 300-second access tokens, and its user
// is registered for it with the role tsRole.
const (
	goAccessTokenTTL = 300 * time.Second
	// goOtherAppID is a second application TestGoOIDC creates through the
	// Application API; TestGoOAuth2's Latch knows no such client.
	goOtherAppID = "4d3c2b1a-6f5e-4d7c-8b9a-1f2e3d4c5b6a"
)

// TestGoOAuth2 drives Latch's token, revocation and introspection
// endpoints with golang.org/x/oauth2, unmodified: the password grant with
// either client authentication method (RFC 6749 §2.3.1), the error codes
// and statuses of RFC 6749 §5.2, refresh through Config.TokenSource with
// rotated one-time-use refresh tokens, and RFC 7009 revocation.
func TestGoOAuth2(t *testing.T) {
	srv := startLatch(t, kickstartFile(t), server.Config{})
	ctx := goClientContext(t, nil)
	meta := discover(t, ctx, srv.URL)
	styles := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"client_secret_basic", oauth2.AuthStyleInHeader},
		{"client_secret_post", oauth2.AuthStyleInParams},
	}

	t.Run("password grant", func(t *testing.T) {
		for _, style := range styles {
			for _, tc := range []struct {
				scopes      []string
				wantRefresh bool
			}{
				{[]string{"offline_access"}, true},
				{[]string{"openid", "offline_access"}, true},
				{nil, false},
				{[]string{"openid"}, false},
			} {
				name := style.name + "/no scope"
				if len(tc.scopes) > 0 {
					name = style.name + "/" + strings.Join(tc.scopes, "+")
				}
				t.Run(name, func(t *testing.T) {
					conf := goOAuth2Config(meta, style.style, tsClientSecret, tc.scopes...)
					before := time.Now()
					tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
					if err != nil {
						t.Fatalf("PasswordCredentialsToken: %v", describe(err))
					}
					if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
						t.Errorf("access token %q of type %q, want a Bearer token", tok.AccessToken, tok.TokenType)
					}
					if got := tok.Expiry.Sub(before); got < goAccessTokenTTL-5*time.Second || got > goAccessTokenTTL+time.Second {
						t.Errorf("expires in %v, want about %v", got, goAccessTokenTTL)
					}
					if tc.wantRefresh && tok.RefreshToken == "" {
						t.Errorf("no refresh token for scope %q", tc.scopes)
					}
					if !tc.wantRefresh && (tok.RefreshToken != "" || tok.Extra("refresh_token") != nil) {
						t.Errorf("a refresh token %q for scope %q without offline_access", tok.RefreshToken, tc.scopes)
					}
					if got, want := tok.Extra("scope"), strings.Join(tc.scopes, " "); want != "" && got != want {
						t.Errorf("scope %v, want %q", got, want)
					}
					if got := tok.Extra("userId"); got != tsUserID {
						t.Errorf("userId %v, want %s", got, tsUserID)
					}
					if claims := jwtClaims(t, tok.AccessToken); claims["sub"] != tsUserID || claims["aud"] != tsApplicationID {
						t.Errorf("access token sub %v aud %v, want %s and %s", claims["sub"], claims["aud"], tsUserID, tsApplicationID)
					}
				})
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		// RFC 6749 §5.2: 400, but invalid_client may be 401 and must be
		// when the client authenticated with the Authorization header;
		// a 401 carries a WWW-Authenticate challenge (RFC 9110 §15.5.2),
		// of the client's scheme. Latch answers every invalid_client with
		// 401 and a Basic challenge. Two wrong passwords stay below the
		// tenant's lockout (5 failures within 60 s).
		for _, tc := range []struct {
			name       string
			style      oauth2.AuthStyle
			clientID   string
			secret     string
			password   string
			wantCode   string
			wantStatus int
		}{
			{"wrong password/basic", oauth2.AuthStyleInHeader, tsApplicationID, tsClientSecret, "wrong " + tsUserPassword, "invalid_grant", http.StatusBadRequest},
			{"wrong password/post", oauth2.AuthStyleInParams, tsApplicationID, tsClientSecret, "wrong " + tsUserPassword, "invalid_grant", http.StatusBadRequest},
			{"wrong client secret/basic", oauth2.AuthStyleInHeader, tsApplicationID, "wrong-" + tsClientSecret, tsUserPassword, "invalid_client", http.StatusUnauthorized},
			{"wrong client secret/post", oauth2.AuthStyleInParams, tsApplicationID, "wrong-" + tsClientSecret, tsUserPassword, "invalid_client", http.StatusUnauthorized},
			{"no client secret/basic", oauth2.AuthStyleInHeader, tsApplicationID, "", tsUserPassword, "invalid_client", http.StatusUnauthorized},
			{"no client secret/post", oauth2.AuthStyleInParams, tsApplicationID, "", tsUserPassword, "invalid_client", http.StatusUnauthorized},
			{"unknown client/basic", oauth2.AuthStyleInHeader, goOtherAppID, tsClientSecret, tsUserPassword, "invalid_client", http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				conf := goOAuth2Config(meta, tc.style, tc.secret, "offline_access")
				conf.ClientID = tc.clientID
				tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tc.password)
				if err == nil {
					t.Fatalf("PasswordCredentialsToken succeeded (access token %.20s...), want %s", tok.AccessToken, tc.wantCode)
				}
				re := retrieveError(t, err)
				if re.ErrorCode != tc.wantCode || re.Response.StatusCode != tc.wantStatus {
					t.Errorf("%d %q, want %d %q (body %s)", re.Response.StatusCode, re.ErrorCode, tc.wantStatus, tc.wantCode, re.Body)
				}
				challenge := re.Response.Header.Get("WWW-Authenticate")
				if wantChallenge := tc.wantStatus == http.StatusUnauthorized; wantChallenge != strings.HasPrefix(strings.ToLower(challenge), "basic ") {
					t.Errorf("WWW-Authenticate %q on a %d, want a Basic challenge: %v", challenge, re.Response.StatusCode, wantChallenge)
				}
				if cc := re.Response.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
			})
		}
	})

	t.Run("refresh rotates one-time-use refresh tokens", func(t *testing.T) {
		for _, style := range styles {
			t.Run(style.name, func(t *testing.T) {
				conf := goOAuth2Config(meta, style.style, tsClientSecret, "offline_access")
				first, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
				if err != nil {
					t.Fatalf("PasswordCredentialsToken: %v", describe(err))
				}

				// Config.TokenSource refreshes an expired token with the
				// refresh_token grant and keeps the rotated refresh token.
				ts := conf.TokenSource(ctx, expired(first))
				second, err := ts.Token()
				if err != nil {
					t.Fatalf("TokenSource.Token (refresh): %v", describe(err))
				}
				if second.AccessToken == first.AccessToken {
					t.Error("the refresh returned the expired access token")
				}
				if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
					t.Fatalf("refresh token %q after a OneTimeUse refresh, want a new one", second.RefreshToken)
				}
				if !second.Valid() || time.Until(second.Expiry) < goAccessTokenTTL-5*time.Second {
					t.Errorf("refreshed token expires at %v, want about %v from now", second.Expiry, goAccessTokenTTL)
				}
				if got := jwtClaims(t, second.AccessToken)["sid"]; got != jwtClaims(t, first.AccessToken)["sid"] {
					t.Errorf("sid %v after the refresh, want the session's %v", got, jwtClaims(t, first.AccessToken)["sid"])
				}
				if again, err := ts.Token(); err != nil || again.AccessToken != second.AccessToken {
					t.Errorf("a valid token was refreshed again (%v)", err)
				}

				// The spent value is refused (no grace period)...
				_, err = conf.TokenSource(ctx, expired(first)).Token()
				if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
					t.Errorf("refresh with the spent refresh token: %d %q, want 400 invalid_grant", re.Response.StatusCode, re.ErrorCode)
				}

				// ...so a source that refreshes on every call succeeds twice
				// only if it sends the rotated value the second time.
				eager := oauth2.ReuseTokenSourceWithExpiry(expired(second), conf.TokenSource(ctx, expired(second)), time.Hour)
				third, err := eager.Token()
				if err != nil {
					t.Fatalf("refresh with the rotated refresh token: %v", describe(err))
				}
				fourth, err := eager.Token()
				if err != nil {
					t.Fatalf("second refresh through the same source: %v (did it keep the spent refresh token?)", describe(err))
				}
				seen := []string{first.RefreshToken, second.RefreshToken, third.RefreshToken, fourth.RefreshToken}
				if slices.Contains(seen, "") || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != len(seen) {
					t.Errorf("refresh tokens %q, want four distinct values", seen)
				}
			})
		}
	})

	t.Run("revoked refresh token", func(t *testing.T) {
		conf := goOAuth2Config(meta, oauth2.AuthStyleInHeader, tsClientSecret, "offline_access")
		tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
		if err != nil {
			t.Fatalf("PasswordCredentialsToken: %v", describe(err))
		}
		introspect := func(token, hint string) map[string]any {
			t.Helper()
			status, body := postClientForm(t, ctx, meta.IntrospectionEndpoint, url.Values{"token": {token}, "token_type_hint": {hint}})
			if status != http.StatusOK {
				t.Fatalf("introspect: %d %s", status, body)
			}
			var out map[string]any
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("introspect: %v: %s", err, body)
			}
			return out
		}
		if got := introspect(tok.RefreshToken, "refresh_token"); got["active"] != true || got["sub"] != tsUserID {
			t.Fatalf("introspection of a fresh refresh token: %v, want active for %s", got, tsUserID)
		}

		// RFC 7009 §2.1-2.2: the client revokes its refresh token; 200.
		status, body := postClientForm(t, ctx, meta.RevocationEndpoint, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
		if status != http.StatusOK {
			t.Fatalf("revoke: %d %s, want 200", status, body)
		}
		if got := introspect(tok.RefreshToken, "refresh_token"); got["active"] != false {
			t.Errorf("introspection of the revoked refresh token: %v, want inactive", got)
		}
		if got := introspect(tok.AccessToken, "access_token"); got["active"] != false {
			t.Errorf("introspection of the revoked session's access token: %v, want inactive", got)
		}

		_, err = conf.TokenSource(ctx, expired(tok)).Token()
		if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
			t.Errorf("refresh with a revoked refresh token: %d %q, want 400 invalid_grant (RFC 6749 §5.2)", re.Response.StatusCode, re.ErrorCode)
		}

		// RFC 7009 §2.2: revoking it again is no error either.
		if status, body := postClientForm(t, ctx, meta.RevocationEndpoint, url.Values{"token": {tok.RefreshToken}}); status != http.StatusOK {
			t.Errorf("revoke again: %d %s, want 200", status, body)
		}
	})
}

// TestGoOIDC verifies the JWTs Latch issues with github.com/coreos/go-oidc,
// unmodified, the way a resource server does: a Provider from discovery
// (whose issuer must be the URL it was fetched from) and an IDTokenVerifier
// for the application's id (the JWT's aud), keys from the JWKS through a
// RemoteKeySet that refetches on an unknown kid.
func TestGoOIDC(t *testing.T) {
	clock := new(shiftedClock)
	srv := startLatch(t, kickstartFile(t), server.Config{Now: clock.Now})
	ctx := goClientContext(t, nil)

	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", srv.URL, err)
	}
	var meta struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if got, want := provider.Endpoint().TokenURL, srv.URL+"/oauth2/token"; got != want {
		t.Errorf("token endpoint %q, want %q", got, want)
	}
	if meta.JWKSURI != srv.URL+"/.well-known/jwks.json" || !slices.Contains(meta.Algs, "ES256") {
		t.Errorf("jwks_uri %q, id_token_signing_alg_values_supported %q", meta.JWKSURI, meta.Algs)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: tsApplicationID})

	// A second application the user is registered for.
	adminCall(t, ctx, srv.URL, http.MethodPost, "/api/application/"+goOtherAppID, map[string]any{"application": map[string]any{
		"name":             "Go compat (other)",
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 300},
	}}, nil)
	adminCall(t, ctx, srv.URL, http.MethodPost, "/api/user/registration/"+tsUserID, map[string]any{
		"registration": map[string]any{"applicationId": goOtherAppID}, "skipRegistrationVerification": true,
	}, nil)

	passwordGrant := func(t *testing.T) string {
		t.Helper()
		conf := &oauth2.Config{ClientID: tsApplicationID, ClientSecret: tsClientSecret, Endpoint: provider.Endpoint()}
		tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
		if err != nil {
			t.Fatalf("PasswordCredentialsToken: %v", describe(err))
		}
		return tok.AccessToken
	}

	t.Run("verifies access tokens", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token func(*testing.T) string
		}{
			{"oauth2 password grant", passwordGrant},
			{"Login API", func(t *testing.T) string { return loginAPI(t, ctx, srv.URL, tsApplicationID) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				idt, err := verifier.Verify(ctx, tc.token(t))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if idt.Issuer != srv.URL || idt.Subject != tsUserID || !slices.Equal(idt.Audience, []string{tsApplicationID}) {
					t.Errorf("iss %q sub %q aud %q, want %q, %q, [%q]", idt.Issuer, idt.Subject, idt.Audience, srv.URL, tsUserID, tsApplicationID)
				}
				if got := idt.Expiry.Sub(idt.IssuedAt); got != goAccessTokenTTL {
					t.Errorf("exp - iat = %v, want %v", got, goAccessTokenTTL)
				}
				var claims struct {
					ApplicationID string   `json:"applicationId"`
					Email         string   `json:"email"`
					Roles         []string `json:"roles"`
					TenantID      string   `json:"tid"`
				}
				if err := idt.Claims(&claims); err != nil {
					t.Fatal(err)
				}
				if claims.ApplicationID != tsApplicationID || claims.Email != tsUserEmail || !slices.Equal(claims.Roles, []string{tsRole}) || claims.TenantID != tsTenantID {
					t.Errorf("claims %+v", claims)
				}
			})
		}
	})

	t.Run("verifies ID tokens and their at_hash", func(t *testing.T) {
		conf := &oauth2.Config{ClientID: tsApplicationID, ClientSecret: tsClientSecret, Endpoint: provider.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
		tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
		if err != nil {
			t.Fatalf("PasswordCredentialsToken: %v", describe(err))
		}
		refreshed, err := conf.TokenSource(ctx, expired(tok)).Token()
		if err != nil {
			t.Fatalf("refresh: %v", describe(err))
		}
		for name, tok := range map[string]*oauth2.Token{"password grant": tok, "refresh grant": refreshed} {
			raw, _ := tok.Extra("id_token").(string)
			if raw == "" {
				t.Fatalf("%s: no id_token for the openid scope", name)
			}
			idt, err := verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("%s: Verify(id_token): %v", name, err)
			}
			if idt.Subject != tsUserID || !slices.Equal(idt.Audience, []string{tsApplicationID}) || idt.AccessTokenHash == "" {
				t.Errorf("%s: sub %q aud %q at_hash %q", name, idt.Subject, idt.Audience, idt.AccessTokenHash)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("%s: VerifyAccessToken: %v", name, err)
			}
			if err := idt.VerifyAccessToken(passwordGrant(t)); err == nil {
				t.Errorf("%s: at_hash matches another access token", name)
			}
		}
	})

	t.Run("refuses", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token func(*testing.T) string
			check func(*testing.T, error)
		}{
			{"payload altered", func(t *testing.T) string {
				h, p, s := jwtParts(t, passwordGrant(t))
				var claims map[string]any
				decodeSegment(t, p, &claims)
				claims["roles"] = []string{"admin"}
				return h + "." + encodeSegment(t, claims) + "." + s
			}, nil},
			{"signature altered", func(t *testing.T) string {
				h, p, s := jwtParts(t, passwordGrant(t))
				sig, err := base64.RawURLEncoding.DecodeString(s)
				if err != nil {
					t.Fatal(err)
				}
				sig[len(sig)/2] ^= 1
				return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig)
			}, nil},
			{"unsigned (alg none)", func(t *testing.T) string {
				h, p, _ := jwtParts(t, passwordGrant(t))
				var header map[string]any
				decodeSegment(t, h, &header)
				header["alg"] = "none"
				return encodeSegment(t, header) + "." + p + "."
			}, nil},
			{"signed by another key under Latch's kid", func(t *testing.T) string {
				h, p, _ := jwtParts(t, passwordGrant(t))
				var header struct {
					Kid string `json:"kid"`
				}
				decodeSegment(t, h, &header)
				payload, err := base64.RawURLEncoding.DecodeString(p)
				if err != nil {
					t.Fatal(err)
				}
				return signES256(t, header.Kid, payload)
			}, nil},
			{"issued for another application", func(t *testing.T) string {
				token := loginAPI(t, ctx, srv.URL, goOtherAppID)
				// The token is good, for its own application.
				other := provider.Verifier(&oidc.Config{ClientID: goOtherAppID})
				if _, err := other.Verify(ctx, token); err != nil {
					t.Fatalf("the other application's verifier refuses its token: %v", err)
				}
				return token
			}, func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "audience") {
					t.Errorf("refused for %v, want the audience", err)
				}
			}},
			{"expired", func(t *testing.T) string {
				// Issued by Latch a lifetime and a minute ago.
				clock.shift(-goAccessTokenTTL - time.Minute)
				defer clock.shift(0)
				return passwordGrant(t)
			}, func(t *testing.T, err error) {
				var expired *oidc.TokenExpiredError
				if !errors.As(err, &expired) {
					t.Errorf("refused for %v, want a TokenExpiredError", err)
				} else if d := time.Until(expired.Expiry); d > -time.Minute+5*time.Second || d < -time.Minute-5*time.Second {
					t.Errorf("expired at %v, want a minute ago", expired.Expiry)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				token := tc.token(t)
				idt, err := verifier.Verify(ctx, token)
				if err == nil {
					t.Fatalf("Verify accepted it (sub %q, aud %q)", idt.Subject, idt.Audience)
				}
				t.Logf("refused: %v", err)
				if tc.check != nil {
					tc.check(t, err)
				}
			})
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			rotate func(t *testing.T, ctx context.Context, srv *latchtest.Latch)
		}{
			{"latch key rotate", func(t *testing.T, ctx context.Context, srv *latchtest.Latch) {
				// What `latch key rotate` does, in-process.
				if _, err := srv.Server.Identity().RotateKey(ctx, tsTenantID); err != nil {
					t.Fatalf("RotateKey: %v", err)
				}
			}},
			{"Key API and accessTokenKeyId", func(t *testing.T, ctx context.Context, srv *latchtest.Latch) {
				var out struct {
					Key struct {
						ID string `json:"id"`
					} `json:"key"`
				}
				adminCall(t, ctx, srv.URL, http.MethodPost, "/api/key/generate", map[string]any{
					"key": map[string]any{"algorithm": "ES256", "name": "Go compat application key"},
				}, &out)
				adminCall(t, ctx, srv.URL, http.MethodPatch, "/api/application/"+tsApplicationID, map[string]any{
					"application": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": out.Key.ID}},
				}, nil)
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := startLatch(t, kickstartFile(t), server.Config{})
				var jwksFetches atomic.Int32
				ctx := goClientContext(t, func(r *http.Request) {
					if r.URL.Path == "/.well-known/jwks.json" {
						jwksFetches.Add(1)
					}
				})
				provider, err := oidc.NewProvider(ctx, srv.URL)
				if err != nil {
					t.Fatalf("oidc.NewProvider: %v", err)
				}
				verifier := provider.Verifier(&oidc.Config{ClientID: tsApplicationID})
				conf := &oauth2.Config{ClientID: tsApplicationID, ClientSecret: tsClientSecret, Endpoint: provider.Endpoint()}
				grant := func() string {
					t.Helper()
					tok, err := conf.PasswordCredentialsToken(ctx, tsUserEmail, tsUserPassword)
					if err != nil {
						t.Fatalf("PasswordCredentialsToken: %v", describe(err))
					}
					return tok.AccessToken
				}
				verify := func(what, token string, wantFetches int32) {
					t.Helper()
					if _, err := verifier.Verify(ctx, token); err != nil {
						t.Fatalf("Verify %s: %v", what, err)
					}
					if got := jwksFetches.Load(); got != wantFetches {
						t.Errorf("after verifying %s: %d JWKS fetches, want %d", what, got, wantFetches)
					}
				}

				before := grant()
				verify("a token of the first key", before, 1)
				verify("it again", before, 1) // from the cache

				tc.rotate(t, ctx, srv)
				after := grant()
				oldKid, newKid := jwtHeader(t, before)["kid"], jwtHeader(t, after)["kid"]
				if oldKid == newKid {
					t.Fatalf("the token after the rotation has the old kid %v", oldKid)
				}
				verify("a token of the new key", after, 2)         // an unknown kid: refetched
				verify("the token of the old key", before, 2)      // still published, now from the new set
				verify("the token of the new key again", after, 2) // cached
			})
		}
	})
}

// shiftedClock is Latch's clock, the real time shifted by an offset.
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) Now() time.Time         { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *shiftedClock) shift(by time.Duration) { c.offset.Store(int64(by)) }

// goClientContext is the test's context carrying an HTTP client for
// go-oidc and x/oauth2 (the same context key); observe, when not nil, sees
// every request.
func goClientContext(t *testing.T, observe func(*http.Request)) context.Context {
	var rt http.RoundTripper = http.DefaultTransport
	if observe != nil {
		rt = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			observe(r)
			return http.DefaultTransport.RoundTrip(r)
		})
	}
	return oidc.ClientContext(t.Context(), &http.Client{Transport: rt, Timeout: 30 * time.Second})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// httpClient returns the client goClientContext put in ctx.
func httpClient(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return c
	}
	return http.DefaultClient
}

// serverMetadata is what the OAuth tests read from discovery.
type serverMetadata struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// discover reads Latch's OpenID Provider metadata and checks that its
// issuer is the URL it was fetched from (RFC 8414 §3.3).
func discover(t *testing.T, ctx context.Context, base string) serverMetadata {
	t.Helper()
	var m serverMetadata
	status, body := do(t, ctx, http.MethodGet, base+"/.well-known/openid-configuration", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("discovery: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("discovery: %v: %s", err, body)
	}
	if m.Issuer != base || m.TokenEndpoint == "" || m.RevocationEndpoint == "" || m.IntrospectionEndpoint == "" {
		t.Fatalf("discovery from %s: %s", base, body)
	}
	return m
}

// goOAuth2Config is an x/oauth2 client of the kickstart's application.
func goOAuth2Config(m serverMetadata, style oauth2.AuthStyle, secret string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     tsApplicationID,
		ClientSecret: secret,
		Endpoint:     oauth2.Endpoint{TokenURL: m.TokenEndpoint, AuthStyle: style},
		Scopes:       scopes,
	}
}

// expired is a copy of tok, access token and refresh token, that expired a
// minute ago.
func expired(tok *oauth2.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
}

// retrieveError returns err as an *oauth2.RetrieveError, or fails.
func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want an *oauth2.RetrieveError", err)
	}
	return re
}

// describe adds a RetrieveError's status and body to its message.
func describe(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return errors.New(re.Response.Status + ": " + string(re.Body))
	}
	return err
}

// postClientForm posts a form to an /oauth2 endpoint as the kickstart's
// application, authenticated with client_secret_basic.
func postClientForm(t *testing.T, ctx context.Context, endpoint string, form url.Values) (int, []byte) {
	t.Helper()
	return do(t, ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(url.QueryEscape(tsApplicationID), url.QueryEscape(tsClientSecret))
	})
}

// adminCall calls a Latch API with the kickstart's API key and a JSON
// body; anything but 200 fails. out, when not nil, receives the answer.
func adminCall(t *testing.T, ctx context.Context, base, method, path string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, ctx, method, base+path, bytes.NewReader(b), func(r *http.Request) {
		r.Header.Set("Authorization", tsAPIKey)
		r.Header.Set("Content-Type", "application/json")
	})
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
}

// loginAPI logs the kickstart's user in to an application with the Login
// API and returns the JWT.
func loginAPI(t *testing.T, ctx context.Context, base, applicationID string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	adminCall(t, ctx, base, http.MethodPost, "/api/login", map[string]any{
		"loginId": tsUserEmail, "password": tsUserPassword, "applicationId": applicationID,
	}, &out)
	if out.Token == "" {
		t.Fatal("the Login API answered no token")
	}
	return out.Token
}

// do sends one request and returns the status and body.
func do(t *testing.T, ctx context.Context, method, target string, body io.Reader, prepare func(*http.Request)) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(req)
	}
	res, err := httpClient(ctx).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return res.StatusCode, b
}

// jwtParts splits a compact JWS.
func jwtParts(t *testing.T, jwt string) (header, payload, signature string) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", jwt)
	}
	return parts[0], parts[1], parts[2]
}

// jwtHeader and jwtClaims decode a JWT's parts without verifying it.
func jwtHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	h, _, _ := jwtParts(t, jwt)
	var out map[string]any
	decodeSegment(t, h, &out)
	return out
}

func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	_, p, _ := jwtParts(t, jwt)
	var out map[string]any
	decodeSegment(t, p, &out)
	return out
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q: %v", seg, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("segment %s: %v", b, err)
	}
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signES256 signs payload with a fresh P-256 key under the given kid.
func signES256(t *testing.T, kid string, payload []byte) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
