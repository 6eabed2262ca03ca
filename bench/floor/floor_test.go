package floor

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		durable bool
		sync    int // PRAGMA synchronous: 2 FULL, 0 OFF
	}{
		{"durable", true, 2},
		{"nosync", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), filepath.Join(t.TempDir(), "floor.db"), tc.durable)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var sync int
			if err := s.db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != tc.sync {
				t.Errorf("synchronous = %d, %v; want %d", sync, err, tc.sync)
			}
			testRotation(t, s)
		})
	}
}

func testRotation(t *testing.T, s *Server) {
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	post := func(path, token string) (int, answer) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+path, url.Values{"refresh_token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, a
	}
	code, first := post("/issue", "")
	if code != http.StatusOK || first.RefreshToken == "" {
		t.Fatalf("issue: %d %+v", code, first)
	}
	code, second := post("/refresh", first.RefreshToken)
	if code != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh: %d %+v", code, second)
	}
	verifyES256(t, s.PublicKey(), second.Token)
	if code, _ := post("/refresh", first.RefreshToken); code != http.StatusUnauthorized {
		t.Errorf("the rotated-away token refreshed again: %d", code)
	}
	if code, _ := post("/refresh", second.RefreshToken); code != http.StatusOK {
		t.Errorf("the new token was refused: %d", code)
	}
	if code, _ := post("/refresh", ""); code != http.StatusBadRequest {
		t.Errorf("no token: %d", code)
	}
	if v, err := s.SQLiteVersion(context.Background()); err != nil || !strings.HasPrefix(v, "3.") {
		t.Errorf("SQLiteVersion = %q, %v", v, err)
	}
}

func verifyES256(t *testing.T, pub *ecdsa.PublicKey, jwt string) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT with %d parts", len(parts))
	}
	var header struct{ Alg, Kid string }
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(h, &header); err != nil || header.Alg != "ES256" {
		t.Fatalf("header %s: %v", h, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %d bytes: %v", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		t.Fatal("the JWT's signature does not verify")
	}
}
