package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/ratelimit"
)

// RateLimits are the per-client request rates of the endpoints that check
// passwords or hand out tokens, against credential stuffing and token
// endpoint abuse. Each is a number of requests per minute per client,
// allowed in bursts of the same size; 0 switches the limit off.
type RateLimits struct {
	// Login limits POST /api/login. The client is the end user's address
	// (the body's ipAddress) when an API key vouches for the caller, as an
	// app backend logs in all of its users from one address; else the
	// peer's.
	Login int
	// Token limits POST /oauth2/token by the peer's address.
	Token int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultRateLimits are Latch's defaults.
func DefaultRateLimits() RateLimits { return RateLimits{Login: 60, Token: 120} }

type limiters struct {
	login, token *ratelimit.Limiter
}

func newLimiters(c RateLimits) limiters {
	var l limiters
	if c.Login > 0 {
		l.login = ratelimit.New(c.Login, c.Login, c.Now)
	}
	if c.Token > 0 {
		l.token = ratelimit.New(c.Token, c.Token, c.Now)
	}
	return l
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
