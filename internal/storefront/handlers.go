package storefront

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/guard"
)

// maxSKULength bounds the sku of a request; the catalogue's are shorter.
const maxSKULength = 64

// maxDeviceDescription bounds the User-Agent passed to Latch as the
// device's description.
const maxDeviceDescription = 255

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/login", s.login)
	s.mux.HandleFunc("POST /api/login/two-factor", s.loginTwoFactor)
	s.mux.HandleFunc("POST /api/logout", s.logout)
	s.mux.HandleFunc("POST "+EventsPath, s.events)
	s.mux.HandleFunc("GET /api/products", s.products)
	s.mux.Handle("GET /api/cart", s.protect(s.getCart))
	s.mux.Handle("POST /api/cart/items", s.protect(s.addItem))
	s.mux.Handle("DELETE /api/cart/items/{sku}", s.protect(s.removeItem))
	s.mux.Handle("GET /api/account/two-factor", s.protect(s.accountTwoFactor))
	s.mux.Handle("POST /api/account/two-factor/secret", s.protect(s.accountTwoFactorSecret))
	s.mux.Handle("POST /api/account/two-factor", s.protect(s.enableAccountTwoFactor))
	s.mux.Handle("DELETE /api/account/two-factor", s.protect(s.disableAccountTwoFactor))
}

// ServeHTTP implements http.Handler: the routes, JSON 404 and 405 answers,
// a JSON 500 for a panic, and one log line per request (method, path,
// status, duration and peer; never a header, a query or a body).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("storefront: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			if sw.status == 0 {
				writeError(sw, http.StatusInternalServerError, CodeInternal, "Internal error.")
			}
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond), "client", peerAddress(r))
	}()
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// No route: the mux would answer 404 or 405 in plain text.
		dw := newDiscardWriter()
		h.ServeHTTP(dw, r)
		if dw.status == http.StatusMethodNotAllowed {
			sw.Header().Set("Allow", dw.h.Get("Allow"))
			writeError(sw, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "The method is not allowed for this resource.")
			return
		}
		writeError(sw, http.StatusNotFound, CodeNotFound, "No such resource.")
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// protect lets a request through to h only with a valid JWT for the
// application, refreshing an expired one when the request carries a
// Refresh-Token (guard.Handler: the article's steps 6-16), and holding a
// DPoP-bound JWT to its key. While Latch's issuer is unknown it answers
// 503.
func (s *Server) protect(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := s.currentGuard(r.Context())
		if err != nil {
			unavailable(w)
			return
		}
		g.Handler(h).ServeHTTP(w, r)
	})
}

// login serves POST /api/login (the article's steps 2-5): it relays the
// credentials to Latch's Login API and maps Latch's answer as the package
// documentation tabulates. The password is never logged or stored; nor is
// the login id.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	if strings.TrimSpace(req.LoginID) == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "Both loginId and password are required.")
		return
	}
	// No login id or password holds a control character (Latch refuses a
	// NUL outright): any caller could otherwise make Latch refuse the
	// request, which reads as the storefront's own misconfiguration.
	if strings.ContainsFunc(req.LoginID, unicode.IsControl) || strings.ContainsFunc(req.Password, unicode.IsControl) {
		s.log.Info("login refused: a control character in the credentials")
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The loginId and password must not contain control characters.")
		return
	}
	if len(req.TwoFactorTrustID) > maxTrustID || strings.ContainsFunc(req.TwoFactorTrustID, unicode.IsControl) {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The twoFactorTrustId is malformed.")
		return
	}
	jkt, ok := s.loginProof(w, r)
	if !ok {
		return
	}
	ip := peerAddress(r)
	lr := api.LoginRequest{LoginID: req.LoginID, Password: req.Password, IPAddress: ip, DPoPJKT: jkt,
		TwoFactorTrustID: req.TwoFactorTrustID, MetaData: deviceMetaData(r, ip)}
	code, body, err := s.latch.login(r.Context(), lr)
	if err != nil {
		if errors.Is(err, errLatchUnavailable) {
			s.log.Warn("storefront: login: Latch unavailable", "err", err)
			unavailable(w)
			return
		}
		s.internalError(w, r, "login", err)
		return
	}
	switch code {
	case http.StatusOK:
		s.loggedIn(w, r, body, jkt)
	case statusTwoFactorRequired:
		s.twoFactorPending(w, r, body)
	case http.StatusNotFound:
		s.log.Info("login refused: invalid credentials")
		writeError(w, http.StatusUnauthorized, CodeInvalidCredentials, "Invalid login credentials.")
	case http.StatusAccepted:
		s.log.Info("login refused: user not registered for the application")
		writeError(w, http.StatusForbidden, CodeNotRegistered, "This account may not use the store.")
	case http.StatusNonAuthoritativeInfo:
		s.log.Info("login refused: password change required")
		writeError(w, http.StatusForbidden, CodePasswordChangeRequired, "You must change your password before you log in.")
	case http.StatusBadRequest:
		s.internalError(w, r, "login: Latch refused the request; check the application id",
			fmt.Errorf("latch answered 400%s", errorCodes(body)))
	default:
		s.loginRefused(w, r, code, body)
	}
}

// deviceMetaData describes the app's device to Latch: the User-Agent and
// the peer's address; nil without a User-Agent.
func deviceMetaData(r *http.Request, ip string) *api.MetaData {
	ua := r.UserAgent()
	if ua == "" {
		return nil
	}
	return &api.MetaData{Device: api.DeviceInfo{Description: truncate(ua, maxDeviceDescription), LastAccessedAddress: ip}}
}

// loggedIn answers 200 with the tokens of Latch's 200 to a login or to its
// second step, after checking that they are bound to the key of the
// app's DPoP proof (jkt) if it sent one.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request, body []byte, jkt string) {
	var res api.LoginResponse
	if err := json.Unmarshal(body, &res); err != nil || res.Token == "" {
		s.internalError(w, r, "login: Latch's answer carries no token", err)
		return
	}
	var userID string
	if res.User != nil {
		userID = res.User.ID
	}
	if jkt != "" && tokenJKT(res.Token) != jkt {
		if s.cfg.RequireDPoP {
			s.internalError(w, r, "login: Latch did not bind the tokens to the app's DPoP key", errors.New("no cnf.jkt"))
			return
		}
		s.log.Warn("storefront: Latch did not bind the tokens to the app's DPoP key; does it take dpopJkt?", "user", userID)
	}
	s.log.Info("login", "user", userID, "dpop", jkt != "", "trustDevice", res.TwoFactorTrustID != "")
	writeJSON(w, http.StatusOK, LoginResponse{
		User: res.User, Token: res.Token, RefreshToken: res.RefreshToken, TokenExpirationInstant: res.TokenExpirationInstant,
		TwoFactorTrustID: res.TwoFactorTrustID,
	})
}

// loginRefused maps the answers a login and its second step share: the
// lockout, a locked or expired account, a refused API key, an unexpected
// status.
func (s *Server) loginRefused(w http.ResponseWriter, r *http.Request, code int, body []byte) {
	switch code {
	case http.StatusConflict:
		s.loginPrevented(w, body)
	case http.StatusLocked:
		s.log.Info("login refused: account locked")
		writeError(w, http.StatusLocked, CodeAccountLocked, "This account is locked. Contact support.")
	case http.StatusGone:
		s.log.Info("login refused: account expired")
		writeError(w, http.StatusForbidden, CodeAccountExpired, "This account has expired.")
	case http.StatusUnauthorized:
		s.internalError(w, r, "login: Latch refused the API key; check it", errors.New("latch answered 401"))
	default:
		if code/100 == 2 {
			s.log.Info("login refused: another step is due", "latchStatus", code)
			writeError(w, http.StatusForbidden, CodeLoginIncomplete, "Your account needs attention before you can log in.")
			return
		}
		s.internalError(w, r, "login", fmt.Errorf("latch answered %d", code))
	}
}

// loginProof checks the DPoP proof of a login, if it carries one, and
// returns the thumbprint of its key, for Latch to bind the tokens to; ""
// without a proof (refused when Config.RequireDPoP). ok is false when it
// answered: 400 invalid_dpop_proof for a bad proof, 400 use_dpop_nonce
// with a DPoP-Nonce header when a nonce is due, 503 when the proof cannot
// be checked now.
func (s *Server) loginProof(w http.ResponseWriter, r *http.Request) (jkt string, ok bool) {
	if len(r.Header.Values(dpop.Header)) == 0 {
		if s.cfg.RequireDPoP {
			s.log.Info("login refused: no DPoP proof")
			writeError(w, http.StatusBadRequest, CodeInvalidDPoPProof, "A DPoP proof is required: send one in the DPoP header.")
			return "", false
		}
		return "", true
	}
	g, err := s.currentGuard(r.Context())
	if err != nil {
		unavailable(w)
		return "", false
	}
	p, err := g.VerifyProof(r)
	var nonceErr *dpop.NonceError
	switch {
	case err == nil:
		return p.JKT, true
	case errors.As(err, &nonceErr):
		w.Header().Set(dpop.NonceHeader, nonceErr.Nonce)
		writeError(w, http.StatusBadRequest, CodeUseDPoPNonce, "The DPoP proof must carry the nonce of the DPoP-Nonce header.")
	case errors.Is(err, guard.ErrUnavailable):
		s.log.Warn("storefront: login: the DPoP proof cannot be checked", "err", err)
		unavailable(w)
	default:
		s.log.Info("login refused: invalid DPoP proof", "err", err)
		writeError(w, http.StatusBadRequest, CodeInvalidDPoPProof, "The DPoP proof is invalid.")
	}
	return "", false
}

// tokenJKT returns the cnf.jkt of a JWT Latch just issued ("" if none or
// unreadable); its signature is not checked.
func tokenJKT(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c api.Claims
	if json.Unmarshal(payload, &c) != nil || c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// loginPrevented answers 409 for Latch's 409: a lock after failed logins
// (or another action preventing login), until the latest action expiry.
func (s *Server) loginPrevented(w http.ResponseWriter, body []byte) {
	var res api.LoginResponse
	_ = json.Unmarshal(body, &res)
	var expiry int64
	for _, a := range res.Actions {
		expiry = max(expiry, a.Expiry)
	}
	msg := "Logging in is prevented for this account."
	if expiry > 0 {
		until := time.UnixMilli(expiry).UTC()
		msg = fmt.Sprintf("Too many failed login attempts: the account is locked until %s.", until.Format(time.RFC3339))
		if secs := math.Ceil(until.Sub(s.now()).Seconds()); secs > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
	}
	s.log.Info("login refused: login prevented", "until", expiry)
	writeJSON(w, http.StatusConflict, ErrorResponse{Error: CodeLoginPrevented, Message: msg, LockExpirationInstant: expiry})
}

// logout serves POST /api/logout {"global": bool}: guard first, so that
// an expired JWT is refreshed and the refresh token revoked is the current
// one, then the revocation the package documentation describes.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	var req LogoutRequest
	if !decodeJSON(w, r, &req, true) {
		return
	}
	ctx := r.Context()
	var (
		claims *api.Claims
		tokens guard.Tokens
		authed bool
	)
	presented := r.Header.Get(api.HeaderRefreshToken)
	if r.Header.Get("Authorization") != "" || r.Header.Get(api.HeaderRefreshToken) != "" {
		if g, err := s.currentGuard(ctx); err == nil {
			// guard's answer (the refusal, or new tokens for a session
			// about to end) is not the app's to see.
			g.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				authed = true
				claims, _ = guard.ClaimsFrom(r.Context())
				tokens, _ = guard.TokensFrom(r.Context())
			})).ServeHTTP(newDiscardWriter(), r)
		}
	}
	refreshToken := tokens.RefreshToken
	if refreshToken == "" {
		refreshToken = presented
	}
	if refreshToken == "" {
		refreshToken = req.RefreshToken
	}
	var user, how string
	if authed {
		user = claims.Subject
	}
	jkt := s.logoutKey(r, authed, claims)
	var err error
	switch {
	case refreshToken != "":
		how = "refresh token"
		err = s.latch.logout(ctx, refreshToken, req.Global, jkt)
	case authed && req.Global:
		how = "user"
		err = s.latch.revokeUser(ctx, claims.Subject)
	case authed && claims.SessionID != "":
		how = "session"
		err = s.latch.revokeSession(ctx, claims.SessionID)
	default:
		how = "nothing"
	}
	switch {
	case errors.Is(err, errLatchUnavailable):
		s.log.Warn("storefront: logout: Latch unavailable", "err", err)
		unavailable(w)
		return
	case err != nil:
		s.internalError(w, r, "logout", err)
		return
	}
	// guard may hold a refresh of these tokens for a few seconds more:
	// it must not hand it out again.
	if g := s.guard.Load(); g != nil {
		g.Forget(presented)
		g.Forget(refreshToken)
	}
	s.log.Info("logout", "user", user, "global", req.Global, "revoked", how)
	writeJSON(w, http.StatusOK, struct{}{})
}

// logoutKey is the thumbprint of the app's DPoP key that a logout proved:
// that of its bound JWT, which guard verified with its proof, or, when no
// JWT passed, that of a valid proof on its own. "" for none. Latch ends
// the sessions of a DPoP-bound refresh token only for its key, so that
// whoever holds a copy of the value, without the device, logs nobody out.
func (s *Server) logoutKey(r *http.Request, authed bool, claims *api.Claims) string {
	if authed {
		if claims != nil && claims.Confirmation != nil {
			return claims.Confirmation.JKT
		}
		return ""
	}
	if len(r.Header.Values(dpop.Header)) == 0 {
		return ""
	}
	g, err := s.currentGuard(r.Context())
	if err != nil {
		return ""
	}
	p, err := g.VerifyProof(r)
	if err != nil {
		s.log.Info("logout: DPoP proof refused", "err", err)
		return ""
	}
	return p.JKT
}

// products serves GET /api/products: the catalogue, to anyone.
func (s *Server) products(w http.ResponseWriter, r *http.Request) {
	ps, err := s.db.products(r.Context())
	if err != nil {
		s.internalError(w, r, "products", err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, ProductsResponse{Products: ps})
}

// userID returns the sub of the JWT guard verified.
func userID(r *http.Request) string {
	c, _ := guard.ClaimsFrom(r.Context())
	return c.Subject
}

// getCart serves GET /api/cart (behind guard): the cart of the JWT's user
// (the article's steps 6-8 and 9-12).
func (s *Server) getCart(w http.ResponseWriter, r *http.Request) {
	c, err := s.db.cart(r.Context(), userID(r))
	if err != nil {
		s.internalError(w, r, "cart", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// addItem serves POST /api/cart/items {"sku","quantity"} (behind guard):
// quantity (1 to MaxQuantity) more of the product, and answers 200 with
// the cart; 400 for a bad body or quantity, or when the line would exceed
// MaxQuantity; 404 for an unknown sku.
func (s *Server) addItem(w http.ResponseWriter, r *http.Request) {
	var req AddItemRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	switch {
	case req.SKU == "" || len(req.SKU) > maxSKULength:
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The sku is required.")
		return
	case req.Quantity < 1 || req.Quantity > MaxQuantity:
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("The quantity must be from 1 to %d.", MaxQuantity))
		return
	}
	c, err := s.db.addToCart(r.Context(), userID(r), req.SKU, req.Quantity, s.now())
	switch {
	case errors.Is(err, errUnknownSKU):
		writeError(w, http.StatusNotFound, CodeNotFound, "No product has this sku.")
	case errors.Is(err, errQuantityLimit):
		writeError(w, http.StatusBadRequest, CodeQuantityLimit, fmt.Sprintf("A cart holds at most %d of one product.", MaxQuantity))
	case err != nil:
		s.internalError(w, r, "add to cart", err)
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

// removeItem serves DELETE /api/cart/items/{sku} (behind guard): the
// product leaves the cart, and the answer is 200 with the cart; 404 when
// the cart does not hold it.
func (s *Server) removeItem(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	var (
		c   Cart
		err = errNotInCart
	)
	if sku != "" && len(sku) <= maxSKULength {
		c, err = s.db.removeFromCart(r.Context(), userID(r), sku)
	}
	switch {
	case errors.Is(err, errNotInCart):
		writeError(w, http.StatusNotFound, CodeNotFound, "The cart does not hold this product.")
	case err != nil:
		s.internalError(w, r, "remove from cart", err)
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

// peerAddress is the request's peer IP address: the end user's, as the
// storefront listens directly (behind a proxy it would be the proxy's).
func peerAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// truncate cuts s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "")
}
