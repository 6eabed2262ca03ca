package guard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/latchid/latch/api"
)

// ReuseWindow is how long the outcome of a refresh is kept for requests
// that present the same refresh token (and DPoP key) after the flight has
// landed: the app's other requests, sent with the same tokens before it
// saw the new ones. Under OneTimeUse they would otherwise present a value
// that was just rotated. A few seconds absorb such a burst; Latch's own
// grace period covers later retries, and several backends. Forget and
// revocation events end it early.
const ReuseWindow = 5 * time.Second

const (
	// refreshTimeout bounds one call to /api/jwt/refresh, whatever the
	// requests waiting on it do.
	refreshTimeout = 10 * time.Second
	// forgetFor is how long a refresh token given up with Forget is
	// neither served from the cache nor coalesced with a flight: longer
	// than any flight that began before Forget, and than the window.
	forgetFor = ReuseWindow + refreshTimeout
	// maxRefreshTokenSize is the longest Refresh-Token header sent to
	// Latch; Latch's own are 43 characters.
	maxRefreshTokenSize = 1 << 10
	// maxResponseBytes caps what is read of Latch's answer.
	maxResponseBytes = 1 << 20
)

// tokenHash is the SHA-256 of a refresh token: the key of flights and of
// the cache, so that neither keeps the presented secret.
type tokenHash [sha256.Size]byte

// refreshed is one successful refresh, shared by every request that
// presented the same refresh token with the same DPoP key.
type refreshed struct {
	resp    api.JWTRefreshResponse
	expires time.Time // end of its use for later requests

	// The new JWT as parsed, once (or why it did not parse), which
	// Handler verifies for each request.
	tok      *parsedToken
	parseErr error

	// What the new JWT says (unverified), so that a revocation event can
	// drop the entry.
	sid, sub string
	apps     []string // aud and applicationId
	iat      int64
}

// refresh exchanges a refresh token at Latch (the article's steps 10-11):
// one call per token and DPoP key however many requests present them at
// once, and the same answer for requests presenting them within
// ReuseWindow after. jkt is the thumbprint of the key the app proved
// (bound sessions), "" for an unbound refresh; client is the app's
// address, which guard vouches for with its API key.
func (g *Guard) refresh(ctx context.Context, refreshToken, jkt, client string) (*refreshed, error) {
	if len(refreshToken) > maxRefreshTokenSize {
		return nil, fmt.Errorf("%w: refresh token exceeds %d bytes", errRefreshRefused, maxRefreshTokenSize)
	}
	if jkt != "" && g.apiKey == "" {
		return nil, errNoAPIKey
	}
	h := tokenHash(sha256.Sum256([]byte(refreshToken)))
	if g.isForgotten(h) {
		// A token given up lately (a logout) skips the cache: its refresh
		// is Latch's to answer, each time.
		fctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		defer cancel()
		resp, err := g.callRefresh(fctx, refreshToken, jkt, client)
		if err != nil {
			return nil, err
		}
		return newRefreshed(resp, time.Time{}), nil // never cached
	}
	if r := g.cached(h, jkt); r != nil {
		return r, nil
	}
	ch := g.flights.DoChan(string(h[:])+jkt, func() (any, error) {
		// A flight that landed between the look-up above and this one
		// has filled the cache.
		if r := g.cached(h, jkt); r != nil {
			return r, nil
		}
		// The call outlives a caller that goes away: others may wait on it,
		// and Latch may rotate the token whether we listen or not.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		resp, err := g.callRefresh(fctx, refreshToken, jkt, client)
		if err != nil {
			return nil, err
		}
		r := newRefreshed(resp, g.now().Add(ReuseWindow))
		g.store(h, jkt, r) // before the flight ends, so no later request misses both
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*refreshed), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newRefreshed is the cache entry of a refresh response.
func newRefreshed(resp api.JWTRefreshResponse, expires time.Time) *refreshed {
	r := &refreshed{resp: resp, expires: expires}
	r.tok, r.parseErr = parseAccessToken(resp.Token, nil)
	if r.parseErr == nil && r.tok.claims != nil {
		c := r.tok.claims
		r.sid, r.sub, r.iat = c.SessionID, c.Subject, c.IssuedAt
		r.apps = append([]string(nil), c.Audience...)
		if c.ApplicationID != "" {
			r.apps = append(r.apps, c.ApplicationID)
		}
	}
	return r
}

// callRefresh POSTs the refresh token to Latch's JWT refresh API.
// With jkt (a bound session) the request carries it as dpopJkt, and the
// API key. With an API key, every refresh carries it and the app's address
// (eventInfo.ipAddress): Latch then counts the refreshes it refuses
// against each app, not against this backend, which relays them all.
func (g *Guard) callRefresh(ctx context.Context, refreshToken, jkt, client string) (api.JWTRefreshResponse, error) {
	var out api.JWTRefreshResponse
	in := api.RefreshRequest{RefreshToken: refreshToken, DPoPJKT: jkt}
	if g.apiKey != "" && client != "" {
		in.EventInfo = &api.EventInfo{IPAddress: client}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.refreshURL, bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if g.apiKey != "" {
		req.Header.Set("Authorization", g.apiKey)
	}
	res, err := g.client.Do(req)
	if err != nil {
		return out, fmt.Errorf("%w: %w", errLatchUnavailable, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	switch {
	case res.StatusCode == http.StatusOK:
	case res.StatusCode == http.StatusTooManyRequests, res.StatusCode >= 500:
		return out, fmt.Errorf("%w: status %d", errLatchUnavailable, res.StatusCode)
	case res.StatusCode == http.StatusUnauthorized && jkt != "":
		g.log.Error("guard: Latch refused the API key of a DPoP-bound refresh; check Config.APIKey")
		return out, fmt.Errorf("%w: status %d", errRefreshRefused, res.StatusCode)
	case res.StatusCode >= 400:
		// 400 with an Errors body today, 404 in the article: either way
		// the token is no good.
		return out, fmt.Errorf("%w: status %d%s", errRefreshRefused, res.StatusCode, errorCodes(b))
	default:
		return out, fmt.Errorf("%w: status %d", errLatchUnavailable, res.StatusCode)
	}
	if err != nil {
		return out, fmt.Errorf("%w: read answer: %w", errLatchUnavailable, err)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return out, fmt.Errorf("%w: answer is not a refresh response", errLatchUnavailable)
	}
	return out, nil
}

// errorCodes summarises an api.Errors body for the log: its codes, which
// name fields and never carry a value.
func errorCodes(b []byte) string {
	var errs api.Errors
	if json.Unmarshal(b, &errs) != nil || errs.Empty() {
		return ""
	}
	return " (" + errs.Error() + ")"
}

// cached returns the refresh stored for h and jkt, if it is still fresh.
func (g *Guard) cached(h tokenHash, jkt string) *refreshed {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	r := g.cache[h][jkt]
	if r == nil || !g.now().Before(r.expires) {
		return nil
	}
	return r
}

// isForgotten reports whether the refresh token with hash h was given up
// with Forget less than forgetFor ago.
func (g *Guard) isForgotten(h tokenHash) bool {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	until, ok := g.forgotten[h]
	return ok && g.now().Before(until)
}

// store keeps r for h and jkt, unless the token was given up meanwhile,
// first dropping expired entries when the last sweep is a window ago, so
// that the cache holds about one window of refreshes.
func (g *Guard) store(h tokenHash, jkt string, r *refreshed) {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	now := g.now()
	g.sweepLocked(now)
	if until, ok := g.forgotten[h]; ok && now.Before(until) {
		return
	}
	m := g.cache[h]
	if m == nil {
		m = make(map[string]*refreshed, 1)
		g.cache[h] = m
	}
	m[jkt] = r
}

// sweepLocked drops expired entries and marks when the last sweep is a
// window ago. g.cacheMu is held.
func (g *Guard) sweepLocked(now time.Time) {
	if now.Sub(g.sweptAt) < ReuseWindow {
		return
	}
	for h, m := range g.cache {
		for jkt, r := range m {
			if !now.Before(r.expires) {
				delete(m, jkt)
			}
		}
		if len(m) == 0 {
			delete(g.cache, h)
		}
	}
	for h, until := range g.forgotten {
		if !now.Before(until) {
			delete(g.forgotten, h)
		}
	}
	g.sweptAt = now
}

// Forget gives a refresh token up: guard drops the refreshes it made with
// it (which it would otherwise serve again, for ReuseWindow, to requests
// presenting the same token), and for a little while neither caches nor
// shares a refresh with it, so that every request presenting it is put to
// Latch. Call it when the token is revoked through the backend, as a
// logout does: a revoked refresh token must not buy a JWT out of the
// cache. Revocation events have the same effect on the refreshes of the
// sessions they name.
func (g *Guard) Forget(refreshToken string) {
	if refreshToken == "" {
		return
	}
	h := tokenHash(sha256.Sum256([]byte(refreshToken)))
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	now := g.now()
	g.sweepLocked(now)
	delete(g.cache, h)
	g.forgotten[h] = now.Add(forgetFor)
}

// evictRevoked drops the cached refreshes whose new JWT a revocation
// covers: of its session, or of its user or application issued until it.
func (g *Guard) evictRevoked(rev Revocation) {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	for h, m := range g.cache {
		for jkt, r := range m {
			if rev.covers(r) {
				delete(m, jkt)
			}
		}
		if len(m) == 0 {
			delete(g.cache, h)
		}
	}
}

// covers reports whether the revocation covers the JWT of a refresh.
func (rev Revocation) covers(r *refreshed) bool {
	if rev.SessionID != "" {
		return r.sid == rev.SessionID
	}
	if rev.UserID != "" && r.sub != rev.UserID {
		return false
	}
	if rev.ApplicationID != "" && !slices.Contains(r.apps, rev.ApplicationID) {
		return false
	}
	return r.iat == 0 || r.iat <= rev.At.Unix()
}
