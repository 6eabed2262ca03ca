package token

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestClaimsValidate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const n = 1_700_000_000
	base := Claims{Issuer: "https://latch.example", Subject: "u", Audience: Audience{"app"}, Expiry: n + 300, IssuedAt: n - 10, ID: "j"}
	with := func(f func(*Claims)) Claims { c := base; f(&c); return c }
	exp := Expected{Issuer: "https://latch.example", Audience: "app", Now: now}
	withExp := func(f func(*Expected)) Expected { e := exp; f(&e); return e }

	tests := []struct {
		name   string
		claims Claims
		exp    Expected
		want   error
	}{
		{"valid", base, exp, nil},
		{"nothing expected", base, Expected{Now: now}, nil},

		// exp
		{"expired", with(func(c *Claims) { c.Expiry = n - 1 }), exp, ErrExpired},
		{"exp equals now", with(func(c *Claims) { c.Expiry = n }), exp, ErrExpired},
		{"exp one second ahead", with(func(c *Claims) { c.Expiry = n + 1 }), exp, nil},
		{"exp equals now, sub-second later", with(func(c *Claims) { c.Expiry = n }), withExp(func(e *Expected) { e.Now = now.Add(500 * time.Millisecond) }), ErrExpired},
		{"exp just ahead of a fractional now", with(func(c *Claims) { c.Expiry = n + 1 }), withExp(func(e *Expected) { e.Now = now.Add(999 * time.Millisecond) }), nil},
		{"expired within leeway", with(func(c *Claims) { c.Expiry = n - 30 }), withExp(func(e *Expected) { e.Leeway = time.Minute }), nil},
		{"expired exactly at leeway", with(func(c *Claims) { c.Expiry = n - 60 }), withExp(func(e *Expected) { e.Leeway = time.Minute }), ErrExpired},
		{"expired beyond leeway", with(func(c *Claims) { c.Expiry = n - 61 }), withExp(func(e *Expected) { e.Leeway = time.Minute }), ErrExpired},
		{"negative leeway counts as zero", with(func(c *Claims) { c.Expiry = n + 30 }), withExp(func(e *Expected) { e.Leeway = -time.Minute }), nil},
		{"exp missing", with(func(c *Claims) { c.Expiry = 0 }), exp, ErrMalformed},
		{"exp negative", with(func(c *Claims) { c.Expiry = -1 }), exp, ErrMalformed},
		{"exp beyond year 9999", with(func(c *Claims) { c.Expiry = 1 << 62 }), exp, ErrMalformed},
		{"exp at year 9999", with(func(c *Claims) { c.Expiry = maxNumericDate }), exp, nil},

		// nbf / iat
		{"nbf in the past", with(func(c *Claims) { c.NotBefore = n - 1 }), exp, nil},
		{"nbf now", with(func(c *Claims) { c.NotBefore = n }), exp, nil},
		{"nbf in the future", with(func(c *Claims) { c.NotBefore = n + 10 }), exp, ErrNotYetValid},
		{"nbf in the future within leeway", with(func(c *Claims) { c.NotBefore = n + 10 }), withExp(func(e *Expected) { e.Leeway = 30 * time.Second }), nil},
		{"nbf in the future beyond leeway", with(func(c *Claims) { c.NotBefore = n + 31 }), withExp(func(e *Expected) { e.Leeway = 30 * time.Second }), ErrNotYetValid},
		{"nbf huge", with(func(c *Claims) { c.NotBefore = 1<<63 - 1 }), exp, ErrMalformed},
		{"nbf negative", with(func(c *Claims) { c.NotBefore = -5 }), exp, ErrMalformed},
		{"iat in the future", with(func(c *Claims) { c.IssuedAt = n + 120 }), exp, ErrNotYetValid},
		{"iat in the future within leeway", with(func(c *Claims) { c.IssuedAt = n + 120 }), withExp(func(e *Expected) { e.Leeway = 2 * time.Minute }), nil},
		{"iat absent", with(func(c *Claims) { c.IssuedAt = 0 }), exp, nil},

		// iss
		{"wrong iss", with(func(c *Claims) { c.Issuer = "https://evil.example" }), exp, ErrIssuer},
		{"iss missing", with(func(c *Claims) { c.Issuer = "" }), exp, ErrIssuer},
		{"iss differs by trailing slash", with(func(c *Claims) { c.Issuer = "https://latch.example/" }), exp, ErrIssuer},
		{"iss not checked", with(func(c *Claims) { c.Issuer = "x" }), withExp(func(e *Expected) { e.Issuer = "" }), nil},

		// aud
		{"aud in array", with(func(c *Claims) { c.Audience = Audience{"other", "app"} }), exp, nil},
		{"aud not in array", with(func(c *Claims) { c.Audience = Audience{"other", "more"} }), exp, ErrAudience},
		{"aud missing", with(func(c *Claims) { c.Audience = nil }), exp, ErrAudience},
		{"aud differs in case", with(func(c *Claims) { c.Audience = Audience{"APP"} }), exp, ErrAudience},
		{"aud not checked", with(func(c *Claims) { c.Audience = nil }), withExp(func(e *Expected) { e.Audience = "" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.claims.Validate(tt.exp)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestClaimsValidateFromJSON decodes payloads with aud as a string and as
// an array, as tokens from other issuers carry them.
func TestClaimsValidateFromJSON(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	e := Expected{Issuer: "iss", Audience: "app", Now: now}
	tests := []struct {
		payload string
		want    error
	}{
		{`{"iss":"iss","aud":"app","exp":1700000100}`, nil},
		{`{"iss":"iss","aud":["x","app"],"exp":1700000100}`, nil},
		{`{"iss":"iss","aud":"other","exp":1700000100}`, ErrAudience},
		{`{"iss":"iss","aud":["other"],"exp":1700000100}`, ErrAudience},
		{`{"iss":"iss","aud":[],"exp":1700000100}`, ErrAudience},
		{`{"iss":"iss","aud":null,"exp":1700000100}`, ErrAudience},
		{`{"iss":"iss","aud":"app"}`, ErrMalformed},
		{`{"iss":"iss","aud":"app","exp":1699999999}`, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			var c Claims
			if err := json.Unmarshal([]byte(tt.payload), &c); err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(e); !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClaimsValidateDefaultsToCurrentTime(t *testing.T) {
	future := Claims{Expiry: time.Now().Add(time.Hour).Unix()}
	if err := future.Validate(Expected{}); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	past := Claims{Expiry: time.Now().Add(-time.Hour).Unix()}
	if err := past.Validate(Expected{}); !errors.Is(err, ErrExpired) {
		t.Fatalf("Validate = %v, want ErrExpired", err)
	}
}

func TestAudienceJSON(t *testing.T) {
	unmarshal := []struct {
		in      string
		want    Audience
		wantErr bool
	}{
		{`"app"`, Audience{"app"}, false},
		{`""`, Audience{""}, false},
		{`["a","b"]`, Audience{"a", "b"}, false},
		{`["a"]`, Audience{"a"}, false},
		{`[]`, Audience{}, false},
		{`null`, nil, false},
		{` "app" `, Audience{"app"}, false},
		{`1`, nil, true},
		{`true`, nil, true},
		{`{"aud":"a"}`, nil, true},
		{`[1]`, nil, true},
		{`[["a"]]`, nil, true},
		{`"unterminated`, nil, true},
	}
	for _, tt := range unmarshal {
		var a Audience
		err := json.Unmarshal([]byte(tt.in), &a)
		if (err != nil) != tt.wantErr {
			t.Errorf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !slices.Equal(a, tt.want) {
			t.Errorf("Unmarshal(%s) = %q, want %q", tt.in, a, tt.want)
		}
	}

	marshal := []struct {
		in   Audience
		want string
	}{
		{nil, `null`},
		{Audience{}, `null`},
		{Audience{"app"}, `"app"`},
		{Audience{"a", "b"}, `["a","b"]`},
	}
	for _, tt := range marshal {
		got, err := json.Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}

	// Inside Claims the single value is a string too.
	b, err := json.Marshal(Claims{Audience: Audience{"app"}, Expiry: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"iss":"","sub":"","aud":"app","exp":1,"iat":0,"jti":""}`; string(b) != want {
		t.Fatalf("Marshal(Claims) = %s, want %s", b, want)
	}
}
