package api

import (
	"encoding/json"
	"slices"
)

// Claims are the claims of a Latch access token: FusionAuth's set
// (RFC 9068 in spirit) and, for DPoP-bound tokens, cnf.jkt (RFC 9449 §6).
type Claims struct {
	Issuer             string   `json:"iss"`
	Subject            string   `json:"sub"`
	Audience           Audience `json:"aud,omitempty"`
	Expiry             int64    `json:"exp"`
	IssuedAt           int64    `json:"iat"`
	NotBefore          int64    `json:"nbf,omitempty"`
	ID                 string   `json:"jti"`
	AuthenticationType string   `json:"authenticationType,omitempty"`
	Email              string   `json:"email,omitempty"`
	EmailVerified      bool     `json:"email_verified"`
	PreferredUsername  string   `json:"preferred_username,omitempty"`
	ApplicationID      string   `json:"applicationId,omitempty"`
	// Roles is present, possibly empty, when the user is registered for
	// the application, and absent otherwise (FusionAuth's rule).
	Roles        []string      `json:"roles,omitzero"`
	SessionID    string        `json:"sid,omitempty"`
	TenantID     string        `json:"tid,omitempty"`
	AuthTime     int64         `json:"auth_time,omitempty"`
	Scope        string        `json:"scope,omitempty"`
	Confirmation *Confirmation `json:"cnf,omitempty"`
	// AccessTokenHash, in an ID token, is the at_hash of the access token
	// issued with it (OpenID Connect Core §3.1.3.6).
	AccessTokenHash string `json:"at_hash,omitempty"`
	// Nonce, in an ID token, is the nonce of the authorization request
	// (OpenID Connect Core §3.1.2.1), echoed for the client to check.
	Nonce string `json:"nonce,omitempty"`
}

// Confirmation binds a token to a key: JKT is the RFC 7638 thumbprint of
// the client's DPoP public key.
type Confirmation struct {
	JKT string `json:"jkt,omitempty"`
}

// HasRole reports whether the claims grant the role.
func (c *Claims) HasRole(role string) bool {
	return slices.Contains(c.Roles, role)
}

// Audience is the aud claim: one value is sent as a string, several as an array.
type Audience []string

// MarshalJSON writes one audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// Contains reports whether v is one of the audiences.
func (a Audience) Contains(v string) bool { return slices.Contains(a, v) }
