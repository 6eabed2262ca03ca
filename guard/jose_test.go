package guard

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/latchid/latch/internal/jws"
)

// FuzzParseJWS: whatever the input, parseJWS neither panics nor accepts a
// token without kid, with a refused header, or over maxTokenSize. That it
// refuses duplicate header names is package jws's FuzzParse.
func FuzzParseJWS(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.c2ln")
	f.Add("eyJhbGciOiJFUzI1NiIsImFsZyI6IkhTMjU2Iiwia2lkIjoiayJ9.e30.c2ln")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseJWS(raw, nil)
		if err != nil {
			return
		}
		if tok.kid == "" {
			t.Errorf("accepted without kid")
		}
		if len(raw) > maxTokenSize {
			t.Errorf("accepted %d bytes", len(raw))
		}
		j, err := jws.Parse(raw)
		if err != nil {
			t.Fatalf("accepted what jws.Parse refuses: %v", err)
		}
		if name, refused := j.Refused(false); refused {
			t.Errorf("accepted a %q header", name)
		}
	})
}

// A header is known once a token of it has verified, never before, and
// parses the same either way; knownHeaders holds at most maxKnownHeaders.
func TestKnownHeaders(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(header, payload string) string {
		input := jws.Encoding.EncodeToString([]byte(header)) + "." + jws.Encoding.EncodeToString([]byte(payload))
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return input + "." + jws.Encoding.EncodeToString(jws.LowS("ES256", sig))
	}
	now := time.Unix(1_800_000_000, 0)
	g, err := New(Config{Issuer: "https://latch.example.com", Audience: "app", LatchURL: "https://latch.example.com",
		Keys: KeyOptions{Set: StaticKeySet{{ID: "k", Algorithm: "ES256", Key: &priv.PublicKey}}},
		Now:  func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	header := `{"alg":"ES256","kid":"k","typ":"at+jwt"}`
	claims := fmt.Sprintf(`{"iss":"https://latch.example.com","aud":"app","sub":"u","exp":%d}`, now.Unix()+60)
	good := sign(header, claims)
	encoded := headerPart(good)

	bad := good[:len(good)-4] + "AAAA"
	if _, err := g.Verify(context.Background(), bad); err == nil {
		t.Fatal("a bad signature verified")
	}
	if g.headers.get(encoded) != nil {
		t.Fatal("the header of a token that failed is known")
	}
	if _, err := g.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if g.headers.get(encoded) == nil {
		t.Fatal("the header of a token that verified is not known")
	}
	fresh, err := parseAccessToken(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	known, err := parseAccessToken(good, &g.headers)
	if err != nil {
		t.Fatal(err)
	}
	if !known.known || fresh.known {
		t.Fatalf("known = %v and %v, want true and false", known.known, fresh.known)
	}
	if known.alg != fresh.alg || known.kid != fresh.kid || known.typ != fresh.typ ||
		known.jws.SigningInput != fresh.jws.SigningInput || string(known.jws.Payload) != string(fresh.jws.Payload) ||
		string(known.jws.Signature) != string(fresh.jws.Signature) || !reflect.DeepEqual(known.claims, fresh.claims) ||
		len(known.jws.Header) != len(fresh.jws.Header) {
		t.Fatalf("parsed with the known header:\n%+v\nwithout:\n%+v", known, fresh)
	}

	var k knownHeaders
	for i := range 3 * maxKnownHeaders {
		tok, err := parseJWS(sign(fmt.Sprintf(`{"alg":"ES256","kid":"k%d"}`, i), "{}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		k.add(tok)
		if n := len(*k.m.Load()); n > maxKnownHeaders {
			t.Fatalf("%d known headers", n)
		}
	}
}
