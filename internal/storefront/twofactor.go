package storefront

import (
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/guard"
)

// TOTPIssuer names the storefront in the otpauth:// URI of an
// enrolment, which authenticator apps show beside the account.
const TOTPIssuer = "Latch Storefront"

// Bounds on the two-factor fields of requests.
const (
	maxTwoFactorID   = 256 // Latch's ids are far shorter
	maxTwoFactorCode = 64  // a TOTP code has 6 digits, a recovery code a dozen characters
	maxTrustID       = 256
	minSecretChars   = 16 // 80 bits, RFC 4226's minimum is 128: Latch's have 160
	maxSecretChars   = 128
)

// statusTwoFactorRequired is Latch's (FusionAuth's) answer to a login
// that needs a second factor; statusInvalidCode its answer to a wrong one.
const (
	statusTwoFactorRequired = 242
	statusInvalidCode       = 421
)

// twoFactorLogin relays the second step of a login to Latch's POST
// /api/two-factor/login with the API key, which vouches for the
// ipAddress and the dpopJkt.
func (l *latch) twoFactorLogin(r *http.Request, req api.TwoFactorLoginRequest) (int, []byte, error) {
	req.ApplicationID = l.appID
	return l.call(r.Context(), http.MethodPost, "/api/two-factor/login", req, true)
}

// twoFactorSecret asks Latch for a new TOTP secret (GET
// /api/two-factor/secret) and returns its base32 form.
func (l *latch) twoFactorSecret(r *http.Request) (string, error) {
	code, b, err := l.call(r.Context(), http.MethodGet, "/api/two-factor/secret", nil, true)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("storefront: latch answered %d to GET /api/two-factor/secret%s", code, errorCodes(b))
	}
	var res api.SecretResponse
	if err := json.Unmarshal(b, &res); err != nil || !validSecret(res.SecretBase32Encoded) {
		return "", errors.New("storefront: Latch's answer to GET /api/two-factor/secret has no base32 secret")
	}
	return res.SecretBase32Encoded, nil
}

// twoFactorMethods reads the two-factor methods of a user (GET
// /api/user/{id}); errNoUser when Latch has no such user.
func (l *latch) twoFactorMethods(r *http.Request, userID string) ([]TwoFactorMethod, error) {
	path := "/api/user/" + url.PathEscape(userID)
	code, b, err := l.call(r.Context(), http.MethodGet, path, nil, true)
	if err != nil {
		return nil, err
	}
	switch code {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, errNoUser
	default:
		return nil, fmt.Errorf("storefront: latch answered %d to GET /api/user/{id}%s", code, errorCodes(b))
	}
	var res api.UserResponse
	if err := json.Unmarshal(b, &res); err != nil || res.User == nil {
		return nil, fmt.Errorf("storefront: Latch's answer to GET /api/user/{id} is not a user")
	}
	ms := []TwoFactorMethod{}
	if tf := res.User.TwoFactor; tf != nil {
		ms = methodsOf(tf.Methods)
	}
	return ms, nil
}

// enableTwoFactor enables the authenticator for a user (POST
// /api/user/two-factor/{id}) and returns Latch's status and body.
func (l *latch) enableTwoFactor(r *http.Request, userID, secret, code string) (int, []byte, error) {
	body := api.TwoFactorRequest{Method: api.TwoFactorAuthenticator, Code: code, SecretBase32Encoded: secret}
	return l.call(r.Context(), http.MethodPost, "/api/user/two-factor/"+url.PathEscape(userID), body, true)
}

// disableTwoFactor removes a method of a user (DELETE
// /api/user/two-factor/{id}, the code in the body, not in a URL that
// proxies log) and returns Latch's status and body.
func (l *latch) disableTwoFactor(r *http.Request, userID, methodID, code string) (int, []byte, error) {
	body := api.TwoFactorDisableRequest{MethodID: methodID, Code: code}
	return l.call(r.Context(), http.MethodDelete, "/api/user/two-factor/"+url.PathEscape(userID), body, true)
}

// errNoUser: Latch has no user of the JWT's sub (deleted since).
var errNoUser = errors.New("storefront: latch has no such user")

// loginTwoFactor serves POST /api/login/two-factor {"twoFactorId",
// "code","trustDevice"}: the second step of a login that answered 202.
// It relays the code to Latch with the peer's address and, when the
// request carries a DPoP proof, its key's thumbprint, as login does, and
// maps Latch's answer as the package documentation tabulates. Neither
// the code nor the twoFactorId is logged.
func (s *Server) loginTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req TwoFactorLoginRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	switch {
	case strings.TrimSpace(req.TwoFactorID) == "" || strings.TrimSpace(req.Code) == "":
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "Both twoFactorId and code are required.")
		return
	case len(req.TwoFactorID) > maxTwoFactorID || len(req.Code) > maxTwoFactorCode ||
		strings.ContainsFunc(req.TwoFactorID, unicode.IsControl) || strings.ContainsFunc(req.Code, unicode.IsControl):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The twoFactorId or the code is malformed.")
		return
	}
	jkt, ok := s.loginProof(w, r)
	if !ok {
		return
	}
	ip := peerAddress(r)
	code, body, err := s.latch.twoFactorLogin(r, api.TwoFactorLoginRequest{
		TwoFactorID: req.TwoFactorID, Code: strings.TrimSpace(req.Code), TrustComputer: req.TrustDevice,
		IPAddress: ip, MetaData: deviceMetaData(r, ip), DPoPJKT: jkt,
	})
	if err != nil {
		if errors.Is(err, errLatchUnavailable) {
			s.log.Warn("storefront: two-factor login: Latch unavailable", "err", err)
			unavailable(w)
			return
		}
		s.internalError(w, r, "two-factor login", err)
		return
	}
	switch code {
	case http.StatusOK:
		s.loggedIn(w, r, body, jkt)
	case statusInvalidCode:
		s.log.Info("two-factor login refused: invalid code")
		writeError(w, http.StatusUnauthorized, CodeInvalidTwoFactorCode, "The code is not valid.")
	case http.StatusNotFound:
		s.log.Info("two-factor login refused: unknown or expired twoFactorId")
		writeError(w, http.StatusUnauthorized, CodeTwoFactorExpired, "The login has expired; log in again.")
	case http.StatusBadRequest:
		// Latch's field errors on the code or the id are the app's
		// mistake; on anything else, the storefront's.
		if onlyFields(body, "code", "twoFactorId") {
			writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The twoFactorId or the code is malformed.")
			return
		}
		s.internalError(w, r, "two-factor login: Latch refused the request", fmt.Errorf("latch answered 400%s", errorCodes(body)))
	default:
		s.loginRefused(w, r, code, body)
	}
}

// methodsOf is the id and kind of each of Latch's methods (never null).
func methodsOf(ms []api.TwoFactorMethod) []TwoFactorMethod {
	out := make([]TwoFactorMethod, 0, len(ms))
	for _, m := range ms {
		out = append(out, TwoFactorMethod{ID: m.ID, Method: m.Method})
	}
	return out
}

// onlyFields reports whether an api.Errors body holds field errors on the
// given fields and nothing else.
func onlyFields(body []byte, fields ...string) bool {
	var errs api.Errors
	if json.Unmarshal(body, &errs) != nil || errs.Empty() || len(errs.GeneralErrors) > 0 {
		return false
	}
	for f := range errs.FieldErrors {
		found := false
		for _, g := range fields {
			found = found || f == g
		}
		if !found {
			return false
		}
	}
	return true
}

// twoFactorPending answers 202 for Latch's 242: the password was right
// and a code is due. The twoFactorId goes to the app, never to the log. A
// 242 without a method to give a code of (Latch's Required policy for a
// user who has none) is 403 login_incomplete.
func (s *Server) twoFactorPending(w http.ResponseWriter, r *http.Request, body []byte) {
	var res api.LoginResponse
	if err := json.Unmarshal(body, &res); err != nil || res.TwoFactorID == "" {
		s.internalError(w, r, "login: Latch's 242 carries no twoFactorId", err)
		return
	}
	methods := methodsOf(res.Methods)
	if len(methods) == 0 {
		// Latch's Required policy for a user with no method: no code can
		// ever come; the user sets one up elsewhere first.
		s.log.Info("login refused: a second factor is required and the user has none")
		writeError(w, http.StatusForbidden, CodeLoginIncomplete, "Your account requires a second factor that is not set up.")
		return
	}
	s.log.Info("login: a second factor is due", "methods", len(methods))
	writeJSON(w, http.StatusAccepted, TwoFactorPendingResponse{TwoFactorID: res.TwoFactorID, Methods: methods})
}

// accountTwoFactor serves GET /api/account/two-factor (behind guard):
// whether the user has a second factor, and which.
func (s *Server) accountTwoFactor(w http.ResponseWriter, r *http.Request) {
	ms, err := s.latch.twoFactorMethods(r, userID(r))
	if err != nil {
		s.accountFailure(w, r, "two-factor status", err)
		return
	}
	writeJSON(w, http.StatusOK, TwoFactorStatus{Enabled: len(ms) > 0, Methods: ms})
}

// accountTwoFactorSecret serves POST /api/account/two-factor/secret
// (behind guard): a new TOTP secret from Latch, and the otpauth:// URI an
// authenticator app scans. Nothing is stored: the app sends the secret
// back with a code to enable it.
func (s *Server) accountTwoFactorSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.latch.twoFactorSecret(r)
	if err != nil {
		s.accountFailure(w, r, "two-factor secret", err)
		return
	}
	c, _ := guard.ClaimsFrom(r.Context())
	account := firstNonEmpty(c.Email, c.PreferredUsername, c.Subject)
	uri, err := otpauthURI(secret, account)
	if err != nil {
		s.internalError(w, r, "two-factor secret", err)
		return
	}
	writeJSON(w, http.StatusOK, TwoFactorSecretResponse{Secret: secret, URI: uri})
}

// otpauthURI is the Key URI of a TOTP secret (base32) for account: SHA-1,
// 6 digits, 30 s, what Latch checks and authenticator apps expect.
func otpauthURI(secret, account string) (string, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		return "", fmt.Errorf("storefront: secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: TOTPIssuer, AccountName: account, Secret: raw,
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("storefront: otpauth URI: %w", err)
	}
	return key.URL(), nil
}

// validSecret reports whether s is a base32 TOTP secret of a sensible
// length.
func validSecret(s string) bool {
	t := strings.TrimRight(s, "=")
	if len(t) < minSecretChars || len(t) > maxSecretChars {
		return false
	}
	_, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(t)
	return err == nil
}

// validCode reports whether code may be relayed: not blank, not too long,
// no control character.
func validCode(code string) bool {
	return strings.TrimSpace(code) != "" && len(code) <= maxTwoFactorCode && !strings.ContainsFunc(code, unicode.IsControl)
}

// enableAccountTwoFactor serves POST /api/account/two-factor
// {"secret","code"} (behind guard): it enables the authenticator with
// the secret of POST /api/account/two-factor/secret, once the code shows
// that the user's app holds it, and answers the recovery codes, which
// are shown this once.
func (s *Server) enableAccountTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req EnableTwoFactorRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	req.Secret = strings.ToUpper(strings.TrimSpace(req.Secret))
	switch {
	case !validSecret(req.Secret):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "The secret must be the base32 secret of POST /api/account/two-factor/secret.")
		return
	case !validCode(req.Code):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "A code from the authenticator app is required.")
		return
	}
	user := userID(r)
	code, body, err := s.latch.enableTwoFactor(r, user, req.Secret, strings.TrimSpace(req.Code))
	if err != nil {
		s.accountFailure(w, r, "enable two-factor", err)
		return
	}
	switch code {
	case http.StatusOK:
		var res api.TwoFactorResponse
		if err := json.Unmarshal(body, &res); err != nil {
			s.internalError(w, r, "enable two-factor: Latch's answer", err)
			return
		}
		if res.RecoveryCodes == nil {
			res.RecoveryCodes = []string{}
		}
		s.log.Info("two-factor enabled", "user", user)
		writeJSON(w, http.StatusOK, EnableTwoFactorResponse{RecoveryCodes: res.RecoveryCodes})
	case statusInvalidCode:
		s.log.Info("two-factor enable refused: invalid code", "user", user)
		writeError(w, http.StatusBadRequest, CodeInvalidTwoFactorCode, "The code is not valid for this secret.")
	default:
		s.accountRefused(w, r, "enable two-factor", code, body)
	}
}

// disableAccountTwoFactor serves DELETE /api/account/two-factor {"code"}
// (behind guard): with a current code of the authenticator or a recovery
// code, it removes the user's authenticator.
func (s *Server) disableAccountTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req DisableTwoFactorRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	if !validCode(req.Code) {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "A code from the authenticator app, or a recovery code, is required.")
		return
	}
	user := userID(r)
	ms, err := s.latch.twoFactorMethods(r, user)
	if err != nil {
		s.accountFailure(w, r, "disable two-factor", err)
		return
	}
	var methodID string
	for _, m := range ms {
		if m.Method == api.TwoFactorAuthenticator {
			methodID = m.ID
			break
		}
	}
	if methodID == "" {
		writeError(w, http.StatusNotFound, CodeNotFound, "Two-factor authentication is not enabled.")
		return
	}
	code, body, err := s.latch.disableTwoFactor(r, user, methodID, strings.TrimSpace(req.Code))
	if err != nil {
		s.accountFailure(w, r, "disable two-factor", err)
		return
	}
	switch code {
	case http.StatusOK:
		s.log.Info("two-factor disabled", "user", user)
		writeJSON(w, http.StatusOK, struct{}{})
	case statusInvalidCode:
		s.log.Info("two-factor disable refused: invalid code", "user", user)
		writeError(w, http.StatusBadRequest, CodeInvalidTwoFactorCode, "The code is not valid.")
	default:
		s.accountRefused(w, r, "disable two-factor", code, body)
	}
}

// accountFailure answers a call to Latch that failed for an account
// route: 503 when Latch is unavailable, 401 invalid_token when the user
// is gone, else 500.
func (s *Server) accountFailure(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, errLatchUnavailable):
		s.log.Warn("storefront: "+what+": Latch unavailable", "err", err)
		unavailable(w)
	case errors.Is(err, errNoUser):
		writeError(w, http.StatusNotFound, CodeNotFound, "No such user.")
	default:
		s.internalError(w, r, what, err)
	}
}

// accountRefused maps Latch's other answers to an account route: 400
// with Latch's first message (a field error names the field, never the
// value), 404 for a user Latch no longer has, 500 for the rest.
func (s *Server) accountRefused(w http.ResponseWriter, r *http.Request, what string, code int, body []byte) {
	switch code {
	case http.StatusBadRequest:
		var errs api.Errors
		msg := "The request is not valid."
		if json.Unmarshal(body, &errs) == nil {
			if m := firstMessage(errs); m != "" {
				msg = m
			}
		}
		s.log.Info(what+" refused", "latch", errorCodes(body))
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, msg)
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, CodeNotFound, "No such user.")
	default:
		s.internalError(w, r, what, fmt.Errorf("latch answered %d%s", code, errorCodes(body)))
	}
}

// firstMessage is the first general or field error message of errs.
func firstMessage(errs api.Errors) string {
	for _, e := range errs.GeneralErrors {
		if e.Message != "" {
			return e.Message
		}
	}
	for _, f := range slices.Sorted(maps.Keys(errs.FieldErrors)) {
		for _, e := range errs.FieldErrors[f] {
			if e.Message != "" {
				return e.Message
			}
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
