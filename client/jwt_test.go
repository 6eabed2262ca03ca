package client

import (
	"encoding/base64"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/latchid/latch/api"
)

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	enc := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name, token string
		want        time.Time
	}{
		{"Integer", enc(`{"exp":1700000000}`), time.Unix(1700000000, 0)},
		{"Fraction", enc(`{"exp":1700000000.5}`), time.Unix(1700000000, 5e8)},
		{"Exponent", enc(`{"exp":1.7e9}`), time.Unix(1700000000, 0)},
		{"NoExp", enc(`{"sub":"x"}`), time.Time{}},
		{"StringExp", enc(`{"exp":"1700000000"}`), time.Time{}},
		{"NegativeExp", enc(`{"exp":-1}`), time.Time{}},
		{"HugeExp", enc(`{"exp":1e300}`), time.Time{}},
		{"NotJSON", enc(`not json`), time.Time{}},
		{"BadBase64", "a.!!!.c", time.Time{}},
		{"TwoParts", "a.b", time.Time{}},
		{"JWE", "a.b.c.d.e", time.Time{}},
		{"Empty", "", time.Time{}},
	}
	for _, tt := range tests {
		if got := jwtExpiry(tt.token); !got.Equal(tt.want) {
			t.Errorf("%s: jwtExpiry = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Padding on the payload segment is tolerated.
	padded := "eyJhbGciOiJFUzI1NiJ9." + base64.URLEncoding.EncodeToString([]byte(`{"exp":17}`)) + ".c2ln"
	if got := jwtExpiry(padded); !got.Equal(time.Unix(17, 0)) {
		t.Errorf("padded: jwtExpiry = %v", got)
	}
}

func TestTokens_Claims(t *testing.T) {
	t.Parallel()
	enc := func(payload string) string {
		return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	tests := []struct {
		name, token string
		want        api.Claims
		ok          bool
	}{
		{"Claims", enc(`{"sub":"u1","roles":["admin"],"sid":"s1","exp":17}`),
			api.Claims{Subject: "u1", Roles: []string{"admin"}, SessionID: "s1", Expiry: 17}, true},
		{"NotJSON", enc(`not json`), api.Claims{}, false},
		{"NotAnObject", enc(`[1]`), api.Claims{}, false},
		{"TwoParts", "a.b", api.Claims{}, false},
		{"NoToken", "", api.Claims{}, false},
	}
	for _, tt := range tests {
		got, ok := Tokens{AccessToken: tt.token}.Claims()
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Claims = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFileStoreFor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:8080", "tokens-http-127.0.0.1-8080"},
		{"https://Shop.Example.com/", "tokens-https-shop.example.com-443"},
		{"http://[::1]:8080/base", "tokens-http-__1-8080"},
		{"https://shop.example.com:8443/../x", "tokens-https-shop.example.com-8443"},
	} {
		fs := FileStoreFor(dir, mustParse(t, tc.url))
		if fs.Path != filepath.Join(dir, tc.want) || fs.KeyPath != filepath.Join(dir, StoreKeyFile) {
			t.Errorf("FileStoreFor(%s) = %s, %s; want %s", tc.url, fs.Path, fs.KeyPath, tc.want)
		}
	}
}

func TestOriginOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b string }{
		{"https://Shop.Example.com/x", "https://shop.example.com:443/y"},
		{"http://127.0.0.1/", "http://127.0.0.1:80"},
		{"http://[::1]:8080/a", "http://[::1]:8080/b"},
	}
	for _, tt := range tests {
		a, b := mustParse(t, tt.a), mustParse(t, tt.b)
		if originOf(a) != originOf(b) {
			t.Errorf("originOf(%s) = %s, originOf(%s) = %s; want equal", tt.a, originOf(a), tt.b, originOf(b))
		}
	}
	for _, tt := range []struct{ a, b string }{
		{"https://shop.example.com", "http://shop.example.com"},
		{"https://shop.example.com", "https://shop.example.com:8443"},
		{"https://shop.example.com", "https://evil.example.com"},
	} {
		if originOf(mustParse(t, tt.a)) == originOf(mustParse(t, tt.b)) {
			t.Errorf("%s and %s have the same origin", tt.a, tt.b)
		}
	}
}
