package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Claim validation errors returned by Claims.Validate (a missing or
// out-of-range time claim is reported as ErrMalformed).
var (
	// ErrExpired: the token's exp is not after now minus the leeway.
	ErrExpired = errors.New("token: token expired")
	// ErrNotYetValid: nbf or iat lies in the future beyond the leeway.
	ErrNotYetValid = errors.New("token: token not yet valid")
	// ErrIssuer: iss is not the expected issuer.
	ErrIssuer = errors.New("token: wrong issuer")
	// ErrAudience: aud does not contain the expected audience.
	ErrAudience = errors.New("token: wrong audience")
)

// maxNumericDate is 9999-12-31T23:59:59Z; later (or negative) NumericDates
// are refused so that time arithmetic cannot overflow.
const maxNumericDate = 253402300799

// Claims is the registered-claims part of a JWT payload that Latch checks
// (RFC 7519 §4.1). The full payload stays available to callers as JSON.
// NumericDates are whole seconds since the Unix epoch (a fractional value
// fails to unmarshal); 0 means absent.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  Audience `json:"aud"`
	Expiry    int64    `json:"exp"`
	NotBefore int64    `json:"nbf,omitempty"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
}

// Audience is the "aud" claim. It unmarshals from a single string or an
// array of strings and marshals a single value as a plain string.
type Audience []string

// Contains reports whether aud is one of the audience values.
func (a Audience) Contains(aud string) bool {
	return slices.Contains(a, aud)
}

// MarshalJSON encodes one audience as a string, several as an array, and
// none as null.
func (a Audience) MarshalJSON() ([]byte, error) {
	switch len(a) {
	case 0:
		return []byte("null"), nil
	case 1:
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string, an array of strings, or null.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("token: aud must be a string or an array of strings: %w", err)
	}
	*a = Audience(list)
	return nil
}

// Expected is what Claims.Validate checks. Zero fields are not checked,
// except Now, which defaults to the current time. Leeway tolerates clock
// skew on exp, nbf and iat; a negative Leeway counts as zero.
type Expected struct {
	Issuer   string
	Audience string
	Now      time.Time
	Leeway   time.Duration
}

// Validate checks the registered claims against e, in this order:
//
//   - exp is required; a missing (0) exp, or an exp, nbf or iat that is
//     negative or after the year 9999, is an error wrapping ErrMalformed;
//   - iss must equal e.Issuer (if set), else ErrIssuer;
//   - aud must contain e.Audience (if set), else ErrAudience;
//   - exp <= now-leeway is ErrExpired (RFC 7519 §4.1.4);
//   - nbf or iat after now+leeway is ErrNotYetValid.
func (c Claims) Validate(e Expected) error {
	if c.Expiry == 0 {
		return fmt.Errorf("%w: exp claim missing", ErrMalformed)
	}
	for _, t := range []struct {
		name string
		v    int64
	}{{"exp", c.Expiry}, {"nbf", c.NotBefore}, {"iat", c.IssuedAt}} {
		if t.v < 0 || t.v > maxNumericDate {
			return fmt.Errorf("%w: %s claim out of range", ErrMalformed, t.name)
		}
	}
	if e.Issuer != "" && c.Issuer != e.Issuer {
		return ErrIssuer
	}
	if e.Audience != "" && !c.Audience.Contains(e.Audience) {
		return ErrAudience
	}
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := max(e.Leeway, 0)
	if !time.Unix(c.Expiry, 0).After(now.Add(-leeway)) {
		return ErrExpired
	}
	latest := now.Add(leeway)
	if c.NotBefore != 0 && time.Unix(c.NotBefore, 0).After(latest) {
		return fmt.Errorf("%w: nbf is in the future", ErrNotYetValid)
	}
	if c.IssuedAt != 0 && time.Unix(c.IssuedAt, 0).After(latest) {
		return fmt.Errorf("%w: iat is in the future", ErrNotYetValid)
	}
	return nil
}
