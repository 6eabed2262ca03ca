package guard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/latchid/latch/api"
)

const (
	// reuseWindow is how long the outcome of a refresh is kept for
	// requests that present the same refresh token after the flight has
	// landed: the app's other requests, sent with the same tokens before
	// it saw the new ones. Under OneTimeUse they would otherwise present
	// a value that was just rotated (Latch's own grace period covers the
	// same race between several backends).
	reuseWindow = 30 * time.Second
	// refreshTimeout bounds one call to /api/jwt/refresh, whatever the
	// requests waiting on it do.
	refreshTimeout = 10 * time.Second
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
// presented the same refresh token.
type refreshed struct {
	resp    api.JWTRefreshResponse
	expires time.Time // end of its use for later requests
}

// refresh exchanges a refresh token at Latch (the article's steps 10-11):
// one call per token however many requests present it at once, and the
// same answer for requests presenting it within reuseWindow after.
func (g *Guard) refresh(ctx context.Context, refreshToken string) (*refreshed, error) {
	if len(refreshToken) > maxRefreshTokenSize {
		return nil, fmt.Errorf("%w: refresh token exceeds %d bytes", errRefreshRefused, maxRefreshTokenSize)
	}
	h := tokenHash(sha256.Sum256([]byte(refreshToken)))
	if r := g.cached(h); r != nil {
		return r, nil
	}
	ch := g.flights.DoChan(string(h[:]), func() (any, error) {
		// A flight that landed between the look-up above and this one
		// has filled the cache.
		if r := g.cached(h); r != nil {
			return r, nil
		}
		// The call outlives a caller that goes away: others may wait on it,
		// and Latch may rotate the token whether we listen or not.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		resp, err := g.callRefresh(fctx, refreshToken)
		if err != nil {
			return nil, err
		}
		r := &refreshed{resp: resp, expires: g.now().Add(reuseWindow)}
		g.store(h, r) // before the flight ends, so no later request misses both
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

// callRefresh POSTs the refresh token to Latch's JWT refresh API.
func (g *Guard) callRefresh(ctx context.Context, refreshToken string) (api.JWTRefreshResponse, error) {
	var out api.JWTRefreshResponse
	body, err := json.Marshal(api.RefreshRequest{RefreshToken: refreshToken})
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.refreshURL, bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
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

// cached returns the refresh stored for h, if it is still fresh.
func (g *Guard) cached(h tokenHash) *refreshed {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	r := g.cache[h]
	if r == nil || !g.now().Before(r.expires) {
		return nil
	}
	return r
}

// store keeps r for h, first dropping expired entries when the last sweep
// is a window ago, so that the cache holds about one window of refreshes.
func (g *Guard) store(h tokenHash, r *refreshed) {
	g.cacheMu.Lock()
	defer g.cacheMu.Unlock()
	now := g.now()
	if now.Sub(g.sweptAt) >= reuseWindow {
		for k, v := range g.cache {
			if !now.Before(v.expires) {
				delete(g.cache, k)
			}
		}
		g.sweptAt = now
	}
	g.cache[h] = r
}
