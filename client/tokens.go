package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// Tokens is what a Client keeps for a logged-in user, and the device's
// DPoP key.
type Tokens struct {
	// AccessToken is the JWT, sent as "Authorization: DPoP" with a proof
	// when it is bound to the device key (DPoPBound), else as
	// "Authorization: Bearer". Empty when no user is logged in.
	AccessToken string `json:"accessToken,omitempty"`
	// RefreshToken is sent in the Refresh-Token header when AccessToken
	// needs refreshing. It may be empty if the backend issues none.
	RefreshToken string `json:"refreshToken,omitempty"`
	// Expiry is when AccessToken expires: its exp claim, or else the login
	// response's tokenExpirationInstant. Zero means unknown.
	Expiry time.Time `json:"expiry,omitzero"`
	// User is the user the backend returned at login, if any.
	User *api.User `json:"user,omitempty"`
	// DPoPKey is the device's DPoP key (RFC 9449), a PKCS#8 DER private
	// key (P-256 when the Client made it), which signs the proof sent with
	// every request. The Client creates it at the first Login and keeps it
	// for good: it identifies the device, so it survives logout and the
	// end of a session (see TokenStore). It is a secret like the tokens:
	// never log or display it; DPoPThumbprint names it.
	DPoPKey []byte `json:"dpopKey,omitempty"`
	// TwoFactorTrustID is what the backend answered a second factor given
	// with trustDevice (Client.CompleteTwoFactor): sent with every Login,
	// it spares this device the code while the backend trusts it. Like
	// DPoPKey it outlives sessions, and like it it is a secret.
	TwoFactorTrustID string `json:"twoFactorTrustId,omitempty"`
}

// DPoPThumbprint returns the RFC 7638 thumbprint of DPoPKey's public key
// (what a bound token's cnf.jkt holds), or "" when there is no key or it
// cannot be read. It is safe to display.
func (t Tokens) DPoPThumbprint() string {
	if len(t.DPoPKey) == 0 {
		return ""
	}
	k, err := dpop.ParseKey(t.DPoPKey)
	if err != nil {
		return ""
	}
	jkt, err := dpop.Thumbprint(k.Public())
	if err != nil {
		return ""
	}
	return jkt
}

// DPoPBound reports whether AccessToken is bound to a DPoP key: its
// payload, read without verification, has a cnf.jkt claim. The Client
// sends a bound JWT with the DPoP scheme and a proof (unless DisableDPoP
// is set), an unbound one with the Bearer scheme.
func (t Tokens) DPoPBound() bool {
	return jwtJKT(t.AccessToken) != ""
}

// TokenStore persists a Client's Tokens, for example in the platform's
// Keychain or Keystore. A Client calls it with its own lock held, one call
// at a time, and treats what it loaded as current until it saves or clears;
// implementations shared by several Clients must be safe for concurrent
// use. Save must replace the stored Tokens atomically: a crash leaves the
// old Tokens or the new ones, never a mixture.
//
// The device's DPoP key outlives sessions: when a session ends (Logout,
// or the backend ending it) and the Client holds a DPoP key (or a
// TwoFactorTrustID, which outlives sessions too), it does not call Clear
// but saves Tokens holding DPoPKey and TwoFactorTrustID alone. Stored Tokens with
// an empty AccessToken mean "logged out". A Client calls Clear only when
// it holds no DPoP key, as when the stored Tokens cannot be read (Logout
// then starts over; so does Login, replacing them with a new key). An app
// that wants to forget the device key clears the store itself, with no
// Client using it.
//
// A TokenStore may also have a method Validate() error that checks its
// configuration without reading or writing anything, as FileStore does:
// Client.Validate calls it, and the Client's first method call too.
type TokenStore interface {
	// Load returns the stored Tokens, or ErrNoTokens when there are none.
	Load(ctx context.Context) (Tokens, error)
	// Save replaces the stored Tokens.
	Save(ctx context.Context, t Tokens) error
	// Clear removes the stored Tokens, the DPoP key included. Clearing an
	// empty store is not an error.
	Clear(ctx context.Context) error
}

// MemoryStore is a TokenStore in memory, for tests and for apps that want
// the user to log in on every start. The zero value is an empty store; it
// is safe for concurrent use. It keeps Tokens in their JSON encoding, so
// what Load returns shares no memory with what Save was given.
type MemoryStore struct {
	mu   sync.Mutex
	data []byte
}

// Load implements TokenStore.
func (s *MemoryStore) Load(ctx context.Context) (Tokens, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return Tokens{}, ErrNoTokens
	}
	var t Tokens
	err := json.Unmarshal(s.data, &t)
	return t, err
}

// Save implements TokenStore.
func (s *MemoryStore) Save(ctx context.Context, t Tokens) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.data = b
	s.mu.Unlock()
	return nil
}

// Clear implements TokenStore.
func (s *MemoryStore) Clear(ctx context.Context) error {
	s.mu.Lock()
	s.data = nil
	s.mu.Unlock()
	return nil
}

// Claims returns the claims of AccessToken, read without verification
// (the backend verifies the JWT; the app may only show what it says: the
// user's roles in the backend's application, the session id), and false
// when there is no JWT or its payload cannot be read.
func (t Tokens) Claims() (api.Claims, bool) {
	var c api.Claims
	payload := jwtPayload(t.AccessToken)
	if payload == nil || json.Unmarshal(payload, &c) != nil {
		return api.Claims{}, false
	}
	return c, true
}

// jwtPayload returns the decoded payload of a compact JWS, without
// verifying anything, or nil. The app cannot verify the JWT (the backend
// does); it needs only hints: when to ask for a refresh, and whether the
// JWT is bound to a DPoP key.
func jwtPayload(token string) []byte {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	return payload
}

// jwtExpiry returns the exp claim of a compact JWS, read without
// verifying anything, or the zero time if it has none or cannot be read.
func jwtExpiry(token string) time.Time {
	payload := jwtPayload(token)
	if payload == nil {
		return time.Time{}
	}
	// exp is a NumericDate (RFC 7519 §2): a JSON number, maybe fractional.
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}
	}
	// 253402300799 is 9999-12-31T23:59:59Z.
	f := *claims.Exp
	if f <= 0 || f > 253402300799 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// jwtJKT returns the cnf.jkt claim of a compact JWS (RFC 9449 §6.1), read
// without verifying anything, or "" if it has none or cannot be read.
func jwtJKT(token string) string {
	payload := jwtPayload(token)
	if payload == nil {
		return ""
	}
	var claims struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Cnf.JKT
}

// tokenExpiry is the expiry of a JWT: its exp claim, or else fallback.
func tokenExpiry(token string, fallback time.Time) time.Time {
	if exp := jwtExpiry(token); !exp.IsZero() {
		return exp
	}
	return fallback
}

// clone returns a copy of t that shares no memory with it.
func (t Tokens) clone() Tokens {
	if t.User != nil {
		var u api.User
		if b, err := json.Marshal(t.User); err == nil && json.Unmarshal(b, &u) == nil {
			t.User = &u
		} else {
			u = *t.User
			t.User = &u
		}
	}
	if t.DPoPKey != nil {
		t.DPoPKey = append([]byte(nil), t.DPoPKey...)
	}
	return t
}
