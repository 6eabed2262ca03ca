package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/latchid/latch/dpop"
)

// An app makes a device key once, keeps it with its tokens, and sends a
// fresh proof with every request.
func ExampleNewProof() {
	key, err := dpop.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	stored, err := dpop.MarshalKey(key) // for client.Tokens.DPoPKey
	if err != nil {
		log.Fatal(err)
	}

	// Later, perhaps in another run of the app.
	device, err := dpop.ParseKey(stored)
	if err != nil {
		log.Fatal(err)
	}
	accessToken := "eyJhbGciOiJFUzI1NiJ9.e30.c2ln" // from the login
	proof, err := dpop.NewProof(device, "GET", "https://shop.example.com/api/cart", dpop.ProofOptions{AccessToken: accessToken})
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest("GET", "https://shop.example.com/api/cart", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "DPoP "+accessToken)
	req.Header.Set(dpop.Header, proof)
	fmt.Println(strings.Count(req.Header.Get("DPoP"), "."))
	// Output: 2
}

// A backend checks the proof of every request that presents a DPoP-bound
// token: the proof is for this request, signed by the key the token is
// bound to, and new.
func ExampleVerifier_Verify() {
	v, err := dpop.NewVerifier(dpop.Config{
		Replay: &dpop.MemoryReplayCache{}, // one instance; several need a shared cache
	})
	if err != nil {
		log.Fatal(err)
	}
	const publicURL = "https://shop.example.com"
	boundJKT := "" // the access token's cnf.jkt, from guard's verification of it
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
		raw, err := dpop.FromHeader(r.Header)
		if err == nil {
			_, err = v.Verify(r.Context(), raw, dpop.Request{
				Method:      r.Method,
				URL:         publicURL + r.URL.EscapedPath(),
				AccessToken: token,
				BoundJKT:    boundJKT,
			})
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
			http.Error(w, "invalid DPoP proof", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "the cart")
	})

	// An app's request.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	boundJKT, _ = dpop.Thumbprint(key.Public())
	proof, _ := dpop.NewProof(key, "GET", publicURL+"/api/cart", dpop.ProofOptions{AccessToken: "token"})
	for range 2 { // the second is a replay
		req := httptest.NewRequest("GET", "/api/cart", nil)
		req.Header.Set("Authorization", "DPoP token")
		req.Header.Set(dpop.Header, proof)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 200
	// 401
}

// A server that requires nonces answers use_dpop_nonce with one; the
// client retries with it. Nodes sharing the secret accept each other's.
func ExampleHMACNonces() {
	secret := make([]byte, 32) // in production: random, shared by every node
	nonces, err := dpop.NewHMACNonces(secret, 0)
	if err != nil {
		log.Fatal(err)
	}
	v, err := dpop.NewVerifier(dpop.Config{Replay: &dpop.MemoryReplayCache{}, Nonce: nonces})
	if err != nil {
		log.Fatal(err)
	}
	key, _ := dpop.GenerateKey()
	req := dpop.Request{Method: "POST", URL: "https://latch.example.com/oauth2/token"}

	proof, _ := dpop.NewProof(key, req.Method, req.URL, dpop.ProofOptions{})
	_, err = v.Verify(context.Background(), proof, req)
	var nonceErr *dpop.NonceError
	if errors.As(err, &nonceErr) {
		fmt.Println("use_dpop_nonce") // with nonceErr.Nonce in the DPoP-Nonce header
	}

	proof, _ = dpop.NewProof(key, req.Method, req.URL, dpop.ProofOptions{Nonce: nonceErr.Nonce})
	_, err = v.Verify(context.Background(), proof, req)
	fmt.Println(err)
	// Output:
	// use_dpop_nonce
	// <nil>
}

// The thumbprint of a device key is what Latch puts in cnf.jkt.
func ExampleThumbprint() {
	// The key of RFC 9449's examples.
	x, _ := b64.DecodeString("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")
	y, _ := b64.DecodeString("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		log.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(pub)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(jkt)
	// Output: 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I
}

// FromHeader takes the one DPoP header of a request.
func ExampleFromHeader() {
	h := http.Header{}
	_, err := dpop.FromHeader(h)
	fmt.Println(errors.Is(err, dpop.ErrNoProof))
	h.Add("DPoP", "a.b.c")
	h.Add("DPoP", "d.e.f")
	_, err = dpop.FromHeader(h)
	fmt.Println(errors.Is(err, dpop.ErrMalformed))
	// Output:
	// true
	// true
}

// A server that should record a proof only for a request worth it checks
// the proof first, looks at what else the request carries, and records
// the proof only then, before it acts on the request. A proof that comes
// without an access token is charged to the client's address, not to a
// key the client may have made up for this one request.
func ExampleVerifier_Check() {
	v, err := dpop.NewVerifier(dpop.Config{Replay: &dpop.MemoryReplayCache{}})
	if err != nil {
		log.Fatal(err)
	}
	key, err := dpop.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	const refreshURL = "https://id.example.com/api/jwt/refresh"
	proof, err := dpop.NewProof(key, "POST", refreshURL, dpop.ProofOptions{})
	if err != nil {
		log.Fatal(err)
	}
	live := func(refreshToken string) bool { return refreshToken == "a live one" }

	refresh := func(refreshToken string) error {
		p, err := v.Check(context.Background(), proof, dpop.Request{Method: "POST", URL: refreshURL, Client: "203.0.113.9"})
		if err != nil {
			return err // invalid_dpop_proof
		}
		if !live(refreshToken) {
			return errors.New("invalid refresh token") // and nothing recorded
		}
		if err := v.Record(context.Background(), p); err != nil {
			return err // a replay, or the cache refused
		}
		return nil // issue the tokens
	}
	fmt.Println(refresh("made up"))
	fmt.Println(refresh("a live one"))
	fmt.Println(errors.Is(refresh("a live one"), dpop.ErrReplay))
	// Output:
	// invalid refresh token
	// <nil>
	// true
}
