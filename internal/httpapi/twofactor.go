package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/identity"
)

// statusWrongCode is FusionAuth's answer to a two-factor code that is not
// valid (421 Misdirected Request, as FusionAuth uses it).
const statusWrongCode = 421

// twoFactorRoutes registers FusionAuth's two-factor APIs. The routes
// without a user id act for the user of the JWT the request carries.
func (s *Server) twoFactorRoutes() {
	h := s.handle
	s.mux.Handle("GET /api/two-factor/secret", h(authNone, s.twoFactorSecret))
	s.mux.Handle("POST /api/two-factor/login", h(authNone, s.twoFactorLogin))
	s.mux.Handle("POST /api/user/two-factor", h(authNone, s.enableTwoFactor))
	s.mux.Handle("POST /api/user/two-factor/{userId}", h(authAPIKey, s.enableTwoFactor))
	s.mux.Handle("DELETE /api/user/two-factor", h(authNone, s.disableTwoFactor))
	s.mux.Handle("DELETE /api/user/two-factor/{userId}", h(authAPIKey, s.disableTwoFactor))
	s.mux.Handle("GET /api/user/two-factor/recovery-code/{userId}", h(authAPIKey, s.recoveryCodes))
	s.mux.Handle("POST /api/user/two-factor/recovery-code/{userId}", h(authAPIKey, s.regenerateRecoveryCodes))
}

// twoFactorUser is who a two-factor request acts for: the {userId} of a
// route that took an API key, else the user of the request's JWT, with
// the tenant either is in.
func (s *Server) twoFactorUser(w http.ResponseWriter, r *http.Request) (tenantID, userID string, err error) {
	if id := r.PathValue("userId"); id != "" {
		tenantID, err = s.tenant(r)
		return tenantID, identity.CanonicalID(id), err
	}
	claims, err := s.authenticateJWT(w, r)
	if err != nil {
		return "", "", err
	}
	tenantID, _ = claims["tid"].(string)
	userID, _ = claims["sub"].(string)
	if userID == "" {
		return "", "", status(http.StatusUnauthorized)
	}
	return tenantID, userID, nil
}

// wrongCode is the answer to identity.ErrTwoFactorCode (421), and to
// identity.ErrTwoFactorLocked (409, no body).
func wrongCode(err error) error {
	if errors.Is(err, identity.ErrTwoFactorLocked) {
		return &statusError{code: http.StatusConflict, err: err}
	}
	if errors.Is(err, identity.ErrTwoFactorCode) {
		return &statusError{code: statusWrongCode, body: api.FieldError("code", "invalid", "The two-factor code is not valid.")}
	}
	return err
}

// twoFactorSecret serves GET /api/two-factor/secret: a new secret, with
// an API key or the user's JWT. The otpauth URI (a Latch addition) comes
// for a user's JWT, or with an API key and ?loginId=.
func (s *Server) twoFactorSecret(w http.ResponseWriter, r *http.Request) error {
	var tenantID, account string
	if apiKeyHeader(r) != "" {
		var err error
		if r, err = s.requireAPIKey(r); err != nil {
			return err
		}
		if tenantID, err = s.tenant(r); err != nil {
			return err
		}
		account = query(r, "loginId")
	} else {
		tid, userID, err := s.twoFactorUser(w, r)
		if err != nil {
			return err
		}
		if account, err = s.id.AccountName(r.Context(), tid, userID); err != nil {
			return err
		}
		tenantID = tid
	}
	resp, err := s.id.TwoFactorSecret(r.Context(), tenantID, account)
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

// enableTwoFactor serves POST /api/user/two-factor[/{userId}]: 200 with
// the recovery codes when the method is the user's first.
func (s *Server) enableTwoFactor(w http.ResponseWriter, r *http.Request) error {
	var req api.TwoFactorRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	tenantID, userID, err := s.twoFactorUser(w, r)
	if err != nil {
		return err
	}
	r = s.withEventInfo(r, req.EventInfo, "")
	resp, err := s.id.EnableTwoFactor(r.Context(), tenantID, userID, req)
	if err != nil {
		return wrongCode(err)
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, resp)
}

// disableTwoFactor serves DELETE /api/user/two-factor[/{userId}], with
// methodId and code as query parameters or a JSON body: 200, no body.
func (s *Server) disableTwoFactor(w http.ResponseWriter, r *http.Request) error {
	var req api.TwoFactorDisableRequest
	if isJSON(r) {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if v := query(r, "methodId"); v != "" {
		req.MethodID = v
	}
	if v := query(r, "code"); v != "" {
		req.Code = v
	}
	tenantID, userID, err := s.twoFactorUser(w, r)
	if err != nil {
		return err
	}
	r = s.withEventInfo(r, req.EventInfo, "")
	if err := s.id.DisableTwoFactor(r.Context(), tenantID, userID, req); err != nil {
		return wrongCode(err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// recoveryCodes serves GET /api/user/two-factor/recovery-code/{userId}.
// Latch keeps recovery codes only as hashes, so it answers how many are
// left (recoveryCodeCount), not the codes.
func (s *Server) recoveryCodes(w http.ResponseWriter, r *http.Request) error {
	tenantID, userID, err := s.twoFactorUser(w, r)
	if err != nil {
		return err
	}
	n, err := s.id.RecoveryCodeCount(r.Context(), tenantID, userID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TwoFactorRecoveryCodeResponse{RecoveryCodeCount: &n})
}

// regenerateRecoveryCodes serves POST
// /api/user/two-factor/recovery-code/{userId}: new codes, the old ones
// stop working.
func (s *Server) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	tenantID, userID, err := s.twoFactorUser(w, r)
	if err != nil {
		return err
	}
	codes, err := s.id.RegenerateRecoveryCodes(r.Context(), tenantID, userID)
	if err != nil {
		return err
	}
	noStore(w)
	return writeJSON(w, http.StatusOK, api.TwoFactorRecoveryCodeResponse{RecoveryCodes: codes})
}

// twoFactorLogin serves POST /api/two-factor/login, the second step of a
// login that answered 242: limited and DPoP-bound as POST /api/login is,
// and answered as it is; 404 for a twoFactorId that is
// unknown, expired, spent or another client's; 421 for a wrong code.
func (s *Server) twoFactorLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.TwoFactorLoginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	// No API key is required (FusionAuth's clients send none): the
	// twoFactorId comes from a first step that was authenticated as the
	// application requires, and is worthless without the code. A key that
	// is sent is checked, and vouches for ipAddress and dpopJkt.
	key, err := s.apiKey(r)
	if err != nil {
		return err
	}
	if key != nil {
		r = withAPIKey(r, key)
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return err
	}
	r, client, err := s.loginClient(r, tenantID, loginCaller{req.ApplicationID, req.IPAddress, req.DPoPJKT, req.MetaData, req.EventInfo})
	if err != nil {
		return err
	}
	res, err := s.id.TwoFactorLogin(r.Context(), identity.TwoFactorLoginInput{Request: req, TenantID: tenantID, Client: client})
	switch {
	case errors.Is(err, identity.ErrTwoFactorIDInvalid):
		s.metrics.logins.WithLabelValues(strconv.Itoa(http.StatusNotFound)).Inc()
		return status(http.StatusNotFound)
	case errors.Is(err, identity.ErrTwoFactorCode):
		s.metrics.logins.WithLabelValues(strconv.Itoa(statusWrongCode)).Inc()
		return wrongCode(err)
	case err != nil:
		return err
	}
	return s.answerLogin(w, res)
}
