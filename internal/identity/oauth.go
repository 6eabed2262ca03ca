package identity

import (
	"context"
	"errors"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

func invalidClient(reason, description string) *api.OAuthError {
	return &api.OAuthError{Code: api.OAuthInvalidClient, Description: description, Reason: reason}
}

// AuthenticateClient authenticates an OAuth client (the application whose
// id is the client id). A secret is required when the application's
// clientAuthenticationPolicy is Required, and checked whenever one is sent.
// Failures are *api.OAuthError (invalid_client, or invalid_request for a
// missing client id).
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (api.Application, error) {
	if clientID == "" {
		return api.Application{}, &api.OAuthError{Code: api.OAuthInvalidRequest, Description: "The client_id parameter is required.", Reason: "missing_client_id"}
	}
	app, err := s.application(ctx, "", clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return api.Application{}, invalidClient("invalid_client_id", "The client could not be authenticated.")
	} else if err != nil {
		return api.Application{}, err
	}
	switch {
	case secret != "":
		if !token.EqualHash(token.HashSecret(secret), app.ClientSecretHash) {
			return api.Application{}, invalidClient("invalid_client_authentication", "The client could not be authenticated.")
		}
	case app.OAuthConfiguration.ClientAuthenticationPolicy == api.ClientAuthRequired:
		return api.Application{}, invalidClient("client_authentication_missing", "The client must authenticate with its client secret.")
	}
	if !app.Active {
		return api.Application{}, invalidClient("invalid_client_id", "The client is not active.")
	}
	return app.Application, nil
}

// Introspect answers RFC 7662 for an access token (or, with the hint
// refresh_token, a refresh token) presented by a client. An inactive token
// is {"active": false}; a token issued to another client is
// ErrUnauthorized.
func (s *Service) Introspect(ctx context.Context, clientID, raw, hint string) (map[string]any, error) {
	inactive := map[string]any{"active": false}
	if hint == "refresh_token" {
		sess, match, err := s.store.FindSession(ctx, token.HashRefreshToken(raw))
		if err == nil && match == storage.MatchCurrent && sess.RevokedAt.IsZero() && s.clock().Before(sess.ExpiresAt) {
			if clientID != "" && sess.ApplicationID != clientID {
				return nil, ErrUnauthorized
			}
			out := map[string]any{
				"active": true, "token_type": "refresh_token", "client_id": sess.ApplicationID, "sub": sess.UserID,
				"exp": sess.ExpiresAt.Unix(), "iat": sess.Inserted.Unix(), "sid": sess.ID, "tid": sess.TenantID,
			}
			if sess.DPoPJKT != "" {
				out["cnf"] = map[string]any{"jkt": sess.DPoPJKT}
			}
			return out, nil
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		if hint == "refresh_token" {
			return inactive, nil
		}
	}
	claims, err := s.ValidateToken(ctx, raw)
	if errors.Is(err, ErrTokenInvalid) {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	if clientID != "" && !audienceHas(claims["aud"], clientID) {
		return nil, ErrUnauthorized
	}
	if revoked, err := s.sessionRevoked(ctx, claims); err != nil {
		return nil, err
	} else if revoked {
		return inactive, nil
	}
	claims["active"] = true
	if claims["cnf"] != nil {
		claims["token_type"] = "DPoP"
	} else {
		claims["token_type"] = "Bearer"
	}
	return claims, nil
}

// sessionRevoked reports whether the session behind a token's claims
// (sid) was revoked. A session already reaped, or none, is not revoked.
func (s *Service) sessionRevoked(ctx context.Context, claims map[string]any) (bool, error) {
	sid, _ := claims["sid"].(string)
	if sid == "" {
		return false, nil
	}
	sess, err := s.store.GetSession(ctx, sid)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return !sess.RevokedAt.IsZero(), nil
}

func audienceHas(aud any, v string) bool {
	switch a := aud.(type) {
	case string:
		return a == v
	case []any:
		for _, x := range a {
			if x == v {
				return true
			}
		}
	}
	return false
}

// RevokeForClient implements RFC 7009 for a client: a refresh token of the
// client's revokes its session, and so does an access token of the
// client's (its sid). Unknown tokens, and tokens of other clients, change
// nothing and are no error, so the endpoint is no oracle.
func (s *Service) RevokeForClient(ctx context.Context, clientID, raw, hint string) error {
	if hint != "access_token" {
		sess, _, err := s.store.FindSession(ctx, token.HashRefreshToken(raw))
		switch {
		case err == nil:
			if sess.ApplicationID != clientID {
				return nil
			}
			return s.revokeSession(ctx, sess.ID)
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	claims, err := s.ValidateToken(ctx, raw)
	if err != nil {
		return nil
	}
	sid, _ := claims["sid"].(string)
	if sid == "" || !audienceHas(claims["aud"], clientID) {
		return nil
	}
	return s.revokeSession(ctx, sid)
}

// revokeSession revokes one session for RFC 7009 and writes its event.
func (s *Service) revokeSession(ctx context.Context, id string) error {
	return s.Tx(ctx, func(s *Service) error {
		_, err := s.events().revokeAndEmit(ctx, scopeToken, storage.SessionFilter{ID: id}, s.clock(), ReasonRevoked)
		return err
	})
}

// UserInfo answers OpenID Connect's UserInfo endpoint (Core §5.3) for an
// access token whose claims ValidateToken returned: the standard claims
// of the user's current record, with the token's tenant, application and
// roles. A token whose session was revoked, or whose user is gone or
// inactive, is ErrTokenInvalid.
func (s *Service) UserInfo(ctx context.Context, claims map[string]any) (map[string]any, error) {
	if revoked, err := s.sessionRevoked(ctx, claims); err != nil {
		return nil, err
	} else if revoked {
		return nil, errors.Join(ErrTokenInvalid, errors.New("the session behind the token was revoked"))
	}
	sub, _ := claims["sub"].(string)
	tid, _ := claims["tid"].(string)
	u, err := s.GetUser(ctx, tid, sub, false)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errors.Join(ErrTokenInvalid, errors.New("the token's user no longer exists"))
	} else if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, errors.Join(ErrTokenInvalid, errors.New("the token's user is inactive"))
	}
	out := map[string]any{"sub": u.ID, "tid": u.TenantID, "email_verified": u.Verified}
	for name, v := range map[string]string{
		"email": u.Email, "preferred_username": u.Username, "name": u.FullName, "given_name": u.FirstName,
		"middle_name": u.MiddleName, "family_name": u.LastName, "birthdate": u.BirthDate, "picture": u.ImageURL,
		"phone_number": u.MobilePhone,
	} {
		if v != "" {
			out[name] = v
		}
	}
	for _, name := range []string{"applicationId", "roles"} {
		if v, ok := claims[name]; ok {
			out[name] = v
		}
	}
	return out, nil
}
