package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/dpop"
)

// Transport returns an http.RoundTripper that sends requests through
// HTTPClient's Transport (or http.DefaultTransport) and, for requests to
// BaseURL's origin (scheme, host and port), manages the session:
//
//   - It sets Authorization when a session exists (a request without a
//     session goes out without credentials or proof, so public routes keep
//     working), and "Refresh-Token" only when the JWT has expired, expires
//     within RefreshWindow, or has been refused; Refresh-Token and DPoP
//     headers set by the caller are removed. The request is cloned first;
//     the caller's request is never modified.
//   - With a session and a device key (unless DisableDPoP is set), it adds
//     a new DPoP proof for the request's method and URL, carrying the
//     hash of the JWT sent and the latest nonce, and sends a JWT bound to
//     the key (cnf.jkt) as "Authorization: DPoP <JWT>"; any other JWT goes
//     as "Authorization: Bearer <JWT>".
//   - One request at a time carries the refresh token. Requests that need
//     a refresh meanwhile wait (bounded by their context) and then use the
//     tokens that request brought back.
//   - It saves the Access-Token and Refresh-Token response headers (or
//     Access-Token alone, keeping the refresh token) in one Store.Save.
//     Should the save fail, RoundTrip closes the response and returns the
//     error, although the request took effect and the new tokens stay in
//     use in memory. The save is not cancelled with the request's context.
//     If the backend answers a request carrying the refresh token without
//     refreshing (the JWT was still good to it), the refresh token is not
//     sent again until the JWT has expired.
//   - A 401 with WWW-Authenticate: DPoP error="use_dpop_nonce", or a 400
//     whose JSON error is use_dpop_nonce, with a DPoP-Nonce header, is a
//     request for a nonce, not the end of the session: the request is sent
//     again, once, with a new proof carrying the nonce (if its body can be
//     replayed, as below); a second such answer is returned. The
//     DPoP-Nonce of a 2xx response is used in the next proofs.
//   - Any other 401 with a WWW-Authenticate header to a request that
//     carried the refresh token (or when there is none) ends the session:
//     the store is cleared (keeping the device key, see TokenStore),
//     OnLoginRequired is called once, and the 401 response is
//     returned, as a RoundTripper must (not ErrLoginRequired; Tokens
//     reports that afterwards).
//   - A 401 with WWW-Authenticate to a request that did not carry the
//     refresh token (the device's clock may be behind the backend's) is
//     retried once, with the refresh token; likewise a 401 to a request
//     sent with tokens that another request has since replaced. Since the
//     backend's guard refused before its handler ran, a retry is safe for
//     any method, but it needs a replayable body: no body, or
//     http.Request.GetBody set (as http.NewRequest does for bytes, strings
//     and their readers). Otherwise the 401 is returned, and the next
//     request carries the refresh token.
//
// Requests to other origins pass through untouched. No other request is
// retried.
func (c *Client) Transport() http.RoundTripper { return transport{c} }

// HTTP returns an *http.Client that uses Transport, with HTTPClient's
// CheckRedirect, Jar and Timeout.
func (c *Client) HTTP() *http.Client {
	c.init()
	return &http.Client{
		Transport:     c.Transport(),
		CheckRedirect: c.hc.CheckRedirect,
		Jar:           c.hc.Jar,
		Timeout:       c.hc.Timeout,
	}
}

type transport struct{ c *Client }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	if err := c.init(); err != nil {
		closeBody(req)
		return nil, err
	}
	if req.URL == nil || originOf(req.URL) != c.origin {
		return c.next().RoundTrip(req)
	}
	ctx := req.Context()
	// sent: the request went out at least once (and its body with it).
	// nonceRetried, authRetried: the one retry of each kind was made.
	var sent, nonceRetried, authRetried bool
	for {
		a, err := c.acquire(ctx, false)
		if err != nil {
			if !sent {
				closeBody(req)
			}
			return nil, err
		}
		r := req.Clone(ctx)
		if sent && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				c.mu.Lock()
				c.releaseLocked(a)
				c.mu.Unlock()
				return nil, err
			}
		}
		r.Header.Del(api.HeaderRefreshToken)
		r.Header.Del(dpop.Header)
		if a.tok.AccessToken != "" {
			if err := c.authorize(r, a.key, a.nonce, a.tok.AccessToken); err != nil {
				c.mu.Lock()
				c.releaseLocked(a)
				c.mu.Unlock()
				closeBody(r)
				return nil, err
			}
			if a.refresh {
				r.Header.Set(api.HeaderRefreshToken, a.tok.RefreshToken)
			}
		}
		resp, err := c.next().RoundTrip(r)
		sent = true
		var nonce string
		var useNonceErr bool
		if err == nil {
			// Before settle: this may read some of the body.
			nonce, useNonceErr = useNonce(resp)
		}
		v, serr := c.settle(ctx, a, resp, nonce, useNonceErr)
		if err != nil {
			return nil, err
		}
		if v == loginRequired && c.OnLoginRequired != nil {
			c.OnLoginRequired()
		}
		if serr != nil {
			resp.Body.Close()
			return nil, serr
		}
		switch {
		case v == nonceRetry && a.key != nil && !nonceRetried && replayable(req):
			nonceRetried = true
		case v == retry && !authRetried && replayable(req):
			authRetried = true
		default:
			return resp, nil
		}
		discard(resp)
	}
}

func (c *Client) next() http.RoundTripper {
	if c.hc.Transport != nil {
		return c.hc.Transport
	}
	return http.DefaultTransport
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// attempt is the session state one request is sent with.
type attempt struct {
	tok     Tokens     // zero when logged out
	gen     uint64     // c.gen when sent
	refresh bool       // carries the refresh token, and holds c.refreshing
	key     *deviceKey // signs the DPoP proof; nil for none
	nonce   string     // DPoP nonce for the proof
}

// acquire returns what a request should be sent with. When the JWT needs
// refreshing (or force is set, for Logout), the returned attempt holds the
// refresh slot, to be released through releaseLocked; while another
// attempt holds it, acquire waits and looks again.
func (c *Client) acquire(ctx context.Context, force bool) (attempt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if err := c.loadLocked(ctx); err != nil {
			return attempt{}, err
		}
		if c.cur == nil {
			return attempt{gen: c.gen}, nil
		}
		a := attempt{tok: *c.cur, gen: c.gen, key: c.proofKeyLocked(), nonce: c.nonce}
		if c.cur.RefreshToken == "" || !(force || c.needsRefreshLocked()) {
			return a, nil
		}
		if ch := c.refreshing; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
				c.mu.Lock()
				continue
			case <-ctx.Done():
				c.mu.Lock()
				return attempt{}, ctx.Err()
			}
		}
		c.refreshing = make(chan struct{})
		a.refresh = true
		return a, nil
	}
}

// releaseLocked gives up the refresh slot, if a holds it.
func (c *Client) releaseLocked(a attempt) {
	if a.refresh {
		close(c.refreshing)
		c.refreshing = nil
	}
}

// needsRefreshLocked reports whether the current JWT should be sent with
// the refresh token.
func (c *Client) needsRefreshLocked() bool {
	if c.rejected {
		return true
	}
	exp := c.cur.Expiry
	if exp.IsZero() {
		return true
	}
	now := c.now()
	if !now.Before(exp) {
		return true
	}
	return !c.declined && !now.Add(c.refreshWindow()).Before(exp)
}

type verdict int

const (
	done verdict = iota
	// retry: send again, with the refresh token or the newer tokens.
	retry
	// nonceRetry: the backend asked for a DPoP nonce; send again with a
	// new proof carrying it.
	nonceRetry
	loginRequired
)

// settle applies a response (nil after a transport error) to the session
// and releases the refresh slot. useNonceErr reports that resp asks for a
// DPoP proof with nonce.
func (c *Client) settle(ctx context.Context, a attempt, resp *http.Response, nonce string, useNonceErr bool) (verdict, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.releaseLocked(a)
	if resp == nil {
		return done, nil
	}
	// A request for a DPoP nonce says nothing about the session: the
	// backend refused the proof before looking at the tokens.
	if useNonceErr {
		c.nonce = nonce
		return nonceRetry, nil
	}
	c.adoptNonceLocked(resp)
	challenged := resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != ""
	if a.gen != c.gen || c.cur == nil {
		// The session changed while the request was in flight (or there
		// was none): what the response says is about tokens gone.
		if challenged && c.cur != nil {
			return retry, nil
		}
		return done, nil
	}
	if at := resp.Header.Get(api.HeaderAccessToken); at != "" {
		t := *c.cur
		t.AccessToken = at
		if rt := resp.Header.Get(api.HeaderRefreshToken); rt != "" {
			t.RefreshToken = rt
		}
		t.Expiry = jwtExpiry(at)
		c.setLocked(&t)
		if err := c.store.Save(context.WithoutCancel(ctx), t); err != nil {
			return done, fmt.Errorf("client: save refreshed tokens: %w", err)
		}
		return done, nil
	}
	if challenged {
		if !a.refresh && c.cur.RefreshToken != "" {
			c.rejected = true
			return retry, nil
		}
		if err := c.clearLocked(ctx); err != nil {
			return loginRequired, err
		}
		return loginRequired, nil
	}
	if a.refresh {
		c.declined = true
	}
	return done, nil
}
