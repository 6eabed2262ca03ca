package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// oauthError answers an /oauth2 error: 401 with WWW-Authenticate for
// invalid_client (RFC 6749 §5.2), 400 otherwise unless code says more.
type oauthError struct {
	code int
	body *api.OAuthError
}

func (e *oauthError) Error() string { return e.body.Error() }

func oauthErr(code int, errCode, description, reason string) error {
	return &oauthError{code: code, body: &api.OAuthError{Code: errCode, Description: description, Reason: reason}}
}

// writeOAuthError writes errors of the /oauth2 endpoints as RFC 6749 JSON.
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oauthError
	var be *api.OAuthError
	var ae *api.Errors
	var rl *errRateLimited
	var de *dpopError
	switch {
	case errors.As(err, &rl):
		writeRateLimited(w, rl)
		return
	case errors.As(err, &de):
		s.writeDPoPError(w, r, de)
		return
	case errors.Is(err, storage.ErrUnavailable):
		s.writeUnavailable(w, r)
		return
	case errors.As(err, &oe):
	case errors.As(err, &be):
		oe = &oauthError{code: http.StatusBadRequest, body: be}
		if be.Code == api.OAuthInvalidClient {
			oe.code = http.StatusUnauthorized
		}
	case errors.As(err, &ae):
		oe = &oauthError{code: http.StatusBadRequest, body: &api.OAuthError{Code: api.OAuthInvalidRequest, Description: ae.Error()}}
	case errors.Is(err, identity.ErrBusy):
		w.Header().Set("Retry-After", busyRetryAfter)
		oe = &oauthError{code: http.StatusServiceUnavailable, body: &api.OAuthError{Code: "temporarily_unavailable", Description: busyMessage, Reason: "busy"}}
	default:
		s.writeError(w, r, err)
		return
	}
	if oe.code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
	}
	noStore(w)
	_ = writeJSON(w, oe.code, oe.body)
}

// oauth adapts an /oauth2 handler: a form body only, and OAuth errors.
func (s *Server) oauth(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			s.writeOAuthError(w, r, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The request body must be application/x-www-form-urlencoded.", ""))
			return nil
		}
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.writeOAuthError(w, r, oauthErr(http.StatusRequestEntityTooLarge, api.OAuthInvalidRequest, "The request body is too large.", ""))
				return nil
			}
			s.writeOAuthError(w, r, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The form body could not be parsed.", ""))
			return nil
		}
		for name, vals := range r.PostForm {
			if len(vals) > 1 {
				s.writeOAuthError(w, r, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The parameter ["+name+"] is repeated.", ""))
				return nil
			}
		}
		if err := h(w, r); err != nil {
			s.writeOAuthError(w, r, err)
		}
		return nil
	}
}

// clientCredentials returns the client id and secret of a request: HTTP
// Basic (RFC 6749 §2.3.1, form-encoded parts) or the form. Using both for
// the secret is an error; an empty secret is no secret.
func clientCredentials(r *http.Request) (id, secret string, basic bool, err error) {
	id, secret = form(r, "client_id"), form(r, "client_secret")
	if h := r.Header.Get("Authorization"); len(h) > 6 && strings.EqualFold(h[:6], "basic ") {
		u, p, ok := r.BasicAuth()
		if !ok {
			return "", "", true, oauthErr(http.StatusUnauthorized, api.OAuthInvalidClient, "The Authorization header is malformed.", "invalid_client_authentication_scheme")
		}
		if u, err = url.QueryUnescape(u); err == nil {
			p, err = url.QueryUnescape(p)
		}
		if err != nil {
			return "", "", true, oauthErr(http.StatusUnauthorized, api.OAuthInvalidClient, "The Authorization header is malformed.", "invalid_client_authentication_scheme")
		}
		u = parameterValue("client_id", u)
		if secret != "" {
			return "", "", true, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The client authenticated twice: use the Authorization header or client_secret, not both.", "invalid_client_authentication")
		}
		if id != "" && id != u {
			return "", "", true, oauthErr(http.StatusUnauthorized, api.OAuthInvalidClient, "The client_id does not match the Authorization header.", "client_id_mismatch")
		}
		return u, p, true, nil
	}
	return id, secret, false, nil
}

// token serves POST /oauth2/token with the password, refresh_token and
// authorization_code grants. The refresh_token grant follows the Refresh API's rule (see
// refresh): limited by session, or by client when it reaches none, never
// by its peer's address alone, and its DPoP proof recorded only for a
// live session.
func (s *Server) token(w http.ResponseWriter, r *http.Request) (err error) {
	grant := form(r, "grant_type")
	var gate *refreshGate
	if grant == identity.GrantRefreshToken {
		if gate, err = s.beginRefresh(r, s.clientAddress(r), form(r, "refresh_token"), true); err != nil {
			return err
		}
		defer func() { err = gate.end(err) }()
	} else if err := allow(s.limits.token, s.clientAddress(r), true); err != nil {
		return err
	}
	clientID, secret, _, err := clientCredentials(r)
	if err != nil {
		return err
	}
	switch grant {
	case "":
		return oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The grant_type parameter is required.", "missing_grant_type")
	case identity.GrantPassword, identity.GrantRefreshToken, identity.GrantAuthorizationCode:
	default:
		return oauthErr(http.StatusBadRequest, api.OAuthUnsupportedGrantType, "The grant type ["+grant+"] is not supported.", "invalid_grant_type")
	}
	app, err := s.id.AuthenticateClient(r.Context(), clientID, secret)
	if err != nil {
		return err
	}
	if !slices.Contains(app.OAuthConfiguration.EnabledGrants, grant) {
		return oauthErr(http.StatusBadRequest, api.OAuthUnauthorizedClient, "The grant type ["+grant+"] is not enabled for this client.", "grant_type_disabled")
	}
	scopes := strings.Fields(form(r, "scope"))
	tenantID := form(r, "tenantId")
	if tenantID == "" {
		if tenantID, err = s.tenant(r); err != nil {
			return err
		}
	}
	// A DPoP proof binds what is issued to its key (RFC 9449 §5); its htu
	// is the token endpoint of the client's tenant's discovery document.
	proof, err := s.dpopCheck(r, func() string { return app.TenantID }, dpop.Request{})
	if err != nil {
		return err
	}
	var resp api.AccessTokenResponse
	switch grant {
	case identity.GrantRefreshToken:
		resp, err = s.refreshGrant(r, app, tenantID, scopes, proof, gate)
	case identity.GrantAuthorizationCode:
		resp, err = s.codeGrant(r, app, secret != "", proof)
	default:
		var jkt string
		if proof != nil {
			if err := s.recordProof(r.Context(), proof); err != nil {
				return err
			}
			jkt = proof.JKT
		}
		resp, err = s.passwordGrant(r, app, tenantID, scopes, jkt)
	}
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

// refreshGrant serves the refresh_token grant. Its proof, checked, is
// recorded by gate's admission, once the token has proved to be a live
// session's.
func (s *Server) refreshGrant(r *http.Request, app api.Application, tenantID string, scopes []string, proof *dpop.Proof, gate *refreshGate) (api.AccessTokenResponse, error) {
	raw := form(r, "refresh_token")
	if raw == "" {
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The refresh_token parameter is required.", "missing_refresh_token")
	}
	var ttl time.Duration
	if v := form(r, "expires_in"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The expires_in parameter must be a positive number of seconds.", "invalid_expires_in")
		}
		ttl = time.Duration(n) * time.Second
	}
	client := s.client(r, "", nil)
	if proof != nil {
		client.DPoPJKT = proof.JKT
	}
	res, err := s.id.Refresh(r.Context(), identity.RefreshInput{
		RefreshToken: raw, TenantID: tenantID, ClientID: app.ID, OAuth: true, TTL: ttl, Scopes: scopes,
		Client: client, Admit: gate.admit(proof),
	})
	s.countRefresh(res, err)
	var ae *api.Errors
	switch {
	case errors.Is(err, identity.ErrRefreshTokenInvalid):
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidGrant, "The refresh token is invalid or has expired.", "refresh_token_not_found")
	case errors.As(err, &ae):
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The expires_in parameter exceeds the configured lifetime.", "invalid_expires_in")
	case err != nil:
		return api.AccessTokenResponse{}, err
	}
	return api.AccessTokenResponse{
		AccessToken: res.Token, ExpiresIn: res.ExpiresIn, TokenType: res.TokenType, UserID: res.UserID,
		Scope: strings.Join(res.Scopes, " "), IDToken: res.IDToken, RefreshToken: res.RefreshToken, RefreshTokenID: res.RefreshTokenID,
	}, nil
}

func (s *Server) passwordGrant(r *http.Request, app api.Application, tenantID string, scopes []string, jkt string) (api.AccessTokenResponse, error) {
	username := form(r, "username")
	if username == "" {
		username = form(r, "loginId")
	}
	pw := form(r, "password")
	if username == "" || pw == "" {
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The username and password parameters are required.", "")
	}
	client := s.client(r, "", &api.MetaData{Device: api.DeviceInfo{
		Name: form(r, "metaData.device.name"), Description: form(r, "metaData.device.description"), Type: form(r, "metaData.device.type"),
	}})
	client.Scopes, client.DPoPJKT = scopes, jkt
	res, err := s.id.Login(r.Context(), identity.LoginInput{
		Request:  api.LoginRequest{LoginID: username, Password: pw, ApplicationID: app.ID},
		TenantID: tenantID, Client: client, OAuth: true,
	})
	if errors.Is(err, identity.ErrBadCredentials) {
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidGrant, "The user credentials are invalid.", "invalid_user_credentials")
	} else if err != nil {
		return api.AccessTokenResponse{}, err
	}
	switch res.Outcome {
	case identity.LoginChangePassword:
		reason := "change_password_" + strings.ToLower(res.Response.ChangePasswordReason)
		if res.Response.ChangePasswordReason == "" {
			reason = "change_password_administrative"
		}
		return api.AccessTokenResponse{}, &oauthError{code: http.StatusBadRequest, body: &api.OAuthError{Code: api.OAuthChangePasswordRequired,
			Description: "The user must change their password.", Reason: reason, ChangePasswordID: res.Response.ChangePasswordID}}
	case identity.LoginPrevented:
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidGrant, "The user is prevented from logging in.", "login_prevented")
	case identity.LoginExpired:
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidGrant, "The user account has expired.", "user_expired")
	case identity.LoginInactive:
		return api.AccessTokenResponse{}, oauthErr(http.StatusBadRequest, api.OAuthInvalidGrant, "The user account is locked.", "user_locked")
	}
	out := api.AccessTokenResponse{
		AccessToken: res.Response.Token, ExpiresIn: res.ExpiresIn, TokenType: res.TokenType,
		UserID: res.Response.User.ID, Scope: strings.Join(scopes, " "), IDToken: res.IDToken,
		RefreshToken: res.Response.RefreshToken, RefreshTokenID: res.Response.RefreshTokenID,
	}
	return out, nil
}

// introspect serves POST /oauth2/introspect (RFC 7662). A client id is
// required; a secret, when sent, is checked (FusionAuth's clients send
// only client_id and token).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	clientID, secret, _, err := clientCredentials(r)
	if err != nil {
		return err
	}
	raw := form(r, "token")
	if raw == "" {
		return oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The token parameter is required.", "missing_token")
	}
	if secret != "" {
		if _, err := s.id.AuthenticateClient(r.Context(), clientID, secret); err != nil {
			return err
		}
	} else if clientID == "" {
		return oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The client_id parameter is required.", "missing_client_id")
	} else if _, err := s.id.GetApplication(r.Context(), "", clientID); errors.Is(err, storage.ErrUnavailable) {
		return err
	} else if err != nil {
		return oauthErr(http.StatusUnauthorized, api.OAuthInvalidClient, "The client could not be authenticated.", "invalid_client_id")
	}
	out, err := s.id.Introspect(r.Context(), clientID, raw, form(r, "token_type_hint"))
	if errors.Is(err, identity.ErrUnauthorized) {
		return oauthErr(http.StatusUnauthorized, api.OAuthInvalidClient, "The token was not issued to this client.", "client_id_mismatch")
	} else if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, out)
}

// revoke serves POST /oauth2/revoke (RFC 7009): 200 with no body for any
// token, revoked or not.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	clientID, secret, _, err := clientCredentials(r)
	if err != nil {
		return err
	}
	raw := form(r, "token")
	if raw == "" {
		return oauthErr(http.StatusBadRequest, api.OAuthInvalidRequest, "The token parameter is required.", "missing_token")
	}
	hint := form(r, "token_type_hint")
	if hint != "" && hint != "refresh_token" && hint != "access_token" {
		return oauthErr(http.StatusBadRequest, api.OAuthUnsupportedTokenType, "The token_type_hint ["+hint+"] is not supported.", "")
	}
	app, err := s.id.AuthenticateClient(r.Context(), clientID, secret)
	if err != nil {
		return err
	}
	if err := s.id.RevokeForClient(r.Context(), app.ID, raw, hint); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// userinfo serves GET and POST /oauth2/userinfo (OpenID Connect Core
// §5.3): the claims of the user an access token was issued to, from the
// user's current record. The token comes in the Authorization header, as
// Bearer or, when DPoP-bound, as DPoP with a proof (RFC 9449 §7). Refusals
// are 401 with an RFC 6750 challenge and RFC 6749 error JSON.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	refuse := func(code, description string, cause error) error {
		if w.Header().Get("WWW-Authenticate") == "" { // a DPoP refusal has its own
			challenge := `Bearer realm="latch"`
			if code != api.OAuthInvalidRequest {
				challenge += `, error="` + code + `", error_description="` + describe(description) + `"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		return &statusError{code: http.StatusUnauthorized, body: &api.OAuthError{Code: code, Description: description}, err: cause}
	}
	if _, isDPoP := dpopToken(r); !isDPoP && bearer(r) == "" {
		return refuse(api.OAuthInvalidRequest, "An access token is required in the Authorization header.", nil)
	}
	claims, err := s.authenticateJWT(w, r)
	var tr *tokenRefusal
	if errors.As(err, &tr) {
		return refuse(tr.Code, "The access token is invalid or has expired.", tr.Err)
	} else if err != nil {
		return err
	}
	info, err := s.id.UserInfo(r.Context(), claims)
	if errors.Is(err, identity.ErrTokenInvalid) {
		return refuse(api.OAuthInvalidToken, "The access token is no longer valid.", err)
	} else if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}
