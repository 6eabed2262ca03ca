package identity

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// mintInput is what an access token is made from.
type mintInput struct {
	tenant   api.Tenant
	app      *api.Application // nil: no application claims
	user     storage.User
	reg      *storage.Registration // nil: not registered
	session  *storage.Session      // nil: no refresh token
	scopes   []string
	authType string
	authTime time.Time
	ttl      time.Duration // > 0: shorter than configured
	jkt      string        // DPoP key thumbprint to bind to
	// nonce is the ID token's nonce: the authorization request's.
	nonce string
	// idSID, when set, is the ID token's sid: the SSO session of the
	// authorization code grant (OpenID Connect's session), rather than
	// the refresh-token session.
	idSID string
}

// mintAccessToken signs an access token with FusionAuth's claims, typed
// at+jwt (RFC 9068 §2.1) so that no verifier takes another JWT for one,
// and returns it with its expiry instant (ms).
func (s *Service) mintAccessToken(ctx context.Context, in mintInput) (string, int64, error) {
	cfg := jwtConfig(in.tenant, in.app)
	ttl := time.Duration(cfg.TimeToLiveInSeconds) * time.Second
	if in.ttl > 0 && in.ttl < ttl {
		ttl = in.ttl
	}
	now := s.clock().Truncate(time.Second)
	exp := now.Add(ttl)
	c := s.userClaims(in, now, exp)
	if in.app != nil {
		c.Audience = api.Audience{in.app.ID}
		if in.reg != nil {
			c.ApplicationID = in.app.ID
			c.Roles = in.reg.Roles
			if c.Roles == nil {
				c.Roles = []string{} // registered without roles: "roles": []
			}
		}
	}
	if in.session != nil {
		c.SessionID = in.session.ID
		if len(in.session.Scopes) > 0 && len(in.scopes) == 0 {
			in.scopes = in.session.Scopes
		}
	}
	if len(in.scopes) > 0 {
		c.Scope = strings.Join(in.scopes, " ")
	}
	if in.jkt != "" {
		c.Confirmation = &api.Confirmation{JKT: in.jkt}
	}
	k, err := s.signingKey(ctx, cfg.AccessTokenKeyID)
	if err != nil {
		return "", 0, err
	}
	tok, err := token.Sign(k, token.TypeAccessToken, c)
	if err != nil {
		return "", 0, err
	}
	return tok, exp.UnixMilli(), nil
}

// userClaims are the claims every token of in.user has: the issuer, the
// user's identity, the times and a fresh jti.
func (s *Service) userClaims(in mintInput, now, exp time.Time) api.Claims {
	return api.Claims{
		Issuer:             s.Issuer(in.tenant),
		Subject:            in.user.ID,
		Expiry:             exp.Unix(),
		IssuedAt:           now.Unix(),
		ID:                 NewID(),
		AuthenticationType: in.authType,
		Email:              in.user.Email,
		EmailVerified:      in.user.Verified,
		PreferredUsername:  in.user.Username,
		TenantID:           in.tenant.ID,
		AuthTime:           in.authTime.Unix(),
	}
}

// ScopeOpenID is the scope that asks the token endpoint for an ID token.
const ScopeOpenID = "openid"

// mintIDToken signs the OpenID Connect ID token (Core §2) that accompanies
// accessToken, issued by the token endpoint when the openid scope was
// granted: the user's identity claims for the client (aud is the client
// id), with the lifetime of the access token and its at_hash. It is signed
// with the idTokenKeyId of the application, else of the tenant, and typed
// JWT: never at+jwt, so that it is no access token anywhere.
func (s *Service) mintIDToken(ctx context.Context, in mintInput, accessToken string, expires int64) (string, error) {
	cfg := jwtConfig(in.tenant, in.app)
	keyID := cmp.Or(cfg.IDTokenKeyID, in.tenant.JWTConfiguration.IDTokenKeyID, cfg.AccessTokenKeyID)
	k, err := s.signingKey(ctx, keyID)
	if err != nil {
		return "", err
	}
	atHash, err := token.LeftHalfHash(k.Algorithm, accessToken)
	if err != nil {
		return "", err
	}
	c := s.userClaims(in, s.clock().Truncate(time.Second), time.UnixMilli(expires))
	c.Audience = api.Audience{in.app.ID}
	c.AccessTokenHash = atHash
	if in.session != nil {
		c.SessionID = in.session.ID
	}
	if in.idSID != "" {
		c.SessionID = in.idSID
	}
	c.Nonce = in.nonce
	return token.Sign(k, token.TypeJWT, c)
}

// ValidateToken verifies an access token's signature against the live keys
// and its expiry, and returns its claims. Any fault of the token is ErrTokenInvalid,
// wrapping the cause. Only a JWT typed at+jwt is an access token: an ID
// token, signed by the same key for the same audience, is refused here,
// and so by every endpoint that takes an access token (validate, userinfo,
// introspection, revocation, the owner's revoke).
//
// A store that cannot be read when the keys are due to be read again is
// its error, not ErrTokenInvalid: an outage, not a bad token.
func (s *Service) ValidateToken(ctx context.Context, raw string) (map[string]any, error) {
	if err := s.freshKeys(ctx); err != nil {
		return nil, err
	}
	payload, _, err := token.Verify(raw, verifier{s}, token.TypeAccessToken)
	if err != nil {
		return nil, errors.Join(ErrTokenInvalid, err)
	}
	var c token.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.Join(ErrTokenInvalid, err)
	}
	if err := c.Validate(token.Expected{Now: s.now(), Leeway: 0}); err != nil {
		return nil, errors.Join(ErrTokenInvalid, err)
	}
	claims := map[string]any{}
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		return nil, errors.Join(ErrTokenInvalid, err)
	}
	return claims, nil
}
