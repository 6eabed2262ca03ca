package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
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
// a valid Latch JWT, or one it refreshed through Latch, and puts its
// claims and tokens in the request's context (ClaimsFrom, TokensFrom);
// otherwise it answers 401, 429 or 503 with a JSON body and a
// WWW-Authenticate challenge. The package documentation (Handler)
// specifies each case.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		presented := r.Header.Get(api.HeaderRefreshToken)
		scheme, raw, err := authorization(r)
		var tok *parsedToken // raw as parsed, once: what a refusal reads its binding from
		if err == nil {
			var claims *api.Claims
			if claims, tok, err = g.verify(ctx, raw, false); err == nil {
				proof, err := g.checkBinding(ctx, r, scheme, raw, claims)
				if err != nil {
					g.log.Debug("guard: request refused", "err", err)
					g.deny(w, scheme, err)
					return
				}
				tokens := Tokens{AccessToken: raw, RefreshToken: presented}
				if presented != "" && g.expiresSoon(claims) {
					claims, tokens = g.refreshEarly(ctx, w, g.clientIP(r), presented, proof, claims, tokens)
				}
				g.setNonce(w, r)
				next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authKey{}, &auth{claims: claims, tokens: tokens})))
				return
			}
		}
		if presented == "" {
			g.log.Debug("guard: request refused", "err", err)
			g.deny(w, scheme, err)
			return
		}
		jkt, kerr := g.refreshKey(ctx, r, scheme, raw, tok)
		if kerr != nil {
			g.log.Debug("guard: refresh refused", "reason", err, "err", kerr)
			g.deny(w, scheme, kerr)
			return
		}
		if jkt != "" {
			scheme = schemeDPoP // refusals of a bound refresh challenge DPoP
		}
		g.log.Debug("guard: refreshing", "reason", err, "dpop", jkt != "")
		res, err := g.refresh(ctx, presented, jkt, g.clientIP(r))
		if err != nil {
			g.logRefreshError(err)
			g.deny(w, scheme, err)
			return
		}
		claims, err := g.verifyRefreshed(ctx, res, jkt)
		if err != nil {
			g.deny(w, scheme, err)
			return
		}
		tokens := g.handOut(w, res, presented)
		g.setNonce(w, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, authKey{}, &auth{claims: claims, tokens: tokens})))
	})
}

// expiresSoon reports whether a valid JWT is due for an early refresh.
func (g *Guard) expiresSoon(c *api.Claims) bool {
	return g.refreshWindow > 0 && !g.now().Add(g.refreshWindow).Before(time.Unix(c.Expiry, 0))
}

// refreshEarly refreshes a valid JWT that expires soon and returns the
// claims and tokens to serve the request with: the new ones, their headers
// set on w, or, should anything fail, the ones the request carried.
func (g *Guard) refreshEarly(ctx context.Context, w http.ResponseWriter, client, presented string, proof *dpop.Proof,
	claims *api.Claims, tokens Tokens) (*api.Claims, Tokens) {
	var jkt string
	if proof != nil {
		jkt = proof.JKT
	}
	res, err := g.refresh(ctx, presented, jkt, client)
	var fresh *api.Claims
	if err == nil {
		fresh, err = g.verifyRefreshed(ctx, res, jkt)
	}
	if err != nil {
		g.log.Debug("guard: early refresh failed; serving with the current JWT", "err", err)
		return claims, tokens
	}
	return fresh, g.handOut(w, res, presented)
}

// refreshKey returns the DPoP key to refresh with: "" for an unbound
// session, or the thumbprint of the request's proof when the session is
// bound, which it is when the presented JWT (expired, or refused for
// another reason) carries cnf.jkt, or comes in the DPoP scheme, or when no
// JWT comes and a proof does. A bound session needs a valid proof for
// this request, by the JWT's key, and Config.APIKey.
func (g *Guard) refreshKey(ctx context.Context, r *http.Request, scheme, raw string, tok *parsedToken) (string, error) {
	jkt := tok.boundJKT()
	switch {
	case jkt != "" && scheme != schemeDPoP:
		return "", errBoundAsBearer
	case jkt != "", scheme == schemeDPoP:
	case raw == "" && g.apiKey != "" && r.Header.Get(dpop.Header) != "":
	default:
		return "", nil
	}
	if g.apiKey == "" {
		g.log.Error("guard: a DPoP-bound session cannot be refreshed: Config.APIKey is not set, " +
			"and Latch takes the key of a DPoP proof from a backend only with an API key")
		return "", errNoAPIKey
	}
	// The JWT (expired, or refused) vouches for nothing: whoever sends it
	// may have made up the key too, and a new one for every request. So
	// the proof is charged to the client's address, not to its key.
	p, err := g.verifyProof(ctx, r, raw, jkt, g.proofClient(r))
	if err != nil {
		return "", err
	}
	return p.JKT, nil
}

// verifyRefreshed verifies the JWT of a refresh, and that it is bound to
// the key the refresh was made for: a refresh without a proof must not
// yield a bound JWT, nor one with a proof a JWT bound to another key.
// (Latch leaves an unbound session unbound, even for a request with a
// proof.)
func (g *Guard) verifyRefreshed(ctx context.Context, res *refreshed, jkt string) (*api.Claims, error) {
	err := res.parseErr
	if err == nil {
		err = g.verifyParsed(ctx, res.tok, true)
	}
	if err != nil {
		if errors.Is(err, errUnknownKey) {
			// Latch signed with a key its JWKS did not show us yet (a
			// rotation, or another node): worth a retry, which the
			// refresh cache answers with these same tokens.
			err = fmt.Errorf("%w: %w", errKeySetUnavailable, err)
		}
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, ErrRevoked):
			g.log.Info("guard: the refreshed JWT belongs to revoked tokens", "err", err)
		case errors.Is(err, errKeySetUnavailable), errors.Is(err, errRevocationsUnavailable):
			g.log.Warn("guard: the JWT Latch issued cannot be checked yet", "err", err)
		default:
			g.log.Error("guard: the JWT Latch issued does not verify; check Issuer and Audience", "err", err)
		}
		return nil, err
	}
	// Requests that share one refresh share its parsed token: each gets
	// claims of its own.
	c := *res.tok.claims
	claims := &c
	if bound(claims) && claims.Confirmation.JKT != jkt {
		g.log.Error("guard: Latch issued a JWT bound to another DPoP key than the request proved", "proved", jkt != "")
		return nil, errRefreshedBinding
	}
	return claims, nil
}

// handOut sets the headers that hand a refresh's tokens to the app, and
// returns the tokens the request is served with.
func (g *Guard) handOut(w http.ResponseWriter, res *refreshed, presented string) Tokens {
	tokens := Tokens{AccessToken: res.resp.Token, RefreshToken: presented, Refreshed: true}
	h := w.Header()
	h.Set(api.HeaderAccessToken, res.resp.Token)
	if rt := res.resp.RefreshToken; rt != "" && rt != presented {
		h.Set(api.HeaderRefreshToken, rt)
		tokens.RefreshToken = rt
	}
	h.Set("Cache-Control", "no-store")
	return tokens
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
			writeError(w, http.StatusUnauthorized, api.OAuthInvalidToken, "The request is not authenticated.", schemeBearer)
			return
		}
		if !claims.HasRole(role) {
			const desc = "The user lacks the role this resource requires."
			writeError(w, http.StatusForbidden, "insufficient_scope", desc, challenge("insufficient_scope", desc))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logRefreshError logs why a refresh failed, without the token.
func (g *Guard) logRefreshError(err error) {
	switch {
	case errors.Is(err, errLatchUnavailable):
		g.log.Warn("guard: refresh failed", "err", err)
	default:
		g.log.Info("guard: refresh refused", "err", err)
	}
}

// deny answers a request that cannot be served, as refusal describes
// it: 503 when Latch, its keys, the revocations or the DPoP replay cache
// could not be reached, 429 when the replay cache refuses this client
// more proofs, else 401 (RFC 6750 §3, RFC 9449 §7.1) with a challenge for
// the scheme the token came in.
func (g *Guard) deny(w http.ResponseWriter, scheme string, err error) {
	e := g.refusal(err)
	h := w.Header()
	if e.nonce != "" {
		h.Set(dpop.NonceHeader, e.nonce)
	}
	if e.retryAfter != "" {
		h.Set("Retry-After", e.retryAfter)
	}
	switch {
	case e.status != http.StatusUnauthorized:
		writeError(w, e.status, e.Code, e.Description)
	case e.dpop, scheme == schemeDPoP:
		writeError(w, e.status, e.Code, e.Description, g.dpopChallenge(e.Code))
	case e.Kind == ErrNoToken:
		writeError(w, e.status, e.Code, e.Description, schemeBearer, g.dpopChallenge(""))
	default:
		writeError(w, e.status, e.Code, e.Description, challenge(e.Code, e.Description), g.dpopChallenge(""))
	}
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

// writeError writes a JSON error body, with a WWW-Authenticate header for
// each challenge.
func writeError(w http.ResponseWriter, status int, code, desc string, challenges ...string) {
	h := w.Header()
	h.Del("WWW-Authenticate")
	for _, c := range challenges {
		h.Add("WWW-Authenticate", c)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: code, Description: desc})
}
