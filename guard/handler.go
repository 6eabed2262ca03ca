package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/api"
)

// Tokens are the credentials a request was served with.
type Tokens struct {
	// AccessToken is the JWT the claims come from: the request's own, or
	// the one guard got from Latch for it.
	AccessToken string
	// RefreshToken is the refresh token to use from now on: the one the
	// request carried, or its successor when Latch rotated it. Empty when
	// the request carried none.
	RefreshToken string
	// Refreshed reports that guard refreshed the JWT for this request and
	// set the Access-Token response header.
	Refreshed bool
}

// authKey is the context key of a request's auth.
type authKey struct{}

// auth is what Handler puts in a request's context.
type auth struct {
	claims *api.Claims
	tokens Tokens
}

// ClaimsFrom returns the verified claims Handler put in the context.
// Treat them as read-only.
func ClaimsFrom(ctx context.Context) (*api.Claims, bool) {
	a, ok := ctx.Value(authKey{}).(*auth)
	if !ok || a.claims == nil {
		return nil, false
	}
	return a.claims, true
}

// TokensFrom returns the tokens the request was served with, as Handler
// put them in the context: a handler that logs the user out, for one,
// needs the current refresh token, which may have rotated on the way in.
func TokensFrom(ctx context.Context) (Tokens, bool) {
	a, ok := ctx.Value(authKey{}).(*auth)
	if !ok {
		return Tokens{}, false
	}
	return a.tokens, true
}

// WithClaims returns a context carrying claims as Handler would put them,
// for testing handlers that sit behind Handler without a Latch.
func WithClaims(ctx context.Context, claims *api.Claims) context.Context {
	return context.WithValue(ctx, authKey{}, &auth{claims: claims})
}

// Handler returns middleware that lets a request through to next only with
// a valid Latch JWT, and puts its claims in the request's context
// (ClaimsFrom):
//
//   - "Authorization: Bearer <JWT>" (scheme case-insensitive) with a valid
//     JWT: next runs at once. Latch is not called; the keys come from the
//     cached JWKS (steps 6-8).
//   - The JWT expired, is invalid or is missing, and the request carries a
//     "Refresh-Token" header: guard exchanges it at Latch's
//     /api/jwt/refresh, verifies the new JWT, sets the "Access-Token"
//     response header to it, and "Refresh-Token" to the new refresh token
//     when Latch rotated it, then runs next (steps 9-12). Concurrent
//     requests with one refresh token make one call to Latch and get the
//     same tokens, as do requests presenting it up to 30 s later.
//   - Otherwise, or when Latch refuses the refresh token (any 4xx but
//     429): 401 with "WWW-Authenticate: Bearer error="invalid_token""
//     (just "Bearer" when the request had no credentials at all) and a
//     JSON body {"error","error_description"}; next does not run (steps
//     13-16).
//   - Latch is unreachable or answers 5xx or 429 when a refresh is needed,
//     or the key set cannot be fetched: 503 with Retry-After and a JSON body.
//
// A JWT that a revocation event covers (see Events) is refused like an
// invalid one: refreshed when the request carries a refresh token (Latch
// refuses a revoked one, so the answer is 401), else 401 with
// error_description "The access token has been revoked.".
//
// DPoP-bound tokens (the DPoP scheme, or a cnf claim) are refused with
// 401: guard cannot check DPoP proofs yet, and a bound token accepted as a
// bearer token would lose the binding (RFC 9449 §7.1).
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw, err := bearerToken(r)
		if err == nil {
			var claims *api.Claims
			if claims, err = g.Verify(ctx, raw); err == nil {
				if bound(claims) {
					g.deny(w, errDPoP)
					return
				}
				a := &auth{claims: claims, tokens: Tokens{AccessToken: raw, RefreshToken: r.Header.Get(api.HeaderRefreshToken)}}
				next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authKey{}, a)))
				return
			}
		}
		presented := r.Header.Get(api.HeaderRefreshToken)
		if presented == "" || errors.Is(err, errDPoP) {
			g.log.Debug("guard: request refused", "err", err)
			g.deny(w, err)
			return
		}
		g.log.Debug("guard: refreshing", "reason", err)
		res, err := g.refresh(ctx, presented)
		if err != nil {
			g.logRefreshError(err)
			g.deny(w, err)
			return
		}
		claims, err := g.Verify(ctx, res.resp.Token)
		if err != nil {
			if errors.Is(err, ErrUnknownKey) {
				// Latch signed with a key its JWKS did not show us yet (a
				// rotation, or another node): worth a retry, which the
				// refresh cache answers with these same tokens.
				err = fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
			}
			switch {
			case ctx.Err() != nil:
			case errors.Is(err, ErrRevoked):
				g.log.Info("guard: the refreshed JWT belongs to revoked tokens", "err", err)
			case errors.Is(err, ErrKeySetUnavailable), errors.Is(err, ErrRevocationsUnavailable):
				g.log.Warn("guard: the JWT Latch issued cannot be checked yet", "err", err)
			default:
				g.log.Error("guard: the JWT Latch issued does not verify; check Issuer and Audience", "err", err)
			}
			g.deny(w, err)
			return
		}
		if bound(claims) {
			g.deny(w, errDPoP)
			return
		}
		tokens := Tokens{AccessToken: res.resp.Token, RefreshToken: presented, Refreshed: true}
		h := w.Header()
		h.Set(api.HeaderAccessToken, res.resp.Token)
		if rt := res.resp.RefreshToken; rt != "" && rt != presented {
			h.Set(api.HeaderRefreshToken, rt)
			tokens.RefreshToken = rt
		}
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authKey{}, &auth{claims: claims, tokens: tokens})))
	})
}

// RequireRole returns a handler that runs next only when the request's
// claims grant role, and answers 403 with a JSON body otherwise. It reads
// the claims Handler put in the context, so it must run inside Handler
// (g.Handler(guard.RequireRole("admin", h))); without claims it answers
// 401.
func RequireRole(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := ClaimsFrom(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, "Bearer", api.OAuthInvalidToken, "The request is not authenticated.")
			return
		}
		if !claims.HasRole(role) {
			const desc = "The user lacks the role this resource requires."
			writeError(w, http.StatusForbidden, challenge("insufficient_scope", desc), "insufficient_scope", desc)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the request's bearer token. A request without
// Authorization, or with another scheme than Bearer or DPoP, has none
// (ErrNoToken); more than one Authorization header, or an empty or
// spaced value, is ErrMalformed.
func bearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", fmt.Errorf("%w: several Authorization headers", ErrMalformed)
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
	case strings.EqualFold(scheme, "DPoP"):
		return "", errDPoP
	default:
		return "", ErrNoToken
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("%w: malformed Bearer credentials", ErrMalformed)
	}
	return tok, nil
}

// bound reports whether claims bind the token to a DPoP key.
func bound(c *api.Claims) bool { return c.Confirmation != nil && c.Confirmation.JKT != "" }

// logRefreshError logs why a refresh failed, without the token.
func (g *Guard) logRefreshError(err error) {
	switch {
	case errors.Is(err, errLatchUnavailable):
		g.log.Warn("guard: refresh failed", "err", err)
	default:
		g.log.Info("guard: refresh refused", "err", err)
	}
}

// deny answers a request that cannot be served: 503 when Latch or its keys
// could not be reached, else 401 (RFC 6750 §3).
func (g *Guard) deny(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errLatchUnavailable):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "", "temporarily_unavailable", "The identity service is unavailable; try again later.")
		return
	case errors.Is(err, ErrKeySetUnavailable), errors.Is(err, ErrRevocationsUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", strconv.Itoa(int(max(g.floor.Round(time.Second), time.Second)/time.Second)))
		writeError(w, http.StatusServiceUnavailable, "", "temporarily_unavailable", "The token cannot be checked now; try again later.")
		return
	case errors.Is(err, ErrNoToken):
		const desc = "The request carries no access token."
		writeError(w, http.StatusUnauthorized, "Bearer", api.OAuthInvalidToken, desc)
		return
	}
	desc := "The access token is invalid."
	switch {
	case errors.Is(err, errRefreshRefused):
		desc = "The refresh token is invalid, expired or revoked; log in again."
	case errors.Is(err, ErrTokenExpired):
		desc = "The access token expired."
	case errors.Is(err, ErrRevoked):
		desc = "The access token has been revoked."
	case errors.Is(err, ErrNotYetValid):
		desc = "The access token is not valid yet."
	case errors.Is(err, ErrIssuer), errors.Is(err, ErrAudience):
		desc = "The access token was not issued for this service."
	case errors.Is(err, errDPoP):
		desc = "DPoP-bound tokens are not supported by this service."
	}
	writeError(w, http.StatusUnauthorized, challenge(api.OAuthInvalidToken, desc), api.OAuthInvalidToken, desc)
}

// challenge is a Bearer WWW-Authenticate value with an error (RFC 6750
// §3). desc must be plain ASCII without quotes or backslashes.
func challenge(code, desc string) string {
	return `Bearer error="` + code + `", error_description="` + desc + `"`
}

// errorBody is the JSON body of guard's refusals (RFC 6749 §5.2's shape).
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeError writes a JSON error body, with a WWW-Authenticate challenge
// unless it is empty.
func writeError(w http.ResponseWriter, status int, wwwAuthenticate, code, desc string) {
	h := w.Header()
	if wwwAuthenticate != "" {
		h.Set("WWW-Authenticate", wwwAuthenticate)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: code, Description: desc})
}
