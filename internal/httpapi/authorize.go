package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/loginpage"
	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/token"
)

// The cookies of the hosted login page: the SSO session, and the value
// the login form's token is bound to. Both are host-only, HttpOnly and
// SameSite=Lax, and Secure when the page is served over TLS.
const (
	ssoCookie  = "latch_sso"
	formCookie = "latch_form"
)

// authorizeParams are the parameters of an authorization request, in the
// order the login form carries them back.
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "state", "nonce", "scope",
	"code_challenge", "code_challenge_method", "prompt", "login_hint", "dpop_jkt"}

// authorizeRoutes registers the authorization code flow's browser
// endpoints.
func (s *Server) authorizeRoutes() {
	s.mux.Handle("GET /oauth2/authorize", s.handle(authNone, s.authorize))
	s.mux.Handle("POST /oauth2/authorize", s.handle(authNone, s.authorizeLogin))
	s.mux.Handle("GET /oauth2/logout", s.handle(authNone, s.endSession))
}

// authorizeRequest reads an authorization request from vals, and names a
// parameter that is repeated (RFC 6749 §3.1: none may be), if any.
func authorizeRequest(vals url.Values) (identity.AuthorizeRequest, string) {
	var repeated string
	get := func(name string) string {
		v := vals[name]
		if len(v) > 1 && repeated == "" {
			repeated = name
		}
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	req := identity.AuthorizeRequest{
		ClientID: get("client_id"), RedirectURI: get("redirect_uri"), ResponseType: get("response_type"),
		ResponseMode: get("response_mode"), State: get("state"), Nonce: get("nonce"), Scope: get("scope"),
		CodeChallenge: get("code_challenge"), CodeChallengeMethod: get("code_challenge_method"), Prompt: get("prompt"),
		LoginHint: get("login_hint"), DPoPJKT: get("dpop_jkt"),
	}
	return req, repeated
}

// checkAuthorization checks the request in vals. When it is refused, the
// refusal has been answered (a page, or a redirect to the client) and ok
// is false.
func (s *Server) checkAuthorization(w http.ResponseWriter, r *http.Request, vals url.Values) (az identity.Authorization, ok bool) {
	req, repeated := authorizeRequest(vals)
	if repeated == "client_id" || repeated == "redirect_uri" {
		s.authorizePage(w, r, http.StatusBadRequest, "The parameter "+repeated+" is repeated.")
		return az, false
	}
	az, err := s.id.CheckAuthorization(r.Context(), req)
	var ae *identity.AuthorizeError
	switch {
	case errors.As(err, &ae) && !ae.Redirect:
		// Not known to be the client's: the user is told, nothing is sent.
		s.authorizePage(w, r, http.StatusBadRequest, ae.Description)
		return az, false
	case errors.As(err, &ae):
		s.redirectError(w, r, az, ae.Code, ae.Description)
		return az, false
	case err != nil:
		s.pageError(w, r, err)
		return az, false
	case repeated != "":
		s.redirectError(w, r, az, api.OAuthInvalidRequest, "The parameter "+repeated+" is repeated.")
		return az, false
	}
	return az, true
}

// authorize serves GET /oauth2/authorize (RFC 6749 §4.1.1): a valid
// request of a user with a live SSO session gets its code at once, unless
// it asks for the password (prompt=login); without one, the login page,
// or login_required when it asks for no page (prompt=none).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	az, ok := s.checkAuthorization(w, r, r.URL.Query())
	if !ok {
		return nil
	}
	if az.Request.Prompt != "login" {
		if c, err := r.Cookie(ssoCookie); err == nil {
			sso, err := s.id.SSOSession(r.Context(), az.Tenant, c.Value)
			switch {
			case err == nil:
				s.setCookie(w, r, ssoCookie, c.Value, ssoLifetime(az.Tenant))
				s.completeAuthorization(w, r, az, sso, http.StatusFound)
				return nil
			case !errors.Is(err, storage.ErrNotFound):
				s.pageError(w, r, err)
				return nil
			}
		}
	}
	if az.Request.Prompt == "none" {
		s.redirectError(w, r, az, "login_required", "The user is not logged in.")
		return nil
	}
	s.loginForm(w, r, az, http.StatusOK, az.Request.LoginHint, "")
	return nil
}

// authorizeLogin serves POST /oauth2/authorize: the login form. The form
// must carry the token bound to this browser's form cookie (so no other
// site can post it for the user); the password is checked under the
// Login API's rules; a login starts a new SSO session (a new cookie
// value, whatever the browser held) and sends the browser to the client
// with its code (303, RFC 9700 §4.12).
func (s *Server) authorizeLogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		s.authorizePage(w, r, http.StatusBadRequest, "The form could not be read.")
		return nil
	}
	az, ok := s.checkAuthorization(w, r, r.PostForm)
	if !ok {
		return nil
	}
	loginID := r.PostForm.Get("loginId")
	binding, _ := r.Cookie(formCookie)
	if binding == nil || !s.id.CheckFormToken(binding.Value, r.PostForm.Get("form_token")) {
		s.log.Warn("login form refused: its token does not match the browser's cookie", "request", r.Context().Value(ctxRequestID),
			"client", s.clientAddress(r), "application", az.App.ID)
		s.loginForm(w, r, az, http.StatusForbidden, loginID, "This form has expired or did not come from this page. Enter your details again.")
		return nil
	}
	if err := allow(s.limits.login, s.clientAddress(r), false); err != nil {
		var rl *errRateLimited
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", retryAfterSeconds(rl.retryAfter))
		}
		s.loginForm(w, r, az, http.StatusTooManyRequests, loginID, "Too many attempts from this address. Wait a moment and try again.")
		return nil
	}
	if s.id.Busy() {
		w.Header().Set("Retry-After", busyRetryAfter)
		s.loginForm(w, r, az, http.StatusServiceUnavailable, loginID, "The server is busy. Try again in a moment.")
		return nil
	}
	var res identity.LoginResult
	var err error
	if tfID := r.PostForm.Get("two_factor_id"); tfID != "" {
		res, err = s.id.TwoFactorLogin(r.Context(), identity.TwoFactorLoginInput{
			Request:  api.TwoFactorLoginRequest{TwoFactorID: tfID, Code: r.PostForm.Get("code"), ApplicationID: az.App.ID, NoJWT: true},
			TenantID: az.App.TenantID, Client: s.client(r, "", nil),
		})
		var ve *api.Errors
		switch {
		case errors.Is(err, identity.ErrTwoFactorCode):
			s.codeForm(w, r, az, tfID, http.StatusUnauthorized, "Invalid code. Try again.")
			return nil
		case errors.As(err, &ve):
			s.codeForm(w, r, az, tfID, http.StatusBadRequest, "Enter the code.")
			return nil
		case errors.Is(err, identity.ErrTwoFactorIDInvalid):
			s.loginForm(w, r, az, http.StatusUnauthorized, "", "Your login has expired. Enter your details again.")
			return nil
		}
	} else {
		res, err = s.id.LoginForAuthorization(r.Context(), az, loginID, r.PostForm.Get("password"), s.client(r, "", nil))
		var ve *api.Errors
		switch {
		case errors.Is(err, identity.ErrBadCredentials):
			s.loginForm(w, r, az, http.StatusUnauthorized, loginID, "Invalid login credentials.")
			return nil
		case errors.As(err, &ve) && len(ve.GeneralErrors) > 0 && ve.GeneralErrors[0].Code == "[TwoFactorRequired]":
			s.loginForm(w, r, az, http.StatusForbidden, loginID, "This account must use two-factor authentication: set it up before you log in here.")
			return nil
		case errors.As(err, &ve):
			s.loginForm(w, r, az, http.StatusBadRequest, loginID, "Enter your email or username and your password.")
			return nil
		}
	}
	switch {
	case errors.Is(err, identity.ErrBusy):
		w.Header().Set("Retry-After", busyRetryAfter)
		s.loginForm(w, r, az, http.StatusServiceUnavailable, loginID, "The server is busy. Try again in a moment.")
		return nil
	case err != nil:
		s.pageError(w, r, err)
		return nil
	case res.Outcome == identity.LoginTwoFactor:
		s.codeForm(w, r, az, res.Response.TwoFactorID, http.StatusOK, "")
		return nil
	}
	if msg, code := loginOutcomeMessage(res.Outcome); msg != "" {
		s.loginForm(w, r, az, code, loginID, msg)
		return nil
	}
	if old, err := r.Cookie(ssoCookie); err == nil {
		if err := s.id.EndSSOSession(r.Context(), old.Value); err != nil {
			s.pageError(w, r, err)
			return nil
		}
	}
	raw, sso, err := s.id.StartSSOSession(r.Context(), az.Tenant, res.Response.User.ID)
	if err != nil {
		s.pageError(w, r, err)
		return nil
	}
	s.setCookie(w, r, ssoCookie, raw, ssoLifetime(az.Tenant))
	s.completeAuthorization(w, r, az, sso, http.StatusSeeOther)
	return nil
}

// loginOutcomeMessage is what the page says of a login outcome that
// issues no code, with the Login API's status for it; "" for a login
// that goes on.
func loginOutcomeMessage(o identity.LoginOutcome) (string, int) {
	switch o {
	case identity.LoginPrevented:
		return "Your account is locked after too many failed login attempts. Try again later.", http.StatusConflict
	case identity.LoginExpired:
		return "Your account has expired.", http.StatusGone
	case identity.LoginInactive:
		return "Your account is locked.", http.StatusLocked
	case identity.LoginChangePassword:
		return "You must change your password before you can log in.", http.StatusForbidden
	}
	return "", 0
}

// completeAuthorization issues the code of a user in an SSO session and
// sends the browser to the client with it, its state and the issuer (RFC
// 9207).
func (s *Server) completeAuthorization(w http.ResponseWriter, r *http.Request, az identity.Authorization, sso storage.SSOSession, code int) {
	c, err := s.id.IssueCode(r.Context(), az, sso)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.redirectTo(w, r, az, code, url.Values{"code": {c}})
}

// redirectError sends an error to the client's redirect URI (RFC 6749
// §4.1.2.1), which CheckAuthorization found registered.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, az identity.Authorization, code, description string) {
	s.redirectTo(w, r, az, http.StatusFound, url.Values{"error": {code}, "error_description": {description}})
}

// redirectTo sends the browser to the request's redirect URI with params,
// the request's state and the issuer added to its query.
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, az identity.Authorization, code int, params url.Values) {
	u, err := url.Parse(az.Request.RedirectURI)
	if err != nil { // CheckAuthorization parsed it
		s.authorizePage(w, r, http.StatusBadRequest, "The redirect_uri is malformed.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if az.Request.State != "" {
		q.Set("state", az.Request.State)
	}
	q.Set("iss", az.Issuer)
	u.RawQuery = q.Encode()
	loginpage.SetHeaders(w.Header(), "", loginpage.Options{})
	w.Header().Set("Location", u.String())
	w.WriteHeader(code)
}

// codeForm asks for the second factor of the login twoFactorID waits
// for: a form that carries the request and twoFactorID back, with a token
// bound to the browser's form cookie.
func (s *Server) codeForm(w http.ResponseWriter, r *http.Request, az identity.Authorization, twoFactorID string, code int, msg string) {
	binding, ok := s.formBinding(w, r)
	if !ok {
		return
	}
	hidden := append(s.hiddenFields(r), loginpage.Field{Name: "two_factor_id", Value: twoFactorID})
	err := loginpage.WriteCode(w, code, loginpage.Code{
		Title: "Two-factor authentication", AppName: az.App.Name, Action: "authorize", Hidden: hidden,
		FormToken: s.id.FormToken(binding), Error: msg,
	}, loginpage.Options{FormTargets: []string{formTarget(az.Request.RedirectURI)}})
	if err != nil {
		s.log.Error("write code page", "request", r.Context().Value(ctxRequestID), "err", err)
	}
}

// formBinding returns the browser's form cookie, and gives it one when
// it has none; false when it could not (the fault answered).
func (s *Server) formBinding(w http.ResponseWriter, r *http.Request) (string, bool) {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) >= 43 && len(c.Value) <= 64 {
		return c.Value, true
	}
	raw, err := token.NewRefreshToken()
	if err != nil {
		s.pageError(w, r, err)
		return "", false
	}
	s.setCookie(w, r, formCookie, raw, 0)
	return raw, true
}

// hiddenFields are the authorization request's parameters, for a form to
// carry back: login_hint aside, which fills the login ID field instead.
func (s *Server) hiddenFields(r *http.Request) []loginpage.Field {
	vals := r.URL.Query()
	if r.Method == http.MethodPost {
		vals = r.PostForm
	}
	var hidden []loginpage.Field
	for _, name := range authorizeParams {
		if v := vals.Get(name); v != "" && name != "login_hint" {
			hidden = append(hidden, loginpage.Field{Name: name, Value: v})
		}
	}
	return hidden
}

// loginForm shows the login page for az, with msg when set. The form
// carries the request back, and a token bound to the browser's form
// cookie, which it is given when it has none.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, az identity.Authorization, code int, loginID, msg string) {
	binding, ok := s.formBinding(w, r)
	if !ok {
		return
	}
	hidden := s.hiddenFields(r)
	err := loginpage.WriteLogin(w, code, loginpage.Login{
		Title: "Log in", AppName: az.App.Name, Action: "authorize", Hidden: hidden,
		FormToken: s.id.FormToken(binding), LoginID: loginID, Error: msg,
	}, loginpage.Options{FormTargets: []string{formTarget(az.Request.RedirectURI)}})
	if err != nil {
		s.log.Error("write login page", "request", r.Context().Value(ctxRequestID), "err", err)
	}
}

// formTarget is what form-action must allow for a login to reach the
// redirect URI: its origin, or its scheme when it has no host (a native
// app's private-use scheme).
func formTarget(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// authorizePage shows an error that goes to no client.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request, code int, text string) {
	err := loginpage.WriteMessage(w, code, loginpage.Message{Title: "This sign-in request cannot be completed", Text: text, Error: true}, loginpage.Options{})
	if err != nil {
		s.log.Error("write page", "request", r.Context().Value(ctxRequestID), "err", err)
	}
}

// pageError answers a fault on a page: 503 with Retry-After when the store
// is unavailable, else 500, logged.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		s.outage.Refused()
		w.Header().Set("Retry-After", retryAfterUnavailable)
		s.authorizePage(w, r, http.StatusServiceUnavailable, "The service is unavailable. Try again in a few seconds.")
		return
	}
	s.log.Error("internal error", "request", r.Context().Value(ctxRequestID), "method", r.Method, "path", r.URL.Path, "err", err)
	s.authorizePage(w, r, http.StatusInternalServerError, "Something went wrong. Try again later.")
}

// ssoLifetime is the SSO cookie's lifetime: the tenant's SSO session's.
func ssoLifetime(t api.Tenant) time.Duration {
	if t.HTTPSessionMaxInactiveInterval > 0 {
		return time.Duration(t.HTTPSessionMaxInactiveInterval) * time.Second
	}
	return identity.DefaultSSOSessionTTL
}

// setCookie sets a host-only, HttpOnly, SameSite=Lax cookie on the whole
// host, Secure when the request came over TLS (or the public base URL is
// https); maxAge 0 makes it a browser-session cookie, negative clears it.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(s.baseURL, "https://")}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// endSession serves GET /oauth2/logout (OpenID Connect RP-Initiated
// Logout): it ends the browser's SSO session and clears its cookie, then
// sends the browser to post_logout_redirect_uri (with state) when the
// client allows it (its logout URL, or one of its authorized redirect
// URLs), else to the client's logout URL, else shows that the user is
// logged out. The client is client_id, or the audience of id_token_hint.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	clientID, hint, post, state := q.Get("client_id"), q.Get("id_token_hint"), q.Get("post_logout_redirect_uri"), q.Get("state")
	if hint != "" {
		aud, err := s.id.IDTokenHintClient(r.Context(), hint)
		switch {
		case errors.Is(err, identity.ErrTokenInvalid):
			s.authorizePage(w, r, http.StatusBadRequest, "The id_token_hint is not an ID token of this server.")
			return nil
		case err != nil:
			s.pageError(w, r, err)
			return nil
		case clientID != "" && identity.CanonicalID(clientID) != aud:
			s.authorizePage(w, r, http.StatusBadRequest, "The id_token_hint was issued to another client than client_id.")
			return nil
		}
		clientID = aud
	}
	if c, err := r.Cookie(ssoCookie); err == nil {
		if err := s.id.EndSSOSession(r.Context(), c.Value); err != nil {
			s.pageError(w, r, err)
			return nil
		}
	}
	s.setCookie(w, r, ssoCookie, "", -1)
	var app api.Application
	if clientID != "" {
		a, err := s.id.GetApplication(r.Context(), "", identity.CanonicalID(clientID))
		switch {
		case errors.Is(err, storage.ErrUnavailable):
			s.pageError(w, r, err)
			return nil
		case err == nil:
			app = a
		}
	}
	target := ""
	switch {
	case post != "" && app.ID != "" && identity.PostLogoutRedirectAllowed(app, post):
		target = post
	case post != "":
		s.authorizePage(w, r, http.StatusBadRequest, "You are logged out. The post_logout_redirect_uri is not one this client registered, so you stay here.")
		return nil
	case app.OAuthConfiguration.LogoutURL != "":
		target = app.OAuthConfiguration.LogoutURL
	}
	if target == "" {
		if err := loginpage.WriteMessage(w, http.StatusOK, loginpage.Message{Title: "Logged out", Text: "You are logged out."}, loginpage.Options{}); err != nil {
			s.log.Error("write page", "request", r.Context().Value(ctxRequestID), "err", err)
		}
		return nil
	}
	u, err := url.Parse(target)
	if err != nil {
		s.authorizePage(w, r, http.StatusBadRequest, "You are logged out.")
		return nil
	}
	if state != "" {
		v := u.Query()
		v.Set("state", state)
		u.RawQuery = v.Encode()
	}
	loginpage.SetHeaders(w.Header(), "", loginpage.Options{})
	http.Redirect(w, r, u.String(), http.StatusFound)
	return nil
}

// codeGrant serves the authorization_code grant of POST /oauth2/token.
// A DPoP proof, when sent, binds the tokens to its key, and must be made
// with the key the authorization request named in dpop_jkt, if any.
func (s *Server) codeGrant(r *http.Request, app api.Application, authenticated bool, proof *dpop.Proof) (api.AccessTokenResponse, error) {
	client := s.client(r, "", nil)
	if proof != nil {
		if err := s.recordProof(r.Context(), proof); err != nil {
			return api.AccessTokenResponse{}, err
		}
		client.DPoPJKT = proof.JKT
	}
	res, err := s.id.ExchangeCode(r.Context(), identity.ExchangeInput{
		Code: form(r, "code"), RedirectURI: form(r, "redirect_uri"), Verifier: form(r, "code_verifier"),
		App: app, Authenticated: authenticated, Client: client,
	})
	if err != nil {
		return api.AccessTokenResponse{}, err
	}
	return api.AccessTokenResponse{
		AccessToken: res.Token, ExpiresIn: res.ExpiresIn, TokenType: res.TokenType, UserID: res.UserID,
		Scope: strings.Join(res.Scopes, " "), IDToken: res.IDToken, RefreshToken: res.RefreshToken, RefreshTokenID: res.RefreshTokenID,
	}, nil
}

// retryAfterSeconds is d in whole seconds, at least one.
func retryAfterSeconds(d time.Duration) string {
	n := int((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return strconv.Itoa(n)
}
