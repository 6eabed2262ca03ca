package guard_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
	"github.com/latchid/latch/internal/jws"
)

// The examples verify tokens signed here, with a StaticKeySet and a fixed
// clock, so that they run without a Latch. In production, leave Keys and
// Now out: guard fetches Latch's JWKS and uses time.Now.
var (
	exampleKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	exampleKeys   = guard.StaticKeySet{{ID: "key-1", Algorithm: "ES256", Key: &exampleKey.PublicKey}}
	exampleNow    = func() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) }
)

// exampleToken signs a Latch-shaped JWT for the example application,
// expiring exp after exampleNow, with roles.
func exampleToken(exp time.Duration, roles ...string) string {
	now := exampleNow()
	claims, _ := json.Marshal(api.Claims{
		Issuer: "https://latch.example.com", Audience: api.Audience{"3c219e58-ed0e-4b18-ad48-f4f92793ae32"},
		Subject: "8f3e5b4e-5c0f-4d38-9c5a-0d8a1f0c3a11", Email: "ana@example.org", Roles: roles,
		IssuedAt: now.Unix(), Expiry: now.Add(exp).Unix(), ID: "example",
	})
	// Latch types access tokens at+jwt, and guard takes nothing else.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: exampleKey},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "key-1"))
	obj, _ := signer.Sign(claims)
	token, _ := obj.CompactSerialize()
	// Latch's ECDSA signatures are low-S, and guard refuses the others.
	i := strings.LastIndex(token, ".")
	sig, _ := jws.Encoding.DecodeString(token[i+1:])
	return token[:i+1] + jws.Encoding.EncodeToString(jws.LowS("ES256", sig))
}

// A backend wires guard in front of its routes.
func ExampleNew() {
	g, err := guard.New(guard.Config{
		Issuer:   "https://latch.example.com",
		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32", // the Latch application id
		LatchURL: "https://latch.example.com",
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)), // refresh and JWKS failures; never tokens
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/cart", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "the cart of %s\n", claims.Subject)
	})))
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}

func ExampleGuard_Handler() {
	g, err := guard.New(guard.Config{
		Issuer:   "https://latch.example.com",
		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL: "https://latch.example.com",
		Keys:     guard.KeyOptions{Set: exampleKeys}, // in production: left out, Latch's JWKS
		Now:      exampleNow,                         // in production: left out, time.Now
	})
	if err != nil {
		log.Fatal(err)
	}
	cart := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "the cart of %s", claims.Email)
	}))

	// A valid JWT: served, with no call to Latch.
	req := httptest.NewRequest("GET", "/api/cart", nil)
	req.Header.Set("Authorization", "Bearer "+exampleToken(time.Minute))
	rec := httptest.NewRecorder()
	cart.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body)

	// No JWT and no refresh token: the user must log in.
	rec = httptest.NewRecorder()
	cart.ServeHTTP(rec, httptest.NewRequest("GET", "/api/cart", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
	// Output:
	// 200 the cart of ana@example.org
	// 401 Bearer {"error":"invalid_token","error_description":"The request carries no access token."}
}

func ExampleGuard_Verify() {
	g, err := guard.New(guard.Config{
		Issuer:   "https://latch.example.com",
		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL: "https://latch.example.com",
		Keys:     guard.KeyOptions{Set: exampleKeys},
		Now:      exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := g.Verify(context.Background(), exampleToken(time.Minute, "user"))
	fmt.Println(claims.Email, claims.HasRole("user"), err)

	_, err = g.Verify(context.Background(), exampleToken(-time.Hour))
	var refusal *guard.Error
	if errors.As(err, &refusal) {
		fmt.Println(errors.Is(err, guard.ErrExpired), refusal.Code, refusal.Description)
	}
	// Output:
	// ana@example.org true <nil>
	// true invalid_token The access token expired.
}

func ExampleRequireRole() {
	g, err := guard.New(guard.Config{
		Issuer:   "https://latch.example.com",
		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL: "https://latch.example.com",
		Keys:     guard.KeyOptions{Set: exampleKeys},
		Now:      exampleNow,
	})
	if err != nil {
		log.Fatal(err)
	}
	deleteProduct := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "deleted")
	})
	h := g.Handler(guard.RequireRole("admin", deleteProduct))

	for _, roles := range [][]string{{"user"}, {"user", "admin"}} {
		req := httptest.NewRequest("DELETE", "/api/products/sku-1", nil)
		req.Header.Set("Authorization", "Bearer "+exampleToken(time.Minute, roles...))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(roles, rec.Code)
	}
	// Output:
	// [user] 403
	// [user admin] 200
}

// A handler behind guard can be tested without Latch: WithClaims puts
// claims in the context as Handler would.
func ExampleWithClaims() {
	h := guard.RequireRole("admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := guard.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %s", claims.Email)
	}))
	req := httptest.NewRequest("GET", "/admin", nil)
	req = req.WithContext(guard.WithClaims(req.Context(), &api.Claims{Email: "ana@example.org", Roles: []string{"admin"}}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body)
	// Output:
	// 200 hello ana@example.org
}

// Latch's JWKS behind another URL, fetched with the backend's own HTTP
// client, at most every 30 seconds.
func ExampleKeyOptions() {
	g, err := guard.New(guard.Config{
		Issuer:     "https://latch.example.com",
		Audience:   "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL:   "https://latch.example.com",
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Keys: guard.KeyOptions{
			JWKSURL:            "https://keys.internal.example.com/latch/jwks.json",
			MinRefetchInterval: 30 * time.Second,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = g
}

// A backend receives Latch's revocation events, so that a revoked
// session's JWTs stop working at once rather than when they expire. The
// event here is unsigned and AcceptUnsigned is on to keep the
// example short; in production leave it off and have Latch sign events
// with an asymmetric key (signatureConfiguration), which guard checks
// against the JWKS.
func ExampleGuard_Events() {
	g, err := guard.New(guard.Config{
		Issuer: "https://latch.example.com", Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL: "https://latch.example.com", Keys: guard.KeyOptions{Set: exampleKeys}, Now: exampleNow,
		Revocations: guard.RevocationOptions{AcceptUnsigned: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	token := exampleToken(5 * time.Minute)
	_, err = g.Verify(context.Background(), token)
	fmt.Println("before:", err)

	// Latch POSTs jwt.refresh-token.revoke when the user logs out everywhere.
	event, _ := json.Marshal(api.EventRequest[api.JWTRefreshTokenRevokeEvent]{Event: api.JWTRefreshTokenRevokeEvent{
		BaseEvent: api.BaseEvent{ID: "0d9e4c5a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", Type: api.EventJWTRefreshTokenRevoke,
			CreateInstant: exampleNow().Add(time.Second).UnixMilli()},
		UserID:                         "8f3e5b4e-5c0f-4d38-9c5a-0d8a1f0c3a11",
		ApplicationTimeToLiveInSeconds: map[string]int{"3c219e58-ed0e-4b18-ad48-f4f92793ae32": 900},
		Reason:                         "global logout",
	}})
	mux := http.NewServeMux()
	mux.Handle("POST /latch/events", g.Events())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/latch/events", bytes.NewReader(event)))
	fmt.Println("event:", rec.Code)

	_, err = g.Verify(context.Background(), token)
	fmt.Println("after:", errors.Is(err, guard.ErrRevoked))
	// Output:
	// before: <nil>
	// event: 200
	// after: true
}

// A backend's own login route, which Handler does not protect, checks the
// app's DPoP proof and has Latch bind the tokens to its key; a refusal
// carries the error code to answer with.
func ExampleGuard_VerifyProof() {
	g, err := guard.New(guard.Config{
		Issuer:   "https://latch.example.com",
		Audience: "3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		LatchURL: "https://latch.example.com",
		Keys:     guard.KeyOptions{Set: exampleKeys},
		Now:      exampleNow,
		DPoP:     guard.DPoPOptions{PublicURL: "https://shop.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := api.LoginRequest{ /* the credentials */ }
		p, err := g.VerifyProof(r)
		var refusal *guard.Error
		switch {
		case err == nil:
			req.DPoPJKT = p.JKT // the tokens Latch issues are bound to the app's key
		case errors.Is(err, dpop.ErrNoProof):
			// an unbound login
		case errors.Is(err, guard.ErrUnavailable):
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		case errors.As(err, &refusal):
			http.Error(w, refusal.Code, http.StatusBadRequest)
			return
		}
		// POST req to Latch's /api/login with the API key ...
		fmt.Fprintln(w, "bound:", req.DPoPJKT != "")
	})

	key, _ := dpop.GenerateKey() // the app's device key
	proof, _ := dpop.NewProof(key, "POST", "https://shop.example.com/api/login", dpop.ProofOptions{Now: exampleNow()})
	for _, proof := range []string{proof, proof, ""} { // the second time, a replay
		r := httptest.NewRequest("POST", "/api/login", nil)
		if proof != "" {
			r.Header.Set(dpop.Header, proof)
		}
		rec := httptest.NewRecorder()
		login.ServeHTTP(rec, r)
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 bound: true
	// 400 invalid_dpop_proof
	// 200 bound: false
}
