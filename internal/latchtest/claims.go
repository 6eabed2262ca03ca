package latchtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// Claims decodes a JWT's payload into a T (a map or api.Claims), without
// verifying it: for tests that look at what Latch put in a token whose
// signature other tests check.
func Claims[T any](t testing.TB, jwt string) T {
	t.Helper()
	var c T
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("JWT claims: %v", err)
	}
	return c
}
