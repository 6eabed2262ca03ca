package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/client"
)

// exampleBackend is a minimal app backend: POST /api/login, a guarded
// GET /api/cart, GET /api/products/{sku}, which knows no product, and
// POST /api/logout. (Its JWT is not signed; a real
// backend's guard verifies it.)
func exampleBackend() *httptest.Server {
	payload, _ := json.Marshal(map[string]any{"sub": "ana", "exp": time.Now().Add(10 * time.Minute).Unix()})
	jwt := "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var req api.LoginRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.LoginID != "ana@example.org" || req.Password != "correct horse battery" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(api.LoginResponse{
			User:         &api.User{Email: req.LoginID},
			Token:        jwt,
			RefreshToken: "refresh-token",
		})
	})
	mux.HandleFunc("GET /api/cart", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+jwt {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"items":[]}`)
	})
	mux.HandleFunc("GET /api/products/{sku}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":"not_found","message":"No product %s."}`, r.PathValue("sku"))
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {})
	return httptest.NewServer(mux)
}

func Example() {
	backend := exampleBackend()
	defer backend.Close()

	c := &client.Client{
		BaseURL:         backend.URL, // http:// is fine for a loopback address
		OnLoginRequired: func() { fmt.Println("please log in again") },
	}
	ctx := context.Background()
	user, err := c.Login(ctx, "ana@example.org", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", user.Email)

	resp, err := c.HTTP().Get(backend.URL + "/api/cart")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	if err := c.Logout(ctx, false); err != nil {
		log.Fatal(err)
	}
	_, err = c.Tokens(ctx)
	fmt.Println("logged out:", errors.Is(err, client.ErrLoginRequired))
	// Output:
	// logged in as ana@example.org
	// 200 OK {"items":[]}
	// logged out: true
}

func ExampleClient_Transport() {
	backend := exampleBackend()
	defer backend.Close()

	c := &client.Client{BaseURL: backend.URL}
	if _, err := c.Login(context.Background(), "ana@example.org", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	// Any *http.Client can use the Client's transport.
	hc := &http.Client{Transport: c.Transport(), Timeout: 10 * time.Second}
	resp, err := hc.Get(backend.URL + "/api/cart")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}

func ExampleAPIError() {
	backend := exampleBackend()
	defer backend.Close()

	c := &client.Client{BaseURL: backend.URL}
	_, err := c.Login(context.Background(), "ana@example.org", "wrong")
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		fmt.Println("wrong email or password")
	}
	// Output: wrong email or password
}

// An app checks the backend's answers to its own requests with
// CheckResponse, and branches on the status or the JSON error code.
func ExampleCheckResponse() {
	backend := exampleBackend()
	defer backend.Close()

	c := &client.Client{BaseURL: backend.URL}
	resp, err := c.HTTP().Get(backend.URL + "/api/products/NOPE")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if err := client.CheckResponse(resp); err != nil {
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Code == "not_found" {
			fmt.Println("not found:", apiErr.Message)
		}
		fmt.Println(err)
		return
	}
	fmt.Println("found") // and decode resp.Body
	// Output:
	// not found: No product NOPE.
	// client: backend answered 404 Not Found: No product NOPE.
}

// An app checks its configuration at start, before it reads the stored
// session or sends anything.
func ExampleClient_Validate() {
	c := &client.Client{
		BaseURL: "http://shop.example.com",
		Store:   &client.FileStore{Path: ""},
	}
	err := c.Validate()
	if errors.Is(err, client.ErrInsecureHTTP) {
		fmt.Println("use https")
	}
	var cfgErr *client.ConfigError
	if errors.As(err, &cfgErr) {
		fmt.Println("first bad field:", cfgErr.Field)
	}
	fmt.Println(err)
	// Output:
	// use https
	// first bad field: BaseURL
	// client: BaseURL "http://shop.example.com": http:// to a host that is not loopback: refusing it, since the backend receives passwords (use https, or set AllowInsecureHTTP)
	// client: FileStore.Path: not set
}

func ExampleFileStore() {
	dir, err := os.MkdirTemp("", "tokens")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store := &client.FileStore{
		Path:    filepath.Join(dir, "tokens"),
		KeyPath: filepath.Join(dir, "tokens.key"), // created, mode 0600, on first Save
	}
	ctx := context.Background()
	if err := store.Save(ctx, client.Tokens{AccessToken: "a.b.c", RefreshToken: "refresh-token"}); err != nil {
		log.Fatal(err)
	}
	tok, err := store.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.RefreshToken)

	// A fresh start after logout: Clear, and Load reports no tokens.
	store.Clear(ctx)
	_, err = store.Load(ctx)
	fmt.Println(errors.Is(err, client.ErrNoTokens))
	// Output:
	// refresh-token
	// true
}

// An app's "session" screen shows whether DPoP protects the tokens,
// without showing the key.
func ExampleTokens_DPoPThumbprint() {
	backend := exampleBackend() // a backend that ignores DPoP
	defer backend.Close()

	c := &client.Client{BaseURL: backend.URL}
	ctx := context.Background()
	if _, err := c.Login(ctx, "ana@example.org", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	tok, err := c.Tokens(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("device key:", tok.DPoPThumbprint() != "")
	fmt.Println("JWT bound to it:", tok.DPoPBound())
	// Output:
	// device key: true
	// JWT bound to it: false
}
