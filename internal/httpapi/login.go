package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// loginStatus is the status FusionAuth's Login API answers for each outcome.
var loginStatus = map[identity.LoginOutcome]int{
	identity.LoginOK:             http.StatusOK,
	identity.LoginNotRegistered:  http.StatusAccepted,
	identity.LoginChangePassword: http.StatusNonAuthoritativeInfo,
	identity.LoginPrevented:      http.StatusConflict,
	identity.LoginExpired:        http.StatusGone,
	identity.LoginInactive:       http.StatusLocked,
	identity.LoginTwoFactor:      242, // FusionAuth's: the login waits for a two-factor code
}

// login serves POST /api/login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req api.LoginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if s.id.Busy() {
		return identity.ErrBusy // shed at once, before any look-up
	}
	r, tenantID, err := s.loginAuth(r, req.ApplicationID)
	if err != nil {
		return err
	}
	r, client, err := s.loginClient(r, tenantID, loginCaller{req.ApplicationID, req.IPAddress, req.DPoPJKT, req.MetaData, req.EventInfo})
	if err != nil {
		return err
	}
	res, err := s.id.Login(r.Context(), identity.LoginInput{Request: req, TenantID: tenantID, Client: client})
	if errors.Is(err, identity.ErrBadCredentials) {
		s.metrics.logins.WithLabelValues(strconv.Itoa(http.StatusNotFound)).Inc()
		return status(http.StatusNotFound)
	} else if err != nil {
		return err
	}
	return s.answerLogin(w, res)
}

// answerLogin writes a login's answer, the first step's or the second's:
// its outcome's status, and the response unless the status has no body.
func (s *Server) answerLogin(w http.ResponseWriter, res identity.LoginResult) error {
	code := loginStatus[res.Outcome]
	s.metrics.logins.WithLabelValues(strconv.Itoa(code)).Inc()
	noStore(w)
	if code == http.StatusGone || code == http.StatusLocked {
		w.WriteHeader(code)
		return nil
	}
	return writeJSON(w, code, res.Response)
}

// loginTenant is the tenant a login is for, as far as the request tells
// before the login: the pinned one, else the application's ("" when
// neither says).
func (s *Server) loginTenant(r *http.Request, pinned, applicationID string) string {
	if pinned != "" || !identity.ValidID(applicationID) {
		return pinned
	}
	app, err := s.id.GetApplication(r.Context(), "", applicationID)
	if err != nil {
		return ""
	}
	return app.TenantID
}

// loginAuth applies the Login API's authentication rule: an API key when
// the application (or, without one, the tenant) requires it. A key that is
// sent is always checked.
func (s *Server) loginAuth(r *http.Request, applicationID string) (*http.Request, string, error) {
	key, err := s.apiKey(r)
	if err != nil {
		return r, "", err
	}
	if key != nil {
		r = withAPIKey(r, key)
	}
	tenantID, err := s.tenant(r)
	if err != nil {
		return r, "", err
	}
	if key == nil {
		need, err := s.id.LoginNeedsAPIKey(r.Context(), tenantID, applicationID)
		if err != nil {
			return r, "", err
		}
		if need {
			return r, "", noAPIKey(r, "the application requires one to log in")
		}
	}
	return r, tenantID, nil
}

// client describes the caller for the session record: the end user's
// address as the backend reports it, else the request's.
// loginCaller is what a login step's request says of its caller.
type loginCaller struct {
	applicationID, ipAddress, dpopJKT string
	metaData                          *api.MetaData
	eventInfo                         *api.EventInfo
}

// loginClient makes the checks both steps of a login share: the login
// rate limit (keyed by the vouched ipAddress when an API key is present),
// the dpopJkt rule and the DPoP proof; it returns the request carrying
// the event info, and the client the tokens are issued to.
func (s *Server) loginClient(r *http.Request, tenantID string, c loginCaller) (*http.Request, identity.Client, error) {
	_, hasKey := r.Context().Value(ctxAPIKey).(*storage.APIKey)
	limitKey := s.clientAddress(r)
	if hasKey && c.ipAddress != "" {
		limitKey = c.ipAddress
	}
	if err := allow(s.limits.login, limitKey, false); err != nil {
		return r, identity.Client{}, err
	}
	if err := checkDPoPJKT(c.dpopJKT, hasKey); err != nil {
		return r, identity.Client{}, err
	}
	proof, err := s.dpopProof(r, func() string { return s.loginTenant(r, tenantID, c.applicationID) }, dpop.Request{})
	if err != nil {
		return r, identity.Client{}, err
	}
	client := s.client(r, c.ipAddress, c.metaData)
	if client.DPoPJKT, err = bindJKT(c.dpopJKT, proof); err != nil {
		return r, identity.Client{}, err
	}
	return s.withEventInfo(r, c.eventInfo, c.ipAddress), client, nil
}

func (s *Server) client(r *http.Request, ipAddress string, md *api.MetaData) identity.Client {
	c := identity.Client{Address: ipAddress}
	if c.Address == "" {
		c.Address = s.clientAddress(r)
	}
	if md != nil {
		c.Device = md.Device
		c.Scopes = md.Scopes
	}
	return c
}

// logout serves POST /api/logout: query parameters (the clients' form) or
// a JSON body. It answers 200 with no body whatever the token, and clears
// the token cookies. A DPoP-bound refresh token ends sessions only with a
// proof of its key: a DPoP header for this request, or, from a backend
// with an API key, the dpopJkt of the app's proof it verified.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	var req api.LogoutRequest
	if isJSON(r) {
		if err := decodeJSON(r, &req); err != nil {
			return status(http.StatusBadRequest)
		}
	}
	if v := query(r, "refreshToken"); v != "" {
		req.RefreshToken = v
	}
	if v := query(r, "global"); v != "" {
		g, err := boolQuery(r, "global")
		if err != nil {
			return status(http.StatusBadRequest)
		}
		req.Global = g
	}
	if req.RefreshToken == "" {
		if c, err := r.Cookie("refresh_token"); err == nil {
			req.RefreshToken = c.Value
		}
	}
	var hasKey bool
	if req.DPoPJKT != "" {
		key, err := s.apiKey(r)
		if err != nil {
			return err
		}
		hasKey = key != nil
	}
	if err := checkDPoPJKT(req.DPoPJKT, hasKey); err != nil {
		return err
	}
	// The tenant names the URL a proof is for; a logout without one needs
	// none (and an unknown one is the default's).
	tenant := func() string { id, _ := s.tenant(r); return id }
	proof, err := s.dpopProof(r, tenant, dpop.Request{})
	if err != nil {
		return err
	}
	jkt, err := bindJKT(req.DPoPJKT, proof)
	if err != nil {
		return err
	}
	r = s.withEventInfo(r, req.EventInfo, "")
	err = s.id.Logout(r.Context(), identity.LogoutInput{RefreshToken: req.RefreshToken, Global: req.Global,
		DPoPJKT: jkt, Address: s.clientAddress(r)})
	if err != nil {
		return err
	}
	for _, name := range []string{"access_token", "refresh_token"} {
		if _, err := r.Cookie(name); err == nil {
			http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// isJSON reports whether the request says its body is JSON.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// isForm reports whether the request says its body is a URL-encoded form.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}
