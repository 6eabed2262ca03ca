package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// errRefreshTokenInvalid is the one answer for an unknown, expired,
// revoked or reused refresh token: the cases are not told apart.
var errRefreshTokenInvalid = api.FieldError("refreshToken", "invalid", "The refresh token is invalid or has expired.")

// refresh serves POST /api/jwt/refresh. The refresh_token cookie wins
// over the body, as in FusionAuth. A DPoP proof is checked first and
// recorded only once the token has proved to be a live session's; the
// request is limited by that session, or, when it reaches none, by its
// client (see RateLimits.Refresh).
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) (err error) {
	var req api.RefreshRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if c, err := r.Cookie("refresh_token"); err == nil && c.Value != "" {
		req.RefreshToken = c.Value
	}
	// dpopJkt (a backend binding the refresh to the app's key) needs an
	// API key, and so does vouching for the end user's address
	// (eventInfo.ipAddress) to the rate limit; the API is otherwise
	// anonymous, and a key is not checked. A wrong key fails dpopJkt, and
	// vouches for nothing.
	vouched := ""
	if req.EventInfo != nil {
		vouched = req.EventInfo.IPAddress
	}
	if req.DPoPJKT != "" || vouched != "" {
		key, err := s.apiKey(r)
		if err != nil && req.DPoPJKT != "" {
			return err
		}
		if key != nil {
			r = withAPIKey(r, key)
		}
		if err := checkDPoPJKT(req.DPoPJKT, key != nil); err != nil {
			return err
		}
	}
	limitKey := s.clientAddress(r)
	if _, ok := r.Context().Value(ctxAPIKey).(*storage.APIKey); ok && vouched != "" {
		limitKey = vouched
	}
	gate, err := s.beginRefresh(r, limitKey, req.RefreshToken, false)
	if err != nil {
		return err
	}
	defer func() { err = gate.end(err) }()
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	proof, err := s.dpopCheck(r, func() string { return tenantID }, dpop.Request{})
	if err != nil {
		return err
	}
	client := s.client(r, "", nil)
	if client.DPoPJKT, err = bindJKT(req.DPoPJKT, proof); err != nil {
		return err
	}
	r = s.withEventInfo(r, req.EventInfo, "")
	res, err := s.id.Refresh(r.Context(), identity.RefreshInput{
		RefreshToken: req.RefreshToken,
		TenantID:     tenantID,
		TTL:          time.Duration(req.TimeToLiveInSeconds) * time.Second,
		Original:     req.Token,
		Client:       client,
		Admit:        gate.admit(proof),
	})
	s.countRefresh(res, err)
	if errors.Is(err, identity.ErrRefreshTokenInvalid) {
		return errRefreshTokenInvalid
	} else if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, api.JWTRefreshResponse{Token: res.Token, RefreshToken: res.RefreshToken, RefreshTokenID: res.RefreshTokenID})
}

// validate serves GET /api/jwt/validate: 200 with the claims, or 401 with
// no body. A DPoP-bound token is valid only as Authorization: DPoP with a
// proof of its key (see authenticateJWT).
func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	claims, err := s.authenticateJWT(w, r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ValidateResponse{JWT: claims})
}

// listRefreshTokens serves GET /api/jwt/refresh?userId=.
func (s *Server) listRefreshTokens(w http.ResponseWriter, r *http.Request) error {
	userID := query(r, "userId")
	if userID == "" {
		return api.FieldError("userId", "blank", "You must specify the [userId] parameter.")
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	list, err := s.id.ListSessions(r.Context(), tenantID, userID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RefreshTokensResponse{RefreshTokens: list})
}

// getRefreshToken serves GET /api/jwt/refresh/{id}.
func (s *Server) getRefreshToken(w http.ResponseWriter, r *http.Request) error {
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	rt, err := s.id.GetSession(r.Context(), tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RefreshTokenResponse{RefreshToken: &rt})
}

// revokeRefreshTokens serves DELETE /api/jwt/refresh[/{id}]: with an API
// key any selection; with the owner's JWT one token, by id or value. The
// selection comes from the path, the query, a JSON body, or a form body
// (which keeps the token out of access logs).
func (s *Server) revokeRefreshTokens(w http.ResponseWriter, r *http.Request) error {
	sel := identity.RevokeSelector{ID: r.PathValue("id")}
	switch {
	case isJSON(r):
		var body api.RefreshTokenRevokeRequest
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		sel.Token, sel.UserID, sel.ApplicationID = body.Token, body.UserID, body.ApplicationID
		r = s.withEventInfo(r, body.EventInfo, "")
	case isForm(r):
		// Read the body by hand: http.Request.ParseForm ignores the body of
		// a DELETE.
		body, err := readBody(r)
		if err != nil {
			return err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return api.GeneralError("[invalid]", "The form body could not be read.")
		}
		if v := vals.Get("token"); v != "null" && v != "undefined" {
			sel.Token = v
		}
	}
	for field, dst := range map[string]*string{"token": &sel.Token, "userId": &sel.UserID, "applicationId": &sel.ApplicationID} {
		if v := query(r, field); v != "" {
			*dst = v
		}
	}
	key, err := s.apiKey(r)
	if err != nil {
		return err
	}
	if key != nil {
		r = withAPIKey(r, key)
		if sel.TenantID, err = s.tenant(r); err != nil {
			return err
		}
	} else {
		claims, err := s.authenticateJWT(w, r)
		if err != nil {
			return err
		}
		sub, _ := claims["sub"].(string)
		if sub == "" {
			return status(http.StatusUnauthorized)
		}
		sel.Owner = sub
	}
	if _, err := s.id.Revoke(r.Context(), sel, identity.ReasonRevoked); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// publicKey serves GET /api/jwt/public-key: every key, or one by kid or
// by application. Errors have empty bodies.
func (s *Server) publicKey(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var resp api.PublicKeyResponse
	var err error
	switch kid, app := query(r, "kid"), query(r, "applicationId"); {
	case kid != "":
		resp.PublicKey, err = s.id.PublicKeyByKid(ctx, kid)
	case app != "":
		resp.PublicKey, err = s.id.PublicKeyForApplication(ctx, app)
	default:
		resp.PublicKeys, err = s.id.PublicKeys(ctx)
	}
	if err != nil {
		var ae *api.Errors
		if errors.As(err, &ae) {
			return status(http.StatusBadRequest)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// countRefresh records a refresh's outcome: rotated, reused (the value
// did not rotate) or refused.
func (s *Server) countRefresh(res identity.RefreshResult, err error) {
	switch {
	case errors.Is(err, identity.ErrRefreshTokenInvalid):
		s.metrics.refreshes.WithLabelValues("refused").Inc()
	case err != nil:
	case res.Rotated:
		s.metrics.refreshes.WithLabelValues("rotated").Inc()
	default:
		s.metrics.refreshes.WithLabelValues("reused").Inc()
	}
}
