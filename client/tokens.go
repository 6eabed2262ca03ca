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
)

// Tokens is what a Client keeps for a logged-in user.
type Tokens struct {
	// AccessToken is the JWT sent as "Authorization: Bearer".
	AccessToken string `json:"accessToken"`
	// RefreshToken is sent in the Refresh-Token header when AccessToken
	// needs refreshing. It may be empty if the backend issues none.
	RefreshToken string `json:"refreshToken,omitempty"`
	// Expiry is when AccessToken expires: its exp claim, or else the login
	// response's tokenExpirationInstant. Zero means unknown.
	Expiry time.Time `json:"expiry,omitzero"`
	// User is the user the backend returned at login, if any.
	User *api.User `json:"user,omitempty"`
	// DPoPKey is reserved for the device's DPoP key (a PKCS#8 DER P-256
	// private key, RFC 9449). The Client does not use it yet; it keeps it
	// when it adopts refreshed tokens.
	DPoPKey []byte `json:"dpopKey,omitempty"`
}

// TokenStore persists a Client's Tokens, for example in the platform's
// Keychain or Keystore. A Client calls it with its own lock held, one call
// at a time, and treats what it loaded as current until it saves or clears;
// implementations shared by several Clients must be safe for concurrent
// use. Save must replace the stored Tokens atomically: a crash leaves the
// old Tokens or the new ones, never a mixture.
type TokenStore interface {
	// Load returns the stored Tokens, or ErrNoTokens when there are none.
	Load(ctx context.Context) (Tokens, error)
	// Save replaces the stored Tokens.
	Save(ctx context.Context, t Tokens) error
	// Clear removes the stored Tokens. Clearing an empty store is not an error.
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

// jwtExpiry returns the exp claim of a compact JWS, read without
// verifying anything, or the zero time if it has none or cannot be read.
// The app cannot verify the JWT (the backend does); it needs only a hint
// of when to ask for a refresh.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
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
