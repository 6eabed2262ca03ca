package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/storage"
)

// DPoP (RFC 9449) at Latch's own endpoints.
//
// POST /oauth2/token, POST /api/login and POST /api/jwt/refresh take an
// optional DPoP header. A request without one is served as before,
// unbound. A request with one is served only if it holds exactly one
// valid proof for the request's method and Latch's own URL for the
// endpoint (see dpopURL); what it issues is then bound to the proof's key:
// the access token's cnf.jkt, token_type DPoP, and the refresh-token
// session, which from then on refreshes only for that key.
//
// A refused proof is answered, at all three endpoints alike, 400 with the
// RFC 9449 §5 JSON {"error":"invalid_dpop_proof","error_description":...},
// or {"error":"use_dpop_nonce",...} with a DPoP-Nonce header when nonces
// are on and the proof lacks a current one; both with Cache-Control:
// no-store. When the replay cache cannot record the proof, 503
// {"error":"temporarily_unavailable"}: a proof is never accepted
// unrecorded. When nonces are on, every response to a request with a DPoP
// header carries the current nonce in DPoP-Nonce.
//
// A login's proof is recorded as soon as it has passed its checks; a
// refresh's only once the refresh token has proved to be a live
// session's (identity.RefreshInput.Admit), so that a flood of proofs with
// unknown or dead refresh tokens writes nothing. A replayed proof is
// refused alike either way.

// dpopError is a refused proof, rendered alike by writeError and
// writeOAuthError.
type dpopError struct {
	status      int    // 400; 503 when the replay cache failed
	code        string // invalid_dpop_proof, use_dpop_nonce or temporarily_unavailable
	description string
	nonce       string // for use_dpop_nonce: the DPoP-Nonce to send
	err         error  // the cause, for the log
}

func (e *dpopError) Error() string { return "dpop: " + e.code + ": " + e.err.Error() }
func (e *dpopError) Unwrap() error { return e.err }

// writeDPoPError answers a refused proof.
func (s *Server) writeDPoPError(w http.ResponseWriter, r *http.Request, e *dpopError) {
	switch {
	case e.status >= 500 && errors.Is(e.err, storage.ErrUnavailable):
		// An outage: the store's Outage logs it.
		s.outage.Refused()
		w.Header().Set("Retry-After", retryAfterUnavailable)
	case e.status >= 500:
		s.log.Error("DPoP proof not checked", "request", r.Context().Value(ctxRequestID), "path", r.URL.Path, "err", e.err)
		w.Header().Set("Retry-After", "1")
	default:
		s.log.Info("DPoP proof refused", "request", r.Context().Value(ctxRequestID), "path", r.URL.Path, "err", e.err)
	}
	if e.nonce != "" {
		w.Header().Set(dpop.NonceHeader, e.nonce)
	}
	noStore(w)
	_ = writeJSON(w, e.status, &api.OAuthError{Code: e.code, Description: e.description})
}

// refuseDPoP maps an error of dpop.FromHeader or Verifier.Verify to its
// answer. Every error about the proof (or about a request that cannot
// have a valid one) is a 400; only the replay cache's failures are 503,
// and the caller's own context errors pass through.
func refuseDPoP(err error) error {
	var nonceErr *dpop.NonceError
	var storeErr *identity.ReplayCacheError
	switch {
	case errors.As(err, &nonceErr):
		return &dpopError{status: http.StatusBadRequest, code: api.OAuthUseDPoPNonce, nonce: nonceErr.Nonce, err: err,
			description: "The DPoP proof must carry the server's nonce: retry with a new proof whose nonce claim is the DPoP-Nonce header of this answer."}
	case errors.Is(err, dpop.ErrReplayCacheFull), errors.Is(err, dpop.ErrTooManyProofs), errors.As(err, &storeErr):
		return &dpopError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", err: err,
			description: "The DPoP proof could not be checked for replay. Retry with a new proof."}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return &dpopError{status: http.StatusBadRequest, code: api.OAuthInvalidDPoPProof, err: err,
		description: "The DPoP proof is invalid: " + describe(strings.TrimPrefix(err.Error(), "dpop: ")) + "."}
}

// describe makes s fit an error_description (RFC 6749 §5.2: printable
// ASCII but " and \), and a header's quoted string: a proof's htu, quoted
// in Verify's errors, is the client's text. Other bytes become '?', and
// it is cut at 200 bytes.
func describe(s string) string {
	b := []byte(s)
	if len(b) > 200 {
		b = append(b[:197], "..."...)
	}
	for i, c := range b {
		switch {
		case c == '"':
			b[i] = '\''
		case c < 0x20 || c > 0x7e || c == '\\':
			b[i] = '?'
		}
	}
	return string(b)
}

// offerNonce sends the current nonce, when nonces are on.
func (s *Server) offerNonce(w http.ResponseWriter) {
	if s.nonces != nil {
		w.Header().Set(dpop.NonceHeader, s.nonces.Current())
	}
}

// dpopProof verifies the request's DPoP proof, if it carries a DPoP
// header, against the request's method and Latch's URL for it (tenant,
// called only then, names the tenant whose issuer gives that URL; see
// dpopURL), and against check's AccessToken and BoundJKT, and records it
// in the replay cache. It returns nil and no error for a request without
// a DPoP header.
func (s *Server) dpopProof(r *http.Request, tenant func() string, check dpop.Request) (*dpop.Proof, error) {
	p, err := s.dpopCheck(r, tenant, check)
	if p == nil || err != nil {
		return nil, err
	}
	if err := s.recordProof(r.Context(), p); err != nil {
		return nil, err
	}
	return p, nil
}

// recordProof records a proof that dpopCheck passed in the replay cache:
// only now is it accepted. Errors are refuseDPoP's.
func (s *Server) recordProof(ctx context.Context, p *dpop.Proof) error {
	if err := s.dpop.Record(ctx, p); err != nil {
		return refuseDPoP(err)
	}
	return nil
}

// dpopCheck is dpopProof without the record: the proof passed every check
// but may still be a replay until recordProof says otherwise. A refresh
// records its proof only once the refresh token proves to be a live
// session's, so that a flood of proofs with made-up tokens writes nothing.
func (s *Server) dpopCheck(r *http.Request, tenant func() string, check dpop.Request) (*dpop.Proof, error) {
	raw, err := dpop.FromHeader(r.Header)
	if errors.Is(err, dpop.ErrNoProof) {
		return nil, nil
	}
	// (handle has put the current nonce in the answer, if nonces are on.)
	if err != nil {
		return nil, refuseDPoP(err)
	}
	check.Method = r.Method
	if check.URL, err = s.dpopURL(r, tenant()); err != nil {
		return nil, err
	}
	p, err := s.dpop.Check(r.Context(), raw, check)
	if err != nil {
		return nil, refuseDPoP(err)
	}
	return p, nil
}

// dpopURL is the URL a proof's htu must name: Latch's public base URL
// for the tenant, as the discovery document publishes it (the configured
// base URL; else the tenant's issuer when it is an http(s) URL; else the
// request's own scheme and host), followed by the request's path as sent.
// With no tenant named (""), the tenant is the one the discovery document
// at /.well-known/openid-configuration describes. The error is the
// store's, when it is unavailable: the tenant cannot be told then.
func (s *Server) dpopURL(r *http.Request, tenantID string) (string, error) {
	var issuer string
	if s.baseURL == "" {
		t, err := s.discoveryTenant(r.Context(), tenantID)
		if errors.Is(err, storage.ErrUnavailable) {
			return "", err
		} else if err != nil {
			t = api.Tenant{} // the server's own issuer
		}
		issuer = s.id.Issuer(t)
	}
	return s.publicBase(r, issuer) + r.URL.EscapedPath(), nil
}

// discoveryTenant is the tenant a discovery request describes: the one
// named, else the only one, else the default (oldest) one, as FusionAuth
// answers.
func (s *Server) discoveryTenant(ctx context.Context, tenantID string) (api.Tenant, error) {
	t, err := s.id.ResolveTenant(ctx, tenantID)
	if err != nil && tenantID == "" && !errors.Is(err, storage.ErrUnavailable) {
		all, lerr := s.id.ListTenants(ctx)
		if lerr != nil {
			return api.Tenant{}, lerr
		}
		if len(all) > 0 {
			return all[0], nil
		}
	}
	return t, err
}

// checkDPoPJKT applies the rules of the dpopJkt body member, a Latch
// extension by which an app backend that verified the app's proof itself
// (guard) asks Latch to bind a login or a refresh to the app's key: it is
// honoured only on a request authenticated with an API key (hasKey; else
// 401), and must be an RFC 7638 SHA-256 thumbprint, 43 base64url
// characters (else 400 [invalid]dpopJkt). An empty one is none.
func checkDPoPJKT(jkt string, hasKey bool) error {
	switch {
	case jkt == "":
		return nil
	case !hasKey:
		return &statusError{code: http.StatusUnauthorized, err: errors.New("dpopJkt without an API key")}
	case !validJKT(jkt):
		return api.FieldError("dpopJkt", "invalid", "The [dpopJkt] must be the base64url SHA-256 JWK thumbprint (RFC 7638) of the app's DPoP key: 43 characters.")
	}
	return nil
}

// bindJKT returns the thumbprint to bind to: that of the request's own
// proof, or the checked dpopJkt, or "" for neither. Both must agree (else
// 400 [mismatch]dpopJkt).
func bindJKT(body string, proof *dpop.Proof) (string, error) {
	switch {
	case proof == nil:
		return body, nil
	case body != "" && body != proof.JKT:
		return "", api.FieldError("dpopJkt", "mismatch", "The [dpopJkt] is not the thumbprint of the key of the request's DPoP proof.")
	}
	return proof.JKT, nil
}

// validJKT reports whether s is a base64url (unpadded) SHA-256 digest.
func validJKT(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}

// tokenJKT returns the cnf.jkt of validated access-token claims ("" when
// the token is not bound).
func tokenJKT(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// authenticateJWT authenticates the access token of a request that acts
// as its owner (GET /api/jwt/validate, DELETE /api/jwt/refresh without an
// API key) and returns its claims. A token that is not DPoP-bound comes
// as a bearer token (Authorization: Bearer or JWT, or the access_token
// cookie). A DPoP-bound token (cnf.jkt) is accepted only as
// Authorization: DPoP <jwt> with a DPoP proof of its key for this request
// (htm, htu as for dpopProof, ath the token's hash): a bound token
// presented as a bearer token is refused (RFC 9449 §7.2), and so is an
// unbound one presented as DPoP. Refusals are 401 with an empty body and,
// for DPoP, a WWW-Authenticate: DPoP challenge (with DPoP-Nonce when a
// nonce is due); a replay cache failure is 503.
func (s *Server) authenticateJWT(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	raw, isDPoP := dpopToken(r)
	if !isDPoP {
		raw = bearer(r)
	}
	if raw == "" {
		return nil, status(http.StatusUnauthorized)
	}
	claims, err := s.id.ValidateToken(r.Context(), raw)
	if errors.Is(err, identity.ErrTokenInvalid) {
		return nil, refused(api.OAuthInvalidToken, err)
	} else if err != nil {
		return nil, err
	}
	jkt := tokenJKT(claims)
	switch {
	case !isDPoP && jkt == "":
		return claims, nil
	case !isDPoP:
		w.Header().Set("WWW-Authenticate", s.dpopChallenge("invalid_token", "The access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof."))
		return nil, refused(api.OAuthInvalidToken, errors.New("DPoP-bound access token presented as a bearer token"))
	case jkt == "":
		w.Header().Set("WWW-Authenticate", s.dpopChallenge("invalid_token", "The access token is not DPoP-bound: present it with the Bearer scheme."))
		return nil, refused(api.OAuthInvalidToken, errors.New("unbound access token presented with the DPoP scheme"))
	}
	tid, _ := claims["tid"].(string)
	if r.Header.Get(dpop.Header) == "" {
		s.offerNonce(w)
		w.Header().Set("WWW-Authenticate", s.dpopChallenge("invalid_dpop_proof", "A DPoP proof is required."))
		return nil, refused(api.OAuthInvalidDPoPProof, errors.New("DPoP access token without a DPoP proof"))
	}
	_, err = s.dpopProof(r, func() string { return tid }, dpop.Request{AccessToken: raw, BoundJKT: jkt})
	var de *dpopError
	if errors.As(err, &de) && de.status < 500 {
		if de.nonce != "" {
			w.Header().Set(dpop.NonceHeader, de.nonce)
		}
		w.Header().Set("WWW-Authenticate", s.dpopChallenge(de.code, de.description))
		return nil, refused(de.code, de.err)
	} else if err != nil {
		return nil, err
	}
	return claims, nil
}

// tokenRefusal is why authenticateJWT refused a token: Code is the RFC
// 6750 / RFC 9449 error code of its challenge, Err the cause, for the log.
type tokenRefusal struct {
	Code string
	Err  error
}

func (e *tokenRefusal) Error() string { return e.Err.Error() }
func (e *tokenRefusal) Unwrap() error { return e.Err }

// refused is authenticateJWT's 401: an empty body, the cause logged.
func refused(code string, cause error) error {
	return &statusError{code: http.StatusUnauthorized, err: &tokenRefusal{Code: code, Err: cause}}
}

// dpopToken returns the token of an Authorization: DPoP header.
func dpopToken(r *http.Request) (string, bool) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	const scheme = "DPoP "
	if len(v) > len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
		return strings.TrimSpace(v[len(scheme):]), true
	}
	return "", false
}

// dpopChallenge is a WWW-Authenticate: DPoP challenge (RFC 9449 §7.1).
func (s *Server) dpopChallenge(code, description string) string {
	description = describe(description)
	return `DPoP algs="` + strings.Join(s.dpop.Algorithms(), " ") + `", error="` + code + `", error_description="` + description + `"`
}
