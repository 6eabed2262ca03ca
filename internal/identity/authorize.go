package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// GrantAuthorizationCode is the authorization code grant (RFC 6749 §4.1).
const GrantAuthorizationCode = "authorization_code"

// CodeTTL is how long an authorization code can be redeemed: a minute at
// most, as RFC 6749 §4.1.2 recommends ten at most.
const CodeTTL = 60 * time.Second

// DefaultSSOSessionTTL is how long the hosted login page's SSO session
// lives without use when the tenant's httpSessionMaxInactiveInterval is
// not set: FusionAuth's default, an hour.
const DefaultSSOSessionTTL = time.Hour

// ScopeOfflineAccess is the scope that asks for a refresh token.
const ScopeOfflineAccess = "offline_access"

// AuthorizeRequest is an authorization request (RFC 6749 §4.1.1, RFC
// 7636 §4.3, OpenID Connect Core §3.1.2.1, RFC 9449 §10), as
// /oauth2/authorize receives it.
type AuthorizeRequest struct {
	ResponseType        string
	ResponseMode        string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scope               string
	CodeChallenge       string
	CodeChallengeMethod string
	// Prompt is "", "login" (ask for the password whatever the SSO
	// session) or "none" (never show the page).
	Prompt    string
	LoginHint string
	// DPoPJKT binds the code to a DPoP key: the token request's proof
	// must be made with it.
	DPoPJKT string
}

// AuthorizeError is a refused authorization request. Redirect says
// whether the error may go back to the client on its redirect URI (RFC
// 6749 §4.1.2.1): only once the client and the redirect URI are known to
// be valid; otherwise the user is shown the error, and nothing is sent
// anywhere.
type AuthorizeError struct {
	Code        string
	Description string
	Redirect    bool
}

func (e *AuthorizeError) Error() string {
	return "identity: authorize: " + e.Code + ": " + e.Description
}

// Authorization is an authorization request that was checked: its
// client, the client's tenant and issuer, and the scopes asked for.
type Authorization struct {
	Request AuthorizeRequest
	App     api.Application
	Tenant  api.Tenant
	Issuer  string
	Scopes  []string
}

// CheckAuthorization checks an authorization request: first the client
// and the redirect URI (an error the user is shown), then the rest (an
// error sent to the redirect URI). Errors are *AuthorizeError, or the
// store's.
func (s *Service) CheckAuthorization(ctx context.Context, req AuthorizeRequest) (Authorization, error) {
	show := func(code, desc string) (Authorization, error) {
		return Authorization{}, &AuthorizeError{Code: code, Description: desc}
	}
	if req.ClientID == "" {
		return show(api.OAuthInvalidRequest, "The client_id parameter is required.")
	}
	rec, err := s.application(ctx, "", CanonicalID(req.ClientID))
	if isNotFound(err) {
		return show(api.OAuthInvalidClient, "The client_id does not name an application.")
	} else if err != nil {
		return Authorization{}, err
	}
	app := rec.Application
	if !app.Active {
		return show(api.OAuthInvalidClient, "The application is not active.")
	}
	if req.RedirectURI == "" {
		return show(api.OAuthInvalidRequest, "The redirect_uri parameter is required.")
	}
	if !RedirectURIAllowed(app.OAuthConfiguration.AuthorizedRedirectURLs, req.RedirectURI) {
		return show(api.OAuthInvalidRequest, "The redirect_uri is not one of the application's authorized redirect URLs.")
	}
	t, err := s.store.GetTenant(ctx, app.TenantID)
	if err != nil {
		return Authorization{}, err
	}
	az := Authorization{Request: req, App: app, Tenant: t, Issuer: s.Issuer(t), Scopes: strings.Fields(req.Scope)}
	if err := checkAuthorizeParameters(req, app); err != nil {
		return az, err
	}
	return az, nil
}

// checkAuthorizeParameters checks what an authorization request asks of a
// valid client at a valid redirect URI. Its errors go to the redirect URI.
func checkAuthorizeParameters(req AuthorizeRequest, app api.Application) error {
	back := func(code, desc string) error { return &AuthorizeError{Code: code, Description: desc, Redirect: true} }
	switch {
	case req.ResponseType == "":
		return back(api.OAuthInvalidRequest, "The response_type parameter is required.")
	case req.ResponseType != "code":
		return back("unsupported_response_type", "Only the response_type code is supported.")
	case req.ResponseMode != "" && req.ResponseMode != "query":
		return back(api.OAuthInvalidRequest, "Only the response_mode query is supported.")
	case !grantEnabled(app, GrantAuthorizationCode):
		return back(api.OAuthUnauthorizedClient, "The authorization_code grant is not enabled for this application.")
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return back(api.OAuthInvalidRequest, "The code_challenge_method was sent without a code_challenge.")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != "S256":
		// RFC 7636 §4.3: no method means plain, which RFC 9700 §2.1.1 rules out.
		return back(api.OAuthInvalidRequest, "The code_challenge_method must be S256.")
	case req.CodeChallenge != "" && !validChallenge(req.CodeChallenge):
		return back(api.OAuthInvalidRequest, "The code_challenge must be the base64url SHA-256 of the code verifier (43 characters).")
	case req.CodeChallenge == "" && PKCERequired(app):
		return back(api.OAuthInvalidRequest, "This application requires PKCE: send a code_challenge with the code_challenge_method S256.")
	case req.Prompt != "" && req.Prompt != "login" && req.Prompt != "none":
		return back(api.OAuthInvalidRequest, "The prompt must be login or none.")
	case req.DPoPJKT != "" && !validThumbprint(req.DPoPJKT):
		return back(api.OAuthInvalidRequest, "The dpop_jkt must be a base64url SHA-256 JWK thumbprint.")
	}
	for _, sc := range strings.Fields(req.Scope) {
		if !validScopeToken(sc) {
			return back(api.OAuthInvalidScope, "The scope is malformed.")
		}
	}
	return nil
}

// PKCERequired reports whether an application's authorization requests
// must carry a PKCE challenge: when its proofKeyForCodeExchangePolicy is
// Required, and whenever the client does not authenticate at the token
// endpoint (a public client, whose code anyone who intercepts it could
// otherwise redeem: RFC 9700 §2.1.1). NotRequiredWhenUsingPKCE lets a
// client choose: a code without PKCE then needs its secret.
func PKCERequired(app api.Application) bool {
	o := app.OAuthConfiguration
	switch {
	case o.ProofKeyForCodeExchangePolicy == api.PKCERequired:
		return true
	case o.ClientAuthenticationPolicy == api.ClientAuthNotRequired:
		return true
	}
	return false
}

// validChallenge reports whether c is an S256 challenge: 32 bytes,
// base64url without padding.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// validThumbprint reports whether j is an RFC 7638 SHA-256 thumbprint.
func validThumbprint(j string) bool { return validChallenge(j) }

// validVerifier reports whether v is a code verifier (RFC 7636 §4.1):
// 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validScopeToken reports whether s is a scope-token (RFC 6749 §3.3).
func validScopeToken(s string) bool {
	for _, c := range s {
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return s != ""
}

// RedirectURIAllowed reports whether uri is one of the registered
// redirect URIs: equal to one, character for character (RFC 9700 §4.1.3),
// except that a loopback URI (http://127.0.0.1 or http://[::1], RFC 8252
// §7.3) matches a registered one whatever its port, as a native app
// listens on the port it gets. A URI with a fragment, userinfo or
// whitespace never matches. A private-use scheme (com.example.app:/cb,
// RFC 8252 §7.1) matches exactly.
func RedirectURIAllowed(registered []string, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Fragment != "" || strings.Contains(uri, "#") || u.User != nil || strings.ContainsAny(uri, " \t\r\n\\") {
		return false
	}
	if slices.Contains(registered, uri) {
		return true
	}
	host, _, ok := loopback(u)
	if !ok {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil {
			continue
		}
		rhost, _, ok := loopback(ru)
		if ok && rhost == host && ru.Path == u.Path && ru.RawPath == u.RawPath && ru.RawQuery == u.RawQuery && !ru.ForceQuery && !u.ForceQuery {
			return true
		}
	}
	return false
}

// loopback returns the host and port of an http URL on a loopback IP
// literal (127.0.0.1 or ::1): RFC 8252 §7.3's redirect URIs.
func loopback(u *url.URL) (host, port string, ok bool) {
	if u.Scheme != "http" || u.User != nil || u.Opaque != "" {
		return "", "", false
	}
	host, port = u.Hostname(), u.Port()
	if host != "127.0.0.1" && host != "::1" {
		return "", "", false
	}
	if u.Host != net.JoinHostPort(host, port) && u.Host != host && u.Host != "["+host+"]" {
		return "", "", false
	}
	return host, port, true
}

// validateAuthorizationSettings checks an application's redirect URLs,
// logout URL and PKCE policy.
func validateAuthorizationSettings(errs *api.Errors, o *api.OAuthConfiguration) {
	for _, r := range o.AuthorizedRedirectURLs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(r, "#") || u.User != nil || strings.ContainsAny(r, " \t\r\n\\*") {
			errs.Field("application.oauthConfiguration.authorizedRedirectURLs", "invalid",
				fmt.Sprintf("The redirect URL [%s] must be an absolute URL without a fragment, userinfo or wildcard.", r))
		}
	}
	if r := o.LogoutURL; r != "" {
		if u, err := url.Parse(r); err != nil || u.Scheme == "" || u.Fragment != "" {
			errs.Field("application.oauthConfiguration.logoutURL", "invalid", fmt.Sprintf("The logout URL [%s] must be an absolute URL without a fragment.", r))
		}
	}
	switch o.ProofKeyForCodeExchangePolicy {
	case "", api.PKCERequired, api.PKCENotRequired, api.PKCENotRequiredWhenUsingClientAuthentication:
	default:
		errs.Field("application.oauthConfiguration.proofKeyForCodeExchangePolicy", "invalid",
			"The [proofKeyForCodeExchangePolicy] must be Required, NotRequired or NotRequiredWhenUsingClientAuthentication.")
	}
}

// PostLogoutRedirectAllowed reports whether /oauth2/logout may send the
// browser to uri for app: its logout URL, or one of its authorized
// redirect URLs (matched as RedirectURIAllowed matches them).
func PostLogoutRedirectAllowed(app api.Application, uri string) bool {
	if uri == "" {
		return false
	}
	o := app.OAuthConfiguration
	return (o.LogoutURL != "" && uri == o.LogoutURL) || RedirectURIAllowed(o.AuthorizedRedirectURLs, uri)
}

// LoginForAuthorization checks a password typed into the hosted login
// page, under exactly the rules of the Login API (lockout, rate of
// hashing, equal work for unknown users, outcomes), and issues no token:
// the tokens come from the code. ErrBadCredentials, ErrBusy and
// *api.Errors as Login returns them.
func (s *Service) LoginForAuthorization(ctx context.Context, az Authorization, loginID, password string, c Client) (LoginResult, error) {
	return s.Login(ctx, LoginInput{
		Request:  api.LoginRequest{LoginID: loginID, Password: password, ApplicationID: az.App.ID, NoJWT: true},
		TenantID: az.App.TenantID, Client: c,
	})
}

// ssoTTL is a tenant's SSO session lifetime without use.
func ssoTTL(t api.Tenant) time.Duration {
	if t.HTTPSessionMaxInactiveInterval > 0 {
		return time.Duration(t.HTTPSessionMaxInactiveInterval) * time.Second
	}
	return DefaultSSOSessionTTL
}

// StartSSOSession starts an SSO session for a user who just entered their
// password, and returns the cookie value (256 random bits; only its hash
// is stored) with the session.
func (s *Service) StartSSOSession(ctx context.Context, t api.Tenant, userID string) (string, storage.SSOSession, error) {
	raw, err := token.NewRefreshToken()
	if err != nil {
		return "", storage.SSOSession{}, err
	}
	now := s.clock()
	sess := storage.SSOSession{ID: NewID(), TenantID: t.ID, UserID: userID, Hash: token.HashRefreshToken(raw),
		AuthTime: now, LastUsed: now, ExpiresAt: now.Add(ssoTTL(t))}
	if err := s.store.CreateSSOSession(ctx, sess); err != nil {
		return "", storage.SSOSession{}, err
	}
	return raw, sess, nil
}

// SSOSession returns the live SSO session of a cookie value for a
// tenant's authorization, and records its use (its lifetime starts
// again). storage.ErrNotFound when there is none: unknown, expired, of
// another tenant, or of a user who can no longer log in.
func (s *Service) SSOSession(ctx context.Context, t api.Tenant, raw string) (storage.SSOSession, error) {
	if raw == "" {
		return storage.SSOSession{}, notFound("SSO session", "")
	}
	sess, err := s.store.GetSSOSession(ctx, token.HashRefreshToken(raw))
	if err != nil {
		return storage.SSOSession{}, err
	}
	now := s.clock()
	if !now.Before(sess.ExpiresAt) || sess.TenantID != t.ID {
		return storage.SSOSession{}, notFound("SSO session", sess.ID)
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil {
		return storage.SSOSession{}, err
	}
	if !u.Active || (!u.Expiry.IsZero() && !now.Before(u.Expiry)) {
		return storage.SSOSession{}, notFound("SSO session", sess.ID)
	}
	sess.LastUsed, sess.ExpiresAt = now, now.Add(ssoTTL(t))
	if err := s.store.TouchSSOSession(ctx, sess.ID, sess.LastUsed, sess.ExpiresAt); err != nil {
		return storage.SSOSession{}, err
	}
	return sess, nil
}

// EndSSOSession ends the SSO session of a cookie value, if there is one.
func (s *Service) EndSSOSession(ctx context.Context, raw string) error {
	if raw == "" {
		return nil
	}
	_, err := s.store.DeleteSSOSession(ctx, token.HashRefreshToken(raw))
	if isNotFound(err) {
		return nil
	}
	return err
}

// FormToken returns the token a form must carry to be accepted with the
// browser cookie binding: a keyed hash of it, which a page of another
// origin cannot compute (it can neither read the cookie nor the key).
func (s *Service) FormToken(binding string) string {
	return base64.RawURLEncoding.EncodeToString(s.sealer.MAC("login-form", []byte(binding)))
}

// CheckFormToken reports whether tok is FormToken(binding), in constant
// time.
func (s *Service) CheckFormToken(binding, tok string) bool {
	if binding == "" || tok == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(s.FormToken(binding)), []byte(tok)) == 1
}

// IssueCode issues an authorization code for an authorization the user
// completed in an SSO session: random, 256 bits, stored hashed, living
// CodeTTL.
func (s *Service) IssueCode(ctx context.Context, az Authorization, sso storage.SSOSession) (string, error) {
	raw, err := token.NewRefreshToken()
	if err != nil {
		return "", err
	}
	now := s.clock()
	c := storage.AuthorizationCode{
		Hash: token.HashRefreshToken(raw), TenantID: az.Tenant.ID, ApplicationID: az.App.ID, UserID: sso.UserID,
		RedirectURI: az.Request.RedirectURI, CodeChallenge: az.Request.CodeChallenge, Nonce: az.Request.Nonce,
		Scopes: az.Scopes, DPoPJKT: az.Request.DPoPJKT, SSOSessionID: sso.ID, AuthTime: sso.AuthTime,
		Created: now, ExpiresAt: now.Add(CodeTTL),
	}
	if err := s.store.CreateAuthorizationCode(ctx, c); err != nil {
		return "", err
	}
	return raw, nil
}

// ExchangeInput is a token request of the authorization code grant from a
// client that authenticated as its policy requires.
type ExchangeInput struct {
	Code        string
	RedirectURI string
	Verifier    string
	App         api.Application
	// Authenticated says the client proved its secret.
	Authenticated bool
	// Client carries the caller's address and, when it sent a DPoP proof,
	// the proof's key thumbprint.
	Client Client
}

// ExchangeResult is what a redeemed code gave.
type ExchangeResult struct {
	Token          string
	ExpiresIn      int64
	TokenType      string
	UserID         string
	Scopes         []string
	IDToken        string
	RefreshToken   string
	RefreshTokenID string
}

// invalidGrant is the token endpoint's refusal of a code.
func invalidGrant(reason, desc string) *api.OAuthError {
	return &api.OAuthError{Code: api.OAuthInvalidGrant, Description: desc, Reason: reason}
}

// checkRedemption decides whether a code, found and marked used by this
// redemption, may be exchanged by in's client at now: nil, or the
// *api.OAuthError to answer. A code is bound to its client, its redirect
// URI, its PKCE challenge and its DPoP key, and lives CodeTTL.
func checkRedemption(c storage.AuthorizationCode, in ExchangeInput, now time.Time) error {
	switch {
	case !now.Before(c.ExpiresAt):
		return invalidGrant("expired_authorization_code", "The authorization code has expired.")
	case c.ApplicationID != in.App.ID:
		return invalidGrant("client_id_mismatch", "The authorization code was issued to another client.")
	case c.RedirectURI != in.RedirectURI:
		return invalidGrant("redirect_uri_mismatch", "The redirect_uri does not match the one of the authorization request.")
	case c.CodeChallenge == "" && in.Verifier != "":
		// RFC 9700 §2.1.1: a verifier without a challenge is a downgrade.
		return invalidGrant("invalid_pkce_code_verifier", "A code_verifier was sent for a code issued without a code_challenge.")
	case c.CodeChallenge == "" && !in.Authenticated:
		return &api.OAuthError{Code: api.OAuthInvalidClient, Description: "A code issued without PKCE can only be redeemed by a client that authenticates.", Reason: "client_authentication_missing"}
	case c.CodeChallenge != "" && in.Verifier == "":
		return invalidGrant("missing_pkce_code_verifier", "The code_verifier parameter is required.")
	case c.CodeChallenge != "" && (!validVerifier(in.Verifier) || !s256Matches(c.CodeChallenge, in.Verifier)):
		return invalidGrant("invalid_pkce_code_verifier", "The code_verifier does not match the code_challenge.")
	case c.DPoPJKT != "" && c.DPoPJKT != in.Client.DPoPJKT:
		return invalidGrant("invalid_dpop_jkt", "The DPoP proof is not made with the key the authorization request named (dpop_jkt).")
	}
	return nil
}

// s256Matches reports whether verifier hashes to challenge (RFC 7636 §4.6).
func s256Matches(challenge, verifier string) bool {
	h := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(h[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3): once.
// A second redemption is refused and revokes the refresh-token session
// the first started, and so every token issued from it (§4.1.2). A code
// refused for any other reason (another client, another redirect URI, a
// wrong verifier, a wrong DPoP key, expiry) is spent all the same.
// Refusals are *api.OAuthError.
func (s *Service) ExchangeCode(ctx context.Context, in ExchangeInput) (ExchangeResult, error) {
	if in.Code == "" {
		return ExchangeResult{}, &api.OAuthError{Code: api.OAuthInvalidRequest, Description: "The code parameter is required.", Reason: "missing_code"}
	}
	var res ExchangeResult
	var refusal error
	err := s.Tx(ctx, func(tx *Service) error {
		now := tx.clock()
		c, err := tx.store.RedeemAuthorizationCode(ctx, token.HashRefreshToken(in.Code), now)
		if isNotFound(err) {
			refusal = invalidGrant("invalid_authorization_code", "The authorization code is invalid.")
			return nil
		} else if err != nil {
			return err
		}
		if !c.UsedAt.IsZero() {
			refusal = invalidGrant("invalid_authorization_code", "The authorization code is invalid.")
			if c.SessionID == "" {
				return nil
			}
			tx.log.Warn("authorization code reused: its session revoked", "session", c.SessionID, "user", c.UserID,
				"application", c.ApplicationID, "address", in.Client.Address)
			_, err := tx.events().revokeAndEmit(ctx, scopeToken, storage.SessionFilter{ID: c.SessionID}, now, ReasonTokenReuse)
			return err
		}
		if refusal = checkRedemption(c, in, now); refusal != nil {
			return nil
		}
		res, refusal, err = tx.redeem(ctx, c, in)
		return err
	})
	if err != nil {
		return ExchangeResult{}, err
	}
	if refusal != nil {
		return ExchangeResult{}, refusal
	}
	return res, nil
}

// redeem issues the tokens of a code that passed checkRedemption, in the
// redemption's transaction: an access token, an ID token for the openid
// scope, and a refresh token for offline_access when the application
// generates them and allows the refresh_token grant. It returns the
// refusal to answer, if any, apart from the error that ends the
// transaction.
func (s *Service) redeem(ctx context.Context, c storage.AuthorizationCode, in ExchangeInput) (ExchangeResult, error, error) {
	t, err := s.store.GetTenant(ctx, c.TenantID)
	if err != nil {
		return ExchangeResult{}, nil, err
	}
	u, err := s.store.GetUser(ctx, c.UserID)
	if isNotFound(err) {
		return ExchangeResult{}, invalidGrant("invalid_authorization_code", "The authorization code is invalid."), nil
	} else if err != nil {
		return ExchangeResult{}, nil, err
	}
	now := s.clock()
	if !u.Active || (!u.Expiry.IsZero() && !now.Before(u.Expiry)) {
		return ExchangeResult{}, invalidGrant("user_locked", "The user can no longer log in."), nil
	}
	app := in.App
	var reg *storage.Registration
	if r, err := s.store.GetRegistration(ctx, u.ID, app.ID); err == nil {
		reg = &r
	} else if !isNotFound(err) {
		return ExchangeResult{}, nil, err
	}
	jkt := in.Client.DPoPJKT
	client := in.Client
	client.Scopes, client.DPoPJKT = c.Scopes, jkt
	var sess *storage.Session
	var raw string
	if reg != nil && app.OAuthConfiguration.GenerateRefreshTokens && slices.Contains(c.Scopes, ScopeOfflineAccess) &&
		grantEnabled(app, GrantRefreshToken) {
		if sess, raw, err = s.sessions().create(ctx, t, app, u, api.AuthPassword, c.Scopes, client); err != nil {
			return ExchangeResult{}, nil, err
		}
		if err := s.store.SetAuthorizationCodeSession(ctx, c.Hash, sess.ID); err != nil {
			return ExchangeResult{}, nil, err
		}
	}
	appDoc := &app
	if reg == nil {
		appDoc = nil // not registered: a token without application claims, as the password grant gives
	}
	mint := mintInput{tenant: t, app: appDoc, user: u, reg: reg, session: sess, scopes: c.Scopes,
		authType: api.AuthPassword, authTime: c.AuthTime, jkt: jkt, nonce: c.Nonce, idSID: c.SSOSessionID}
	tok, exp, err := s.mintAccessToken(ctx, mint)
	if err != nil {
		return ExchangeResult{}, nil, err
	}
	res := ExchangeResult{Token: tok, ExpiresIn: (exp - millis(now)) / 1000, TokenType: tokenType(jkt), UserID: u.ID,
		Scopes: c.Scopes, RefreshToken: raw}
	if sess != nil {
		res.RefreshTokenID = sess.ID
	}
	if slices.Contains(c.Scopes, ScopeOpenID) {
		mint.app = &app // the ID token is for the client, registered or not
		if res.IDToken, err = s.mintIDToken(ctx, mint, tok, exp); err != nil {
			return ExchangeResult{}, nil, err
		}
	}
	return res, nil, nil
}

// IDTokenHintClient returns the client (aud) of an ID token that Latch
// signed, expired or not, as /oauth2/logout's id_token_hint names it
// (OpenID Connect RP-Initiated Logout §2). ErrTokenInvalid when Latch's
// keys did not sign it as an ID token.
func (s *Service) IDTokenHintClient(ctx context.Context, raw string) (string, error) {
	if err := s.freshKeys(ctx); err != nil {
		return "", err
	}
	payload, _, err := token.Verify(raw, verifier{s}, token.TypeJWT)
	if err != nil {
		return "", errors.Join(ErrTokenInvalid, err)
	}
	var c api.Claims
	if err := json.Unmarshal(payload, &c); err != nil || len(c.Audience) == 0 {
		return "", errors.Join(ErrTokenInvalid, errors.New("an ID token without aud"))
	}
	return c.Audience[0], nil
}
