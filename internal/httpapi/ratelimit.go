package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
	"github.com/latchid/latch/internal/ratelimit"
)

// RateLimits are the per-client request rates of the endpoints that check
// passwords or hand out tokens, against credential stuffing and token
// endpoint abuse. Each is a number of requests per minute per client (per
// session, for a refresh), allowed in bursts of the same size; 0 switches
// the limit off.
type RateLimits struct {
	// Login limits POST /api/login. The client is the end user's address
	// (the body's ipAddress) when an API key vouches for the caller, as an
	// app backend logs in all of its users from one address; else the
	// peer's.
	Login int
	// Token limits POST /oauth2/token by the peer's address, but for the
	// refresh_token grant, which Refresh limits.
	Token int
	// Refresh limits POST /api/jwt/refresh and the refresh_token grant of
	// POST /oauth2/token: Refresh refreshes a minute per session, and
	// Refresh refused refreshes a minute per client. A refresh that
	// reaches a live session counts against that session only, never
	// against its peer's address: a backend refreshes for all of its
	// users from one. One that does not (an unknown, expired or revoked
	// token, a refused DPoP proof or client) counts against its client:
	// the end user's address when an API key vouches for the caller (the
	// Refresh API's eventInfo.ipAddress), else the peer's. Past that
	// budget, a client's refresh is answered 429 unless it succeeds, and
	// one whose token is no live session's after one look at the token,
	// before a proof is checked or anything else is done.
	Refresh int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultRateLimits are Latch's defaults.
func DefaultRateLimits() RateLimits { return RateLimits{Login: 60, Token: 120, Refresh: 60} }

type limiters struct {
	login, token *ratelimit.Limiter
	// refresh is keyed by session id, refused by client: each only with
	// keys that cost the caller a live session or an address, so that
	// neither grows with made-up refresh tokens.
	refresh, refused *ratelimit.Limiter
}

func newLimiters(c RateLimits) limiters {
	var l limiters
	if c.Login > 0 {
		l.login = ratelimit.New(c.Login, c.Login, c.Now)
	}
	if c.Token > 0 {
		l.token = ratelimit.New(c.Token, c.Token, c.Now)
	}
	if c.Refresh > 0 {
		l.refresh = ratelimit.New(c.Refresh, c.Refresh, c.Now)
		l.refused = ratelimit.New(c.Refresh, c.Refresh, c.Now)
	}
	return l
}

// refreshGate applies RateLimits.Refresh to one refresh: beginRefresh
// before any other work, admit as identity's RefreshInput.Admit, and end
// with the request's outcome.
type refreshGate struct {
	s        *Server
	client   string        // what a refused refresh is charged to
	oauth    bool          // OAuth's error JSON
	spent    time.Duration // > 0: the client's budget was spent, for this long
	admitted bool          // the token proved to be a live session's
}

// beginRefresh starts a refresh of refreshToken by client. When the
// client's budget of refused refreshes is spent, the token gets one look
// (a read) and, unless it is a live session's, the answer is 429 at once.
func (s *Server) beginRefresh(r *http.Request, client, refreshToken string, oauth bool) (*refreshGate, error) {
	g := &refreshGate{s: s, client: client, oauth: oauth}
	if s.limits.refused == nil {
		return g, nil
	}
	ok, wait := s.limits.refused.Check(client)
	if ok {
		return g, nil
	}
	g.spent = wait
	live, err := s.id.RefreshTokenLive(r.Context(), refreshToken)
	if err != nil {
		return nil, err
	}
	if !live {
		return nil, &errRateLimited{retryAfter: wait, oauth: oauth}
	}
	return g, nil
}

// admit is the refresh's identity.RefreshInput.Admit: the session's own
// limit, then the request's DPoP proof (if any) recorded.
func (g *refreshGate) admit(proof *dpop.Proof) func(context.Context, string) error {
	return func(ctx context.Context, sessionID string) error {
		g.admitted = true
		if err := allow(g.s.limits.refresh, sessionID, g.oauth); err != nil {
			return err
		}
		if proof == nil {
			return nil
		}
		return g.s.recordProof(ctx, proof)
	}
}

// end settles a refresh that ended with err: a refusal that reached no
// live session counts against the client; and a client whose budget was
// spent gets 429 for every refresh that fails, so that the answer tells
// nothing of its token.
func (g *refreshGate) end(err error) error {
	if err == nil {
		return nil
	}
	if !g.admitted && g.s.limits.refused != nil {
		g.s.limits.refused.Allow(g.client)
	}
	var rl *errRateLimited
	if g.spent > 0 && !errors.As(err, &rl) {
		return &errRateLimited{retryAfter: g.spent, oauth: g.oauth}
	}
	return err
}

// errRateLimited answers 429 with Retry-After; body is the error JSON of
// the endpoint's family.
type errRateLimited struct {
	retryAfter time.Duration
	oauth      bool
}

func (e *errRateLimited) Error() string { return "rate limited" }

// allow takes one request for client from l (nil: unlimited).
func allow(l *ratelimit.Limiter, client string, oauth bool) error {
	if l == nil {
		return nil
	}
	if ok, wait := l.Allow(client); !ok {
		return &errRateLimited{retryAfter: wait, oauth: oauth}
	}
	return nil
}

func writeRateLimited(w http.ResponseWriter, e *errRateLimited) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	msg := "Too many requests from this client. Retry after the number of seconds in the Retry-After header."
	if e.oauth {
		_ = writeJSON(w, http.StatusTooManyRequests, &api.OAuthError{Code: "temporarily_unavailable", Description: msg, Reason: "rate_limited"})
		return
	}
	_ = writeJSON(w, http.StatusTooManyRequests, api.GeneralError("[RateLimited]", msg))
}
